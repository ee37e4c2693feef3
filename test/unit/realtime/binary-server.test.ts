/**
 * Binary publications and `latest` in the real-time server, through fake transports: a binary
 * publication's `pub` is one binary frame shared by all subscribers, its recovery is base64 in
 * the subscribe reply, and a publication with `latest` reaches the transport with its key.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RealtimeServer } from '../../../src/realtime/server/realtime-server.js';
import { MemoryEngine } from '../../../src/realtime/memory-engine.js';
import { frameBinary, parseBinary } from '../../../src/realtime/protocol.js';
import { FakeClock, settle } from '../../support/fake-clock.js';
import { FakeTransport } from './fakes.js';

async function setup() {
  const clock = new FakeClock();
  const server = new RealtimeServer({ clock, engine: new MemoryEngine({ clock }) });
  const connect = async (): Promise<FakeTransport> => {
    const t = new FakeTransport();
    server.accept(t);
    t.receive({ type: 'connect', id: 0 });
    await settle();
    t.take();
    return t;
  };
  return { server, connect };
}

describe('binary publications in the server', () => {
  it('frames a binary publication once for all subscribers, and copies the publisher\'s buffer', async () => {
    const { server, connect } = await setup();
    const [a, b] = [await connect(), await connect()];
    for (const t of [a, b]) t.receive({ type: 'subscribe', id: 1, channel: 'arena' });
    await settle();
    a.take();
    b.take();
    const buffer = Buffer.from([1, 2, 3]);
    await server.publish('arena', buffer);
    buffer.fill(0);
    assert.equal(a.shared[0], b.shared[0], 'one SharedText for both');
    const frame = a.frames[0]!.data as Uint8Array;
    assert.ok(frame instanceof Uint8Array);
    const parsed = parseBinary(frame);
    assert.ok(parsed.ok);
    assert.deepEqual({ ...parsed.message, data: [...(parsed.message as { data: Uint8Array }).data] }, { type: 'pub', channel: 'arena', offset: '1', epoch: (parsed.message as { epoch: string }).epoch, data: [1, 2, 3] });
  });

  it('recovers binary publications as base64 `bytes` in the subscribe reply, JSON ones as `data`', async () => {
    const { server, connect } = await setup();
    const first = await server.publish('arena', { json: 1 });
    await server.publish('arena', new Uint8Array([1, 2, 255]));
    const t = await connect();
    t.receive({ type: 'subscribe', id: 2, channel: 'arena', since: { offset: '0', epoch: first.epoch } });
    await settle();
    const [reply] = t.take();
    assert.deepEqual(reply.result.publications, [
      { offset: '1', data: { json: 1 } },
      { offset: '2', bytes: 'AQL/' },
    ]);
  });

  it('takes a binary publish from a client and answers it with the position', async () => {
    const { connect } = await setup();
    const [publisher, reader] = [await connect(), await connect()];
    reader.receive({ type: 'subscribe', id: 1, channel: 'arena' });
    await settle();
    reader.take();
    publisher.receive(frameBinary({ type: 'publish', id: 5, channel: 'arena', key: 'k1' }, new Uint8Array([42])));
    publisher.receive(frameBinary({ type: 'publish', id: 6, channel: 'arena', key: 'k1' }, new Uint8Array([42])));
    await settle();
    const replies = publisher.take();
    assert.deepEqual(replies.map((r) => [r.id, r.result.offset, r.result.duplicate]), [[5, '1', undefined], [6, '1', true]]);
    assert.equal(reader.frames.length, 1, 'stored and delivered once');
    assert.deepEqual([...(parseBinary(reader.frames[0]!.data as Uint8Array) as { message: { data: Uint8Array } }).message.data], [42]);
  });

  it("hands the transport a publication's latest as the key channel NUL latest, and nothing else a key", async () => {
    const { server, connect } = await setup();
    const t = await connect();
    t.receive({ type: 'subscribe', id: 1, channel: 'dash' });
    await settle();
    t.take();
    await server.publish('dash', { cpu: 1 }, { latest: 'cpu' });
    await server.publish('dash', { note: 1 });
    await server.publish('dash', new Uint8Array([1]), { latest: 'frame' });
    t.receive({ type: 'ping' });
    assert.deepEqual(t.frames.map((f) => f.key), ['dash\0cpu', undefined, 'dash\0frame', undefined]);
    await assert.rejects(server.publish('dash', 1, { latest: 5 as never }), TypeError);
  });
});
