/**
 * Publications with `latest` on a reader that does not read, over real sockets, with the
 * WebSocketServer's backpressure 'latest': the server's buffer stays bounded while the channel
 * publishes, and once the reader reads again it gets the newest value of each key, in offset
 * order, and every publication without `latest` and every reply.
 */
import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { mountRealtime, RealtimeServer } from '../../src/realtime.js';
import { heldLimit } from '../../src/realtime/latest-queue.js';
import type { WebSocket } from '../../src/index.js';
import { clientFrame, OP, parseFrames } from '../support/frames.js';
import { rawHandshake } from '../support/servers.js';
import { until } from './loopback.js';

const LIMIT = 16 * 1024;

/** A server under backpressure 'latest' and a raw fdx.v1 reader subscribed to `channel`, which reads nothing until resumed. */
async function stalledReader(channel: string) {
  const realtime = new RealtimeServer();
  const wss = mountRealtime(realtime, { port: 0, backpressure: 'latest', maxBackpressure: LIMIT, pingIntervalMs: 0 });
  await new Promise((resolve) => wss.once('listening', resolve));
  const { socket, rest } = await rawHandshake((wss.address() as AddressInfo).port, 'Sec-WebSocket-Protocol: fdx.v1\r\n');
  after(async () => {
    socket.destroy();
    await realtime.close();
    await new Promise((resolve) => wss.close(resolve));
  });
  const send = (message: object) => socket.write(clientFrame({ opcode: OP.TEXT, payload: JSON.stringify(message) }));
  send({ type: 'connect', id: 0 });
  send({ type: 'subscribe', id: 1, channel });
  await until(() => [...realtime.connections.values()].some((c) => c.channels.has(channel)), 5000, 'subscribed');
  return { realtime, socket, rest, send, ws: [...wss.clients][0] as WebSocket };
}

it("a stalled reader gets the newest value per key, in order, and every keyless publication and reply, while the server's buffer stays bounded", async () => {
  const { realtime, socket, rest, send, ws } = await stalledReader('dash');

  // Fill the kernel's buffers with publications the reader does not read, until ours hold some.
  const filler = new Uint8Array(256 * 1024);
  let fillers = 0;
  while (ws.bufferedAmount <= LIMIT && fillers < 200) {
    await realtime.publish('dash', filler);
    fillers++;
  }
  assert.ok(ws.bufferedAmount > LIMIT, 'the socket never backed up');
  const held = ws.bufferedAmount;

  let most = 0;
  for (let i = 0; i < 1000; i++) {
    if (i % 100 === 50) await realtime.publish('dash', { mark: i });
    await realtime.publish('dash', { key: i % 2 ? 'cpu' : 'mem', value: i }, { latest: i % 2 ? 'cpu' : 'mem' });
    most = Math.max(most, ws.bufferedAmount);
    if (i === 500) send({ type: 'publish', id: 7, channel: 'dash', data: 'from the reader' });
  }
  await realtime.publish('dash', { end: true });
  assert.ok(most <= held + 16, `the buffer grew from ${held} to ${most} bytes`); // + a ping frame that asks when it drained

  // Read again: everything held arrives.
  const chunks: Buffer[] = [rest];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.resume();
  await until(() => Buffer.concat(chunks).includes('"end":true'), 20_000, 'the last publication');
  // The server reads the reader's request only once its own buffer drained: published after the end.
  await until(() => Buffer.concat(chunks).includes('"id":7') && Buffer.concat(chunks).includes('from the reader'), 5000, 'the reply');
  const messages = parseFrames(new Uint8Array(Buffer.concat(chunks)))
    .filter((frame) => frame.opcode === OP.TEXT)
    .map((frame) => JSON.parse(Buffer.from(frame.payload).toString('utf8')));
  const pubs = messages.filter((m) => m.type === 'pub');
  const offsets = pubs.map((m) => Number(m.offset));
  assert.deepEqual(offsets, [...offsets].sort((a, b) => a - b), 'in offset order');
  assert.deepEqual(pubs.filter((m) => m.data.mark !== undefined).map((m) => m.data.mark), [50, 150, 250, 350, 450, 550, 650, 750, 850, 950]);
  assert.ok(pubs.some((m) => m.data === 'from the reader'), 'the reader\'s own publication');
  const keyed = pubs.filter((m) => m.data.key !== undefined);
  assert.ok(keyed.length < 50, `${keyed.length} keyed publications of 1000 were sent`);
  assert.deepEqual(keyed.filter((m) => m.data.key === 'cpu').at(-1).data.value, 999);
  assert.deepEqual(keyed.filter((m) => m.data.key === 'mem').at(-1).data.value, 998);
  assert.deepEqual(pubs.slice(-2).map((m) => m.data), [{ end: true }, 'from the reader']);
  const replies = messages.filter((m) => m.type === 'reply').map((m) => m.id);
  assert.deepEqual(replies, [0, 1, 7]);
});

it('a reader that never reads while publications without `latest` pile up is closed with 1008 past heldLimit, not held without bound', async () => {
  const { realtime, socket, ws } = await stalledReader('feed');
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));

  const chunk = new Uint8Array(64 * 1024);
  let published = 0;
  while (ws.bufferedAmount <= LIMIT && published < 200) {
    await realtime.publish('feed', chunk);
    published++;
  }
  assert.ok(ws.bufferedAmount > LIMIT, 'the socket never backed up');
  // Keyed publications only replace each other: however many, the reader stays.
  for (let i = 0; i < 500; i++) await realtime.publish('feed', chunk, { latest: 'frame' });
  assert.equal(ws.readyState, 1, 'still open while only keyed publications wait');
  // Keyless ones are held in full; past heldLimit the server gives up on the reader.
  const limit = heldLimit(LIMIT);
  for (let i = 0; i * chunk.length <= limit + chunk.length && ws.readyState === 1; i++) await realtime.publish('feed', chunk);
  assert.equal(ws.readyState, 2, 'closing once the held keyless bytes passed the limit');
  socket.destroy(); // the reader is gone; the server's side ends at once
  assert.equal(await closed, 1006);
});
