/**
 * The browser side of the API (WHATWG WebSockets §"Interface WebSocket"): Event, MessageEvent,
 * CloseEvent and ErrorEvent objects, and addEventListener/removeEventListener/on* mapped onto
 * Node's EventEmitter, as `ws` does, so code written for the browser runs unchanged.
 * Must not: change what the EventEmitter events carry.
 */
import type { EventEmitter } from 'node:events';

export class WsEvent {
  readonly type: string;
  readonly target: unknown;
  constructor(type: string, target: unknown) {
    this.type = type;
    this.target = target;
  }
}

export class MessageEvent extends WsEvent {
  readonly data: unknown;
  constructor(target: unknown, data: unknown) {
    super('message', target);
    this.data = data;
  }
}

export class CloseEvent extends WsEvent {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
  constructor(target: unknown, code: number, reason: string, wasClean: boolean) {
    super('close', target);
    this.code = code;
    this.reason = reason;
    this.wasClean = wasClean;
  }
}

export class ErrorEvent extends WsEvent {
  readonly error: unknown;
  readonly message: string;
  constructor(target: unknown, error: unknown) {
    super('error', target);
    this.error = error;
    this.message = error instanceof Error ? error.message : String(error);
  }
}

export type EventListenerLike = ((event: never) => void) | { handleEvent(event: never): void };

/** Marks wrappers so removeEventListener and the on* setters find their own. */
const ORIGINAL = new WeakMap<(...args: never[]) => void, { listener: EventListenerLike; attribute: boolean }>();

function call(listener: EventListenerLike, thisArg: unknown, event: WsEvent): void {
  if (typeof listener === 'function') (listener as (e: WsEvent) => void).call(thisArg, event);
  else (listener.handleEvent as (e: WsEvent) => void).call(listener, event);
}

type Converter = (target: EventEmitter & { binaryType?: string }, ...args: unknown[]) => WsEvent;

const CONVERTERS: Record<string, Converter> = {
  open: (target) => new WsEvent('open', target),
  message: (target, data, isBinary) =>
    new MessageEvent(target, isBinary || target.binaryType === 'fragments' ? data : String(data)),
  close: (target, code, reason) =>
    new CloseEvent(target, code as number, String(reason ?? ''), (target as unknown as { wasClean?: boolean }).wasClean ?? code !== 1006),
  error: (target, error) => new ErrorEvent(target, error),
};

export function addEventListener(
  target: EventEmitter,
  type: string,
  listener: EventListenerLike,
  options: { once?: boolean; attribute?: boolean } = {},
): void {
  const convert = CONVERTERS[type];
  if (!convert || listener === null || listener === undefined) return;
  for (const existing of target.listeners(type)) {
    const meta = ORIGINAL.get(existing as (...args: never[]) => void);
    if (meta && meta.listener === listener && !meta.attribute && !options.attribute) return;
  }
  const wrapper = function (this: EventEmitter, ...args: unknown[]): void {
    call(listener, target, convert(target as EventEmitter & { binaryType?: string }, ...args));
  };
  ORIGINAL.set(wrapper as (...args: never[]) => void, { listener, attribute: options.attribute ?? false });
  if (options.once) target.once(type, wrapper);
  else target.on(type, wrapper);
}

export function removeEventListener(target: EventEmitter, type: string, listener: EventListenerLike): void {
  for (const existing of target.listeners(type)) {
    const meta = ORIGINAL.get(existing as (...args: never[]) => void);
    if (meta && meta.listener === listener && !meta.attribute) {
      target.removeListener(type, existing as (...args: unknown[]) => void);
      return;
    }
  }
}

export function getAttributeListener(target: EventEmitter, type: string): EventListenerLike | null {
  for (const existing of target.listeners(type)) {
    const meta = ORIGINAL.get(existing as (...args: never[]) => void);
    if (meta?.attribute) return meta.listener;
  }
  return null;
}

export function setAttributeListener(target: EventEmitter, type: string, listener: EventListenerLike | null): void {
  for (const existing of target.listeners(type)) {
    if (ORIGINAL.get(existing as (...args: never[]) => void)?.attribute) {
      target.removeListener(type, existing as (...args: unknown[]) => void);
    }
  }
  if (typeof listener === 'function') addEventListener(target, type, listener, { attribute: true });
}
