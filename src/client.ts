/**
 * fullduplex/client: the fdx.v1 real-time client for browsers and Node (docs/protocol.md).
 *   import { createClient } from 'fullduplex/client';
 * In Node 20, pass `WebSocket` from 'fullduplex' (the platform has none before Node 22).
 */
export { createClient } from './realtime/client/realtime-client.js';
export type {
  ClientOptions,
  ClientState,
  Lifecycle,
  PositionStorage,
  PresenceEvents,
  PresenceView,
  PublicationInfo,
  RealtimeClient,
  RequestOptions,
  WebSocketConstructor,
  WebSocketLike,
} from './realtime/client/client-api.js';
export { RealtimeError } from './realtime/realtime-error.js';
export { SUBPROTOCOL } from './realtime/protocol.js';
export type { Position, PresenceMember, PublishResult } from './realtime/protocol.js';
export type { EventMap } from './realtime/event-map.js';
