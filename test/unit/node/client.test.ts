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
import WebSocket, { WebSocketServer } from '../../../src/index.js';
import { acceptValue } from '../../../src/protocol/index.js';
import { startEchoServer, startRawUpgradeServer, startServer, stopServer } from '../../support/servers.js';
import { closed, nextMessage, opened } from '../../support/clients.js';

const fixtures = path.join(import.meta.dirname, '..', '..', 'fixtures');

describe('WebSocket client: the opening handshake', () => {
  it('rejects URLs that are not ws, wss, http, https or ws+unix, and fragments', () => {
    assert.throws(() => new WebSocket('ftp://example.com'), SyntaxError);
    assert.throws(() => new WebSocket('not a url'), SyntaxError);
    assert.throws(() => new WebSocket('ws://example.com/#frag'), SyntaxError);
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
});
