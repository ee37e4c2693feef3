/**
 * Binary publications through real sockets: fullduplex/realtime mounted on an HTTP server,
 * fullduplex/client over our WebSocket. Bytes go in binary frames both ways, keep their order
 * among JSON publications, and come back exactly from history after a drop.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { WebSocket } from '../../src/index.js';
import { RedisEngine } from '../../src/broker/redis.js';
import { MemoryEngine, type Engine } from '../../src/realtime.js';
import { frameBinary, parseBinary } from '../../src/realtime/protocol.js';
import { deleteKeys } from '../support/redis-keys.js';
import { connectClient, startLoopback, until, type Loopback } from './loopback.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefixes: string[] = [];
after(() => deleteKeys(REDIS_URL, prefixes));

const servers: Loopback[] = [];
const clients: { close(): void }[] = [];
after(async () => {
  for (const c of clients) c.close();
  for (const s of servers) await s.stop().catch(() => undefined);
});

async function serve(options: Parameters<typeof startLoopback>[0] = {}): Promise<Loopback> {
  const loop = await startLoopback(options);
  servers.push(loop);
  return loop;
}
function client(url: string) {
  const c = connectClient(url);
  clients.push(c);
  return c;
}
const bytes = (...values: number[]) => new Uint8Array(values);

/** A raw fdx.v1 connection (no fullduplex/client): sends text or binary frames, keeps what comes. */
async function raw(url: string) {
  const ws = new WebSocket(url, 'fdx.v1');
  const inbox: any[] = [];
  ws.on('message', (data, isBinary) => {
    const parsed = isBinary ? parseBinary(new Uint8Array(data as Buffer)) : { ok: true, message: JSON.parse(String(data)) };
    inbox.push(parsed.ok ? parsed.message : { unreadable: true });
  });
  const closed = new Promise<number>((resolve) => ws.once('close', resolve));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return {
    ws,
    inbox,
    closed,
    send: (message: object | Uint8Array) => ws.send(message instanceof Uint8Array ? message : JSON.stringify(message)),
    async take(test: (m: any) => boolean): Promise<any> {
      await until(() => inbox.some(test), 5000, 'a message');
      return inbox.splice(inbox.findIndex(test), 1)[0];
    },
  };
}

