/**
 * A client written from docs/protocol.md alone: plain JSON over a WebSocket offering fdx.v1,
 * with no code from fullduplex/client. It follows the session of section 10: connect, subscribe,
 * publish, drop, resubscribe from its position and recover.
 */
import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from '../../src/index.js';
import { startLoopback, type Loopback } from './loopback.js';

let loop: Loopback;
after(() => loop?.stop());

/** A raw fdx.v1 connection: send objects, await the next message matching a test. */
async function open(url: string) {
  const ws = new WebSocket(url, 'fdx.v1');
  const inbox: any[] = [];
  let wake: (() => void) | null = null;
  ws.on('message', (data) => {
    inbox.push(JSON.parse(String(data)));
    wake?.();
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  assert.equal(ws.protocol, 'fdx.v1');
  return {
    send: (message: object) => ws.send(JSON.stringify(message)),
    async next(test: (m: any) => boolean = () => true): Promise<any> {
      for (;;) {
        const i = inbox.findIndex(test);
        if (i >= 0) return inbox.splice(i, 1)[0];
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
    drop: () => ws.terminate(),
  };
}

it('a client written from docs/protocol.md connects, publishes, and recovers after a drop', async () => {
  loop = await startLoopback();
  const a = await open(loop.url);
  a.send({ type: 'connect', id: 1, token: 't0k' });
  a.send({ type: 'subscribe', id: 2, channel: 'news' });
  const connected = await a.next((m) => m.id === 1);
  assert.equal(typeof connected.result.client, 'string');
  assert.equal(connected.result.pingIntervalMs, 25_000);
  const subscribed = await a.next((m) => m.id === 2);
  assert.deepEqual(subscribed.result.recovered, true);
  assert.deepEqual(subscribed.result.publications, []);

  a.send({ type: 'publish', id: 3, channel: 'news', data: 'hello', key: 'a1b2c3d4e5f6g7h8' });
  const pub = await a.next((m) => m.type === 'pub');
  const reply = await a.next((m) => m.id === 3);
  assert.deepEqual(reply.result, { offset: pub.offset, epoch: pub.epoch });
  assert.equal(pub.data, 'hello');
  a.send({ type: 'ping' });
  assert.deepEqual(await a.next((m) => m.type === 'pong'), { type: 'pong' });

  a.drop();
  await loop.realtime.publish('news', 'a');
  await loop.realtime.publish('news', 'b');

  const b = await open(loop.url);
  b.send({ type: 'connect', id: 1, token: 't0k' });
  b.send({ type: 'subscribe', id: 2, channel: 'news', since: { offset: pub.offset, epoch: pub.epoch } });
  const recovered = (await b.next((m) => m.id === 2)).result;
  assert.equal(recovered.recovered, true);
  assert.deepEqual(recovered.publications.map((p: any) => p.data), ['a', 'b']);
  await loop.realtime.publish('news', 'c');
  const live = await b.next((m) => m.type === 'pub');
  assert.equal(live.data, 'c');
  assert.equal(live.epoch, recovered.position.epoch);

  // The same publication key again: stored once, answered as a duplicate.
  b.send({ type: 'publish', id: 4, channel: 'news', data: 'hello', key: 'a1b2c3d4e5f6g7h8' });
  assert.deepEqual((await b.next((m) => m.id === 4)).result, { offset: pub.offset, epoch: pub.epoch, duplicate: true });
  b.send({ type: 'frobnicate', id: 5 });
  assert.equal((await b.next((m) => m.id === 5)).error.code, 'BAD_MESSAGE');
  b.drop();
});
