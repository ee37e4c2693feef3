/**
 * The options of a WebSocketServer, in `ws`'s shape plus ours (the defaults and their resolver
 * are in options.ts).
 * Must not: hold values; types only.
 */
import type http from 'node:http';
import type https from 'node:https';
import type { Broker } from '../broker/broker.js';
import type { VerifyClient } from './accept-policy.js';
import type { PerMessageDeflateOptions, WebSocketOptions } from './options.js';
import type { Http2ServerLike } from './upgrade/http2.js';
import type { WebSocket } from './websocket.js';

/**
 * A server's options, generic as `ws`'s types are: T is the WebSocket class it makes (the
 * `WebSocket` option), U the request class of its HTTP server.
 */
export interface ServerOptions<T extends typeof WebSocket = typeof WebSocket, U extends typeof http.IncomingMessage = typeof http.IncomingMessage>
  extends WebSocketOptions {
  port?: number;
  host?: string;
  backlog?: number;
  /**
   * A server to take upgrades from: node:http(s), or node:http2 (createServer for h2c,
   * createSecureServer, with allowHTTP1 for both kinds on one port), whose extended CONNECT
   * streams (RFC 8441) become WebSockets too.
   */
  server?: http.Server<U> | https.Server<U> | Http2ServerLike;
  noServer?: boolean;
  path?: string;
  /** VerifyClientCallbackSync or VerifyClientCallbackAsync, as in `ws`. */
  verifyClient?: VerifyClient<InstanceType<U>>;
  handleProtocols?: (protocols: Set<string>, request: InstanceType<U>) => string | false;
  clientTracking?: boolean;
  /** permessage-deflate (RFC 7692), off by default as in `ws`; true or options in `ws`'s shape. */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** Origins allowed to connect (exact match of the Origin header); requests without Origin pass. */
  origins?: readonly string[];
  /** ms from the first byte of the request to the 101 answer. Default 10000. */
  handshakeTimeoutMs?: number;
  /** Most open connections; more get 503. Default 0: no limit. */
  maxConnections?: number;
  /** Most WebSockets open on one HTTP/2 connection; more get 429 on their stream. Default 1000, 0: no limit. */
  maxStreamsPerSession?: number;
  /** Largest request head, in bytes (own server only). Default 16384. */
  maxHeaderSize?: number;
  /** Ping every client this often; close those that sent nothing since the last ping. 0 disables. Default 30000. */
  pingIntervalMs?: number;
  /** Shares publications with servers in other processes (e.g. RedisBroker). Default: none, this process only. */
  broker?: Broker;
  /** Prefix of the broker channel of each topic, so other users of the broker never collide with topics. Default 'fdx:topic:'. */
  topicChannelPrefix?: string;
  /** Subclass to instantiate for accepted connections. */
  WebSocket?: T;
}

