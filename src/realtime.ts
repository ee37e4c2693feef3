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
import { WebSocket, WebSocketServer, type PreparedMessage, type ServerOptions } from './index.js';
import { realtimeDiagnostics } from './node/diagnostics.js';
import type { EventMap } from './realtime/event-map.js';
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
export { CLOSE_CODES, ERROR_CODES, SUBPROTOCOL, parseMessage, serialize, shouldReconnect, channelProblem } from './realtime/protocol.js';
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

/** WebSocketServer options, without the ones mounting decides (handleProtocols). */
export type MountOptions = Omit<ServerOptions, 'handleProtocols'>;

/** A text framed once by `server` for all the connections a SharedText goes to. */
function prepareText(text: string, server: WebSocketServer): PreparedMessage {
  return server.prepare(text);
}

/**
 * Adapts one accepted WebSocket to the Transport port. With the `server` that accepted it, the
 * transport can send a SharedText framed once for all (sendShared: the server prepares it on the
 * first send, every other connection sends the same bytes).
 */
export function webSocketTransport(ws: WebSocket, server?: WebSocketServer): Transport {
  const transport: Transport = {
    protocol: ws.protocol,
    send(text) {
      if (ws.readyState === WebSocket.OPEN) ws.send(text);
    },
    close(code, reason) {
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(code, reason);
    },
    onmessage: null,
    onclose: null,
  };
  if (server) {
    transport.sendShared = (message: SharedText) => {
      if (ws.readyState === WebSocket.OPEN) ws.sendPrepared(message.prepared(server, prepareText));
    };
  }
  ws.on('message', (data, isBinary) => {
    transport.onmessage?.(isBinary ? new Uint8Array(data as Buffer) : String(data));
  });
  ws.on('close', (code, reason) => transport.onclose?.(code, String(reason)));
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
  const wss = new WebSocketServer({
    maxPayload: realtime.limits.maxMessageBytes * 4 + 1024,
    ...options,
    handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
  });
  wss.on('connection', (ws: WebSocket, request: unknown) => {
    realtime.accept(webSocketTransport(ws, wss), request);
  });
  return wss;
}
