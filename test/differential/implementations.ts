/**
 * The two implementations every differential scenario runs against: the `ws` package and
 * fullduplex, each seen through `ws`'s own public API (its types come from `@types/ws`), so a
 * scenario is written once, as a `ws` user would write it.
 * Must not: adapt one implementation to the other; the point is that none is needed.
 */
import * as wsModule from 'ws';
import * as ours from '../../src/index.js';

type WsModule = typeof wsModule;

export interface Implementation {
  readonly name: 'ws' | 'fullduplex';
  /** The default export: the WebSocket class with `Server`, `WebSocketServer`, `createWebSocketStream` on it. */
  readonly default: WsModule['default'];
  readonly WebSocket: WsModule['WebSocket'];
  readonly WebSocketServer: WsModule['WebSocketServer'];
  readonly createWebSocketStream: WsModule['createWebSocketStream'];
}

export const WS: Implementation = {
  name: 'ws',
  default: wsModule.default,
  WebSocket: wsModule.WebSocket,
  WebSocketServer: wsModule.WebSocketServer,
  createWebSocketStream: wsModule.createWebSocketStream,
};

// The types are checked in test/types (against `@types/ws`); here only the runtime is compared.
export const FULLDUPLEX: Implementation = {
  name: 'fullduplex',
  default: ours.default as unknown as WsModule['default'],
  WebSocket: ours.WebSocket as unknown as WsModule['WebSocket'],
  WebSocketServer: ours.WebSocketServer as unknown as WsModule['WebSocketServer'],
  createWebSocketStream: ours.createWebSocketStream as unknown as WsModule['createWebSocketStream'],
};

export const IMPLEMENTATIONS: readonly Implementation[] = [WS, FULLDUPLEX];
