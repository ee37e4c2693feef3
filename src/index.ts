/**
 * fullduplex: the Node.js entry point. A drop-in for `ws`:
 *   import WebSocket, { WebSocketServer } from 'fullduplex';
 * The only place that adds `ws`'s statics to the WebSocket class.
 */
import { WebSocket as NodeWebSocket } from './node/websocket.js';
import { WebSocketServer } from './node/server.js';
import { createWebSocketStream } from './node/stream.js';

/** The WebSocket class, with the statics `ws` exposes on its default export. */
const WebSocket = Object.assign(NodeWebSocket, {
  WebSocket: NodeWebSocket,
  WebSocketServer,
  Server: WebSocketServer,
  createWebSocketStream,
});
type WebSocket = NodeWebSocket;

export { WebSocket, WebSocketServer, createWebSocketStream };
export type { BackpressurePolicy, ClientOptions, ControlCallback, RawData, SendOptions } from './node/websocket.js';
export type { PublishOptions, PublishResult, SendResult } from './pubsub/pubsub.js';
export type { Broker, BrokerMessageHandler } from './broker/broker.js';
export { BrokerError } from './broker/broker.js';
export { MemoryBroker, MemoryHub } from './broker/memory-broker.js';
export type { PerMessageDeflateOptions } from './node/options.js';
export type {
  ServerOptions,
  VerifyClient,
  VerifyClientInfo,
  VerifyClientCallback,
  VerifyClientCallbackAsync,
  VerifyClientCallbackSync,
  AddressInfo,
} from './node/server.js';
export type { PreparedMessage } from './node/prepared-message.js';
export { SERVER_DEFAULTS } from './node/server.js';
export { CloseEvent, ErrorEvent, Event, MessageEvent } from './node/browser-api.js';
export type { Data, EventListenerOptions, WebSocketEventListener, WebSocketEventMap } from './node/browser-api.js';
export type { SendData } from './node/bytes/to-bytes.js';
/** `ws`'s name for what send() takes. */
export type { SendData as BufferLike } from './node/bytes/to-bytes.js';
export type { FinishRequestCallback, CertMeta } from './node/options.js';
export {
  CloseCode,
  FullduplexError,
  HandshakeError,
  ProtocolError,
  ReadyState,
  UsageError,
} from './protocol/index.js';
export type { BinaryType } from './node/bytes/convert-message.js';

export { WebSocketServer as Server };
export default WebSocket;
