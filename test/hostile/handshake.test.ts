/**
 * Hostile opening handshakes (RFC 6455 §4.2.1, §4.4): every request that is not a valid
 * handshake gets an HTTP error status, never a 101; the server closes the TCP connection, its
 * application never sees a connection, and a normal client is served right after.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { clientFrame, OP } from '../support/frames.js';
import { acceptFor, closeOutcome, echoOnce, eventually, goodHeaders, Peer, rejection, request, upgradedPeer } from './raw-peer.js';
import { assertStillServing, startTarget, type Target } from './target.js';

const g = goodHeaders();
const without = (name: string): string[] => g.filter((line) => !line.toLowerCase().startsWith(`${name.toLowerCase()}:`));
const replacing = (name: string, ...lines: string[]): string[] => [...without(name), ...lines];

interface RefusalCase {
  name: string;
  bytes: string | Buffer;
  status: number;
  /** A header the answer must carry, "Name: value". */
  header?: string;
}

/** Statuses from src/protocol/errors.ts (HANDSHAKE_ERRORS) and, for unparsable HTTP, Node's parser. */
const REFUSALS: RefusalCase[] = [
  // Host (RFC 6455 §4.1 item 4): exactly one.
  { name: 'no Host', bytes: request(without('Host')), status: 400 },
  { name: 'an empty Host', bytes: request(replacing('Host', 'Host:')), status: 400 },
  { name: 'two Host headers', bytes: request([...g, 'Host: elsewhere.example']), status: 400 },
  // Upgrade / Connection: a request without them is not an upgrade at all, answered 426 (RFC 9110 §15.5.22).
  { name: 'no Upgrade header', bytes: request(without('Upgrade')), status: 426, header: 'Sec-WebSocket-Version: 13' },
  { name: 'Upgrade: h2c', bytes: request(replacing('Upgrade', 'Upgrade: h2c')), status: 400 },
  { name: 'no Connection header', bytes: request(without('Connection')), status: 426, header: 'Sec-WebSocket-Version: 13' },
  { name: 'Connection: keep-alive', bytes: request(replacing('Connection', 'Connection: keep-alive')), status: 426 },
  // Sec-WebSocket-Key (§4.1 item 7): base64 of 16 bytes, exactly once.
  { name: 'no Sec-WebSocket-Key', bytes: request(without('Sec-WebSocket-Key')), status: 400 },
  { name: 'an empty Sec-WebSocket-Key', bytes: request(replacing('Sec-WebSocket-Key', 'Sec-WebSocket-Key:')), status: 400 },
  { name: 'a key of 15 bytes', bytes: request(replacing('Sec-WebSocket-Key', 'Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAA')), status: 400 },
  { name: 'a key of 17 bytes', bytes: request(replacing('Sec-WebSocket-Key', 'Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAAA=')), status: 400 },
  { name: 'a key that is not base64', bytes: request(replacing('Sec-WebSocket-Key', 'Sec-WebSocket-Key: !!!!!!!!!!!!!!!!!!!!!!==')), status: 400 },
  { name: 'two Sec-WebSocket-Key headers', bytes: request([...g, 'Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==']), status: 400 },
  // Sec-WebSocket-Version (§4.4): anything but exactly 13 is answered 426 with the version we speak.
  { name: 'no Sec-WebSocket-Version', bytes: request(without('Sec-WebSocket-Version')), status: 426, header: 'Sec-WebSocket-Version: 13' },
  { name: 'version 8', bytes: request(replacing('Sec-WebSocket-Version', 'Sec-WebSocket-Version: 8')), status: 426, header: 'Sec-WebSocket-Version: 13' },
  { name: 'version 14', bytes: request(replacing('Sec-WebSocket-Version', 'Sec-WebSocket-Version: 14')), status: 426, header: 'Sec-WebSocket-Version: 13' },
  { name: 'version "13, 8"', bytes: request(replacing('Sec-WebSocket-Version', 'Sec-WebSocket-Version: 13, 8')), status: 426, header: 'Sec-WebSocket-Version: 13' },
  { name: 'two version headers', bytes: request([...g, 'Sec-WebSocket-Version: 13']), status: 426, header: 'Sec-WebSocket-Version: 13' },
  // Method and HTTP version (§4.1 item 2): GET, HTTP/1.1 or later.
  { name: 'POST', bytes: request(g, 'POST / HTTP/1.1'), status: 405, header: 'Allow: GET' },
  { name: 'PUT', bytes: request(g, 'PUT / HTTP/1.1'), status: 405, header: 'Allow: GET' },
  { name: 'DELETE', bytes: request(g, 'DELETE / HTTP/1.1'), status: 405, header: 'Allow: GET' },
  { name: 'OPTIONS', bytes: request(g, 'OPTIONS / HTTP/1.1'), status: 405, header: 'Allow: GET' },
  { name: 'a lower-case method', bytes: request(g, 'get / HTTP/1.1'), status: 400 },
  { name: 'HTTP/1.0', bytes: request(g, 'GET / HTTP/1.0'), status: 505 },
  { name: 'the asterisk request target', bytes: request(g, 'GET * HTTP/1.1'), status: 400 },
  { name: 'an authority as the request target', bytes: request(g, 'GET 127.0.0.1:80 HTTP/1.1'), status: 400 },
  // Offers the server cannot parse (§4.1 items 10 and 9; §9.1 grammar).
  { name: 'a subprotocol list with a space inside a token', bytes: request([...g, 'Sec-WebSocket-Protocol: a b']), status: 400 },
  { name: 'an empty subprotocol list', bytes: request([...g, 'Sec-WebSocket-Protocol:']), status: 400 },
  { name: 'a repeated subprotocol', bytes: request([...g, 'Sec-WebSocket-Protocol: chat, chat']), status: 400 },
  { name: 'an extensions header that breaks §9.1', bytes: request([...g, 'Sec-WebSocket-Extensions: permessage-deflate;;']), status: 400 },
  // Oversized heads (maxHeaderSize, 16 KiB by default): 431.
  { name: 'one header of 20 KiB', bytes: request([...g, `X-Big: ${'a'.repeat(20 * 1024)}`]), status: 431 },
  { name: '3000 small headers', bytes: request([...g, ...Array.from({ length: 3000 }, (_, i) => `X-H${i}: v`)]), status: 431 },
  { name: 'a request-target of 20 KiB', bytes: request(g, `GET /${'a'.repeat(20 * 1024)} HTTP/1.1`), status: 431 },
  // Garbage: Node's HTTP parser answers 400 and closes.
  { name: 'a TLS ClientHello', bytes: Buffer.from('160301020001000001fc0303' + '00'.repeat(64), 'hex'), status: 400 },
  { name: 'binary noise', bytes: Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 151 + 7) & 0xff)), status: 400 },
  { name: 'a header line without a colon', bytes: request([...g, 'NoColonHere']), status: 400 },
  { name: 'a header without a name', bytes: request([...g, ': value']), status: 400 },
  { name: 'a space before the colon', bytes: request([...g, 'X-A : b']), status: 400 },
  { name: 'a NUL byte in a header value', bytes: request([...g, 'X-A: a\0b']), status: 400 },
  { name: 'a control byte in a header value', bytes: request([...g, 'X-A: a\x01b']), status: 400 },
  { name: 'an obsolete folded header line', bytes: request([...g, 'X-A: a', ' b']), status: 400 },
  { name: 'bare LF line endings', bytes: request(g).replace(/\r\n/g, '\n'), status: 400 },
];

