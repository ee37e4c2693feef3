// uWebSockets.js (the native binary shipped in @trufflesuite/uws-js-unofficial; never its
// JavaScript fallback): echo (in echo-topic mode each connection also subscribes to one topic on
// open), or app.publish to one topic. Several processes may listen on one
// port (uSockets sets SO_REUSEPORT unless told not to).
import { createRequire } from 'node:module';
import { serve, TOPIC } from './control.mjs';

const require = createRequire(import.meta.url);
const binary = `@trufflesuite/uws-js-unofficial/binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
const uWS = require(binary);

serve(({ port, host, mode, deflate }) => {
  let connections = 0;
  const app = uWS.App();
  app.ws('/*', {
    compression: deflate ? uWS.SHARED_COMPRESSOR | uWS.SHARED_DECOMPRESSOR : uWS.DISABLED,
    maxPayloadLength: 64 * 1024 * 1024,
    // The default (64 KiB) drops publications to slow readers; the others buffer up to 16 MiB.
    maxBackpressure: 16 * 1024 * 1024,
    open: (ws) => {
      connections += 1;
      if (mode === 'fanout' || mode === 'echo-topic') ws.subscribe(TOPIC);
    },
    close: () => {
      connections -= 1;
    },
    message:
      mode === 'fanout'
        ? (ws, message, isBinary) => app.publish(TOPIC, message, isBinary, deflate)
        : (ws, message, isBinary) => ws.send(message, isBinary, deflate),
  });
  app.any('/*', (res) => res.writeStatus('426 Upgrade Required').end());
  return new Promise((resolve, reject) => {
    app.listen(host, port, (token) => {
      if (!token) reject(new Error(`uWS could not listen on ${host}:${port}`));
      else resolve({ port: uWS.us_socket_local_port(token), connections: () => connections });
    });
  });
});
