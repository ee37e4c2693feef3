/**
 * The attacking side of the hostile-peer suite: a client that speaks raw bytes over node:net.
 * It writes requests and frames byte by byte, as a hostile peer would, and reads the server's
 * answer with a parser of its own. It imports nothing from src/, so a bug shared by the server's
 * framing code and this client cannot hide itself.
 */
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import zlib from 'node:zlib';

export const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** RFC 6455 §1.3's example key. */
export const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

export const OP = { CONT: 0x0, TEXT: 0x1, BINARY: 0x2, CLOSE: 0x8, PING: 0x9, PONG: 0xa } as const;

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

export interface FrameSpec {
  opcode: number;
  payload?: Uint8Array | string;
  fin?: boolean;
  rsv1?: boolean;
  rsv2?: boolean;
  rsv3?: boolean;
  /** Mask the payload (a client must). Default true. */
  mask?: boolean;
  /** Encode the length with 7, 7+16 or 7+64 bits whatever its size (non-minimal encodings). */
  lengthBits?: 7 | 16 | 64;
  /** Write this length in the header instead of the payload's (the payload bytes still follow). */
  declaredLength?: bigint;
  maskingKey?: Uint8Array;
}

const DEFAULT_KEY = Uint8Array.of(0x12, 0x34, 0x56, 0x78);

/** One frame, built field by field with no validation: whatever the spec says goes on the wire. */
export function frame(spec: FrameSpec): Buffer {
  const payload = typeof spec.payload === 'string' ? Buffer.from(spec.payload, 'utf8') : Buffer.from(spec.payload ?? []);
  const mask = spec.mask ?? true;
  const length = spec.declaredLength ?? BigInt(payload.length);
  const bits = spec.lengthBits ?? (length < 126n ? 7 : length < 0x10000n ? 16 : 64);
  const header: number[] = [];
  header.push((spec.fin === false ? 0 : 0x80) | (spec.rsv1 ? 0x40 : 0) | (spec.rsv2 ? 0x20 : 0) | (spec.rsv3 ? 0x10 : 0) | spec.opcode);
  const maskBit = mask ? 0x80 : 0;
  if (bits === 7) {
    header.push(maskBit | (Number(length) & 0x7f));
  } else if (bits === 16) {
    header.push(maskBit | 126, Number(length >> 8n) & 0xff, Number(length) & 0xff);
  } else {
    header.push(maskBit | 127);
    for (let shift = 56n; shift >= 0n; shift -= 8n) header.push(Number((length >> shift) & 0xffn));
  }
  const key = spec.maskingKey ?? DEFAULT_KEY;
  if (mask) header.push(...key);
  const body = Buffer.from(payload);
  if (mask) for (let i = 0; i < body.length; i++) body[i]! ^= key[i & 3]!;
  return Buffer.concat([Buffer.from(header), body]);
}

/** A text message split into frames of the given payloads (first TEXT, then continuations). */
export function fragmented(pieces: Array<Uint8Array | string>, opcode: number = OP.TEXT): Buffer {
  return Buffer.concat(
    pieces.map((payload, i) => frame({ opcode: i === 0 ? opcode : OP.CONT, fin: i === pieces.length - 1, payload })),
  );
}

/**
 * A message compressed as RFC 7692 §7.2.1 says: raw DEFLATE, flushed with a sync flush, the
 * final 00 00 ff ff removed.
 */
export function deflateMessage(data: Uint8Array | string): Buffer {
  const raw = zlib.deflateRawSync(typeof data === 'string' ? Buffer.from(data) : data, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  return stripTail(raw);
}

/**
 * `size` bytes of `fill`, compressed as deflateMessage does, fed to zlib in pieces so that the
 * plaintext of a bomb never exists in memory here.
 */
export async function deflateFilled(size: number, fill = 0): Promise<Buffer> {
  const deflate = zlib.createDeflateRaw({ level: 9 });
  const out: Buffer[] = [];
  deflate.on('data', (chunk: Buffer) => out.push(chunk));
  const piece = Buffer.alloc(Math.min(size, 1 << 20), fill);
  for (let left = size; left > 0; left -= piece.length) {
    const part = left >= piece.length ? piece : piece.subarray(0, left);
    if (!deflate.write(part)) await new Promise((resolve) => deflate.once('drain', resolve));
  }
  await new Promise<void>((resolve) => deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve()));
  deflate.destroy();
  return stripTail(Buffer.concat(out));
}

