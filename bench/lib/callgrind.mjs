// A bench server under valgrind's callgrind (or plain node), for the callgrind-*.mjs scripts:
// started with its arguments, awaited until it prints `ready`.
import { spawn } from 'node:child_process';

/**
 * Starts `node ...args` (under callgrind writing `outFile`, unless `plain`) and resolves once
 * its stdout says `ready`, with the child and a promise of its exit.
 */
export async function startServer(args, outFile, plain = false) {
  const command = plain ? ['node', args] : ['valgrind', ['--tool=callgrind', `--callgrind-out-file=${outFile}`, 'node', ...args]];
  const child = spawn(command[0], command[1], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.includes('ready')) resolve();
    });
    exited.then(() => reject(new Error(`server exited before ready:\n${stderr}`)));
  });
  return { child, exited };
}

/**
 * The command line of a callgrind-*.mjs script: `--some-name value` sets `defaults.someName`,
 * read as the default's type (a number, a string, true for a boolean flag, one more item for a
 * list); any other option is an error.
 */
export function parseFlags(argv, defaults) {
  const o = structuredClone(defaults);
  for (let i = 0; i < argv.length; i += 1) {
    const key = argv[i].replace(/^--/, '').replace(/-(\w)/g, (_, c) => c.toUpperCase());
    if (!argv[i].startsWith('--') || !(key in o)) throw new Error(`unknown option ${argv[i]}`);
    const current = o[key];
    if (typeof current === 'boolean') o[key] = true;
    else if (Array.isArray(current)) current.push(argv[++i]);
    else if (typeof current === 'number') o[key] = Number(argv[++i]);
    else o[key] = argv[++i];
  }
  return o;
}
