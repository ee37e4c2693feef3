// ws: echo, or a loop over all clients for fan-out (ws has no topics). In echo-topic mode each
// connection joins one topic the way ws users keep topics: a Set of sockets per topic, left on
// close. Library defaults otherwise; ws loads bufferutil when it is installed, as it is in bench/.
import { WebSocketServer } from 'ws';
import { serve, TOPIC } from './control.mjs';

serve(({ port, host, mode, deflate }) => {
  const wss = new WebSocketServer({ port, host, perMessageDeflate: deflate });
  const topics = new Map();
  wss.on('connection', (ws) => {
    ws.on('error', () => {});
    if (mode === 'echo-topic') {
      let members = topics.get(TOPIC);
      if (members === undefined) topics.set(TOPIC, (members = new Set()));
      members.add(ws);
      ws.on('close', () => {
        members.delete(ws);
        if (members.size === 0) topics.delete(TOPIC);
      });
    }
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