describe('binary publications', () => {
  it('delivers a server publication of bytes as a Uint8Array, in order among JSON publications', async () => {
    const loop = await serve();
    const c = client(loop.url);
    const got: unknown[] = [];
    const subscribed = new Promise((resolve) => c.on('subscribed', resolve));
    c.subscribe('arena', (data) => got.push(data));
    await subscribed;
    await loop.realtime.publish('arena', { tick: 1 });
    await loop.realtime.publish('arena', Buffer.from([0, 1, 2, 255]));
    await loop.realtime.publish('arena', 'text');
    await loop.realtime.publish('arena', bytes());
    await until(() => got.length === 4);
    assert.deepEqual(got[0], { tick: 1 });
    assert.ok(got[1] instanceof Uint8Array && !Buffer.isBuffer(got[1]), 'a plain Uint8Array');
    assert.deepEqual([...(got[1] as Uint8Array)], [0, 1, 2, 255]);
    assert.equal(got[2], 'text');
    assert.deepEqual([...(got[3] as Uint8Array)], []);
  });

  it('publishes bytes from a client: another client gets them, with an acknowledged position', async () => {
    const loop = await serve();
    const [sender, reader] = [client(loop.url), client(loop.url)];
    const got: Array<[unknown, string]> = [];
    const subscribed = new Promise((resolve) => reader.on('subscribed', resolve));
    reader.subscribe('arena', (data, info) => got.push([data, info.offset]));
    await subscribed;
    const payload = new Uint8Array(70_000 / 2).map((_, i) => i % 251);
    const ack = await sender.publish('arena', payload);
    const again = await sender.publish('arena', { after: true });
    assert.equal(ack.offset, '1');
    assert.equal(again.offset, '2');
    await until(() => got.length === 2);
    assert.deepEqual(got[0]![0], payload);
    assert.deepEqual(got[1], [{ after: true }, '2']);
  });

  for (const [name, make] of [
    ['the memory engine', (): Engine => new MemoryEngine()],
    ['RedisEngine', (): Engine => {
      const keyPrefix = `fdx-binary-test-${randomUUID()}:`;
      prefixes.push(keyPrefix);
      return new RedisEngine({ url: REDIS_URL, keyPrefix, partitions: 4 });
    }],
  ] as const) it(`recovers binary publications made while the client was away, exactly, in order (${name})`, async () => {
    const loop = await serve({ engine: make() });
    const c = client(loop.url);
    const got: unknown[] = [];
    const recovery: boolean[] = [];
    c.on('subscribed', (_channel, recovered) => recovery.push(recovered));
    c.subscribe('feed', (data) => got.push(data));
    await until(() => recovery.length === 1);
    await loop.realtime.publish('feed', bytes(1));
    await until(() => got.length === 1);
    await loop.crash();
    await until(() => c.state !== 'connected');
    const all = new Uint8Array(256).map((_, i) => i);
    await loop.realtime.engine.publish('feed', all);
    await loop.realtime.engine.publish('feed', { json: 2 });
    await loop.realtime.engine.publish('feed', bytes(3, 0, 3));
    await loop.restart();
    await until(() => recovery.length === 2, 5000, 'resubscribed');
    await until(() => got.length === 4);
    assert.deepEqual(recovery, [true, true]);
    assert.deepEqual(got, [bytes(1), all, { json: 2 }, bytes(3, 0, 3)]);
  });

  it('answers malformed binary frames with BAD_MESSAGE and oversize ones with MESSAGE_TOO_LARGE, disturbing no other connection', async () => {
    const loop = await serve({ maxMessageBytes: 1000 });
    const bystander = client(loop.url);
    const got: unknown[] = [];
    const subscribed = new Promise((resolve) => bystander.on('subscribed', resolve));
    bystander.subscribe('arena', (data) => got.push(data));
    await subscribed;
    const peer = await raw(loop.url);
    peer.send({ type: 'connect', id: 0 });
    await peer.take((m) => m.type === 'reply' && m.id === 0);
    const head = (length: number) => bytes(length >> 8, length & 255);
    const cases: Array<[string, Uint8Array, (m: any) => boolean]> = [
      ['one byte', bytes(7), (m) => m.type === 'error' && m.code === 'BAD_MESSAGE'],
      ['a header longer than the frame', new Uint8Array([...head(50), ...Buffer.from('{"type":"publish"}')]), (m) => m.type === 'error' && m.code === 'BAD_MESSAGE'],
      ['a header that is not JSON', new Uint8Array([...head(3), ...Buffer.from('{no'), 1, 2]), (m) => m.type === 'error' && m.code === 'BAD_MESSAGE'],
      ['a header that is not UTF-8', new Uint8Array([...head(2), 0xff, 0xfe]), (m) => m.type === 'error' && m.code === 'BAD_MESSAGE'],
      ['a subscribe', frameBinary({ type: 'subscribe', id: 3, channel: 'arena' }, bytes(1)), (m) => m.type === 'reply' && m.id === 3 && m.error.code === 'BAD_MESSAGE'],
      ['a publish without id', frameBinary({ type: 'publish', channel: 'arena' }, bytes(1)), (m) => m.type === 'error' && m.code === 'BAD_MESSAGE'],
      ['a publish on a bad channel', frameBinary({ type: 'publish', id: 4, channel: 'no spaces' }, bytes(1)), (m) => m.type === 'reply' && m.id === 4 && m.error.code === 'CHANNEL_INVALID'],
      ['an oversize publish', frameBinary({ type: 'publish', id: 5, channel: 'arena' }, new Uint8Array(1001)), (m) => m.type === 'reply' && m.id === 5 && m.error.code === 'MESSAGE_TOO_LARGE'],
    ];
    for (const [what, frame, answer] of cases) {
      peer.send(frame);
      await assert.doesNotReject(peer.take(answer), what);
    }
    peer.send(frameBinary({ type: 'publish', id: 6, channel: 'arena' }, bytes(9, 9)));
    const ack = await peer.take((m) => m.type === 'reply' && m.id === 6);
    assert.deepEqual(ack.result, { offset: '1', epoch: ack.result.epoch });
    await until(() => got.length === 1);
    assert.deepEqual(got, [bytes(9, 9)]);
    assert.equal(bystander.state, 'connected');
    assert.equal(peer.ws.readyState, WebSocket.OPEN);
  });

  it('closes with 4501 a connection whose first message is a binary frame', async () => {
    const loop = await serve();
    const peer = await raw(loop.url);
    peer.send(frameBinary({ type: 'connect', id: 0 }, bytes()));
    assert.equal(await peer.closed, 4501);
  });
});
