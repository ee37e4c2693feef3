/**
 * One plain WebSocket for `fdx connect`: input lines become messages (text, or binary decoded
 * from hex or base64), `/ping`, `/close` and `/help` are commands, received messages are
 * printed, and the close decides the exit code (session.ts). With --reconnect a dropped or
 * server-closed connection is dialled again with backoff, keeping what was typed meanwhile.
 * Must not: read stdin itself (connect.ts feeds it lines) or call process.exit.
 */
import type { WebSocket } from '../index.js';
import { ExitCode } from './args.js';
import { exitCodeForClose, formatText, openWebSocket, type ConnectSettings, type Session } from './session.js';
import type { Terminal } from './terminal.js';

/** Reconnection backoff: the first delay and the largest, in ms. */
const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 10_000;

export class PlainSession implements Session {
  onStopInput: (() => void) | null = null;
  readonly done: Promise<ExitCode>;
  readonly #settings: ConnectSettings;
  readonly #terminal: Terminal;
  #resolve!: (code: ExitCode) => void;
  #ws: WebSocket | null = null;
  /** Lines that wait for an open connection, oldest first. */
  #pending: string[] = [];
  #everOpened = false;
  #closingByUs = false;
  #inputEnded = false;
  #finished = false;
  #interrupts = 0;
  #received = 0;
  #attempt = 0;
  #pingCount = 0;
  /** Pings awaiting their pong: payload (hex) -> when it was sent. */
  readonly #pings = new Map<string, bigint>();
  #timer: NodeJS.Timeout | undefined;

