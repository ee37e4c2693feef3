import WebSocket, { WebSocketServer } from 'fullduplex';
import { RedisBroker } from 'fullduplex/redis';

// Two servers (in real life: in two processes) share their topics through one Redis.
const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const port = Number(process.env.PORT) || 8080;
const brokers = [new RedisBroker({ url }), new RedisBroker({ url })];
const a = new WebSocketServer({ port, broker: brokers[0] });
const b = new WebSocketServer({ port: port + 1, broker: brokers[1] });

b.on('connection', async (ws) => {
  await ws.subscribeAsync('news'); // settled once Redis confirmed the subscription
  a.publish('news', 'published on a, received through b');
});

const client = new WebSocket(`ws://localhost:${port + 1}`);
client.on('message', async (data) => {
  console.log(String(data));
  client.close();
  await Promise.all([a, b].map((server) => new Promise((done) => server.close(done))));
  await Promise.all(brokers.map((broker) => broker.close()));
});
