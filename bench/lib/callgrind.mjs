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
