/**
 * The output queue: frames outgoing messages and control frames into bytes for the transport,
 * RFC 6455 §5.2 (headers), §5.3 (a client masks every frame with a fresh key), §5.4 (sending a
 * message in fragments), §5.5.3 (pongs answer the newest ping), §5.5.1 (one close frame), and
 * RFC 7692 §6 (RSV1 on the first frame of a compressed message).
 *
 * Frames with payloads up to MERGE_LIMIT are written, header and payload together, into an
 * output slab; larger payloads follow as their own chunk behind a header in the slab. A slab is
 * a region of an arena shared by every queue with the same allocator: a queue carves exactly
 * the bytes it writes, and its frames queued between two takes stay one contiguous region
 * unless another queue wrote in between. Arena space is never reused (a region may still wait
 * in a transport's buffer); a full arena is replaced by a fresh one and freed once nothing views
 * it. The region is dropped at every take, so an idle connection holds no output buffer. A
 * payload is copied at most once.
 * Must not: check the connection's state (the Connection does), read input, or allocate per
 * frame beyond the slab and, for a close frame, its payload.
 */
import { Opcode } from './constants.js';
import { frameHeaderSize, writeFrameHeader } from './frame-writer.js';
import { maskInto, type MaskFunction } from './mask.js';
import type { MessageCodec } from './codec.js';

export interface OutputQueueOptions {
  /** Fills a 4-byte masking key: given on the client, which masks (RFC 6455 §5.3); null on the server. */
  generateMask: ((maskingKey: Uint8Array) => void) | null;
  /** Masks bytes in place with the contract of applyMask. */
  mask: MaskFunction;
  /** Allocates output buffers. */
  allocate: (size: number) => Uint8Array;
  /** Most automatic pongs queued between two takes; past it only the newest ping is answered. */
  maxPendingPongs: number;
  /** The negotiated compression extension, if any. */
  codec: MessageCodec | null;
}

/**
 * Frames with payloads up to this size are written into the output slab, header and payload
 * together (the payload's one copy); larger payloads go out as their own chunk, uncopied.
 */
const MERGE_LIMIT = 4096;
/**
 * Size of a fresh arena. Small frames of many connections share one, so an echo of small
 * messages allocates one buffer per ARENA_SIZE bytes sent, not one per connection and tick.
 * Reservations above half of it get a buffer of their own.
 */
const ARENA_SIZE = 8192;

/** Where the queues that share an allocator carve their slabs: [0, used) is taken. */
interface Arena {
  buffer: Uint8Array | null;
  used: number;
}

const arenas = new WeakMap<(size: number) => Uint8Array, Arena>();

function arenaFor(allocate: (size: number) => Uint8Array): Arena {
  let arena = arenas.get(allocate);
  if (arena === undefined) {
    arena = { buffer: null, used: 0 };
    arenas.set(allocate, arena);
  }
  return arena;
}

/** From this payload length a client copies and then masks in place rather than mask while copying. */
const MASK_IN_PLACE_LENGTH = 512;

const EMPTY: Uint8Array = new Uint8Array(0);
/** What `take` returns when nothing is queued: shared, never changed by anyone. */
export const NO_OUTPUT: Uint8Array[] = [];

// Shared by every queue: a key is generated and used at once, for the frame being queued.
const keyScratch = new Uint8Array(4);

export class OutputQueue {
  readonly #generateMask: ((maskingKey: Uint8Array) => void) | null;
  readonly #mask: MaskFunction;
  readonly #allocate: (size: number) => Uint8Array;
  readonly #maxPendingPongs: number;
  readonly #codec: MessageCodec | null;
  readonly #arena: Arena;

