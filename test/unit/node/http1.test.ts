import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { Duplex } from 'node:stream';
import WebSocket, { HandshakeError } from '../../../src/index.js';
import { GOOD_HEAD, rawHandshake, rawRequest, readUntilClose, startEchoServer, startServer, stopServer } from '../../support/servers.js';
import { Opcode } from '../../../src/protocol/index.js';
import { writeSwitchingFor } from '../../../src/node/upgrade/http1.js';
import { clientFrame, closePayload, utf8 } from '../../support/frames.js';

describe('the HTTP/1.1 upgrade', () => {
  it('answers a plain HTTP request on its own server with 426 and Sec-WebSocket-Version: 13', async () => {
    const { wss, port } = await startServer();
    after(() => stopServer(wss));
    const answer = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(answer, /^HTTP\/1\.1 426 /);
    assert.match(answer, /Sec-WebSocket-Version: 13/i);
  });

  it('accepts a valid upgrade and answers with the RFC 6455 accept value', async () => {
    const { wss, port } = await startServer();
    after(() => stopServer(wss));
    const { socket, head } = await rawHandshake(port);
    assert.match(head, /^HTTP\/1\.1 101 Switching Protocols/);
    assert.match(head, /Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/);
    socket.destroy();
  });

  for (const [name, request, status] of [
    ['a POST', `POST / HTTP/1.1\r\n${GOOD_HEAD}\r\n`, 405],
    ['a wrong version', `GET / HTTP/1.1\r\n${GOOD_HEAD.replace('Version: 13', 'Version: 8')}\r\n`, 426],
    ['a missing key', `GET / HTTP/1.1\r\n${GOOD_HEAD.replace(/Sec-WebSocket-Key: .*\r\n/, '')}\r\n`, 400],
    ['a short key', `GET / HTTP/1.1\r\n${GOOD_HEAD.replace('dGhlIHNhbXBsZSBub25jZQ==', 'c2hvcnQ=')}\r\n`, 400],
    ['two keys', `GET / HTTP/1.1\r\n${GOOD_HEAD}Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n\r\n`, 400],
    ['no Upgrade token', `GET / HTTP/1.1\r\n${GOOD_HEAD.replace('Upgrade: websocket', 'Upgrade: h2c')}\r\n`, 400],
  ] as const) {
    it(`refuses ${name} with HTTP ${status} and closes the connection`, async () => {
      const { wss, port } = await startServer();
      after(() => stopServer(wss));
      let connected = false;
      wss.on('connection', () => (connected = true));
      const answer = await rawRequest(port, request);
      assert.match(answer, new RegExp(`^HTTP/1\\.1 ${status} `));
      if (status === 426) assert.match(answer, /Sec-WebSocket-Version: 13/);
      assert.equal(connected, false);
    });
  }

  it('emits wsClientError instead of answering when a listener is attached', async () => {
    const { wss, port } = await startServer();
    after(() => stopServer(wss));
    const seen = new Promise<HandshakeError>((resolve) =>
      wss.on('wsClientError', (error, socket) => {
        socket.end('HTTP/1.1 418 I am a teapot\r\nConnection: close\r\n\r\n');
        resolve(error);
      }),
    );
    const answer = await rawRequest(port, `GET / HTTP/1.1\r\n${GOOD_HEAD.replace('Version: 13', 'Version: 7')}\r\n`);
    const error = await seen;
    assert.equal(error.code, 'WS_ERR_HANDSHAKE_VERSION');
    assert.equal(error.status, 426);
    assert.match(answer, /^HTTP\/1\.1 418/);
  });

  it('lets the headers event add response headers', async () => {
    const { wss, url } = await startServer();
    after(() => stopServer(wss));
    wss.on('headers', (headers) => headers.push('X-Served-By: fullduplex'));
    const ws = new WebSocket(url);
    const [response] = await once(ws, 'upgrade');
    assert.equal((response as http.IncomingMessage).headers['x-served-by'], 'fullduplex');
    ws.close();
  });

  it('drops a client that sends request headers too slowly (own server)', async () => {
    const { wss, port } = await startServer({ handshakeTimeoutMs: 300 });
    after(() => stopServer(wss));
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const { closed: wasClosed } = await readUntilClose(socket, undefined, 5000);
    assert.equal(wasClosed, true);
  });

  it('delivers a message that arrives in the same packet as the handshake', async () => {
    const { wss, port } = await startEchoServer();
    after(() => stopServer(wss));
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write(
      Buffer.concat([
        Buffer.from(`GET / HTTP/1.1\r\n${GOOD_HEAD}\r\n`),
        clientFrame({ opcode: Opcode.TEXT, payload: utf8('early') }),
        clientFrame({ opcode: Opcode.CLOSE, payload: closePayload(1000) }),
      ]),
    );
    const { bytes } = await readUntilClose(socket);
    const text = bytes.toString('latin1');
    assert.match(text, /101 Switching Protocols/);
    assert.ok(bytes.includes(Buffer.from([0x81, 0x05, ...Buffer.from('early')])), 'echo of the early message');
  });

  const ANSWER =
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n';

  it("writes the 101 answer on a TCP socket as its first bytes, counted in the socket's bytesWritten", async () => {
    const { wss, port } = await startServer();
    after(() => stopServer(wss));
    const written = new Promise<number>((resolve) => wss.once('connection', (ws) => resolve((ws.socket as net.Socket).bytesWritten)));
    const { socket, head, rest } = await rawHandshake(port, 'Sec-WebSocket-Protocol: chat\r\n');
    assert.equal(head + '\r\n\r\n', ANSWER);
    assert.equal(rest.length, 0);
    assert.equal(await written, ANSWER.length);
    socket.destroy();
  });

  it('writes the same 101 answer through the stream of a socket that takes no direct writes', () => {
    const chunks: Buffer[] = [];
    const duplex = new Duplex({ read() {}, write: (chunk, _encoding, cb) => (chunks.push(chunk), cb()) });
    duplex.on('error', () => {});
    writeSwitchingFor(duplex, 'dGhlIHNhbXBsZSBub25jZQ==', 'chat', undefined);
    assert.equal(Buffer.concat(chunks).toString('latin1'), ANSWER);
    assert.equal(duplex.listenerCount('error'), 1, 'the handshake error listener is gone, the one added here stays');
  });
});
