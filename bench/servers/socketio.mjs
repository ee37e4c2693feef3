// socket.io 4 (bench/ dependency) for the channel scenario, on a node:http server with the
// library's defaults (its WebSocket transport is ws, with bufferutil as installed here). A
// client joins a room with the event `subscribe` (acked once joined) and publishes with
// `publish`, which the server sends to the room with io.to(room).emit('pub', room, data) and
// acks. Rooms keep no history: nothing is positioned or stored.
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { serve } from './control.mjs';

serve(({ port, host, mode, deflate }) => {
  if (mode !== 'channel') throw new Error(`servers/socketio.mjs runs the channel scenario only (--mode channel), not ${mode}`);
  const http = createServer();
  const io = new Server(http, deflate ? { perMessageDeflate: true } : {});
  io.on('connection', (socket) => {
    socket.on('subscribe', (room, ack) => {
      socket.join(room);
      if (typeof ack === 'function') ack();
    });
    socket.on('publish', (room, data, ack) => {
      io.to(room).emit('pub', room, data);
      if (typeof ack === 'function') ack();
    });
  });
  return new Promise((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, host, () => resolve({ port: http.address().port, connections: () => io.engine.clientsCount }));
  });
});
