/**
 * The `fdx` command: reads the command line, picks a subcommand from a table, and runs it.
 * `fdx --version`, `fdx help [COMMAND]`, `fdx COMMAND --help`. Usage mistakes (unknown command
 * or option, a malformed value) print one line and a hint to stderr and end with exit code 2,
 * the convention of Unix tools; help goes to stdout.
 * Must not: import anything but the package's public entry points and node:* (the layer rule);
 * call process.exit (the launcher sets the exit code from what `main` resolves to).
 */
import { existsSync, readFileSync } from 'node:fs';
import { ExitCode, UsageMistake, parseCommandLine, type Command } from './args.js';
import { benchCommand } from './commands/bench.js';
import { connectCommand } from './commands/connect.js';
import { echoCommand } from './commands/echo.js';
import { serveCommand } from './commands/serve.js';

export { ExitCode, UsageMistake, parseInteger } from './args.js';

const COMMANDS: Record<string, Command> = {
  connect: connectCommand,
  serve: serveCommand,
  bench: benchCommand,
  echo: echoCommand,
};

const GENERAL_USAGE = [
  'Usage: fdx <command> [options]',
  '',
  'Commands:',
  ...Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(10)} ${command.summary}`),
  `  ${'help'.padEnd(10)} Show the help of a command: fdx help COMMAND`,
  '',
  'Options:',
  '  -v, --version  Print the version of fullduplex',
  '  -h, --help     Show this help',
  '',
  'Exit codes: 0 success or clean close, 1 failure (no connection, port taken), 2 usage',
  'mistake, 3 connection closed abnormally.',
  'Run "fdx help <command>" or "fdx <command> --help" for the options of a command.',
].join('\n');

/**
 * Runs the command line `argv` (without the node and script paths) and resolves to the exit
 * code once the command is done. Long-running commands resolve after their graceful shutdown.
 */
export async function main(argv: readonly string[]): Promise<ExitCode> {
  const [name, ...rest] = argv;
  if (name === undefined) return usageMistake('missing command');
  if (name === '-v' || name === '--version') {
    if (rest.length > 0) return usageMistake(`unexpected argument '${rest[0]}'`);
    process.stdout.write(`fdx ${version()}\n`);
    return ExitCode.OK;
  }
  if (name === '-h' || name === '--help') {
    process.stdout.write(`${GENERAL_USAGE}\n`);
    return ExitCode.OK;
  }
  if (name === 'help') {
    const topic = rest[0];
    if (topic === undefined) {
      process.stdout.write(`${GENERAL_USAGE}\n`);
      return ExitCode.OK;
    }
    const command = lookup(topic);
    if (!command) return usageMistake(`no command '${topic}'`);
    if (rest.length > 1) return usageMistake(`unexpected argument '${rest[1]}'`, 'fdx help');
    process.stdout.write(`${command.usage}\n`);
    return ExitCode.OK;
  }
  const command = lookup(name);
  if (!command) {
    return usageMistake(name.startsWith('-') ? `unknown option '${name}'` : `unknown command '${name}'`);
  }
  try {
    const parsed = parseCommandLine(rest, { ...command.options, help: { type: 'boolean', short: 'h' } }, command.positionals);
    if (parsed.values.help) {
      process.stdout.write(`${command.usage}\n`);
      return ExitCode.OK;
    }
    return await command.run(parsed);
  } catch (error) {
    if (error instanceof UsageMistake) return usageMistake(error.message, `fdx ${name} --help`);
    throw error;
  }
}

function lookup(name: string): Command | undefined {
  return Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
}

function usageMistake(message: string, help = 'fdx --help'): ExitCode {
  process.stderr.write(`fdx: ${message}\nRun "${help}" for usage.\n`);
  return ExitCode.USAGE;
}

/**
 * The package's version, from the package.json above this file: two levels up from the
 * source (src/cli/main.ts), one from the build (dist/cli.js).
 */
function version(): string {
  for (const relative of ['../../package.json', '../package.json']) {
    try {
      const url = new URL(relative, import.meta.url);
      if (!existsSync(url)) continue;
      const manifest = JSON.parse(readFileSync(url, 'utf8')) as { name?: unknown; version?: unknown };
      if (manifest.name === 'fullduplex' && typeof manifest.version === 'string') return manifest.version;
    } catch {
      // not ours, unreadable, or no module URL (the CommonJS build): try the next one
    }
  }
  return 'unknown';
}