  /** Opcode of an outgoing fragmented message in progress (0: none). */
  #messageOpcode = 0;
  /** The outgoing message in progress is compressed. */
  #compressing = false;
  /** Chunks queued and not yet taken; null when there are none, so an idle queue holds no list. */
  #output: Uint8Array[] | null = null;
  #bytes = 0;
  /** Small frames are written here (an arena's buffer); [#slabStart, #slabUsed) is queued but not yet taken. */
  #slab: Uint8Array | null = null;
  #slabStart = 0;
  #slabUsed = 0;
  #pendingPongs = 0;
  /** Past maxPendingPongs: the payload of the newest unanswered ping, answered at the next take. */
  #deferredPong: Uint8Array | null = null;
  /** The size of the deferred pong's frame, counted in bytes while it waits. */
  #deferredPongBytes = 0;
  #closeSent = false;

  constructor(options: OutputQueueOptions) {
    this.#generateMask = options.generateMask;
    this.#mask = options.mask;
    this.#allocate = options.allocate;
    this.#maxPendingPongs = Math.max(1, options.maxPendingPongs);
    this.#codec = options.codec;
    this.#arena = arenaFor(options.allocate);
  }

  /** Bytes queued and not yet taken. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The one close frame was queued. */
  get closeSent(): boolean {
    return this.#closeSent;
  }

  /** A message sent with fin false is still open. */
  get fragmenting(): boolean {
    return this.#messageOpcode !== 0;
  }

  /**
   * Queues a data frame of a message: the first frame takes the opcode of `binary`, later ones
   * of an open message are continuations. With `owned`, `data` may be masked in place. With
   * `compress` and a codec whose threshold the first frame reaches, the message is compressed.
   */
  message(data: Uint8Array, binary: boolean, fin: boolean, owned: boolean, compress: boolean): void {
    let opcode: number;
    let rsv1 = false;
    if (this.#messageOpcode !== 0) {
      opcode = Opcode.CONTINUATION;
    } else {
      opcode = binary ? Opcode.BINARY : Opcode.TEXT;
      this.#compressing = this.#codec !== null && compress && this.#codec.shouldCompress(data.length);
      rsv1 = this.#compressing;
      if (!fin) this.#messageOpcode = opcode;
    }
    let payload = data;
    if (this.#compressing) {
      payload = this.#codec!.compress(data, fin);
      owned = true;
    }
    if (fin) {
      this.#messageOpcode = 0;
      this.#compressing = false;
    }
    this.#frame(opcode, payload, fin, rsv1, owned);
  }

  /** Queues a ping or pong frame (the caller checked its length). */
  control(opcode: number, payload: Uint8Array): void {
    this.#frame(opcode, payload, true, false, false);
  }

  /** Queues a frame encoded elsewhere, byte for byte. */
  raw(frame: Uint8Array): void {
    this.#closeSlabRegion();
    this.#push(frame);
    this.#bytes += frame.length;
  }

