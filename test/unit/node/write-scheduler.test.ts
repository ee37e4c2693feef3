import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopServer } from '../../support/servers.js';
import { closed, collect, connect, openClient, serverSides, until } from '../../support/clients.js';

import { writeScheduler } from '../../../src/node/write-scheduler.js';

/**
 * Counts the writes `socket` hands to its libuv handle: one per writeBuffer or writev, whether
 * made by the stream path (_write, _writev) or directly (socket-write.ts).
 */
function countWrites(socket: unknown): { writes: number } {
  type Handle = { writeBuffer: Function; writev: Function };
  const handle = (socket as { _handle: Handle })._handle;
  const count = { writes: 0 };
  const writev = handle.writev.bind(handle);
  const writeBuffer = handle.writeBuffer.bind(handle);
  handle.writev = (...args: unknown[]) => { count.writes++; return writev(...args); };
  handle.writeBuffer = (...args: unknown[]) => { count.writes++; return writeBuffer(...args); };
  return count;
}

describe('writeScheduler', () => {
  it('writes every writer queued in a tick from one callback at the end of the tick, in order', async () => {
    const order: string[] = [];
    const writer = (name: string) => ({ writeScheduled: () => order.push(name) });
    writeScheduler.schedule(writer('a'));
    writeScheduler.schedule(writer('b'));
    assert.equal(order.length, 0, 'nothing is written before the end of the tick');
    process.nextTick(() => order.push('later tick callback'));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(order, ['a', 'b', 'later tick callback']);
  });

  it('writes the others when one writer throws, then throws its error', () => {
    const written: string[] = [];
    const failure = new Error('broken writer');
    // Catch the end-of-tick callback to run it here, where its error can be seen.
    const nextTick = process.nextTick;
    let endOfTick: (() => void) | undefined;
    process.nextTick = ((callback: () => void) => (endOfTick = callback)) as typeof process.nextTick;
    try {
      writeScheduler.schedule({ writeScheduled: () => { throw failure; } });
      writeScheduler.schedule({ writeScheduled: () => written.push('second') });
    } finally {
      process.nextTick = nextTick;
    }
    assert.throws(() => endOfTick!(), failure);
    assert.deepEqual(written, ['second']);
  });
});

describe('write scheduler', () => {
  it('batches many sends in one tick into one socket write', async () => {
    const { wss, url } = await startServer();
    after(() => stopServer(wss));
    const ws = await openClient(url);
    await new Promise((r) => setImmediate(r));
    const serverSide = [...wss.clients][0]!;
    const count = countWrites(serverSide.socket);
    const got = new Promise<void>((resolve) => {
      let n = 0;
      ws.on('message', () => { if (++n === 200) resolve(); });
    });
    for (let i = 0; i < 200; i++) serverSide.send(`message ${i}`);
    await got;
    assert.equal(count.writes, 1);
    ws.close();
  });
});

describe('write scheduler and cork', () => {
  it('cork() sends everything written inside it in one write', async () => {
    const { wss, url } = await startServer();
    after(() => stopServer(wss));
    const [client] = await connect(url, 1);
    const [s] = await serverSides(wss, 1);
    const count = countWrites(s!.socket);
    await new Promise((r) => setTimeout(r, 10));
    s!.cork(() => {
      for (let i = 0; i < 10; i++) s!.send(`m${i}`);
    });
    await new Promise((r) => setImmediate(r));
    assert.equal(count.writes, 1);
    client!.close();
  });
});

describe('write scheduler and publications', () => {
  const subscribedPair = async () => {
    const { wss, url } = await startServer();
    after(() => stopServer(wss));
    const [client] = await connect(url, 1);
    const [s] = await serverSides(wss, 1);
    s!.subscribe('room');
    return { wss, client: client!, s: s!, count: countWrites(s!.socket) };
  };

  it('writes a publication to a connection with nothing queued at once', async () => {
    const { wss, client, s, count } = await subscribedPair();
    const got = collect(client);
    wss.publish('room', 'now');
    assert.equal(count.writes, 1);
    assert.equal(s.bufferedAmount, 0);
    await until(() => got.length === 1, 'the publication');
    assert.deepEqual(got, ['now']);
    client.close();
  });

  it('writes a publication behind what was sent before it in the tick, and what follows, in one write', async () => {
    const { wss, client, s, count } = await subscribedPair();
    const got = collect(client);
    s.send('first');
    wss.publish('room', 'second');
    s.send('third');
    wss.publish('room', 'fourth');
    assert.equal(count.writes, 0, 'nothing is written before the end of the tick');
    await until(() => got.length === 4, 'four messages');
    assert.deepEqual(got, ['first', 'second', 'third', 'fourth']);
    assert.equal(count.writes, 1);
    client.close();
  });

  it('cork() keeps a publication for one write with what is sent after it', async () => {
    const { wss, client, s, count } = await subscribedPair();
    const got = collect(client);
    s.cork(() => {
      wss.publish('room', 'first');
      // The publication's frame is counted while it waits for the write.
      assert.equal(s.bufferedAmount, 2 + 'first'.length);
      s.send('second');
      wss.publish('room', 'third');
    });
    await until(() => got.length === 3, 'three messages');
    assert.deepEqual(got, ['first', 'second', 'third']);
    assert.equal(count.writes, 1);
    client.close();
  });

  it('sends a publication before the close frame of a close() in the same tick', async () => {
    const { wss, url } = await startServer();
    after(() => stopServer(wss));
    const [client] = await connect(url, 1);
    const [s] = await serverSides(wss, 1);
    s!.subscribe('room');
    const got = collect(client!);
    const closing = closed(client!);
    wss.publish('room', 'last words');
    s!.close(4000, 'bye');
    assert.deepEqual(await closing, { code: 4000, reason: 'bye' });
    assert.deepEqual(got, ['last words']);
  });
});
