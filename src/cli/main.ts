/**
 * The `fdx` command: reads the command line, picks a subcommand from a table, and runs it.
 * Usage mistakes (unknown command or flag, a malformed number) print one line to stderr and
 * end with exit code 2, the convention of Unix tools; `--help` prints usage to stdout.
 * Must not: import anything but the package's public entry point and node:* (the layer rule);
 * call process.exit (the launcher sets the exit code from what `main` resolves to).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { echo } from './echo.js';

/** Exit codes: 0 success, 1 runtime failure (e.g. the port is taken), 2 usage error. */
export const ExitCode = { OK: 0, FAILURE: 1, USAGE: 2 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A usage mistake: reported as `fdx: <message>` plus a hint, exit code 2. */
export class UsageMistake extends Error {
  override name = 'UsageMistake';
}

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;
type ParsedValues = Record<string, string | boolean | undefined>;

interface Command {
  summary: string;
  usage: string;
  options: OptionsConfig;
  run(values: ParsedValues): Promise<ExitCode>;
}

const COMMANDS: Record<string, Command> = {
  echo: {
    summary: 'Run a WebSocket echo server (text back as text, binary as binary)',
    usage: [
      'Usage: fdx echo [--port PORT] [--host HOST] [--max-payload BYTES] [--deflate]',
      '',
      'Run a WebSocket echo server until SIGINT or SIGTERM, then close it gracefully.',
      'Prints "listening on ws://HOST:PORT" once it accepts connections.',
      '',
      'Options:',
      '  --port PORT          TCP port, 0 for any free port (default 9001)',
      '  --host HOST          Address to bind (default 127.0.0.1)',
      '  --max-payload BYTES  Largest message accepted; bigger ones close with 1009',
      '                       (default 16777216, 0 for no limit)',
      '  --deflate            Offer permessage-deflate compression (RFC 7692)',
      '  -h, --help           Show this help',
    ].join('\n'),
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'max-payload': { type: 'string' },
      deflate: { type: 'boolean' },
    },
    async run(values) {
      const port = parseInteger('--port', values.port, 0, 65535) ?? 9001;
      const maxPayload = parseInteger('--max-payload', values['max-payload'], 0, Number.MAX_SAFE_INTEGER);
      const host = values.host === undefined ? '127.0.0.1' : String(values.host);
      if (host === '') throw new UsageMistake('--host must not be empty');
      return echo({ port, host, maxPayload, deflate: values.deflate === true });
    },
  },
};

const GENERAL_USAGE = [
  'Usage: fdx <command> [options]',
  '',
  'Commands:',
  ...Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(10)} ${command.summary}`),
  '',
  'Run "fdx <command> --help" for the options of a command.',
].join('\n');

/**
 * Runs the command line `argv` (without the node and script paths) and resolves to the exit
 * code once the command is done. Long-running commands resolve after their graceful shutdown.
 */
export async function main(argv: readonly string[]): Promise<ExitCode> {
  const [name, ...rest] = argv;
  if (name === undefined) return usageMistake('missing command');
  if (name === '-h' || name === '--help' || name === 'help') {
    const topic = name === 'help' && rest[0] !== undefined ? COMMANDS[rest[0]] : undefined;
    process.stdout.write(`${topic ? topic.usage : GENERAL_USAGE}\n`);
    return ExitCode.OK;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    return usageMistake(name.startsWith('-') ? `unknown option '${name}'` : `unknown command '${name}'`);
  }
  let values: ParsedValues;
  try {
    ({ values } = parseArgs({
      args: [...rest],
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    return usageMistake(describeParseError(error), `fdx ${name} --help`);
  }
  if (values.help) {
    process.stdout.write(`${command.usage}\n`);
    return ExitCode.OK;
  }
  try {
    return await command.run(values);
  } catch (error) {
    if (error instanceof UsageMistake) return usageMistake(error.message, `fdx ${name} --help`);
    throw error;
  }
}

function usageMistake(message: string, help = 'fdx --help'): ExitCode {
  process.stderr.write(`fdx: ${message}\nRun "${help}" for usage.\n`);
  return ExitCode.USAGE;
}

/** parseArgs' messages are long and mention its own API; keep the part a user needs. */
function describeParseError(error: unknown): string {
  const { code, message } = error as { code?: string; message?: string };
  const text = String(message ?? error);
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return text.replace(/\. To specify a positional argument.*$/s, '').replace(/^Unknown option/, 'unknown option');
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return text.replace(/^Unexpected argument/, 'unexpected argument').replace(/\. This command does not take.*$/s, '');
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (text.endsWith('argument missing')) return `option '${text.match(/'(-[^' ]+)/)?.[1] ?? '?'}' needs a value`;
      return text.replace(/^Option/, 'option').replace(/\s*\n\s*/g, ' ');
    default:
      return text;
  }
}

/** A decimal integer in [min, max], or undefined when the flag was not given. */
export function parseInteger(flag: string, value: string | boolean | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  if (!/^[0-9]+$/.test(text)) throw new UsageMistake(`${flag} must be a whole number, got '${text}'`);
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageMistake(`${flag} must be between ${min} and ${max}, got '${text}'`);
  }
  return n;
}
