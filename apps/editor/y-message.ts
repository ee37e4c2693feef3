/**
 * The y-websocket wire format, read strictly: one binary message is a varuint type followed by
 * its body (y-protocols' sync and awareness messages, each carrying one varuint8array). A message
 * is read whole or refused with the close code its fault deserves; nothing here touches a
 * document, so a refused message has changed nothing.
 * Must not: apply updates or send anything (doc-room.ts does both).
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';

/** The outer message types of y-websocket (2, auth, is only ever sent by servers that refuse). */
export const MESSAGE = { sync: 0, awareness: 1, auth: 2, queryAwareness: 3 } as const;
/** The sync sub-types of y-protocols/sync. */
export const SYNC = { step1: 0, step2: 1, update: 2 } as const;

/** RFC 6455 §7.4.1 codes the editor closes with for bad input. */
export const EDITOR_CLOSE = {
  /** A text frame, or a message or sync type the protocol does not have. */
  unsupported: 1003,
  /** A message that does not decode: truncated, trailing bytes, an invalid update or awareness state. */
  malformed: 1007,
  /** Too many messages a second, or a document grown past its limit. */
  policy: 1008,
  /** The demo is closing. */
  goingAway: 1001,
} as const;

export type ClientMessage =
  | { type: 'syncStep1'; stateVector: Uint8Array }
  | { type: 'update'; update: Uint8Array }
  | { type: 'awareness'; update: Uint8Array }
  | { type: 'queryAwareness' };

export interface Refusal {
  closeCode: number;
  reason: string;
}

/** Reads one client message; a Refusal says why it cannot be taken and how to close. */
export function readClientMessage(data: Uint8Array): ClientMessage | Refusal {
  try {
    const decoder = decoding.createDecoder(data);
    const type = decoding.readVarUint(decoder);
    let message: ClientMessage;
    if (type === MESSAGE.sync) {
      const sub = decoding.readVarUint(decoder);
      if (sub === SYNC.step1) {
        const stateVector = decoding.readVarUint8Array(decoder);
        Y.decodeStateVector(stateVector);
        message = { type: 'syncStep1', stateVector };
      } else if (sub === SYNC.step2 || sub === SYNC.update) {
        const update = decoding.readVarUint8Array(decoder);
        // Decoded once before it meets the document, so a broken update is refused whole.
        Y.decodeUpdate(update);
        message = { type: 'update', update };
      } else {
        return { closeCode: EDITOR_CLOSE.unsupported, reason: `unknown sync message type ${sub}` };
      }
    } else if (type === MESSAGE.awareness) {
      message = { type: 'awareness', update: decoding.readVarUint8Array(decoder) };
    } else if (type === MESSAGE.queryAwareness) {
      message = { type: 'queryAwareness' };
    } else {
      return { closeCode: EDITOR_CLOSE.unsupported, reason: `unknown message type ${type}` };
    }
    if (decoding.hasContent(decoder)) return { closeCode: EDITOR_CLOSE.malformed, reason: 'trailing bytes after the message' };
    return message;
  } catch {
    return { closeCode: EDITOR_CLOSE.malformed, reason: 'malformed y-websocket message' };
  }
}

export function isRefusal(value: ClientMessage | Refusal): value is Refusal {
  return 'closeCode' in value;
}

/** A sync message (step1, step2 or update) around `payload`. */
export function syncMessage(sub: (typeof SYNC)[keyof typeof SYNC], payload: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MESSAGE.sync);
  encoding.writeVarUint(encoder, sub);
  encoding.writeVarUint8Array(encoder, payload);
  return encoding.toUint8Array(encoder);
}

/** An awareness message around an encoded awareness update. */
export function awarenessMessage(update: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MESSAGE.awareness);
  encoding.writeVarUint8Array(encoder, update);
  return encoding.toUint8Array(encoder);
}
