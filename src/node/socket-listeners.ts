/**
 * The socket listeners of every connection: five functions shared by all of them, which find
 * their connection through one typed field on the socket. An idle connection thus carries no
 * closures of its own, and no lookup (a WeakMap would cost a hash per chunk) sits on the path
 * of every received chunk.
 * Must not: hold state, or do more than hand each event to the connection.
 */
import type { Duplex } from 'node:stream';
import type { SocketHandlers } from './internal.js';

/** A socket attached to a connection. */
type AttachedSocket = Duplex & { fullduplexConnection: SocketHandlers };

/** Sends the socket's events to `connection` from now on. */
export function listenTo(socket: Duplex, connection: SocketHandlers): void {
  (socket as AttachedSocket).fullduplexConnection = connection;
  socket.on('data', onData);
  socket.on('end', onEnd);
  socket.on('close', onClose);
  socket.on('error', onError);
  socket.on('drain', onDrain);
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
