/**
 * fullduplex: the Node.js entry point. A drop-in for `ws`:
 *   import WebSocket, { WebSocketServer } from 'fullduplex';
 */
import { WebSocket } from './node/websocket.js';
import { WebSocketServer } from './node/websocket-server.js';
import { createWebSocketStream } from './node/stream.js';

export { WebSocket, WebSocketServer, createWebSocketStream };
export type { BackpressurePolicy, ClientOptions, RawData, SendOptions } from './node/websocket.js';
export type { PublishOptions, PublishResult, SendResult } from './node/topic-hub.js';
export type { Broker, BrokerMessageHandler } from './broker/broker.js';
export { BrokerError } from './broker/broker.js';
export { MemoryBroker, MemoryHub } from './broker/memory-broker.js';
export type { PerMessageDeflateOptions } from './node/compression/deflate-codec.js';
export type { ServerOptions, VerifyClient, VerifyClientInfo, VerifyClientCallback } from './node/websocket-server.js';
export { SERVER_DEFAULTS } from './node/websocket-server.js';
export { CloseEvent, ErrorEvent, MessageEvent } from './node/browser-api.js';
export {
  CloseCode,
  FullduplexError,
  HandshakeError,
  ProtocolError,
  ReadyState,
  UsageError,
} from './protocol/index.js';
export type { BinaryType } from './node/bytes/convert-message.js';

// `ws` exposes these on its default export; so do we.
WebSocket.WebSocket = WebSocket;
WebSocket.WebSocketServer = WebSocketServer;
WebSocket.Server = WebSocketServer;
WebSocket.createWebSocketStream = createWebSocketStream;

export { WebSocketServer as Server };
export default WebSocket;