describe('hostile handshakes', () => {
  let target: Target;
  before(async () => {
    target = await startTarget({ maxHeaderSize: 16 * 1024 });
  });
  after(() => target.stop());

  for (const c of REFUSALS) {
    it(`answers ${c.name} with HTTP ${c.status}, closes the connection and keeps serving`, async () => {
      const accepted = target.accepted.length;
      const outcome = await rejection(target.port, typeof c.bytes === 'string' ? Buffer.from(c.bytes, 'latin1') : c.bytes);
      assert.equal(outcome.status, c.status, `answer: ${JSON.stringify(outcome.head)}`);
      assert.ok(outcome.closed, 'the server did not close the connection');
      if (c.header) {
        const [name, value] = c.header.split(': ') as [string, string];
        assert.equal(outcome.peer.header(name), value, `answer: ${outcome.head}`);
      }
      assert.equal(target.accepted.length, accepted, 'the application saw a connection');
      await assertStillServing(target);
    });
  }

  it('answers a CONNECT request with 405 and Allow: GET, and closes it', async () => {
    const accepted = target.accepted.length;
    const outcome = await rejection(target.port, request(g, 'CONNECT 127.0.0.1:80 HTTP/1.1'));
    assert.ok(outcome.closed);
    assert.equal(outcome.status, 405);
    assert.equal(outcome.peer.header('Allow'), 'GET');
    assert.equal(target.accepted.length, accepted);
    await assertStillServing(target);
  });

  it('closes a connection whose client stops halfway through the request and half-closes', async () => {
    const accepted = target.accepted.length;
    const peer = await Peer.open(target.port);
    peer.socket.end('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: webso');
    assert.ok(await peer.waitClosed(5000), 'the server kept a half-closed, half-sent request');
    assert.notEqual(peer.status(), 101);
    assert.equal(target.accepted.length, accepted);
    await assertStillServing(target);
  });

  it('takes frames sent in the same packet as the handshake as the first frames', async () => {
    const key = 'AAAAAAAAAAAAAAAAAAAAAA==';
    const peer = await Peer.open(target.port);
    peer.write(Buffer.concat([Buffer.from(request(goodHeaders(key))), clientFrame({ opcode: OP.TEXT, payload: 'early bird' })]));
    assert.ok(await peer.until(() => peer.frames().some((f) => f.opcode === OP.TEXT), 5000));
    assert.equal(peer.header('sec-websocket-accept'), acceptFor(key));
    assert.equal(peer.frames().find((f) => f.opcode === OP.TEXT)!.payload.toString(), 'early bird');
    peer.destroy();
    await assertStillServing(target);
  });

  it('fails a connection whose handshake packet carries a bad frame after the head with 1002', async () => {
    const peer = await Peer.open(target.port);
    peer.write(Buffer.concat([Buffer.from(request(goodHeaders())), clientFrame({ opcode: OP.TEXT, payload: 'x', maskingKey: null })]));
    const outcome = await closeOutcome(peer);
    peer.destroy();
    assert.equal(peer.status(), 101);
    assert.equal(outcome.code, 1002);
    assert.ok(outcome.closed);
    await assertStillServing(target);
  });
});

