/**
 * A plain WebSocketServer with a RedisBroker from 'fullduplex/redis', run as a child process by
 * multi-process tests (test/contract/redis-three-processes.test.ts).
 *   node --import tsx test/support/redis-topic-server.ts <redis url> <key prefix>
 * Prints "listening on <port>" once the broker reached Redis and the server accepts connections;
 * exits 1 with a message if Redis cannot be reached.
 *
 * Clients drive it with JSON text commands; published messages reach subscribers as they are:
 *   {"op":"subscribe","topic":T}     ws.subscribe(T); answers {"op":"subscribed","topic":T}
 *   {"op":"unsubscribe","topic":T}   ws.unsubscribe(T); answers {"op":"unsubscribed","topic":T}
 *   {"op":"publish","topic":T,"data":D[,"binary":true][,"everyone":true]}
 *       ws.publish (everyone but the sender) or, with everyone, wss.publish; D is base64 when
 *       binary. A publication the broker refused answers {"op":"publish-failed","topic":T,"code":C}.
 */
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'fullduplex';
import { RedisBroker } from 'fullduplex/redis';

const [url, keyPrefix] = process.argv.slice(2);
if (!url || !keyPrefix) {
  console.error('usage: redis-topic-server.ts <redis url> <key prefix>');
  process.exit(2);
}

const broker = new RedisBroker({ url, keyPrefix });
try {
  // Rejects at once (BROKER_UNAVAILABLE) when Redis cannot be reached.
  await broker.publish('started', new Uint8Array(0));
} catch (error) {
  console.error(`cannot reach Redis at ${url}: ${(error as Error).message}`);
  process.exit(1);
}

const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', broker });
wss.on('connection', (ws) => {
  ws.on('error', () => {});
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    const command = JSON.parse(String(data)) as { op: string; topic: string; data?: string; binary?: boolean; everyone?: boolean };
    const reply = (answer: object): void => {
      ws.send(JSON.stringify(answer));
    };
    switch (command.op) {
      case 'subscribe':
        ws.subscribe(command.topic);
        reply({ op: 'subscribed', topic: command.topic });
        break;
      case 'unsubscribe':
        ws.unsubscribe(command.topic);
        reply({ op: 'unsubscribed', topic: command.topic });
        break;
      case 'publish': {
        const payload = command.binary ? Buffer.from(command.data ?? '', 'base64') : (command.data ?? '');
        const failed = (error?: Error | null): void => {
          if (error) reply({ op: 'publish-failed', topic: command.topic, code: (error as Error & { code?: string }).code });
        };
        if (command.everyone) wss.publish(command.topic, payload, { binary: command.binary === true }, failed);
        else ws.publish(command.topic, payload, { binary: command.binary === true }, failed);
        break;
      }
    }
  });
});
wss.on('listening', () => console.log(`listening on ${(wss.address() as AddressInfo).port}`));

const stop = (): void => {
  wss.close(() => void broker.close().then(() => process.exit(0)));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
