/**
 * `fdx connect --realtime`: an fdx.v1 session through fullduplex/client. Input lines are
 * commands (`/sub`, `/unsub`, `/pub`, `/req`, `/emit`, `/ping`, `/close`); publications print as
 * `pub CHANNEL DATA`, replies as `reply pub CHANNEL RESULT` or `reply EVENT RESULT`, the
 * server's events as `event NAME DATA`, reply errors as `error CODE message` (stderr).
 * The client is given a WebSocket class carrying the command line's options, and the session
 * watches the sockets it makes to tell a failed connection (exit 1) from a closed one.
 * Must not: reach past fullduplex/client's public API, or call process.exit.
 */
import { SUBPROTOCOL, createClient, type RealtimeClient } from '../client.js';
import { WebSocket } from '../index.js';
import { ExitCode } from './args.js';
import { exitCodeForClose, formatText, type ConnectSettings, type Session } from './session.js';
import type { Terminal } from './terminal.js';

const HELP = '/sub CHANNEL, /unsub CHANNEL, /pub CHANNEL JSON, /req EVENT JSON, /emit EVENT JSON, /ping [DATA], /close [CODE [REASON]]';

export class RealtimeSession implements Session {
  onStopInput: (() => void) | null = null;
  readonly done: Promise<ExitCode>;
  readonly #settings: ConnectSettings;
  readonly #terminal: Terminal;
  readonly #client: RealtimeClient;
  readonly #unsubscribe = new Map<string, () => void>();
  /** Requests awaiting their replies; the input's end waits for them before closing. */
  readonly #inflight = new Set<Promise<unknown>>();
  readonly #pings = new Map<string, bigint>();
  #resolve!: (code: ExitCode) => void;
  #socket: WebSocket | null = null;
  #everOpened = false;
  #closingByUs = false;
  #inputEnded = false;
  #closingAfterInput = false;
  #finished = false;
  #interrupts = 0;
  #received = 0;
  #pingCount = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(settings: ConnectSettings, terminal: Terminal) {
    this.#settings = settings;
    this.#terminal = terminal;
    this.done = new Promise((resolve) => (this.#resolve = resolve));
    const session = this;
    // The client makes its sockets with `new WS(url, 'fdx.v1')`; this class adds the command
    // line's options and lets the session watch each socket's handshake and close.
    class CliWebSocket extends WebSocket {
      constructor(url: string, protocols: string | string[]) {
        super(url, protocols, settings.clientOptions);
        session.#watch(this);
      }
    }
    this.#client = createClient(settings.url, {
      WebSocket: CliWebSocket as never,
      token: settings.token,
      timeoutMs: 10_000,
    });
    this.#client.on('online', () => {
      this.#terminal.status(`online as ${this.#client.id}`);
      this.#closeAfterInput();
    });
    this.#client.on('subscribed', (channel, recovered) => this.#terminal.status(`subscribed to ${channel}${recovered ? '' : ' (not recovered: publications may have been missed)'}`));
    this.#client.on('publication', (data, info) => this.#print(`pub ${info.channel} ${this.#json(data)}`));
    this.#client.on('drain', () => this.#terminal.status('the server is draining'));
    this.#client.on('error', (error) => this.#terminal.error(`${error.code} ${error.message}`));
  }

  line(text: string): void {
    if (this.#closingByUs || this.#finished) return;
    if (!text.startsWith('/') || text.startsWith('//')) {
      this.#terminal.error(`with --realtime, lines are commands: ${HELP}`);
      return;
    }
    const [name = '', first = ''] = text.slice(1).split(/\s+/, 2);
    const afterFirst = text.slice(1).replace(/^\S*\s*\S*\s*/, '');
    switch (name) {
      case 'sub':
        if (!first) return this.#terminal.error('usage: /sub CHANNEL');
        this.#unsubscribe.get(first)?.();
        this.#unsubscribe.set(first, this.#client.subscribe(first));
        return;
      case 'unsub':
        if (!first) return this.#terminal.error('usage: /unsub CHANNEL');
        this.#unsubscribe.get(first)?.();
        this.#unsubscribe.delete(first);
        return;
      case 'pub':
      case 'req':
      case 'emit': {
        if (!first) return this.#terminal.error(`usage: /${name} ${name === 'pub' ? 'CHANNEL' : 'EVENT'} JSON`);
        const data = parseJson(afterFirst);
        if (data === INVALID) return this.#terminal.error(`not JSON, not sent: ${afterFirst}`);
        if (name === 'emit') return this.#client.emit(first, data as never);
        const label = name === 'pub' ? `pub ${first}` : first;
        const request = name === 'pub' ? this.#client.publish(first, data) : this.#client.request(first, data as never);
        this.#track(request.then(
          (result) => this.#print(`reply ${label} ${this.#json(result)}`),
          (error: { code?: string; message?: string }) => this.#terminal.error(`error ${error.code ?? 'ERROR'} ${label}: ${error.message ?? ''}`),
        ));
        return;
      }
      case 'ping': {
        const socket = this.#socket;
        if (!socket || socket.readyState !== 1) return this.#terminal.error('not connected');
        const rest = text.slice(1 + name.length).trim();
        const payload = Buffer.from(rest === '' ? String(++this.#pingCount) : rest);
        if (payload.length > 125) return this.#terminal.error('a ping carries at most 125 bytes (RFC 6455 §5.5)');
        this.#pings.set(payload.toString('hex'), process.hrtime.bigint());
        socket.ping(payload);
        return;
      }
      case 'close':
        this.onStopInput?.();
        return this.#close();
      case 'help':
        return this.#terminal.status(HELP);
      default:
        return this.#terminal.error(`unknown command /${name} (try /help)`);
    }
  }

  endOfInput(): void {
    this.#inputEnded = true;
    this.#closeAfterInput();
  }

  /** Once the input has ended and the client is online: replies first, then --wait, then close. */
  #closeAfterInput(): void {
    if (!this.#inputEnded || this.#closingAfterInput || this.#client.state !== 'connected') return;
    this.#closingAfterInput = true;
    void Promise.allSettled([...this.#inflight]).then(() => {
      // With --exit-after, the Nth message closes (or --wait, when given).
      if (this.#settings.exitAfter !== undefined && this.#settings.waitMs === 0) return;
      this.#timer = setTimeout(() => this.#close(), this.#settings.waitMs);
    });
  }

  interrupt(why = 'closing (Ctrl-C again to stop at once)'): void {
    if (++this.#interrupts > 1 || this.#socket?.readyState !== 1) {
      this.#socket?.terminate();
      this.#client.close();
      this.#finish(this.#everOpened ? ExitCode.ABNORMAL_CLOSE : ExitCode.FAILURE);
      return;
    }
    this.#terminal.status(why);
    this.#close();
  }

  #watch(socket: WebSocket): void {
    this.#socket = socket;
    let opened = false;
    let failure: Error | null = null;
    socket.on('open', () => {
      // The client closes a socket whose server did not pick fdx.v1: that is no connection.
      if (socket.protocol !== SUBPROTOCOL) {
        failure ??= new Error(`the server does not speak ${SUBPROTOCOL} (it chose ${socket.protocol ? `'${socket.protocol}'` : 'no subprotocol'})`);
        return;
      }
      opened = this.#everOpened = true;
      this.#terminal.status(`connected to ${this.#settings.url} (subprotocol ${socket.protocol || 'none'})`);
    });
    socket.on('error', (error: Error) => {
      if (!opened) failure ??= error;
    });
    // The server's events reach the client only through handlers registered by name; the
    // command prints every one it is sent, so it reads them off the socket.
    socket.on('message', (data, isBinary) => {
      if (isBinary) return;
      let message: { type?: unknown; event?: unknown; data?: unknown };
      try {
        message = JSON.parse(String(data));
      } catch {
        return;
      }
      if (message?.type === 'event' && typeof message.event === 'string') this.#print(`event ${message.event} ${this.#json(message.data ?? null)}`);
    });
    socket.on('pong', (data: Buffer) => {
      const sentAt = this.#pings.get(data.toString('hex'));
      if (sentAt === undefined) return;
      this.#pings.delete(data.toString('hex'));
      this.#terminal.status(`pong ${JSON.stringify(data.toString())} in ${(Number(process.hrtime.bigint() - sentAt) / 1e6).toFixed(3)} ms`);
    });
    socket.on('close', (code: number, reason: Buffer) => {
      if (this.#socket === socket) this.#socket = null;
      if (!opened) {
        if (this.#settings.reconnect && this.#everOpened && !this.#closingByUs) return;
        this.#terminal.error(`cannot connect to ${this.#settings.url}: ${failure?.message ?? `closed with ${code}`}`);
        this.#client.close();
        return this.#finish(ExitCode.FAILURE);
      }
      this.#terminal.status(`closed: ${code}${reason.length ? ` ${reason.toString()}` : ''}${socket.wasClean ? '' : ' (no close handshake)'}`);
      if (this.#settings.reconnect && !this.#closingByUs && this.#client.state !== 'closed') {
        this.#terminal.status('reconnecting');
        return;
      }
      this.#client.close();
      this.#finish(exitCodeForClose(code, socket.wasClean, this.#closingByUs));
    });
  }

  #print(text: string): void {
    const limit = this.#settings.exitAfter;
    if (limit !== undefined && this.#received >= limit) return;
    this.#received++;
    this.#terminal.received(text);
    if (limit !== undefined && this.#received >= limit) {
      this.onStopInput?.();
      this.#close();
    }
  }

  #json(value: unknown): string {
    return formatText(JSON.stringify(value) ?? 'null', this.#settings.json);
  }

  #track(promise: Promise<unknown>): void {
    this.#inflight.add(promise);
    void promise.finally(() => this.#inflight.delete(promise));
  }

  /** Closes with 1000 through the client; the socket's close then decides the exit code. */
  #close(): void {
    if (this.#closingByUs) return;
    this.#closingByUs = true;
    clearTimeout(this.#timer);
    const socket = this.#socket;
    this.#client.close();
    if (!socket || socket.readyState === 3) this.#finish(this.#everOpened ? ExitCode.OK : ExitCode.FAILURE);
  }

  #finish(code: ExitCode): void {
    if (this.#finished) return;
    this.#finished = true;
    clearTimeout(this.#timer);
    this.#resolve(code);
  }
}

const INVALID = Symbol('invalid');

/** A JSON value, `null` for nothing, or INVALID. */
function parseJson(text: string): unknown {
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return INVALID;
  }
}
