/**
 * The socket listeners of every connection: five functions shared by all of them, which find
 * their connection through one typed field on the socket. An idle connection thus carries no
 * closures of its own, and no lookup (a WeakMap would cost a hash per chunk) sits on the path
 * of every received chunk.
 * Also sets the socket up for a WebSocket (no idle timeout, no Nagle delay).
 * Must not: hold state, or do more than hand each event to the connection.
 */
import type { Duplex } from 'node:stream';
import type { SocketHandlers, TransportEnding } from './internal.js';

/** A TCP (or TLS) socket ends abruptly by being destroyed. */
export const SOCKET_ENDING: TransportEnding = {
  abort(socket: Duplex): void {
    socket.destroy();
  },
};

/** A socket attached to a connection. */
type AttachedSocket = Duplex & { fullduplexConnection: SocketHandlers };

/**
 * Hands `socket` (upgraded, with `head`, the bytes read past the handshake) to `connection`:
 * no idle timeout, no Nagle delay, and every event to the connection from now on.
 */
export function takeOver(socket: Duplex, head: Buffer, connection: SocketHandlers): void {
  const net = socket as Duplex & { setNoDelay?: (v: boolean) => void; setTimeout?: (ms: number) => void };
  net.setTimeout?.(0);
  net.setNoDelay?.(true);
  if (head.length > 0) socket.unshift(head);
  (socket as AttachedSocket).fullduplexConnection = connection;
  socket.on('data', onData);
  dropIdleEndListener(socket);
  socket.on('end', onEnd);
  socket.on('close', onClose);
  socket.on('error', onError);
  socket.on('drain', onDrain);
}

/**
 * A net.Socket listens to its own 'end' with a function that only matters when the socket is not
 * half-open (it makes later writes fail). On a half-open socket (every socket an HTTP server
 * accepts) it does nothing, and a second 'end' listener would cost the socket a listener array
 * (56 bytes per connection); it is removed there, when it is the only one. onEnd ends the
 * socket's side itself.
 */
function dropIdleEndListener(socket: Duplex): void {
  if (!socket.allowHalfOpen || socket.listenerCount('end') !== 1) return;
  const [listener] = socket.listeners('end');
  if (listener !== undefined && listener.name === 'onReadableStreamEnd') socket.removeListener('end', listener as () => void);
}

function onData(this: AttachedSocket, chunk: Buffer): void {
  this.fullduplexConnection.receive(chunk);
}

function onEnd(this: AttachedSocket): void {
  this.fullduplexConnection.socketEnded();
}

function onClose(this: AttachedSocket): void {
  this.fullduplexConnection.socketClosed();
}

function onError(this: AttachedSocket): void {
  this.fullduplexConnection.socketErrored();
}

function onDrain(this: AttachedSocket): void {
  this.fullduplexConnection.socketDrained();
}
