/**
 * The attacking side of the hostile-peer suite: a client that speaks raw bytes over node:net.
 * It writes requests and frames byte by byte, as a hostile peer would, and reads the server's
 * answer with test/support/frames.ts. Neither imports anything from src/, so a bug shared by the
 * server's framing code and this client cannot hide itself.
 */
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { OP, FrameStream, clientFrame, closePayload, type ParsedFrame } from '../support/frames.js';

export const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** RFC 6455 §1.3's example key. */
export const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/** The header lines of a valid opening handshake, to be broken one at a time. */
export function goodHeaders(key = KEY): string[] {
  return [
    'Host: 127.0.0.1',
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${key}`,
    'Sec-WebSocket-Version: 13',
  ];
}

export function request(lines: string[], requestLine = 'GET / HTTP/1.1'): string {
  return [requestLine, ...lines].join('\r\n') + '\r\n\r\n';
}

export function acceptFor(key: string): string {
  return createHash('sha1').update(key + GUID).digest('base64');
}

export function connect(port: number, localAddress?: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress });
    socket.once('connect', () => {
      socket.removeListener('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/**
 * A raw socket that records everything it receives and whether (and when) the server closed it.
 * `ended` is the server's FIN, `closed` the socket being fully closed.
 */
export class Peer {
  readonly socket: net.Socket;
  /** Bytes up to the end of the HTTP head (everything, while no head is complete). */
  #headBytes: Buffer[] = [];
  #head: string | null = null;
  /** Frames of the bytes after the head. */
  #stream = new FrameStream();
  #frames: Array<ParsedFrame<Buffer>> = [];
  #size = 0;
  ended = false;
  closed = false;
  error: Error | null = null;
  #waiters: Array<() => void> = [];

  constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#size += chunk.length;
      this.#receive(chunk);
      this.#wake();
    });
    socket.on('end', () => {
      this.ended = true;
      // Answer the server's FIN so the socket closes on both sides.
      socket.end();
      this.#wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.#wake();
    });
    socket.on('error', (error) => {
      this.error = error;
    });
  }

  static async open(port: number, localAddress?: string): Promise<Peer> {
    return new Peer(await connect(port, localAddress));
  }

  /** Frames are parsed as they arrive (once the HTTP head is complete), never all over again. */
  #receive(chunk: Buffer): void {
    if (this.#head === null) {
      this.#headBytes.push(chunk);
      const all = Buffer.concat(this.#headBytes);
      this.#headBytes = [all];
      const end = all.indexOf('\r\n\r\n');
      if (end === -1) return;
      this.#head = all.subarray(0, end).toString('latin1');
      this.#headBytes = [all.subarray(0, end + 4)];
      chunk = all.subarray(end + 4);
      if (chunk.length === 0) return;
    }
    for (const f of this.#stream.push(chunk)) this.#frames.push(f);
  }

  /** Everything received up to the end of the HTTP head; all bytes received while there is none. */
  get bytes(): Buffer {
    return Buffer.concat(this.#headBytes);
  }

  get receivedBytes(): number {
    return this.#size;
  }

  write(data: Uint8Array | string): void {
    if (!this.socket.destroyed) this.socket.write(data);
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** Waits until `done()` holds or the socket closes; false on timeout. */
  async until(done: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (this.closed) return done();
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return true;
  }

  /** Waits for the server to close the connection; true if it did within `timeoutMs`. */
  waitClosed(timeoutMs = 5000): Promise<boolean> {
    return this.until(() => this.closed, timeoutMs);
  }

  /** The HTTP head received so far (up to the blank line), or null if not complete yet. */
  httpHead(): string | null {
    return this.#head;
  }

  /** Status code of the HTTP answer, or null. */
  status(): number | null {
    const head = this.httpHead();
    const m = head && /^HTTP\/1\.[01] (\d{3})/.exec(head);
    return m ? Number(m[1]) : null;
  }

  header(name: string): string | undefined {
    const head = this.httpHead();
    if (!head) return undefined;
    const lines = head.split('\r\n').slice(1);
    for (const line of lines) {
      const colon = line.indexOf(':');
      if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === name.toLowerCase()) return line.slice(colon + 1).trim();
    }
    return undefined;
  }

  /** Frames received after the HTTP head, parsed as they came. */
  frames(): Array<ParsedFrame<Buffer>> {
    return this.#frames;
  }

  /** The close frame the server sent, if any. */
  closeFrame(): { code: number | null; reason: Buffer } | null {
    const close = this.frames().find((f) => f.opcode === OP.CLOSE);
    if (!close) return null;
    if (close.payload.length < 2) return { code: null, reason: Buffer.alloc(0) };
    return { code: close.payload.readUInt16BE(0), reason: close.payload.subarray(2) };
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Performs a valid opening handshake and checks the 101 answer. */
export async function upgradedPeer(port: number, extraHeaders: string[] = [], localAddress?: string): Promise<Peer> {
  const key = randomBytes(16).toString('base64');
  const peer = await Peer.open(port, localAddress);
  peer.write(request([...goodHeaders(key), ...extraHeaders]));
  const headed = await peer.until(() => peer.httpHead() !== null, 5000);
  if (!headed) {
    peer.destroy();
    throw new Error('no answer to a valid handshake');
  }
  if (peer.status() !== 101 || peer.header('sec-websocket-accept') !== acceptFor(key)) {
    peer.destroy();
    throw new Error(`handshake refused: ${peer.httpHead()}`);
  }
  return peer;
}

/**
 * The outcome of a violation on an upgraded connection: the close code of the server's close
 * frame (null if it sent none, or an empty one) and whether it closed the TCP connection.
 */
export async function closeOutcome(peer: Peer, timeoutMs = 5000): Promise<{ code: number | null; closed: boolean; frames: Array<ParsedFrame<Buffer>> }> {
  const closed = await peer.waitClosed(timeoutMs);
  return { code: peer.closeFrame()?.code ?? null, closed, frames: peer.frames() };
}

/** Sends `bytes` on a fresh connection (no handshake of ours) and waits for the server to close it. */
export async function rejection(port: number, bytes: Uint8Array | string, timeoutMs = 5000): Promise<{ status: number | null; head: string | null; closed: boolean; peer: Peer }> {
  const peer = await Peer.open(port);
  peer.write(bytes);
  const closed = await peer.waitClosed(timeoutMs);
  peer.destroy();
  return { status: peer.status(), head: peer.httpHead(), closed, peer };
}

/** Opens a WebSocket connection, sends `bytes` after the handshake and waits for the server's reaction. */
export async function violation(port: number, bytes: Uint8Array | Uint8Array[], extraHeaders: string[] = [], timeoutMs = 5000): Promise<{ code: number | null; closed: boolean; frames: Array<ParsedFrame<Buffer>> }> {
  const peer = await upgradedPeer(port, extraHeaders);
  try {
    for (const part of Array.isArray(bytes) ? bytes : [bytes]) peer.write(part);
    return await closeOutcome(peer, timeoutMs);
  } finally {
    peer.destroy();
  }
}

/**
 * (c) of every case: a fresh, well-behaved client still gets its message echoed, byte for byte.
 * Returns the echoed text.
 */
export async function echoOnce(port: number, message = `still serving ${randomBytes(6).toString('hex')}`): Promise<string> {
  const peer = await upgradedPeer(port);
  try {
    peer.write(clientFrame({ opcode: OP.TEXT, payload: message, maskingKey: randomBytes(4) }));
    const got = await peer.until(() => peer.frames().some((f) => f.opcode === OP.TEXT), 5000);
    if (!got) throw new Error('no echo');
    const echoed = peer.frames().find((f) => f.opcode === OP.TEXT)!;
    if (echoed.masked) throw new Error('the server masked its frame');
    const text = echoed.payload.toString('utf8');
    if (text !== message) throw new Error(`echo mismatch: ${text}`);
    peer.write(clientFrame({ opcode: OP.CLOSE, payload: closePayload(1000) }));
    await peer.waitClosed(5000);
    return text;
  } finally {
    peer.destroy();
  }
}

/** Waits until `condition` holds, polling; false after `timeoutMs`. */
export async function eventually(condition: () => boolean, timeoutMs = 5000, stepMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return true;
}