  /**
   * Answers a ping. At most maxPendingPongs pongs wait between two takes; past the cap only the
   * newest ping is answered, once, at the next take.
   */
  pong(payload: Uint8Array): void {
    if (this.#pendingPongs >= this.#maxPendingPongs) {
      // RFC 6455 §5.5.3: answering only the most recent ping is allowed. Keep its payload (a
      // copy: it may be a view of input) and answer it when the output is next taken.
      this.#deferredPong = payload.slice();
      const bytes = frameHeaderSize(payload.length, this.#generateMask !== null) + payload.length;
      this.#bytes += bytes - this.#deferredPongBytes;
      this.#deferredPongBytes = bytes;
      return;
    }
    this.#frame(Opcode.PONG, payload, true, false, false);
    this.#pendingPongs++;
  }

  /**
   * Queues the close frame (code 0: an empty one), after a pong still waiting. At most one close
   * frame is ever queued (RFC 6455 §5.5.1): later calls do nothing.
   */
  close(code: number, reason: Uint8Array): void {
    if (this.#closeSent) return;
    this.#releaseDeferredPong();
    this.#closeSent = true;
    let payload = EMPTY;
    if (code !== 0) {
      payload = new Uint8Array(2 + reason.length);
      payload[0] = code >>> 8;
      payload[1] = code & 0xff;
      payload.set(reason, 2);
    }
    this.#frame(Opcode.CLOSE, payload, true, false, true);
  }

  /** Everything queued since the last take, in order; the caller writes it as it is. */
  take(): Uint8Array[] {
    this.#releaseDeferredPong();
    this.#closeSlabRegion();
    this.#slab = null;
    const output = this.#output;
    this.#pendingPongs = 0;
    if (output === null) return NO_OUTPUT;
    this.#output = null;
    this.#bytes = 0;
    return output;
  }

  #push(chunk: Uint8Array): void {
    const output = this.#output;
    if (output === null) this.#output = [chunk];
    else output.push(chunk);
  }

  /** Queues the pong that waited for the next take (the newest ping past the cap). */
  #releaseDeferredPong(): void {
    const payload = this.#deferredPong;
    if (payload === null) return;
    this.#deferredPong = null;
    this.#bytes -= this.#deferredPongBytes;
    this.#deferredPongBytes = 0;
    if (!this.#closeSent) this.#frame(Opcode.PONG, payload, true, false, false);
  }

  #nextMask(): Uint8Array | null {
    if (this.#generateMask === null) return null;
    this.#generateMask(keyScratch);
    return keyScratch;
  }

  #frame(opcode: number, payload: Uint8Array, fin: boolean, rsv1: boolean, owned: boolean): void {
    const key = this.#nextMask();
    const length = payload.length;
    const headerSize = frameHeaderSize(length, key !== null);
    if (length <= MERGE_LIMIT || (key !== null && !owned)) {
      // Header and payload together in the slab: small payloads, and client payloads we may
      // not mask in place. This is the payload's one copy.
      const total = headerSize + length;
      const slab = this.#reserve(total);
      const at = this.#slabUsed;
      writeFrameHeader(slab, at, fin, rsv1, opcode, length, key);
      if (key && length < MASK_IN_PLACE_LENGTH) maskInto(payload, slab, at + headerSize, key);
      else {
        slab.set(payload, at + headerSize);
        // Long payloads: copy, then mask in place with the (possibly faster) mask function.
        if (key) this.#mask(slab.subarray(at + headerSize, at + total), key, 0);
      }
      this.#slabUsed = at + total;
      this.#bytes += total;
      return;
    }
    const slab = this.#reserve(headerSize);
    writeFrameHeader(slab, this.#slabUsed, fin, rsv1, opcode, length, key);
    this.#slabUsed += headerSize;
    this.#closeSlabRegion();
    if (key) this.#mask(payload, key, 0);
    this.#push(payload);
    this.#bytes += headerSize + length;
  }

  /**
   * Makes room for `size` bytes at #slabUsed: in place when this queue's region ends where its
   * arena's free space starts, else in a new region of the arena (or of a fresh arena).
   */
  #reserve(size: number): Uint8Array {
    const arena = this.#arena;
    let buffer = arena.buffer;
    if (buffer !== null && this.#slab === buffer && this.#slabUsed === arena.used && buffer.length - arena.used >= size) {
      arena.used += size;
      return buffer;
    }
    this.#closeSlabRegion();
    if (size > ARENA_SIZE >>> 1) {
      // Too large to share: a buffer of its own, never extended.
      const own = this.#allocate(size);
      this.#slab = own;
      this.#slabStart = 0;
      this.#slabUsed = 0;
      return own;
    }
    if (buffer === null || buffer.length - arena.used < size) {
      buffer = this.#allocate(ARENA_SIZE);
      arena.buffer = buffer;
      arena.used = 0;
    }
    this.#slab = buffer;
    this.#slabStart = arena.used;
    this.#slabUsed = arena.used;
    arena.used += size;
    return buffer;
  }

  /** Moves the queued part of the slab to the output list (as a view: no copy). */
  #closeSlabRegion(): void {
    if (this.#slabUsed > this.#slabStart) {
      this.#push(this.#slab!.subarray(this.#slabStart, this.#slabUsed));
      this.#slabStart = this.#slabUsed;
    }
  }
}