describe('handshakes refused by the server configuration', () => {
  it('answers a path it does not serve with 400', async () => {
    const target = await startTarget({ path: '/ws' });
    after(() => target.stop());
    const outcome = await rejection(target.port, request(g, 'GET /elsewhere HTTP/1.1'));
    assert.equal(outcome.status, 400);
    assert.ok(outcome.closed);
    assert.equal(target.accepted.length, 0);
  });

  it('answers an origin outside the allow-list with 403', async () => {
    const target = await startTarget({ origins: ['https://good.example'] });
    after(() => target.stop());
    const outcome = await rejection(target.port, request([...g, 'Origin: https://evil.example']));
    assert.equal(outcome.status, 403);
    assert.ok(outcome.closed);
    assert.equal(target.accepted.length, 0);
    const welcome = await upgradedPeer(target.port, ['Origin: https://good.example']);
    welcome.destroy();
  });

  it('answers 408 when verifyClient never decides within handshakeTimeoutMs', async () => {
    const target = await startTarget({ handshakeTimeoutMs: 300, verifyClient: (_info, _callback) => undefined });
    after(() => target.stop());
    const outcome = await rejection(target.port, request(g), 10_000);
    assert.equal(outcome.status, 408);
    assert.ok(outcome.closed);
    assert.equal(target.accepted.length, 0);
  });

  it('answers 503 past maxConnections and serves again once a connection closed', async () => {
    const target = await startTarget({ maxConnections: 3 });
    after(() => target.stop());
    const peers = [await upgradedPeer(target.port), await upgradedPeer(target.port), await upgradedPeer(target.port)];
    const outcome = await rejection(target.port, request(g));
    assert.equal(outcome.status, 503);
    assert.ok(outcome.closed);
    assert.equal(target.wss.clients.size, 3);
    peers.pop()!.destroy();
    assert.ok(await eventually(() => target.wss.clients.size === 2));
    assert.equal(await echoOnce(target.port, 'a free place'), 'a free place');
    for (const p of peers) p.destroy();
    await assertStillServing(target);
  });
});
