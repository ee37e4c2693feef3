/**
 * A received message handed to the 'message' listener: straight to it when there is exactly one
 * and EventEmitter#emit would do nothing more than call it, else through emit. The direct call
 * skips emit's rest-argument array and its lookup of the event's name, which is megamorphic in a
 * process where every stream emits through that same function.
 * Must not: change what a listener sees (its `this`, its arguments, what it throws), or take the
 * direct call where emit does more: an emit overridden by a subclass, several listeners,
 * captureRejections (emit catches the promise a listener returns).
 */
import { EventEmitter } from 'node:events';
import type { ConnectionOwner } from './internal.js';

const nativeEmit = EventEmitter.prototype.emit;
/** The property that holds an emitter's captureRejections (Node's own symbol); null if not found. */
const kCapture = Object.getOwnPropertySymbols(EventEmitter.prototype).find((symbol) => symbol.description === 'kCapture') ?? null;

type Listener = (this: ConnectionOwner, data: unknown, isBinary: boolean) => unknown;
type EmitterFields = { _events?: { message?: unknown }; [key: symbol]: unknown };

export function emitMessage(owner: ConnectionOwner, data: unknown, isBinary: boolean): void {
  const listener = (owner as unknown as EmitterFields)._events?.message;
  if (typeof listener === 'function' && owner.emit === nativeEmit && kCapture !== null && !(owner as unknown as EmitterFields)[kCapture]) {
    (listener as Listener).call(owner, data, isBinary);
    return;
  }
  owner.emit('message', data, isBinary);
}
