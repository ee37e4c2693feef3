/**
 * createWebSocketStream: a Node Duplex over a WebSocket, with `ws`'s semantics. Writes become
 * messages and messages become readable chunks; when the reader falls behind, the WebSocket is
 * paused until the stream asks for more. The stream ends when the connection closes, and is
 * destroyed, emitting 'close', once both sides are done: after end() and the peer's close,
 * after an error (emitted once), after destroy() (which terminates the connection).
 * Must not: reach into the WebSocket's internals (it uses the public API only).
 */
import { Duplex, type DuplexOptions } from 'node:stream';
import { ReadyState } from '../protocol/constants.js';
import type { RawData, WebSocket } from './websocket.js';

export function createWebSocketStream(ws: WebSocket, options: DuplexOptions = {}): Duplex {
  /** destroy() terminates the connection unless it already failed or is closing by end(). */
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
    write(chunk: Buffer, encoding, callback) {
      if (ws.readyState === ReadyState.CONNECTING) {
        ws.once('open', () => duplex._write(chunk, encoding, callback));
        return;
      }
      ws.send(chunk, callback);
    },
    final(callback) {
      if (ws.readyState === ReadyState.CONNECTING) {
        ws.once('open', () => duplex._final(callback));
        return;
      }
      const socket = ws.socket;
      if (socket === null) return;
      if (socket.writableFinished) {
        callback();
        if (duplex.readableEnded) duplex.destroy();
        return;
      }
      // Finished once our FIN went out: the closing handshake is under way.
      socket.once('finish', () => callback());
      ws.close();
    },
    destroy(error, callback) {
      if (ws.readyState === ReadyState.CLOSED) {
        callback(error);
        process.nextTick(emitClose, duplex);
        return;
      }
      let reported = false;
      ws.once('error', (failure: Error) => {
        reported = true;
        callback(failure);
      });
      ws.once('close', () => {
        if (!reported) callback(error);
        process.nextTick(emitClose, duplex);
      });
      if (terminateOnDestroy) ws.terminate();
    },
  });

  ws.on('message', (data: RawData, isBinary: boolean) => {
    const chunk = !isBinary && duplex.readableObjectMode ? String(data) : data;
    if (!duplex.push(chunk)) ws.pause();
  });
  ws.once('error', (error: Error) => {
    if (duplex.destroyed) return;
    // The connection failed: it closes by itself, nothing is left to terminate.
    terminateOnDestroy = false;
    duplex.destroy(error);
  });
  ws.once('close', () => {
    if (duplex.destroyed) return;
    duplex.push(null);
  });
  duplex.on('end', onEnd);
  duplex.on('error', onError);
  return duplex;
}

/** The readable side ended: once the writable side finished too, nothing is left open. */
function onEnd(this: Duplex): void {
  if (!this.destroyed && this.writableFinished) this.destroy();
}

/** An error destroys the stream; it is re-emitted only if nobody else listens for it. */
function onError(this: Duplex, error: Error): void {
  this.removeListener('error', onError);
  this.destroy();
  if (this.listenerCount('error') === 0) this.emit('error', error);
}

function emitClose(stream: Duplex): void {
  stream.emit('close');
}
