// ws: echo, or a loop over all clients for fan-out (ws has no topics). Library defaults
// otherwise; ws loads bufferutil when it is installed, as it is in bench/.
import { WebSocketServer } from 'ws';
import { serve } from './control.mjs';

serve(({ port, host, mode, deflate }) => {
  const wss = new WebSocketServer({ port, host, perMessageDeflate: deflate });
  wss.on('connection', (ws) => {
    ws.on('error', () => {});
    if (mode === 'fanout') {
      ws.on('message', (data, isBinary) => {
        for (const client of wss.clients) client.send(data, { binary: isBinary });
      });
    } else {
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    }
  });
  return new Promise((resolve, reject) => {
    wss.once('error', reject);
    wss.once('listening', () => resolve({ port: wss.address().port, connections: () => wss.clients.size }));
  });
});
