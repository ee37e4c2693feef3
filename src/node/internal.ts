/**
 * The one interface between the parts that make connections (server.ts, client.ts) and the
 * connections themselves (link.ts, behind each WebSocket). Nothing else crosses between them:
 * no friend functions, no symbols on objects, no patched statics.
 *
 *  - A ConnectionHost is made once per server (once per connection on the client side) and
 *    shared by its connections: their resolved settings, the send policy, the server's topics,
 *    and the one call back into the server's books. Per-server constants live here, not in
 *    fields of every connection.
 *  - A HostedConnection is what a server, its topics and its heartbeat use of a connection
 *    (Link implements it). The server hands it to the WebSocket it constructs
 *    (`new WebSocket(null, undefined, link)`), so a user's WebSocket subclass works unchanged.
 *
 * Must not: hold state or code; grow past what both sides need.
 */
import type { Duplex } from 'node:stream';
import type { ReadyState } from '../protocol/constants.js';
import type { PubSub, SendResult } from '../pubsub/pubsub.js';
import type { BinaryType } from './bytes/convert-message.js';
import type { ConnectionSettings } from './options.js';
import type { PreparedMessage } from './prepared-message.js';
import type { SendPolicy } from './send-policy.js';

/** The server's topics: subscribers are connections, messages are framed once for all. */
export type ServerTopics = PubSub<HostedConnection, PreparedMessage>;

export interface ConnectionHost {
  readonly settings: ConnectionSettings;
  readonly sendPolicy: SendPolicy;
  /** The server's topics; null on the client side (topics are a server feature). */
  readonly topics: ServerTopics | null;
  /** A client's own masking keys (the generateMask option); the CSPRNG pool without it. */
  readonly generateMask?: (key: Uint8Array) => void;
  /** Called once when a connection closed, before its 'close' event. */
  connectionClosed(connection: HostedConnection): void;
}

/** The WebSocket a connection serves, as the connection sees it: where its events go. */
export interface ConnectionOwner {
  emit(event: string, ...args: unknown[]): boolean;
  listenerCount(event: string): number;
  readonly binaryType: BinaryType;
}

/**
 * How a connection ends its transport abruptly: a TCP socket is destroyed (RST), an HTTP/2
 * stream is reset with CANCEL (RFC 8441 §5). Everything else a connection does with its
 * transport (write, cork, end, pause) is the same on both: they are Duplex streams.
 */
export interface TransportEnding {
  abort(transport: Duplex): void;
}

/** What a connection's socket listeners call (socket-listeners.ts). */
export interface SocketHandlers {
  /** Bytes read; `lent`: valid only during the call (a shared read area), nothing may keep them. */
  receive(chunk: Buffer, lent?: boolean): void;
  socketEnded(): void;
  socketClosed(): void;
  socketErrored(): void;
  socketDrained(): void;
}

export interface HostedConnection {
  readonly owner: ConnectionOwner;
  readonly readyState: ReadyState;
  /** Bytes waiting to be written to the peer. */
  readonly bufferedAmount: number;
  /** Queues a message framed once for many, under the connection's backpressure policy. */
  deliver(message: PreparedMessage, key: string | undefined): SendResult;
  /**
   * A heartbeat period passed: releases idle compression state and says whether the peer was
   * heard since the previous beat (the first beat counts as heard).
   */
  beat(): boolean;
  ping(): void;
  close(code: number, reason: Uint8Array): void;
  terminate(): void;
}
