// fullduplex, as built (../../dist): echo, echo with every connection joined to one topic
// (echo-topic), or every message published to one topic that all connections join. In channel mode (the channel scenario's plain-topics baseline) a connection
// joins the topic when it sends `subscribe` (answered `subscribed`) and any other message is
// published to the topic with wss.publish. Library defaults otherwise (--ping-interval-ms sets
// the heartbeat's, for callgrind-handshake.mjs).
import { WebSocketServer } from '../../dist/index.js';
import { serve, TOPIC } from './control.mjs';

serve(({ port, host, mode, deflate, pingIntervalMs }) => {
  const wss = new WebSocketServer({ port, host, perMessageDeflate: deflate, ...(pingIntervalMs === undefined ? {} : { pingIntervalMs }) });
  wss.on('connection', (ws) => {
    ws.on('error', () => {});
    if (mode === 'fanout' || mode === 'echo-topic') ws.subscribe(TOPIC);
    if (mode === 'fanout') {
      ws.on('message', (data, isBinary) => wss.publish(TOPIC, data, { binary: isBinary }));
    } else if (mode === 'channel') {
      ws.on('message', (data, isBinary) => {
        if (!isBinary && data.length === 9 && data.toString() === 'subscribe') {
          ws.subscribe(TOPIC);
          ws.send('subscribed');
        } else {
          wss.publish(TOPIC, data, { binary: isBinary });
        }
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
