import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer, createWebSocketStream, type RawData } from '../../../src/index.js';
import { acceptValue } from '../../../src/protocol/index.js';
import { serverFrame } from '../../support/frames.js';
import { startEchoServer, startRawUpgradeServer, startServer, stopServer } from '../../support/servers.js';

const fixtures = path.join(import.meta.dirname, '..', '..', 'fixtures');

function opened(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
}

function nextMessage(ws: WebSocket): Promise<{ data: RawData; isBinary: boolean }> {
  return new Promise((resolve) => ws.once('message', (data, isBinary) => resolve({ data, isBinary })));
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

describe('WebSocket client', () => {
  it('rejects URLs that are not ws, wss, http, https or ws+unix, and fragments', () => {
    assert.throws(() => new WebSocket('ftp://example.com'), SyntaxError);
    assert.throws(() => new WebSocket('not a url'), SyntaxError);
    assert.throws(() => new WebSocket('ws://example.com/#frag'), SyntaxError);
  });

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

  it('supports on* attributes and addEventListener like a browser WebSocket', async () => {
    const { wss, url } = await startEchoServer();
    after(() => stopServer(wss));
    const ws = new WebSocket(url);
    const seen: string[] = [];
    ws.onopen = () => {
      seen.push('open');
      ws.send('hi');
    };
    const listener = (event: { data: unknown }) => seen.push(`listener:${String(event.data)}`);
    ws.addEventListener('message', listener);
    ws.addEventListener('message', listener); // the same listener is added once
    const done = new Promise<{ code: number; reason: string; wasClean: boolean }>((resolve) => {
      ws.onmessage = (event: { data: unknown }) => {
        seen.push(`onmessage:${typeof event.data}:${String(event.data)}`);
        ws.close(1000, 'bye');
      };
      ws.onclose = (event: { code: number; reason: string; wasClean: boolean }) => resolve(event);
    });
    const event = await done;
    assert.deepEqual(seen, ['open', 'listener:hi', 'onmessage:string:hi']);
    assert.equal(event.code, 1000);
    assert.equal(event.reason, 'bye');
    assert.equal(event.wasClean, true);
    assert.equal(typeof ws.onmessage, 'function');
    ws.removeEventListener('message', listener);
    assert.equal(ws.listenerCount('message'), 1);
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

  it('aborts the handshake when closed while CONNECTING and emits error then close 1006', async () => {
    const { wss, url } = await startServer();
    after(() => stopServer(wss));
    const ws = new WebSocket(url);
    const events: string[] = [];
    ws.on('error', (e) => events.push(`error:${e.message}`));
    const result = closed(ws);
    ws.close();
    assert.equal((await result).code, 1006);
    assert.match(events[0]!, /closed before the connection was established/);
    assert.equal(ws.readyState, WebSocket.CLOSED);
  });

  it('emits unexpected-response when a listener wants the non-101 answer', async () => {
    const raw = await startRawUpgradeServer((_req, socket) => socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno'));
    after(raw.close);
    const ws = new WebSocket(raw.url);
    const [, response] = await once(ws, 'unexpected-response');
    assert.equal((response as http.IncomingMessage).statusCode, 403);
    ws.terminate();
  });

  it('fails the handshake on a wrong Sec-WebSocket-Accept', async () => {
    const raw = await startRawUpgradeServer((_req, socket) =>
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: wrong\r\n\r\n'),
    );
    after(raw.close);
    const ws = new WebSocket(raw.url);
    const [error] = await once(ws, 'error');
    assert.equal((error as { code: string }).code, 'WS_ERR_INVALID_ACCEPT');
  });

  it('fails the handshake when the server picks a subprotocol that was not offered', async () => {
    const raw = await startRawUpgradeServer((req, socket) =>
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${acceptValue(req.headers['sec-websocket-key'] as string)}\r\nSec-WebSocket-Protocol: evil\r\n\r\n`,
      ),
    );
    after(raw.close);
    const ws = new WebSocket(raw.url, ['good']);
    const [error] = await once(ws, 'error');
    assert.equal((error as { code: string }).code, 'WS_ERR_SERVER_PROTOCOL');
  });

  it('times out a handshake the server never answers', async () => {
    const server = net.createServer((socket) => socket.resume()); // reads, never answers
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    after(() => new Promise<void>((r) => server.close(() => r())));
    const ws = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`, { handshakeTimeout: 100 });
    const [error] = await once(ws, 'error');
    assert.equal((error as { code: string }).code, 'WS_ERR_CLIENT_HANDSHAKE_TIMEOUT');
  });

  it('follows redirects when asked, emits redirect, and stops at maxRedirects', async () => {
    const { wss, port } = await startEchoServer();
    const redirector = await startRawUpgradeServer((req, socket) => {
      const target = req.url === '/loop' ? '/loop' : `ws://127.0.0.1:${port}/`;
      socket.end(`HTTP/1.1 302 Found\r\nLocation: ${target}\r\nContent-Length: 0\r\n\r\n`);
    });
    after(async () => {
      await stopServer(wss);
      await redirector.close();
    });
    const rport = redirector.port;
    const ws = new WebSocket(`ws://127.0.0.1:${rport}/go`, { followRedirects: true });
    const redirected = new Promise<string>((resolve) => ws.once('redirect', (url: string) => resolve(url)));
    await opened(ws);
    assert.equal(await redirected, `ws://127.0.0.1:${port}/`);
    assert.equal(ws.url, `ws://127.0.0.1:${port}/`);
    ws.close();
    const loop = new WebSocket(`ws://127.0.0.1:${rport}/loop`, { followRedirects: true, maxRedirects: 2 });
    const [error] = await once(loop, 'error');
    assert.equal((error as { code: string }).code, 'WS_ERR_TOO_MANY_REDIRECTS');
    const noFollow = new WebSocket(`ws://127.0.0.1:${rport}/go`);
    const [plain] = await once(noFollow, 'error');
    assert.match((plain as Error).message, /302/);
  });

  it('connects over TLS with wss:// and the TLS options', async () => {
    const server = https.createServer({
      key: fs.readFileSync(path.join(fixtures, 'key.pem')),
      cert: fs.readFileSync(path.join(fixtures, 'cert.pem')),
    });
    const wss = new WebSocketServer({ server });
    wss.on('connection', (ws, req) => ws.send(`secure:${(req.socket as { encrypted?: boolean }).encrypted === true}`));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    after(() => new Promise<void>((r) => { wss.close(); server.close(() => r()); }));
    const port = (server.address() as AddressInfo).port;
    const ws = new WebSocket(`wss://127.0.0.1:${port}`, { ca: fs.readFileSync(path.join(fixtures, 'cert.pem')) });
    assert.equal((await nextMessage(ws)).data.toString(), 'secure:true');
    ws.close();
    await closed(ws);
    const untrusted = new WebSocket(`wss://127.0.0.1:${port}`);
    const [error] = await once(untrusted, 'error');
    assert.match((error as { code: string }).code, /SELF_SIGNED|CERT/);
  });

  it('connects over a unix socket with ws+unix://', async () => {
    const socketPath = path.join(os.tmpdir(), `fdx-${process.pid}-${Date.now()}.sock`);
    const server = http.createServer();
    const wss = new WebSocketServer({ server });
    wss.on('connection', (ws, req) => ws.send(`path:${req.url}`));
    await new Promise<void>((r) => server.listen(socketPath, r));
    after(() => new Promise<void>((r) => { wss.close(); server.close(() => r()); }));
    const ws = new WebSocket(`ws+unix://${socketPath}:/inner?x=1`);
    assert.equal((await nextMessage(ws)).data.toString(), 'path:/inner?x=1');
    ws.close();
  });

  it('sends custom headers and origin', async () => {
    const { wss, url } = await startServer();
    after(() => stopServer(wss));
    const headers = new Promise<http.IncomingHttpHeaders>((resolve) => wss.on('connection', (_ws, req) => resolve(req.headers)));
    const ws = new WebSocket(url, { headers: { 'X-Test': 'yes' }, origin: 'https://app.example' });
    const h = await headers;
    assert.equal(h['x-test'], 'yes');
    assert.equal(h.origin, 'https://app.example');
    ws.close();
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
      socket.write(serverFrame({ opcode: 0x3 })); // reserved opcode 3
      socket.on('data', () => {});
      socket.on('end', () => socket.end());
    });
    after(raw.close);
    const ws = new WebSocket(raw.url);
    const { code } = await closed(ws);
    assert.equal(code, 1002); // the code it failed the connection with, as ws reports it
  });
});

describe('createWebSocketStream', () => {
  it('turns messages into a readable stream and writes into messages', async () => {
    const { wss, url } = await startEchoServer();
    after(() => stopServer(wss));
    const ws = new WebSocket(url);
    const duplex = createWebSocketStream(ws);
    const chunks: Buffer[] = [];
    duplex.on('data', (c: Buffer) => chunks.push(c));
    duplex.write('abc');
    duplex.write('def');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(Buffer.concat(chunks).toString(), 'abcdef');
    duplex.end();
    await once(duplex, 'end');
    assert.equal(ws.readyState, WebSocket.CLOSED);
  });
});