  constructor(settings: ConnectSettings, terminal: Terminal) {
    this.#settings = settings;
    this.#terminal = terminal;
    this.done = new Promise((resolve) => (this.#resolve = resolve));
    this.#dial();
  }

  line(text: string): void {
    if (this.#closingByUs || this.#finished) return;
    if (this.#ws?.readyState !== 1) {
      this.#pending.push(text);
      return;
    }
    if (text.startsWith('//')) this.#send(text.slice(1));
    else if (text.startsWith('/')) this.#command(text);
    else this.#send(text);
  }

  endOfInput(): void {
    this.#inputEnded = true;
    this.#maybeCloseAfterInput();
  }

  interrupt(why = 'closing (Ctrl-C again to stop at once)'): void {
    if (++this.#interrupts > 1 || this.#ws?.readyState !== 1) {
      // Not open (still dialling, or waiting to reconnect), or asked twice: stop at once.
      this.#ws?.terminate();
      this.#finish(this.#everOpened ? ExitCode.ABNORMAL_CLOSE : ExitCode.FAILURE);
      return;
    }
    this.#terminal.status(why);
    this.#close(1000, '');
  }

  #dial(): void {
    let ws: WebSocket;
    try {
      ws = openWebSocket(this.#settings, this.#settings.subprotocols);
    } catch (error) {
      this.#terminal.error(`cannot connect to ${this.#settings.url}: ${(error as Error).message}`);
      this.#finish(ExitCode.FAILURE);
      return;
    }
    this.#ws = ws;
    let opened = false;
    let failure: Error | null = null;
    ws.on('open', () => {
      opened = this.#everOpened = true;
      this.#attempt = 0;
      const details = [ws.protocol && `subprotocol ${ws.protocol}`, ws.extensions && `extensions ${ws.extensions}`].filter(Boolean);
      this.#terminal.status(`connected to ${this.#settings.url}${details.length ? ` (${details.join(', ')})` : ''}`);
      const pending = this.#pending;
      this.#pending = [];
      for (const text of pending) this.line(text);
      this.#maybeCloseAfterInput();
    });
    ws.on('message', (data, isBinary) => this.#message(data as Buffer, isBinary));
    ws.on('pong', (data: Buffer) => {
      const sentAt = this.#pings.get(data.toString('hex'));
      if (sentAt === undefined) return;
      this.#pings.delete(data.toString('hex'));
      const ms = Number(process.hrtime.bigint() - sentAt) / 1e6;
      this.#terminal.status(`pong ${JSON.stringify(data.toString())} in ${ms.toFixed(3)} ms`);
    });
    ws.on('error', (error: Error) => {
      if (!opened) failure ??= error;
      else this.#terminal.error(error.message);
    });
    ws.on('close', (code: number, reason: Buffer) => {
      if (this.#ws === ws) this.#ws = null;
      this.#pings.clear();
      if (!opened) {
        const why = failure?.message ?? `closed with ${code}`;
        if (this.#settings.reconnect && this.#everOpened && !this.#closingByUs) return this.#reconnect(why);
        this.#terminal.error(`cannot connect to ${this.#settings.url}: ${why}`);
        return this.#finish(ExitCode.FAILURE);
      }
      const text = reason.length > 0 ? ` ${reason.toString()}` : '';
      this.#terminal.status(`closed: ${code}${text}${ws.wasClean ? '' : ' (no close handshake)'}`);
      if (this.#settings.reconnect && !this.#closingByUs) return this.#reconnect(`closed with ${code}`);
      this.#finish(exitCodeForClose(code, ws.wasClean, this.#closingByUs));
    });
  }

  #reconnect(why: string): void {
    const bound = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** this.#attempt++);
    const delay = Math.round(bound / 2 + (Math.random() * bound) / 2);
    this.#terminal.status(`${why}; reconnecting in ${delay} ms`);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#dial();
    }, delay);
  }

  #message(data: Buffer, isBinary: boolean): void {
    const limit = this.#settings.exitAfter;
    if (limit !== undefined && this.#received >= limit) return;
    this.#received++;
    if (isBinary) {
      const encoded = data.toString(this.#settings.binary ?? 'hex');
      this.#terminal.received(this.#terminal.interactive ? `(binary, ${data.length} bytes) ${encoded}` : encoded);
    } else {
      this.#terminal.received(formatText(data.toString(), this.#settings.json));
    }
    if (limit !== undefined && this.#received >= limit) {
      this.onStopInput?.();
      this.#close(1000, '');
    }
  }

  #send(text: string): void {
    const encoding = this.#settings.binary;
    if (encoding === undefined) {
      this.#ws!.send(text);
      return;
    }
    const bytes = decodeBinary(text, encoding);
    if (bytes === null) {
      this.#terminal.error(`not ${encoding}, not sent: ${text}`);
      return;
    }
    this.#ws!.send(bytes, { binary: true });
  }

  #command(text: string): void {
    const [name = '', ...words] = text.slice(1).split(' ');
    const rest = text.slice(1 + name.length).trim();
    switch (name) {
      case 'ping': {
        const payload = Buffer.from(rest === '' ? String(++this.#pingCount) : rest);
        if (payload.length > 125) return this.#terminal.error('a ping carries at most 125 bytes (RFC 6455 §5.5)');
        this.#pings.set(payload.toString('hex'), process.hrtime.bigint());
        this.#ws!.ping(payload);
        return;
      }
      case 'close': {
        const code = words[0] === undefined || words[0] === '' ? 1000 : Number(words[0]);
        const reason = words.slice(1).join(' ');
        if (!isSendableCloseCode(code)) return this.#terminal.error(`not a close code one may send: ${words[0]} (1000-1003, 1007-1014, 3000-4999)`);
        if (Buffer.byteLength(reason) > 123) return this.#terminal.error('a close reason holds at most 123 bytes (RFC 6455 §5.5)');
        this.onStopInput?.();
        return this.#close(code, reason);
      }
      case 'help':
        return this.#terminal.status('/ping [DATA], /close [CODE [REASON]], //text sends "/text"');
      default:
        return this.#terminal.error(`unknown command /${name} (try /help; "//" sends a line starting with "/")`);
    }
  }

  #maybeCloseAfterInput(): void {
    if (!this.#inputEnded || this.#closingByUs || this.#ws?.readyState !== 1 || this.#timer !== undefined) return;
    if (this.#settings.exitAfter !== undefined && this.#settings.waitMs === 0) return; // the Nth message closes
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#close(1000, '');
    }, this.#settings.waitMs);
  }

  #close(code: number, reason: string): void {
    if (this.#closingByUs) return;
    this.#closingByUs = true;
    clearTimeout(this.#timer);
    const ws = this.#ws;
    if (ws && ws.readyState === 1) ws.close(code, reason);
    else {
      ws?.terminate();
      this.#finish(this.#everOpened ? ExitCode.OK : ExitCode.FAILURE);
    }
  }

  #finish(code: ExitCode): void {
    if (this.#finished) return;
    this.#finished = true;
    clearTimeout(this.#timer);
    this.#resolve(code);
  }
}

/** Close codes an endpoint may send (RFC 6455 §7.4.1, §7.4.2; IANA registry). */
function isSendableCloseCode(code: number): boolean {
  return Number.isInteger(code) && ((code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999));
}

/** Bytes from hex or base64 text, or null when the text is not in that encoding. */
export function decodeBinary(text: string, encoding: 'hex' | 'base64'): Buffer | null {
  const compact = text.replace(/\s+/g, '');
  if (encoding === 'hex') return /^(?:[0-9a-fA-F]{2})*$/.test(compact) ? Buffer.from(compact, 'hex') : null;
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(compact) || compact.replace(/=+$/, '').length % 4 === 1) return null;
  return Buffer.from(compact, 'base64');
}
