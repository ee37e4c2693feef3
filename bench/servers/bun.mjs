// Bun.serve's WebSocket server (run by the bun binary from bench/node_modules): echo, or
// server.publish to one topic; in echo-topic mode each connection subscribes to one topic on
// open. Several processes may share a port with --reuse-port.
import { serve, TOPIC } from './control.mjs';

serve(({ port, host, mode, deflate, reusePort }) => {
  let connections = 0;
  const server = Bun.serve({
    hostname: host,
    port,
    reusePort,
    fetch(req, srv) {
      if (srv.upgrade(req)) return undefined;
      return new Response('WebSocket only', { status: 426 });
    },
    websocket: {
      perMessageDeflate: deflate,
      maxPayloadLength: 64 * 1024 * 1024,
      backpressureLimit: 16 * 1024 * 1024,
      open(ws) {
        connections += 1;
        if (mode === 'fanout' || mode === 'echo-topic') ws.subscribe(TOPIC);
      },
      close() {
        connections -= 1;
      },
      message:
        mode === 'fanout'
          ? (ws, message) => server.publish(TOPIC, message, deflate)
          : (ws, message) => ws.send(message, deflate),
    },
  });
  return Promise.resolve({ port: server.port, connections: () => connections });
});
