/**
 * The admin handler over HTTP: 401 without the token (a login page for the page, JSON for the
 * API), the token by header or by the login form's cookie, and a documented answer for each
 * bad request; publishing to a channel or topic and disconnecting a connection.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from '../../src/index.js';
import { MetricsCollector, createAdminHandler } from '../../src/metrics/index.js';
import { RealtimeServer, mountRealtime } from '../../src/realtime.js';
import { closed, nextMessage, openClient, until } from '../support/clients.js';

const TOKEN = 'correct-horse-battery';

describe('createAdminHandler', () => {
  let collector: MetricsCollector;
  let server: http.Server;
  let base: string;
  let wsBase: string;
  let realtime: RealtimeServer;
  let plain: WebSocketServer;

  before(async () => {
    collector = new MetricsCollector();
    realtime = new RealtimeServer();
    const rtWss = mountRealtime(realtime, { noServer: true });
    plain = new WebSocketServer({ noServer: true });
    plain.on('connection', (ws: WebSocket) => ws.subscribe('news'));
    const admin = createAdminHandler({ token: TOKEN, collector, realtime, wss: plain });
    server = http.createServer((req, res) => {
      if (!admin(req, res)) res.writeHead(404).end('app 404');
    });
    server.on('upgrade', (req, socket, head) => {
      const target = req.url === '/rt' ? rtWss : plain;
      target.handleUpgrade(req, socket, head, (ws) => target.emit('connection', ws, req));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}/admin`;
    wsBase = `ws://127.0.0.1:${port}`;
  });
  after(async () => {
    await realtime.close();
    plain.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    collector.close();
  });

  const api = (path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${base}/api/${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const errorOf = async (response: Response): Promise<[number, string]> => [response.status, ((await response.json()) as { error: { code: string } }).error.code];

  it('answers 401 without the token: the login form for the page, a JSON error for the API', async () => {
    const page = await fetch(`${base}/`);
    assert.equal(page.status, 401);
    assert.match(await page.text(), /<form class="login" method="post" action="\/admin\/login">/);
    assert.deepEqual(await errorOf(await fetch(`${base}/api/stats`)), [401, 'UNAUTHORIZED']);
    assert.deepEqual(await errorOf(await fetch(`${base}/api/stats`, { headers: { authorization: 'Bearer wrong-token-here' } })), [401, 'UNAUTHORIZED']);
    assert.deepEqual(await errorOf(await api('publish', { channel: 'x', data: 1 }, { authorization: '' })), [401, 'UNAUTHORIZED']);
    assert.deepEqual(await errorOf(await fetch(`${base}/api/stats`, { headers: { cookie: 'fdx_admin=00' } })), [401, 'UNAUTHORIZED']);
  });

  it('logs in with the form: a wrong token gets 401, the right one a cookie that opens the page', async () => {
    const wrong = await fetch(`${base}/login`, { method: 'POST', body: new URLSearchParams({ token: 'nope' }), redirect: 'manual' });
    assert.equal(wrong.status, 401);
    assert.match(await wrong.text(), /Wrong token\./);
    const right = await fetch(`${base}/login`, { method: 'POST', body: new URLSearchParams({ token: TOKEN }), redirect: 'manual' });
    assert.equal(right.status, 303);
    const cookie = right.headers.get('set-cookie')!;
    assert.match(cookie, /^fdx_admin=[0-9a-f]{64}; Path=\/admin\/; HttpOnly; SameSite=Strict$/);
    assert.ok(!cookie.includes(TOKEN), 'the cookie does not hold the token');
    const page = await fetch(`${base}/`, { headers: { cookie: cookie.split(';')[0]! } });
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    assert.match(await page.text(), /<title>fullduplex admin<\/title>/);
    const stats = await fetch(`${base}/api/stats`, { headers: { cookie: cookie.split(';')[0]! } });
    assert.equal(stats.status, 200);
  });

  it('gives the stats with the connections of both kinds', async () => {
    const a = await openClient(`${wsBase}/plain`);
    const r = await openClient(`${wsBase}/rt`, 'fdx.v1');
    r.send(JSON.stringify({ type: 'connect', id: 1 }));
    await nextMessage(r);
    const stats = (await (await fetch(`${base}/api/stats`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { connections: number; realtimeConnections: number; list: Array<{ id: string; kind: string }> };
    assert.equal(stats.realtimeConnections, 1);
    assert.ok(stats.connections >= 1);
    assert.deepEqual(stats.list.map((c) => c.kind).sort(), ['plain', 'realtime']);
    a.close();
    r.close();
    await Promise.all([closed(a), closed(r)]);
  });

  it('publishes to a real-time channel and to a plain topic', async () => {
    const r = await openClient(`${wsBase}/rt`, 'fdx.v1');
    const messages: any[] = [];
    r.on('message', (data) => messages.push(JSON.parse(String(data))));
    r.send(JSON.stringify({ type: 'connect', id: 1 }));
    r.send(JSON.stringify({ type: 'subscribe', id: 2, channel: 'alerts' }));
    await until(() => messages.some((m) => m.id === 2), 'subscribed');
    const published = await api('publish', { channel: 'alerts', data: { level: 'high' } });
    assert.equal(published.status, 200);
    assert.equal(((await published.json()) as { target: string }).target, 'realtime');
    await until(() => messages.some((m) => m.type === 'pub'), 'the publication');
    assert.deepEqual(messages.find((m) => m.type === 'pub').data, { level: 'high' });

    const p = await openClient(`${wsBase}/plain`);
    await until(() => plain.subscriberCount('news') === 1, 'topic subscriber');
    const got = nextMessage(p);
    assert.equal((await api('publish', { channel: 'news', data: 'extra', target: 'topic' })).status, 200);
    assert.equal(String((await got).data), 'extra');
    r.close();
    p.close();
    await Promise.all([closed(r), closed(p)]);
  });

  it('disconnects a real-time connection with 4502 and a plain one with 1008', async () => {
    const r = await openClient(`${wsBase}/rt`, 'fdx.v1');
    r.send(JSON.stringify({ type: 'connect', id: 1 }));
    await nextMessage(r);
    const id = [...realtime.connections.keys()][0]!;
    const rClosed = closed(r);
    assert.equal((await api('disconnect', { id })).status, 200);
    assert.equal((await rClosed).code, 4502);

    const p = await openClient(`${wsBase}/plain`);
    const stats = (await (await fetch(`${base}/api/stats`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { list: Array<{ id: string; kind: string }> };
    const plainId = stats.list.find((c) => c.kind === 'plain')!.id;
    const pClosed = closed(p);
    assert.equal((await api('disconnect', { id: plainId })).status, 200);
    assert.equal((await pClosed).code, 1008);
    await until(() => plain.clients.size === 0, 'the server side closed');
    assert.deepEqual(await errorOf(await api('disconnect', { id: plainId })), [404, 'NOT_FOUND']);
  });

  it('answers each bad request with its documented status and code', async () => {
    assert.deepEqual(await errorOf(await api('publish', 'not json')), [400, 'BAD_REQUEST']);
    assert.deepEqual(await errorOf(await api('publish', '[1]')), [400, 'BAD_REQUEST']);
    assert.deepEqual(await errorOf(await api('publish', { data: 1 })), [400, 'BAD_REQUEST']);
    assert.deepEqual(await errorOf(await api('publish', { channel: 'x' })), [400, 'BAD_REQUEST']);
    assert.deepEqual(await errorOf(await api('publish', { channel: 'bad channel!', data: 1 })), [400, 'BAD_REQUEST']);
    assert.deepEqual(await errorOf(await api('publish', { channel: 'x', data: 1, target: 'elsewhere' })), [400, 'BAD_REQUEST']);
    assert.deepEqual(await errorOf(await api('disconnect', { id: 42 })), [400, 'BAD_REQUEST']);
    assert.deepEqual(await errorOf(await api('publish', { channel: 'x', data: 1 }, { 'content-type': 'text/plain' })), [415, 'UNSUPPORTED_MEDIA_TYPE']);
    assert.deepEqual(await errorOf(await api('publish', { channel: 'x', data: 'y'.repeat(70_000) })), [413, 'PAYLOAD_TOO_LARGE']);
    assert.deepEqual(await errorOf(await fetch(`${base}/api/publish`, { headers: { authorization: `Bearer ${TOKEN}` } })), [405, 'METHOD_NOT_ALLOWED']);
    assert.deepEqual(await errorOf(await fetch(`${base}/api/nothing`, { headers: { authorization: `Bearer ${TOKEN}` } })), [404, 'NOT_FOUND']);
    assert.deepEqual(await errorOf(await fetch(`${base}/login`)), [405, 'METHOD_NOT_ALLOWED']);
    const other = await fetch(base.replace('/admin', '/elsewhere'));
    assert.equal(await other.text(), 'app 404', 'other paths are left to the app');
  });

  it('answers 409 NO_TARGET when nothing takes the publication, and refuses weak options', async () => {
    const lone = createAdminHandler({ token: TOKEN, collector, basePath: '/ops' });
    const s = http.createServer((req, res) => void lone(req, res));
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(s.address() as AddressInfo).port}/ops/api/publish`;
    const response = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: '{"channel":"x","data":1}' });
    assert.deepEqual(await errorOf(response), [409, 'NO_TARGET']);
    await new Promise((resolve) => s.close(resolve));
    assert.throws(() => createAdminHandler({ token: 'short', collector }), TypeError);
    assert.throws(() => createAdminHandler({ token: TOKEN, collector, basePath: '/a"b' }), TypeError);
  });
});
