/**
 * Frames masked against the side's rule, as `ws`'s `mask` option asks for (RFC 6455 §5.1: a
 * client masks every frame, a server none; a peer fails the connection on a frame that breaks
 * the rule, which is what the option lets a program test). Such a frame is built whole here and
 * written after everything queued before it; it is never compressed, and a message being sent
 * in fragments keeps the side's rule (the core frames those).
 * Must not: be reached when the option is left out or agrees with the side (the common path
 * never looks here), or change what the core queues.
 */
import { Opcode } from '../protocol/constants.js';
import { encodeFrame } from '../protocol/frame-writer.js';
import { generateMask } from './bytes/generate-mask.js';

/** Does `mask` ask for masking other than the side's own (the client masks, the server not)? */
export function againstSide(mask: unknown, side: 'client' | 'server'): boolean {
  return mask !== undefined && Boolean(mask) !== (side === 'client');
}

const OPCODES = { text: Opcode.TEXT, binary: Opcode.BINARY, ping: Opcode.PING, pong: Opcode.PONG } as const;

/** One whole frame of `kind` carrying `payload`, masked (with a fresh key) when `mask` is true. */
export function frameMaskedAs(mask: boolean, kind: keyof typeof OPCODES, payload: Uint8Array, fill: ((key: Uint8Array) => void) | undefined): Buffer {
  let key: Uint8Array | null = null;
  if (mask) {
    key = new Uint8Array(4);
    (fill ?? generateMask)(key);
  }
  const frame = encodeFrame({ fin: true, opcode: OPCODES[kind], payload, maskingKey: key });
  return Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
}
