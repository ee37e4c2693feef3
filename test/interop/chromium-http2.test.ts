/**
 * Chromium opens a WebSocket over HTTP/2 (RFC 8441) to our TLS server: the page comes from the
 * same server over HTTP/2, and Chromium, seeing SETTINGS_ENABLE_CONNECT_PROTOCOL on that
 * connection, sends its WebSocket as an extended CONNECT on it. The server proves it: the
 * 'connection' request is HTTP/2 and arrived on the very session that served the page. The
 * self-signed fixture certificate is trusted with --ignore-certificate-errors.
 */
import assert from 'node:assert/strict';
import type http2 from 'node:http2';
import { after, before, describe, it } from 'node:test';
import type { WebSocket } from '../../src/index.js';
import { launchChromium, type Browser } from '../support/chromium.js';
import { startHttp2Server, type RunningHttp2 } from '../support/http2-peers.js';

const PAGE = `<!doctype html><meta charset="utf-8"><title>h2</title><script>
window.result = new Promise((resolve) => {
  const ws = new WebSocket('wss://' + location.host + '/ws', ['chat']);
  const got = [];
  ws.onopen = () => ws.send('hello from the page');
  ws.onmessage = (e) => { got.push(e.data); if (got.length === 2) ws.close(1000, 'done'); };
  ws.onclose = (e) => resolve({ got, code: e.code, protocol: ws.protocol, extensions: ws.extensions });
  ws.onerror = () => got.push('error');
});
</script>`;

let browser: Browser;
let h2: RunningHttp2;
/** The session each page request and each WebSocket arrived on. */
const pageSessions: http2.Http2Session[] = [];
const socketSessions: http2.Http2Session[] = [];
const versions: string[] = [];

before(async () => {
  h2 = await startHttp2Server({ path: '/ws', perMessageDeflate: true }, { secure: true, allowHTTP1: true });
  h2.server.on('request', (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
    if (req.stream) pageSessions.push(req.stream.session!);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(req.url === '/' ? PAGE : '');
  });
  h2.wss.on('connection', (ws: WebSocket, req) => {
    versions.push(req.httpVersion);
    const stream = (req as unknown as http2.Http2ServerRequest).stream;
    if (stream) socketSessions.push(stream.session!);
    ws.on('message', (data) => {
      ws.send(`echo: ${data}`);
      ws.send(`over HTTP/${req.httpVersion}`);
    });
  });
  browser = await launchChromium(['--ignore-certificate-errors']);
});

after(async () => {
  await browser?.close();
  await h2?.close();
});

describe('Chromium over HTTP/2', () => {
  it('opens its WebSocket as an extended CONNECT on the session that served the page', async () => {
    const page = await browser.context.newPage();
    const response = await page.goto(`https://localhost:${h2.port}/`);
    assert.equal(response?.status(), 200);
    const result = (await page.evaluate('window.result')) as { got: string[]; code: number; protocol: string; extensions: string };
    assert.deepEqual(result.got, ['echo: hello from the page', 'over HTTP/2.0']);
    assert.equal(result.code, 1000);
    assert.equal(result.protocol, 'chat');
    assert.match(result.extensions, /permessage-deflate/);
    assert.deepEqual(versions, ['2.0']);
    assert.equal(socketSessions.length, 1);
    assert.ok(pageSessions.includes(socketSessions[0]!), "the WebSocket went over the page's own HTTP/2 connection");
    await page.close();
  });
});
