import WebSocket, { WebSocketServer } from 'fullduplex'; // was: from 'ws'

const port = Number(process.env.PORT) || 8080;
const wss = new WebSocketServer({ port });
wss.on('connection', (ws, req) => {
  ws.on('error', console.error);
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.subscribe('news');
  wss.publish('news', JSON.stringify({ headline: `framed once, sent to all; ${req.url} joined` }));
});

const client = new WebSocket(`ws://localhost:${port}/`);
client.onopen = () => client.send('hello');
client.onmessage = (event) => {
  console.log(event.data); // the headline, then the echo of 'hello'
  if (event.data === 'hello') client.close();
};
client.onclose = (event) => {
  console.log(`closed ${event.code}`);
  wss.close();
};
