/**
 * createWebSocketStream: a Node Duplex over a WebSocket, as in `ws`. Writes become messages,
 * messages become readable chunks; when the reader falls behind, the WebSocket is paused until
 * the stream asks for more (read()).
 * Must not: reach into the WebSocket's internals (it uses the public API only).
 */
import { Duplex, type DuplexOptions } from 'node:stream';
import { WebSocket } from './websocket.js';

export function createWebSocketStream(ws: WebSocket, options: DuplexOptions = {}): Duplex {
  let terminateOnDestroy = true;
  const duplex = new Duplex({
    ...options,
    autoDestroy: false,
    emitClose: false,
    objectMode: false,
    writableObjectMode: false,
    read() {
      if (ws.isPaused) ws.resume();
    },
    write(chunk: Buffer | string, _encoding, callback) {
      if (ws.readyState === WebSocket.CONNECTING) {
        ws.once('open', () => duplex._write(chunk, _encoding, callback));
        return;
      }
      ws.send(chunk, callback);
    },
    final(callback) {
      if (ws.readyState === WebSocket.CONNECTING) {
        ws.once('open', () => duplex._final(callback));
        return;
      }
      if (ws.readyState === WebSocket.CLOSED) return callback();
      ws.once('close', () => callback());
      terminateOnDestroy = false;
      ws.close();
    },
    destroy(error, callback) {
      if (ws.readyState === WebSocket.CLOSED) {
        callback(error);
        return;
      }
      let called = false;
      ws.once('error', (err: Error) => {
        called = true;
        callback(err);
      });
      ws.once('close', () => {
        if (!called) callback(error);
        called = true;
      });
      if (terminateOnDestroy) ws.terminate();
    },
  });
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    const chunk = !isBinary && duplex.readableObjectMode ? data.toString() : data;
    if (!duplex.push(chunk)) ws.pause();
  });
  ws.once('error', (error: Error) => {
    if (duplex.destroyed) return;
    terminateOnDestroy = false;
    duplex.destroy(error);
  });
  ws.once('close', () => {
    if (duplex.destroyed) return;
    duplex.push(null);
  });
  return duplex;
}
