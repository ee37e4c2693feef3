/**
 * PythonPeer: runs test/interop/python/{client,server}.py under Debian's /usr/bin/python3 (whose
 * python3-websockets package is the peer) and speaks their JSON-lines protocol: commands on
 * stdin, events on stdout. One connection at a time; each becomes an Endpoint.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Closed, Endpoint, Received } from './endpoint.js';
import { Inbox, within } from './inbox.js';

export const PYTHON = '/usr/bin/python3';
const SCRIPTS = fileURLToPath(new URL('./python/', import.meta.url));
const STEP_MS = 10_000;

type PeerEvent =
  | { ev: 'ready'; websockets: string; python: string }
  | { ev: 'listening'; port: number }
  | { ev: 'open'; protocol: string }
  | { ev: 'message'; binary: boolean; b64: string }
  | { ev: 'pong'; b64: string }
  | { ev: 'closed'; code: number; reason: string; wasClean: boolean }
  | { ev: 'error'; message: string };

interface Connection {
  protocol: string;
  messages: Inbox<Received>;
  pongs: Inbox<Buffer>;
  closed: Promise<Closed>;
  resolveClosed(closed: Closed): void;
}

export class PythonPeer {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #opened = new Inbox<Connection>('python connections');
  readonly #ready = new Inbox<PeerEvent & { ev: 'ready' }>('python start');
  readonly #listening = new Inbox<number>('python server port');
  #current: Connection | null = null;
  #stderr = '';
  readonly errors: string[] = [];
  #exited = false;

  /** Starts `script` ('client.py' or 'server.py'); fails clearly when Python or websockets is missing. */
  static async start(script: 'client.py' | 'server.py'): Promise<{ peer: PythonPeer; version: string }> {
    if (!existsSync(PYTHON)) {
      throw new Error(`Python peer missing: ${PYTHON} does not exist (install the Debian packages python3 and python3-websockets)`);
    }
    const peer = new PythonPeer(script);
    const ready = await peer.#ready.next(15_000).catch((error: Error) => {
      peer.stop();
      throw new Error(`Python websockets peer did not start (is Debian's python3-websockets installed?): ${error.message}\n${peer.#stderr}`);
    });
    return { peer, version: ready.websockets };
  }

  private constructor(script: string) {
    this.#child = spawn(PYTHON, ['-u', SCRIPTS + script], { stdio: ['pipe', 'pipe', 'pipe'], cwd: SCRIPTS });
    this.#child.stderr.setEncoding('utf8');
    this.#child.stderr.on('data', (chunk: string) => {
      if (this.#stderr.length < 20_000) this.#stderr += chunk;
    });
    this.#child.stdin.on('error', () => undefined);
    const lines = createInterface({ input: this.#child.stdout, crlfDelay: Infinity });
    lines.on('line', (line) => this.#onEvent(JSON.parse(line) as PeerEvent));
    const gone = (why: string): void => {
      this.#exited = true;
      const error = new Error(`python peer ${why}\n${this.#stderr}`);
      this.#ready.fail(error);
      this.#listening.fail(error);
      this.#opened.fail(error);
      this.#current?.messages.fail(error);
      this.#current?.pongs.fail(error);
    };
    this.#child.on('error', (error) => gone(`failed: ${error.message}`));
    this.#child.on('exit', (code, signal) => gone(`exited (${code ?? signal})`));
  }

  #onEvent(event: PeerEvent): void {
    switch (event.ev) {
      case 'ready':
        this.#ready.push(event);
        return;
      case 'listening':
        this.#listening.push(event.port);
        return;
      case 'open': {
        let resolveClosed!: (closed: Closed) => void;
        const closed = new Promise<Closed>((resolve) => (resolveClosed = resolve));
        const connection: Connection = {
          protocol: event.protocol,
          messages: new Inbox('python messages'),
          pongs: new Inbox('python pongs'),
          closed,
          resolveClosed,
        };
        this.#current = connection;
        this.#opened.push(connection);
        return;
      }
      case 'message':
        this.#current?.messages.push({ binary: event.binary, data: Buffer.from(event.b64, 'base64') });
        return;
      case 'pong':
        this.#current?.pongs.push(Buffer.from(event.b64, 'base64'));
        return;
      case 'closed': {
        const connection = this.#current;
        this.#current = null;
        if (!connection) return;
        const gone = new Error(`python connection closed (${event.code})`);
        connection.messages.fail(gone);
        connection.pongs.fail(gone);
        connection.resolveClosed({ code: event.code, reason: event.reason, wasClean: event.wasClean });
        return;
      }
      case 'error':
        this.errors.push(event.message);
        this.#current?.messages.fail(new Error(`python peer: ${event.message}`));
        return;
    }
  }

  command(command: Record<string, unknown>): void {
    if (this.#exited) throw new Error(`python peer is gone\n${this.#stderr}`);
    this.#child.stdin.write(JSON.stringify(command) + '\n');
  }

  port(): Promise<number> {
    return this.#listening.next(STEP_MS);
  }

  /** The next connection the peer reports open, as an Endpoint. */
  async nextEndpoint(): Promise<Endpoint> {
    const connection = await this.#opened.next(STEP_MS).catch((error: Error) => {
      throw new Error(`${error.message}${this.errors.length ? `; python reported: ${this.errors.join('; ')}` : ''}`);
    });
    return {
      protocol: connection.protocol,
      send: async (message) => this.command({ op: 'send', binary: message.binary, b64: message.data.toString('base64') }),
      nextMessage: () => connection.messages.next(STEP_MS),
      sendFragments: async (parts, binary) =>
        this.command({ op: 'send_fragments', binary, parts: parts.map((part) => part.toString('base64')) }),
      ping: async (payload) => {
        this.command({ op: 'ping', b64: payload.toString('base64') });
        return connection.pongs.next(STEP_MS);
      },
      close: async (code, reason) => this.command({ op: 'close', code, reason }),
      closed: connection.closed,
    };
  }

  /** Aborts the current connection if any, and waits (bounded) for it to be reported closed. */
  async abort(endpoint: Endpoint): Promise<void> {
    if (this.#exited) return;
    this.command({ op: 'abort' });
    await within(endpoint.closed, 5000, 'python abort').catch(() => undefined);
  }

  /** Ends the process: `quit`, then SIGKILL by PID if it lingers. */
  async stop(): Promise<void> {
    if (this.#exited || this.#child.pid === undefined) return;
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    try {
      this.command({ op: 'quit' });
      this.#child.stdin.end();
    } catch {
      // already gone
    }
    await within(exited, 3000, 'python quit').catch(() => {
      if (!this.#exited) process.kill(this.#child.pid!, 'SIGKILL');
      return within(exited, 3000, 'python kill').catch(() => undefined);
    });
  }
}
