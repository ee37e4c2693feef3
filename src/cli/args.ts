/**
 * The command line's vocabulary, shared by every `fdx` command: exit codes, the usage mistake,
 * option parsing on top of node:util's parseArgs (with messages a user can act on) and the
 * value checks commands need (whole numbers, `Name: value` headers, one-of choices).
 * Must not: print, exit, or know any particular command.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * Exit codes of every command: 0 success (for `connect`, a clean close), 1 runtime failure
 * (the connection could not be made, the port is taken), 2 usage mistake, 3 the connection
 * was closed abnormally (no close handshake, or an error close code).
 */
export const ExitCode = { OK: 0, FAILURE: 1, USAGE: 2, ABNORMAL_CLOSE: 3 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A usage mistake: reported as `fdx: <message>` plus a hint, exit code 2. */
export class UsageMistake extends Error {
  override name = 'UsageMistake';
}

export type OptionsConfig = NonNullable<ParseArgsConfig['options']>;
export type ParsedValues = Record<string, string | boolean | Array<string | boolean> | undefined>;

export interface ParsedArgs {
  values: ParsedValues;
  positionals: string[];
}

/** parseArgs in strict mode; its errors become UsageMistakes with short messages. */
export function parseCommandLine(args: readonly string[], options: OptionsConfig, allowPositionals: boolean): ParsedArgs {
  try {
    const { values, positionals } = parseArgs({ args: [...args], options, strict: true, allowPositionals });
    return { values: values as ParsedValues, positionals };
  } catch (error) {
    throw new UsageMistake(describeParseError(error));
  }
}

/** parseArgs' messages are long and mention its own API; keep the part a user needs. */
export function describeParseError(error: unknown): string {
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

/** A string option's value, or undefined when it was not given. */
export function stringValue(values: ParsedValues, name: string): string | undefined {
  const value = values[name];
  if (value === undefined) return undefined;
  return String(Array.isArray(value) ? value[value.length - 1] : value);
}

/** Every value of a repeatable string option, in order. */
export function stringValues(values: ParsedValues, name: string): string[] {
  const value = values[name];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
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

/** One of `choices`, or undefined when the flag was not given. */
export function parseChoice<T extends string>(flag: string, value: string | undefined, choices: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(choices as readonly string[]).includes(value)) {
    throw new UsageMistake(`${flag} must be one of ${choices.join(', ')}, got '${value}'`);
  }
  return value as T;
}

/** HTTP token characters (RFC 9110 §5.6.2), the only ones a header name may hold. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** `Name: value` pairs (as curl's -H takes them) into a header object; repeated names join with ", ". */
export function parseHeaders(lines: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = colon === -1 ? '' : line.slice(0, colon).trim();
    const value = colon === -1 ? '' : line.slice(colon + 1).trim();
    if (!TOKEN.test(name)) throw new UsageMistake(`-H wants 'Name: value', got '${line}'`);
    if (/[\r\n\0]/.test(value)) throw new UsageMistake(`-H '${name}': the value must not hold CR, LF or NUL`);
    const existing = Object.keys(headers).find((key) => key.toLowerCase() === name.toLowerCase());
    if (existing === undefined) headers[name] = value;
    else headers[existing] = `${headers[existing]}, ${value}`;
  }
  return headers;
}

/** One `fdx` subcommand: its help, its options, and what runs it. */
export interface Command {
  /** One line for `fdx --help`. */
  summary: string;
  /** The whole text of `fdx help COMMAND`. */
  usage: string;
  options: OptionsConfig;
  /** Whether it takes positional arguments (e.g. connect's URL). */
  positionals: boolean;
  /** Resolves to the exit code once the command is done; throws UsageMistake for bad values. */
  run(args: ParsedArgs): Promise<ExitCode>;
}