function stripTail(raw: Buffer): Buffer {
  const n = raw.length;
  const tail = n >= 4 && raw[n - 4] === 0 && raw[n - 3] === 0 && raw[n - 2] === 0xff && raw[n - 1] === 0xff;
  return tail ? raw.subarray(0, n - 4) : raw;
}

export function closeBody(code: number, reason: Uint8Array | string = ''): Buffer {
  const r = typeof reason === 'string' ? Buffer.from(reason, 'utf8') : Buffer.from(reason);
  const out = Buffer.alloc(2 + r.length);
  out.writeUInt16BE(code, 0);
  r.copy(out, 2);
  return out;
}

export interface ServerFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  payload: Buffer;
}

/** Parses frames as a server sends them; stops at the first incomplete one. */
export function parseFrames(bytes: Buffer): { frames: ServerFrame[]; rest: Buffer } {
  const frames: ServerFrame[] = [];
  let offset = 0;
  for (;;) {
    if (bytes.length - offset < 2) break;
    const b0 = bytes[offset]!;
    const b1 = bytes[offset + 1]!;
    let length = b1 & 0x7f;
    let at = offset + 2;
    if (length === 126) {
      if (bytes.length - at < 2) break;
      length = bytes.readUInt16BE(at);
      at += 2;
    } else if (length === 127) {
      if (bytes.length - at < 8) break;
      length = Number(bytes.readBigUInt64BE(at));
      at += 8;
    }
    const masked = (b1 & 0x80) !== 0;
    let key: Buffer | null = null;
    if (masked) {
      if (bytes.length - at < 4) break;
      key = bytes.subarray(at, at + 4);
      at += 4;
    }
    if (bytes.length - at < length) break;
    const payload = Buffer.from(bytes.subarray(at, at + length));
    if (key) for (let i = 0; i < payload.length; i++) payload[i]! ^= key[i & 3]!;
    frames.push({ fin: (b0 & 0x80) !== 0, rsv: (b0 >> 4) & 7, opcode: b0 & 0x0f, masked, payload });
    offset = at + length;
  }
  return { frames, rest: bytes.subarray(offset) };
}

/** Bytes the frame at the start of `bytes` needs in all (header and payload), as far as known. */
function frameSize(bytes: Buffer): number {
  if (bytes.length < 2) return 2;
  const b1 = bytes[1]!;
  const mask = b1 & 0x80 ? 4 : 0;
  const length7 = b1 & 0x7f;
  if (length7 < 126) return 2 + mask + length7;
  const extra = length7 === 126 ? 2 : 8;
  if (bytes.length < 2 + extra) return 2 + extra;
  const length = length7 === 126 ? bytes.readUInt16BE(2) : Number(bytes.readBigUInt64BE(2));
  return 2 + extra + mask + length;
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
  /** Bytes after the head not yet parsed into frames, and how many the next frame needs. */
  #pending: Buffer[] = [];
  #pendingLength = 0;
  #need = 2;
  #frames: ServerFrame[] = [];
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
    this.#pending.push(chunk);
    this.#pendingLength += chunk.length;
    if (this.#pendingLength < this.#need) return;
    const { frames, rest } = parseFrames(Buffer.concat(this.#pending));
    for (const f of frames) this.#frames.push(f);
    this.#pending = rest.length > 0 ? [rest] : [];
    this.#pendingLength = rest.length;
    this.#need = frameSize(rest);
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
  frames(): ServerFrame[] {
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
export async function closeOutcome(peer: Peer, timeoutMs = 5000): Promise<{ code: number | null; closed: boolean; frames: ServerFrame[] }> {
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
export async function violation(port: number, bytes: Uint8Array | Uint8Array[], extraHeaders: string[] = [], timeoutMs = 5000): Promise<{ code: number | null; closed: boolean; frames: ServerFrame[] }> {
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
    peer.write(frame({ opcode: OP.TEXT, payload: message, maskingKey: randomBytes(4) }));
    const got = await peer.until(() => peer.frames().some((f) => f.opcode === OP.TEXT), 5000);
    if (!got) throw new Error('no echo');
    const echoed = peer.frames().find((f) => f.opcode === OP.TEXT)!;
    if (echoed.masked) throw new Error('the server masked its frame');
    const text = echoed.payload.toString('utf8');
    if (text !== message) throw new Error(`echo mismatch: ${text}`);
    peer.write(frame({ opcode: OP.CLOSE, payload: closeBody(1000) }));
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
