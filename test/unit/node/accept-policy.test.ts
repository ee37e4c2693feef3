import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import WebSocket from '../../../src/index.js';
import { GOOD_HEAD, rawRequest, startServer, stopServer } from '../../support/servers.js';
import { openClient } from '../../support/clients.js';

describe('accept policy', () => {
  it('runs a synchronous verifyClient and answers 401 when it says no', async () => {
    const { wss, url } = await startServer({ verifyClient: (info) => info.req.headers['x-token'] === 'yes' });
    after(() => stopServer(wss));
    const ok = await openClient(url, [], { headers: { 'x-token': 'yes' } });
    ok.close();
    const refused = new WebSocket(url, { headers: { 'x-token': 'no' } });
    const [error] = await once(refused, 'error');
    assert.match((error as Error).message, /401/);
  });

  it('runs an asynchronous verifyClient with a custom status and headers', async () => {
    const { wss, port } = await startServer({
      verifyClient: (_info, done) => setTimeout(() => done(false, 429, 'slow down', { 'Retry-After': '5' }), 5),
    });
    after(() => stopServer(wss));
    const answer = await rawRequest(port, `GET / HTTP/1.1\r\n${GOOD_HEAD}\r\n`);
    assert.match(answer, /^HTTP\/1\.1 429 /);
    assert.match(answer, /Retry-After: 5/);
    assert.match(answer, /slow down$/);
  });

  it('picks a subprotocol with handleProtocols, or the first offered by default', async () => {
    const picky = await startServer({ handleProtocols: (set) => (set.has('b') ? 'b' : false) });
    const plain = await startServer();
    after(() => Promise.all([stopServer(picky.wss), stopServer(plain.wss)]));
    const a = await openClient(picky.url, ['a', 'b']);
    assert.equal(a.protocol, 'b');
    const b = await openClient(plain.url, ['x', 'y']);
    assert.equal(b.protocol, 'x');
    const c = await openClient(picky.url, ['z']);
    assert.equal(c.protocol, '');
    a.close();
    b.close();
    c.close();
  });

  it('refuses origins outside the allow-list with 403 and lets others in', async () => {
    const { wss, url } = await startServer({ origins: ['https://good.example'] });
    after(() => stopServer(wss));
    const ok = await openClient(url, [], { origin: 'https://good.example' });
    ok.close();
    const bad = new WebSocket(url, { origin: 'https://evil.example' });
    const [error] = await once(bad, 'error');
    assert.match((error as Error).message, /403/);
  });

  it('answers 503 past maxConnections', async () => {
    const { wss, url } = await startServer({ maxConnections: 1 });
    after(() => stopServer(wss));
    const first = await openClient(url);
    const second = new WebSocket(url);
    const [error] = await once(second, 'error');
    assert.match((error as Error).message, /503/);
    first.close();
  });

  it('times out a handshake that a slow verifyClient never finishes', async () => {
    const { wss, port } = await startServer({ handshakeTimeoutMs: 200, verifyClient: (_i, _done) => {} });
    after(() => stopServer(wss));
    const answer = await rawRequest(port, `GET / HTTP/1.1\r\n${GOOD_HEAD}\r\n`);
    assert.match(answer, /^HTTP\/1\.1 408 /);
  });
});
