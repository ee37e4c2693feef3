import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from '../../../src/index.js';
import { acceptValue } from '../../../src/protocol/index.js';
import { startEchoServer, startRawUpgradeServer, startServer, stopServer } from '../../support/servers.js';
import { closed, nextMessage, opened } from '../../support/clients.js';

describe('WebSocket', () => {

  it('throws when sending while CONNECTING, and reports sends after close to the callback', async () => {
    const { wss, url } = await startEchoServer();
    after(() => stopServer(wss));
    const ws = new WebSocket(url);
    assert.equal(ws.readyState, WebSocket.CONNECTING);
    assert.throws(() => ws.send('early'), /CONNECTING/);
    await opened(ws);
    ws.close();
    const error = await new Promise<Error | null | undefined>((resolve) => ws.send('late', resolve));
    assert.match(String(error?.message), /not open/);
  });

  it('echoes text as text and binary as binary, with the ws call shapes', async () => {
    const { wss, url } = await startEchoServer();
    after(() => stopServer(wss));
    const ws = new WebSocket(url);
    await opened(ws);
    ws.send('héllo');
    const text = await nextMessage(ws);
    assert.equal(text.isBinary, false);
    assert.equal(text.data.toString(), 'héllo');
    ws.send(new Uint8Array([1, 2, 3]));
    const bin = await nextMessage(ws);
    assert.equal(bin.isBinary, true);
    assert.deepEqual([...(bin.data as Buffer)], [1, 2, 3]);
    ws.send('as binary', { binary: true });
    assert.equal((await nextMessage(ws)).isBinary, true);
    ws.send(Buffer.from('as text'), { binary: false });
    assert.equal((await nextMessage(ws)).isBinary, false);
    ws.close(4001, 'done');
    assert.deepEqual(await closed(ws), { code: 4001, reason: 'done' });
  });

  it('sends a fragmented message with fin: false', async () => {
    const { wss, url } = await startEchoServer();
    after(() => stopServer(wss));
    const ws = new WebSocket(url);
    await opened(ws);
    ws.send('one ', { fin: false });
    ws.send('two ', { fin: false });
    ws.send('three');
    assert.equal((await nextMessage(ws)).data.toString(), 'one two three');
    ws.close();
  });

  it('honours binaryType arraybuffer and fragments', async () => {
    const { wss, url } = await startEchoServer();
    after(() => stopServer(wss));
    const ws = new WebSocket(url);
    await opened(ws);
    ws.binaryType = 'arraybuffer';
    ws.send(Buffer.from([9, 8]));
    const ab = (await nextMessage(ws)).data;
    assert.ok(ab instanceof ArrayBuffer);
    assert.deepEqual([...new Uint8Array(ab)], [9, 8]);
    ws.binaryType = 'fragments';
    ws.send(Buffer.from([7]));
    const fragments = (await nextMessage(ws)).data as Buffer[];
    assert.ok(Array.isArray(fragments));
    assert.deepEqual([...Buffer.concat(fragments)], [7]);
    ws.close();
  });

  it('sends and receives pings and pongs with payloads', async () => {
    const { wss, url } = await startServer();
    after(() => stopServer(wss));
    const serverPing = new Promise<Buffer>((resolve) => wss.on('connection', (s) => s.on('ping', resolve)));
    const ws = new WebSocket(url);
    await opened(ws);
    const pong = new Promise<Buffer>((resolve) => ws.once('pong', resolve));
    ws.ping('abc');
    assert.equal((await serverPing).toString(), 'abc');
    assert.equal((await pong).toString(), 'abc');
    assert.throws(() => ws.ping(Buffer.alloc(126)), RangeError);
    ws.close();
  });

  it('validates close arguments as ws does', async () => {
    const { wss, url } = await startEchoServer();
    after(() => stopServer(wss));
    const ws = new WebSocket(url);
    await opened(ws);
    assert.throws(() => ws.close(1005), TypeError);
    assert.throws(() => ws.close(999), TypeError);
    assert.throws(() => ws.close(1000, 'x'.repeat(124)), RangeError);
    ws.close(1000, 'x'.repeat(123));
    assert.equal((await closed(ws)).code, 1000);
  });

  it('reports bufferedAmount and stops reading while paused', async () => {
    const { wss, url } = await startServer();
    after(() => stopServer(wss));
    const serverSide = new Promise<WebSocket>((resolve) => wss.on('connection', resolve));
    const ws = new WebSocket(url);
    await opened(ws);
    const peer = await serverSide;
    assert.equal(typeof ws.bufferedAmount, 'number');
    ws.pause();
    assert.equal(ws.isPaused, true);
    let received = 0;
    ws.on('message', () => received++);
    peer.send('while paused');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(received, 0);
    ws.resume();
    await nextMessage(ws).catch(() => {});
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(received, 1);
    ws.close();
  });

  it('emits one message per turn of the event loop with allowSynchronousEvents: false', async () => {
    const { wss, url } = await startServer({ allowSynchronousEvents: false });
    after(() => stopServer(wss));
    const order: string[] = [];
    wss.on('connection', (s) => {
      s.on('message', (d) => {
        order.push(`message:${d}`);
        queueMicrotask(() => order.push(`microtask:${d}`));
      });
    });
    const ws = new WebSocket(url);
    await opened(ws);
    ws.send('a');
    ws.send('b');
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(order, ['message:a', 'microtask:a', 'message:b', 'microtask:b']);
    ws.close();
  });

  it('terminate() closes at once with 1006', async () => {
    const { wss, url } = await startEchoServer();
    after(() => stopServer(wss));
    const ws = new WebSocket(url);
    await opened(ws);
    ws.terminate();
    assert.equal((await closed(ws)).code, 1006);
  });

  it('does not crash the process when a peer breaks the protocol and nobody listens for errors', async () => {
    const raw = await startRawUpgradeServer((req, socket) => {
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${acceptValue(req.headers['sec-websocket-key'] as string)}\r\n\r\n`,
      );
      socket.write(Buffer.from([0x83, 0x00])); // reserved opcode 3
      socket.on('data', () => {});
      socket.on('end', () => socket.end());
    });
    after(raw.close);
    const ws = new WebSocket(raw.url);
    const { code } = await closed(ws);
    assert.equal(code, 1002); // the code it failed the connection with, as ws reports it
  });
});
