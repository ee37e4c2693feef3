/**
 * fullduplex/realtime: the real-time server (channels, history and recovery, presence, typed
 * events, drain) mounted on fullduplex's WebSocketServer. The layer itself (realtime/) sees only
 * Transports; this entry adapts each WebSocket to one (whose sendShared frames a fan-out once
 * for all, with wss.prepare and ws.sendPrepared) and negotiates the fdx.v1 subprotocol.
 *   import { RealtimeServer, mountRealtime } from 'fullduplex/realtime';
 *   const rt = new RealtimeServer({ authenticate, authorize });
 *   const wss = mountRealtime(rt, { server: httpServer, path: '/rt' });
 * Must not: reach into node/ past its public classes.
 */
import { WebSocket, WebSocketServer, type BackpressurePolicy, type PreparedMessage, type ServerOptions } from './index.js';
import { realtimeDiagnostics } from './node/diagnostics.js';
import type { EventMap } from './realtime/event-map.js';
import { heldLimit, LatestQueue } from './realtime/latest-queue.js';
import { SUBPROTOCOL } from './realtime/protocol.js';
import { RealtimeServer as CoreRealtimeServer, type RealtimeServerOptions } from './realtime/server/realtime-server.js';
import type { SharedText } from './realtime/shared-text.js';
import type { Transport } from './realtime/transport.js';

export type { RealtimeObserver, RealtimeGauges } from './realtime/observer.js';
export type { ChannelAction, EventHandler, RealtimeServerOptions } from './realtime/server/realtime-server.js';
export { RealtimeConnection } from './realtime/server/realtime-connection.js';
export type { ConnectionState } from './realtime/server/realtime-connection.js';
export { REALTIME_DEFAULTS } from './realtime/server/limits.js';
export type { RealtimeLimits } from './realtime/server/limits.js';
export type { StandardSchemaV1, StandardResult, StandardIssue } from './realtime/server/standard-schema.js';
export { MemoryEngine, MEMORY_ENGINE_DEFAULTS } from './realtime/memory-engine.js';
export type { MemoryEngineOptions } from './realtime/memory-engine.js';
export type { Engine, EnginePublication, EnginePublishResult, HistoryResult, LiveHandler, PublishOptions } from './realtime/engine.js';
export { MemorySessionStore, type SessionStore } from './realtime/session-store.js';
export { MemoryPresenceStore, PRESENCE_STORE_DEFAULTS } from './realtime/memory-presence-store.js';
export type { MemoryPresenceStoreOptions } from './realtime/memory-presence-store.js';
export type { PresenceChange, PresenceEntry, PresenceHandler, PresenceStore } from './realtime/presence-store.js';
export type { PresenceChannelOptions } from './realtime/server/presence-hub.js';
export type { Transport } from './realtime/transport.js';
export { SharedText } from './realtime/shared-text.js';
export type { Clock } from './realtime/clock.js';
export { systemClock } from './realtime/clock.js';
export { RealtimeError } from './realtime/realtime-error.js';
export type { EventMap, EventData, EventReply } from './realtime/event-map.js';
export { BINARY_TYPES, CLOSE_CODES, ERROR_CODES, SUBPROTOCOL, frameBinary, parseBinary, parseBinaryMessage, parseMessage, serialize, shouldReconnect, channelProblem } from './realtime/protocol.js';
export type * from './realtime/protocol.js';

/**
 * The real-time server, whose publications, recoveries, timeouts and gauges go to the
 * library's diagnostics channels (README, "Metrics") unless `observer` says otherwise.
 */
export class RealtimeServer<ToServer extends EventMap = EventMap, ToClient extends EventMap = EventMap, Data = unknown> extends CoreRealtimeServer<ToServer, ToClient, Data> {
  constructor(options: RealtimeServerOptions<Data> = {}) {
    super({ observer: realtimeDiagnostics, ...options });
  }
}

/**
 * WebSocketServer options, without the ones mounting decides (handleProtocols); `backpressure`
 * is a shorter name for `backpressurePolicy`.
 */
export type MountOptions = Omit<ServerOptions, 'handleProtocols'> & { backpressure?: BackpressurePolicy };

/** A message framed once by `server` for all the connections a SharedText goes to. */
function prepareShared(data: string | Uint8Array, server: WebSocketServer): PreparedMessage {
  return server.prepare(data);
}

type Outgoing = string | Uint8Array | PreparedMessage;

const sizeOf = (message: Outgoing): number =>
  typeof message === 'string' ? Buffer.byteLength(message) : message instanceof Uint8Array ? message.length : message.payload.length;

