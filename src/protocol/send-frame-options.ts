/**
 * The options of Connection.send: how one message (or one fragment of it) is framed, RFC 6455
 * §5.2 (opcode), §5.4 (fin), RFC 7692 §6 (compression), and the shared objects that let a hot
 * caller pass them without allocating.
 * Must not: hold state; the sixteen objects are frozen and of one shape.
 */

/** How `send` frames a message (or one fragment of it). */
export interface SendFrameOptions {
  /** Opcode of the message's first frame: binary (0x2) or text (0x1). */
  binary: boolean;
  /** Last frame of the message. Default true; with false later sends are continuation frames. */
  fin?: boolean;
  /** The caller gives up `data`: a client may mask it in place instead of copying. Default false. */
  owned?: boolean;
  /** The message may be compressed, if a codec was negotiated and it reaches its threshold. Default true. */
  compress?: boolean;
}

/**
 * Every combination of SendFrameOptions as one shared, frozen object, all of one shape: a caller
 * on the hot path picks one instead of building an object per message.
 */
const SEND_FRAME_OPTIONS: readonly Readonly<Required<SendFrameOptions>>[] = Array.from({ length: 16 }, (_, bits) =>
  Object.freeze({ binary: (bits & 1) !== 0, fin: (bits & 2) !== 0, owned: (bits & 4) !== 0, compress: (bits & 8) !== 0 }),
);

/** The shared SendFrameOptions object for these values (no allocation). */
export function sendFrameOptions(binary: boolean, fin = true, owned = false, compress = true): Readonly<Required<SendFrameOptions>> {
  return SEND_FRAME_OPTIONS[(binary ? 1 : 0) | (fin ? 2 : 0) | (owned ? 4 : 0) | (compress ? 8 : 0)]!;
}
