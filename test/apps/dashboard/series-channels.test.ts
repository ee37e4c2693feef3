/**
 * How the dashboard's series map onto channels (apps/dashboard/series-channels.ts) and which
 * other processes' series a process lists (apps/dashboard/peer-catalog.ts, over a MemoryEngine
 * shared as a Redis engine would be), and a sample's 16 bytes (apps/dashboard/sample-codec.ts).
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryEngine, RealtimeError } from 'fullduplex/realtime';
import { PEERS_CHANNEL, PEER_TIMEOUT_MS, PeerCatalog } from '../../../apps/dashboard/peer-catalog.js';
import { WantedChannels, readToggle, seriesChannel } from '../../../apps/dashboard/series-channels.js';
import type { SeriesInfo } from '../../../apps/dashboard/metric-sampler.js';
import { SAMPLE_BYTES, decodeSample, encodeSample } from '../../../apps/dashboard/sample-codec.js';

it('names a series\' channel after its process and id', () => {
  assert.equal(seriesChannel('123-abc', 'process.cpu.user'), 'series.123-abc.process.cpu.user');
});

it('reads the slow toggle, and refuses anything but a boolean with INVALID_PAYLOAD', () => {
  assert.equal(readToggle({ on: true }), true);
  assert.equal(readToggle({ on: false }), false);
  for (const bad of [null, 'on', {}, { on: 'yes' }, { on: 1 }]) {
    assert.throws(() => readToggle(bad), (error: unknown) => error instanceof RealtimeError && error.code === 'INVALID_PAYLOAD');
  }
});

it('keeps a channel wanted for the grace period after its last subscriber left, then forgets it', () => {
  const wanted = new WantedChannels(1000);
  wanted.update(['a', 'b'], 0);
  wanted.update(['a'], 600);
  assert.ok(wanted.has('a') && wanted.has('b'));
  wanted.update([], 1001);
  assert.ok(wanted.has('a') && !wanted.has('b'));
  wanted.update([], 1601);
  assert.ok(!wanted.has('a'));
});

it('lists the other processes\' series with their channels, not its own, ignores bad announcements, and forgets a silent peer', { timeout: 10_000 }, async () => {
  const engine = new MemoryEngine();
  const own: SeriesInfo[] = [{ id: 'process.memory.rss', label: 'Process RSS', unit: 'MiB', group: 'process' }];
  let changes = 0;
  const a = await PeerCatalog.open(engine, 'node-a', own, () => changes++);
  const b = await PeerCatalog.open(engine, 'node-b', own, () => undefined);
  try {
    await engine.publish(PEERS_CHANNEL, { node: 'x y', pid: 1, series: [] });
    await engine.publish(PEERS_CHANNEL, { node: 'node-c', pid: 2, series: [{ id: '../../etc', label: 'x', unit: '' }] });
    await engine.publish(PEERS_CHANNEL, 'hello');
    const deadline = Date.now() + 3000;
    while (a.catalog().length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(a.catalog(), [
      { id: `peer.${process.pid}.process.memory.rss`, label: `Process RSS (pid ${process.pid})`, unit: 'MiB', group: 'peer', channel: 'series.node-b.process.memory.rss' },
    ]);
    assert.equal(changes, 1);
    await b.close();
    await new Promise((resolve) => setTimeout(resolve, PEER_TIMEOUT_MS + 1000));
    assert.deepEqual(a.catalog(), []);
    assert.equal(changes, 2);
  } finally {
    await a.close();
    await b.close();
    await engine.close();
  }
});

it('encodes a sample in 16 bytes and decodes it, and reads anything else as no sample', () => {
  const bytes = encodeSample(1_764_522_000_123, -0.25);
  assert.equal(bytes.length, SAMPLE_BYTES);
  assert.deepEqual(decodeSample(bytes), { t: 1_764_522_000_123, v: -0.25 });
  const offset = new Uint8Array(20);
  offset.set(bytes, 4);
  assert.deepEqual(decodeSample(offset.subarray(4)), { t: 1_764_522_000_123, v: -0.25 });
  assert.equal(decodeSample(new Uint8Array(15)), null);
  assert.equal(decodeSample({ t: 1, v: 2 } as never), null);
});
