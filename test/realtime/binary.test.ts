/**
 * Binary publications through real sockets: fullduplex/realtime mounted on an HTTP server,
 * fullduplex/client over our WebSocket. Bytes go in binary frames both ways, keep their order
 * among JSON publications, and come back exactly from history after a drop.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient, startLoopback, until, type Loopback } from './loopback.js';

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

  it('recovers binary publications made while the client was away, exactly, in order', async () => {
    const loop = await serve();
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
});
