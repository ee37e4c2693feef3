/**
 * Typed events: an event map names each event with the signature of its handler, `(data) =>
 * reply`, so that both ends get compile-time types for payloads and replies. One map per
 * direction (client to server, server to client).
 * Must not: hold runtime code (types only, free in the browser build).
 */

export type EventMap = { [event: string]: (data: any) => any };
export type EventName<M extends EventMap> = keyof M & string;
export type EventData<M extends EventMap, E extends keyof M> = Parameters<M[E]>[0];
export type EventReply<M extends EventMap, E extends keyof M> = Awaited<ReturnType<M[E]>>;
