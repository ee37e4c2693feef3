/**
 * The browser side of the API (WHATWG WebSockets §"Interface WebSocket"): Event, MessageEvent,
 * CloseEvent and ErrorEvent objects, and addEventListener/removeEventListener/on* mapped onto
 * Node's EventEmitter, as `ws` does, so code written for the browser runs unchanged.
 * Must not: change what the EventEmitter events carry.
 */
import type { EventEmitter } from 'node:events';

/** What a MessageEvent carries: text as a string, binary data as `binaryType` asks. */
export type Data = string | Buffer | ArrayBuffer | Buffer[] | Blob;

/** The target each dispatched event was dispatched at (WHATWG DOM §2.2: null until then). */
const TARGETS = new WeakMap<object, unknown>();

/**
 * The 'open' event, and the base of the others (WHATWG DOM §2.2), constructed as there:
 * `new Event(type)`, `new CloseEvent(type, { code, reason, wasClean })`, ... with read-only,
 * enumerable attributes on the prototype, as `ws` defines them. `Target` is the WebSocket
 * (websocket.ts names it; this file does not import it, so that no import cycle forms); it
 * defaults to `any`, as loose as `ws`'s typings, for code that names the event types alone.
 */
export class Event<Target = any> {
  readonly #type: string;
  constructor(type: string) {
    this.#type = type;
  }
  get type(): string {
    return this.#type;
  }
  get target(): Target {
    return (TARGETS.get(this) ?? null) as Target;
  }
}

export interface MessageEventInit {
  data?: Data;
}

export class MessageEvent<Target = any> extends Event<Target> {
  readonly #data: Data;
  constructor(type: string, init: MessageEventInit = {}) {
    super(type);
    this.#data = init.data ?? (null as unknown as Data);
  }
  get data(): Data {
    return this.#data;
  }
}

export interface CloseEventInit {
  code?: number;
  reason?: string;
  wasClean?: boolean;
}

export class CloseEvent<Target = any> extends Event<Target> {
  readonly #code: number;
  readonly #reason: string;
  readonly #wasClean: boolean;
  constructor(type: string, init: CloseEventInit = {}) {
    super(type);
    this.#code = init.code ?? 0;
    this.#reason = init.reason ?? '';
    this.#wasClean = init.wasClean ?? false;
  }
  get code(): number {
    return this.#code;
  }
  get reason(): string {
    return this.#reason;
  }
  get wasClean(): boolean {
    return this.#wasClean;
  }
}

export interface ErrorEventInit {
  error?: unknown;
  message?: string;
}

export class ErrorEvent<Target = any> extends Event<Target> {
  // `any`, as the WHATWG ErrorEvent and `ws` type it: whatever was thrown or emitted.
  readonly #error: any;
  readonly #message: string;
  constructor(type: string, init: ErrorEventInit = {}) {
    super(type);
    this.#error = init.error ?? null;
    this.#message = init.message ?? '';
  }
  get error(): any {
    return this.#error;
  }
  get message(): string {
    return this.#message;
  }
}

for (const [event, names] of [
  [Event, ['type', 'target']],
  [MessageEvent, ['data']],
  [CloseEvent, ['code', 'reason', 'wasClean']],
  [ErrorEvent, ['error', 'message']],
] as const) {
  for (const name of names) Object.defineProperty(event.prototype, name, { enumerable: true });
}

/** `event`, dispatched at `target`. */
function dispatched<E extends Event>(event: E, target: unknown): E {
  TARGETS.set(event, target);
  return event;
}

/** The event each browser-style event type delivers. */
export interface WebSocketEventMap<Target = any> {
  open: Event<Target>;
  message: MessageEvent<Target>;
  close: CloseEvent<Target>;
  error: ErrorEvent<Target>;
}

/** A listener of `type`: a function or an object with handleEvent (WHATWG DOM §2.7). */
export type WebSocketEventListener<K extends keyof WebSocketEventMap, Target = any> =
  | ((event: WebSocketEventMap<Target>[K]) => void)
  | { handleEvent(event: WebSocketEventMap<Target>[K]): void };

export interface EventListenerOptions {
  once?: boolean;
}

/** Any listener, as the functions below store it. */
export type EventListenerLike = ((event: never) => void) | { handleEvent(event: never): void };

/** Marks wrappers so removeEventListener and the on* setters find their own. */
const ORIGINAL = new WeakMap<(...args: never[]) => void, { listener: EventListenerLike; attribute: boolean }>();

function call(listener: EventListenerLike, thisArg: unknown, event: Event): void {
  if (typeof listener === 'function') (listener as (e: Event) => void).call(thisArg, event);
  else (listener.handleEvent as (e: Event) => void).call(listener, event);
}

/** The socket as the converters see it. */
type Source = EventEmitter & { readonly wasClean: boolean };

type Converter = (target: Source, ...args: unknown[]) => Event<Source>;

/** EventEmitter arguments to event objects; text is always a string, as in the browser. */
const CONVERTERS: Record<string, Converter> = {
  open: (target) => dispatched(new Event('open'), target),
  message: (target, data, isBinary) => dispatched(new MessageEvent('message', { data: isBinary ? (data as Data) : String(data) }), target),
  close: (target, code, reason) =>
    dispatched(new CloseEvent('close', { code: code as number, reason: String(reason ?? ''), wasClean: target.wasClean }), target),
  error: (target, error) => dispatched(new ErrorEvent('error', { error, message: error instanceof Error ? error.message : String(error) }), target),
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
    call(listener, target, convert(target as Source, ...args));
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
