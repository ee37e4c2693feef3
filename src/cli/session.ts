/**
 * What `fdx connect`'s two sessions (plain-session.ts, realtime-session.ts) share: the settings
 * read from the command line, the Session contract the command drives, the exit code of a
 * close, and how received text is printed.
 * Must not: read input or print (the Terminal prints).
 */
import { WebSocket, type ClientOptions } from '../index.js';
import { ExitCode } from './args.js';

/** What a session needs from the command line. */
export interface ConnectSettings {
  url: string;
  clientOptions: ClientOptions;
  subprotocols: string[];
  binary: 'hex' | 'base64' | undefined;
  json: boolean;
  exitAfter: number | undefined;
  waitMs: number;
  reconnect: boolean;
  token: string | undefined;
}

/** A conversation with a server: fed lines, told when the input ends, resolves to the exit code. */
export interface Session {
  line(text: string): void;
  endOfInput(): void;
  /** Ctrl-C or a signal: close now (a second time: give up waiting); `why` is printed. */
  interrupt(why?: string): void;
  /** Called by the session when it no longer wants input (e.g. after --exit-after). */
  onStopInput: (() => void) | null;
  readonly done: Promise<ExitCode>;
}

/** Close codes after which a server-started close counts as clean (exit 0). */
const NORMAL_CLOSE_CODES = new Set([1000, 1001, 1005, 1012]);

/**
 * The exit code for a connection that was open and has closed: `byUs` when fdx started the
 * close handshake, `wasClean` when both close frames crossed.
 */
export function exitCodeForClose(code: number, wasClean: boolean, byUs: boolean): ExitCode {
  if (!wasClean || code === 1006) return ExitCode.ABNORMAL_CLOSE;
  if (byUs || NORMAL_CLOSE_CODES.has(code)) return ExitCode.OK;
  return ExitCode.ABNORMAL_CLOSE;
}

/** Text of a received message for printing: JSON pretty-printed with --json. */
export function formatText(text: string, json: boolean): string {
  if (!json) return text;
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** A client WebSocket with the command line's options (headers, TLS, deflate, ...). */
export function openWebSocket(settings: ConnectSettings, protocols: string[]): WebSocket {
  return new WebSocket(settings.url, protocols, settings.clientOptions);
}
