import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startServer, stopServer } from '../../support/servers.js';
import { connect, openClient, serverSides } from '../../support/clients.js';

import { writeScheduler } from '../../../src/node/write-scheduler.js';

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
    const socket = serverSide.socket as net.Socket & { _writev: Function; _write: Function };
    let writes = 0;
    const writev = socket._writev.bind(socket);
    const write = socket._write.bind(socket);
    socket._writev = (...args: unknown[]) => { writes++; return writev(...args); };
    socket._write = (...args: unknown[]) => { writes++; return write(...args); };
    const got = new Promise<void>((resolve) => {
      let n = 0;
      ws.on('message', () => { if (++n === 200) resolve(); });
    });
    for (let i = 0; i < 200; i++) serverSide.send(`message ${i}`);
    await got;
    assert.equal(writes, 1);
    ws.close();
  });
});

describe('write scheduler and cork', () => {
  it('cork() sends everything written inside it in one write', async () => {
    const { wss, url } = await startServer();
    after(() => stopServer(wss));
    const [client] = await connect(url, 1);
    const [s] = await serverSides(wss, 1);
    const sock = s!.socket as net.Socket & { _writev: Function; _write: Function };
    let writes = 0;
    const wv = sock._writev.bind(sock);
    const w = sock._write.bind(sock);
    sock._writev = (...a: unknown[]) => { writes++; return wv(...a); };
    sock._write = (...a: unknown[]) => { writes++; return w(...a); };
    await new Promise((r) => setTimeout(r, 10));
    s!.cork(() => {
      for (let i = 0; i < 10; i++) s!.send(`m${i}`);
    });
    await new Promise((r) => setImmediate(r));
    assert.equal(writes, 1);
    client!.close();
  });
});
