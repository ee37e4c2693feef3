/**
 * The load generator's opening handshake (src/loadgen/client.ts, frames.ts): the response head
 * checked on its bytes must get the same verdict as the text check, and a connection must open
 * on a valid 101 (with bytes after it counted), and fail, reported once with its kind, on a
 * wrong one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { ACCEPT, checkUpgradeHead, checkUpgradeResponse, upgradeRequest } from '../../../src/loadgen/frames.js';
import { Client, LoadErrorKind, OpenError } from '../../../src/loadgen/client.js';

const ok = (extra = ''): string => `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${ACCEPT}\r\n${extra}\r\n`;

const HEADS = [
  ok(),
  ok('Sec-WebSocket-Extensions: permessage-deflate\r\n'),
  ok('SEC-WEBSOCKET-EXTENSIONS: permessage-deflate; client_max_window_bits=15\r\n'),
  ok('sEc-WeBsOcKeT-eXtEnSiOnS:permessage-deflate\r\n'),
  ok('Sec-WebSocket-Extensions: x-other\r\n'),
  ok('Sec-WebSocket-Protocol: fdx.v1\r\n'),
  ok('X-Note: sec-websocket-extensions: permessage-deflate\r\n'),
  'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n',
  'HTTP/1.0 101 Switching Protocols\r\n\r\n',
  'http/1.1 101 Switching Protocols\r\n\r\n',
  `HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: ${ACCEPT.slice(1)}x\r\n\r\n`,
  'HTTP/1.1 101 Switching Protocols\r\n\r\n',
];
const OFFERS = [
  { deflate: false, subprotocol: null },
  { deflate: true, subprotocol: null },
  { deflate: false, subprotocol: 'fdx.v1' },
];

test('the byte check of a response head agrees with the text check', () => {
  let accepted = 0;
  for (const text of HEADS) {
    for (const offer of OFFERS) {
      // Frame bytes after the head (which here hold the accept value) must not be read as head.
      for (const after of ['', `\x81\x2c${ACCEPT}`]) {
        const head = Buffer.from(text + after, 'latin1');
        const expected = checkUpgradeResponse(text, offer);
        assert.equal(checkUpgradeHead(head, text.length - 4, offer), expected, `${JSON.stringify(text)} ${JSON.stringify(offer)}`);
        if (expected === null) accepted += 1;
      }
    }
  }
  // Valid, each with and without bytes after it: unoffered, the plain 101, the unknown extension,
  // the header that only mentions one and the subprotocol answer; offered, the three deflate
  // answers and the subprotocol answer.
  assert.equal(accepted, 16);
});

/** A server that answers every request head with `answer`, then sends `after`. */
async function server(answer: string, after = Buffer.alloc(0)): Promise<{ port: number; requests: string[]; close(): void }> {
  const requests: string[] = [];
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    let head = '';
    socket.on('data', (chunk) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      requests.push(head);
      // In two writes: the generator must join a head split across reads.
      socket.write(answer.slice(0, 10));
      setTimeout(() => socket.write(Buffer.concat([Buffer.from(answer.slice(10), 'latin1'), after])), 20);
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return {
    port: (srv.address() as net.AddressInfo).port,
    requests,
    close: () => {
      for (const s of sockets) s.destroy();
      srv.close();
    },
  };
}

function options(port: number, errors: string[]) {
  return {
    host: '127.0.0.1',
    port,
    request: upgradeRequest(`127.0.0.1:${port}`),
    deflate: false,
    subprotocol: null,
    match: null,
    timeoutMs: 5000,
    onError: (kind: string, detail: string) => errors.push(`${kind}: ${detail}`),
  };
}

test('a connection opens on a valid 101 and counts the message that came with it', async () => {
  const srv = await server(ok(), Buffer.from([0x81, 0x02, 0x68, 0x69]));
  const errors: string[] = [];
  try {
    const client = await Client.open(options(srv.port, errors));
    assert.equal(srv.requests[0], upgradeRequest(`127.0.0.1:${srv.port}`).toString('latin1'));
    assert.ok(client.handshakeMs >= 0 && client.handshakeMs < 60_000);
    const counted = await new Promise<number>((resolve) => {
      client.onMessages = resolve;
      // The message may have arrived with the head already.
      setTimeout(() => resolve(client.counter.payloadBytes === 2 ? 1 : 0), 500);
    });
    assert.equal(counted, 1);
    client.drop();
    assert.deepEqual(errors, []);
  } finally {
    srv.close();
  }
});

test('a wrong 101 rejects with its kind, reported once', async () => {
  const srv = await server('HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: nope\r\n\r\n');
  const errors: string[] = [];
  try {
    const failure = await Client.open(options(srv.port, errors)).then(
      () => null,
      (error: unknown) => error,
    );
    assert.ok(failure instanceof OpenError);
    assert.equal(failure.kind, LoadErrorKind.HANDSHAKE);
    assert.deepEqual(errors, ['handshake: Sec-WebSocket-Accept does not match the key']);
  } finally {
    srv.close();
  }
});

test('a refused connection rejects as a connect error, reported once', async () => {
  const srv = await server(ok());
  srv.close();
  const errors: string[] = [];
  const failure = await Client.open(options(srv.port, errors)).then(
    () => null,
    (error: unknown) => error,
  );
  assert.ok(failure instanceof OpenError);
  assert.equal(failure.kind, LoadErrorKind.CONNECT);
  assert.equal(errors.length, 1);
  assert.match(errors[0]!, /^connect: ECONNREFUSED/);
});