/**
 * Adapts one accepted WebSocket to the Transport port. With the `server` that accepted it, the
 * transport can send a SharedText framed once for all (sendShared: the server prepares it on the
 * first send, every other connection sends the same bytes).
 *
 * Under the server's backpressurePolicy 'latest', the transport holds messages itself rather
 * than let the WebSocket drop those without a key: once the socket's buffer would pass
 * maxBackpressure, every message waits in a LatestQueue, in order, a publication with `latest`
 * replacing the waiting one of its key; the queue empties as the buffer drains (a ping's write
 * callback says when everything before it left). So replies and publications without `latest`
 * are never dropped or reordered, and the socket's buffer stays within the limit plus one message.
 * Those are held up to `heldLimit(maxBackpressure)` bytes; a reader that lets more pile up is
 * closed with 1008, as the 'close' policy would have done long before.
 */
export function webSocketTransport(ws: WebSocket, server?: WebSocketServer): Transport {
  const open = (): boolean => ws.readyState === WebSocket.OPEN;
  const write = (message: Outgoing): void => {
    if (typeof message === 'string' || message instanceof Uint8Array) ws.send(message);
    else ws.sendPrepared(message);
  };
  const max = server?.options.backpressurePolicy === 'latest' ? server.options.maxBackpressure || Infinity : 0;
  const limit = heldLimit(max);
  let queue: LatestQueue<Outgoing> | null = null;
  let waking = false;
  /** Would the WebSocket's own policy hold this message (link.ts: waiting > 0 and over the limit)? */
  const fits = (message: Outgoing): boolean => {
    const waiting = ws.bufferedAmount;
    return waiting === 0 || waiting + sizeOf(message) <= max;
  };
  const flush = (): void => {
    waking = false;
    if (!open() || queue === null) return;
    for (let next = queue.peek(); next !== undefined && fits(next); next = queue.peek()) write(queue.shift()!);
    if (queue.size > 0) wake();
  };
  const wake = (): void => {
    if (waking) return;
    waking = true;
    ws.ping(undefined, undefined, flush);
  };
  const deliver = (message: Outgoing, key: string | undefined): void => {
    if (!open()) return;
    if (max === 0 || ((queue === null || queue.size === 0) && fits(message))) return write(message);
    queue ??= new LatestQueue();
    queue.push(message, key, key === undefined ? sizeOf(message) : 0);
    if (queue.unkeyedBytes > limit) {
      queue.clear();
      ws.close(1008, 'backpressure limit exceeded');
      return;
    }
    wake();
  };
  const transport: Transport = {
    protocol: ws.protocol,
    send: (data, key) => deliver(data, key),
    close(code, reason) {
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(code, reason);
    },
    onmessage: null,
    onclose: null,
  };
  if (server) {
    // Outside 'latest' nothing is held here, so a fan-out goes straight to the prepared-message
    // path, as wss.publish's does (a closed WebSocket drops it); under 'latest' through deliver.
    transport.sendShared =
      max === 0
        ? (message: SharedText) => void ws.sendPrepared(message.prepared(server, prepareShared))
        : (message: SharedText, key) => deliver(message.prepared(server, prepareShared), key);
  }
  ws.on('message', (data, isBinary) => {
    transport.onmessage?.(isBinary ? new Uint8Array(data as Buffer) : String(data));
  });
  ws.on('close', (code, reason) => {
    queue?.clear();
    transport.onclose?.(code, String(reason));
  });
  ws.on('error', () => {}); // the 'close' that follows carries the outcome
  return transport;
}

/**
 * Creates a WebSocketServer (own port, an existing HTTP server with a `path`, or noServer) that
 * negotiates fdx.v1 and hands every connection to `realtime`. Clients that do not offer fdx.v1
 * are accepted and closed with 4501, as docs/protocol.md says. `maxPayload` defaults to room
 * for the realtime server's maxMessageBytes, so that it answers MESSAGE_TOO_LARGE itself.
 */
export function mountRealtime(realtime: RealtimeServer<any, any, any>, options: MountOptions): WebSocketServer {
  const { backpressure, ...rest } = options;
  const wss = new WebSocketServer({
    maxPayload: realtime.limits.maxMessageBytes * 4 + 1024,
    ...(backpressure === undefined ? {} : { backpressurePolicy: backpressure }),
    ...rest,
    handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
  });
  wss.on('connection', (ws: WebSocket, request: unknown) => {
    realtime.accept(webSocketTransport(ws, wss), request);
  });
  return wss;
}
