import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket, { SERVER_DEFAULTS } from '../../../src/index.js';
import { CLIENT_DEFAULTS, resolveConnectionSettings } from '../../../src/node/options.js';
import { Connection, Opcode, acceptValue } from '../../../src/protocol/index.js';
import { serverFrame, utf8 } from '../../support/frames.js';
import { startRawUpgradeServer } from '../../support/servers.js';

describe('options: one resolver for server and client', () => {
  it('gives client and server the same defaults, except the close wait and the send limit', () => {
    const server = resolveConnectionSettings('server', {});
    const client = resolveConnectionSettings('client', {});
    const { side: _s, closeTimeoutMs: serverClose, maxBackpressure: serverLimit, ...serverRest } = server;
    const { side: _c, closeTimeoutMs: clientClose, maxBackpressure: clientLimit, ...clientRest } = client;
    assert.deepEqual(clientRest, serverRest);
    assert.deepEqual(serverRest, {
      maxPayload: 16 * 1024 * 1024,
      maxFragments: 131072,
      maxPendingPongs: 16,
      skipUTF8Validation: false,
      autoPong: true,
      allowSynchronousEvents: true,
      backpressurePolicy: 'close',
    });
    assert.deepEqual([serverClose, serverLimit], [5_000, 16 * 1024 * 1024]);
    assert.deepEqual([clientClose, clientLimit], [30_000, 0]);
    assert.equal(CLIENT_DEFAULTS.maxRedirects, 10);
  });

  it('keeps the published server defaults', () => {
    assert.deepEqual(SERVER_DEFAULTS, {
      maxPayload: 16 * 1024 * 1024,
      maxFragments: 131072,
      maxPendingPongs: 16,
      handshakeTimeoutMs: 10_000,
      maxHeaderSize: 16 * 1024,
      pingIntervalMs: 30_000,
      closeTimeoutMs: 5_000,
      maxConnections: 0,
      maxBackpressure: 16 * 1024 * 1024,
      maxStreamsPerSession: 1000,
    });
  });

  it('takes every given value on both sides, 0 (no limit) included', () => {
    const given = {
      maxPayload: 0,
      maxFragments: 0,
      maxPendingPongs: 2,
      skipUTF8Validation: true,
      autoPong: false,
      allowSynchronousEvents: false,
      closeTimeoutMs: 10,
      maxBackpressure: 0,
      backpressurePolicy: 'latest' as const,
    };
    for (const side of ['server', 'client'] as const) assert.deepEqual(resolveConnectionSettings(side, given), { side, ...given });
  });

  it('gives the client maxPendingPongs: past it only the newest ping is answered, once, in the next write', async () => {
    /** A server that sends ten pings in one chunk right after the 101 and reports the pongs it gets back. */
    const pongsFrom = async (options: { maxPendingPongs?: number }): Promise<string[]> => {
      const pongs: string[] = [];
      const reader = new Connection({ side: 'server' });
      let done!: () => void;
      const finished = new Promise<void>((resolve) => (done = resolve));
      const server = await startRawUpgradeServer((req, socket) => {
        const accept = acceptValue(String(req.headers['sec-websocket-key']));
        const pings = Array.from({ length: 10 }, (_, i) => serverFrame({ opcode: Opcode.PING, payload: utf8(`p${i}`) }));
        socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
        socket.write(Buffer.concat(pings));
        socket.on('data', (chunk: Buffer) => {
          reader.receiveData(new Uint8Array(chunk));
          for (const event of reader.takeEvents()) {
            if (event.type === 'pong') pongs.push(Buffer.from(event.data).toString());
            if (event.type === 'close') done();
          }
        });
      });
      after(() => server.close());
      const client = new WebSocket(server.url, { ...options, perMessageDeflate: false });
      client.on('ping', (data) => {
        if (data.toString() === 'p9') setTimeout(() => client.close(), 50);
      });
      await finished;
      return pongs;
    };
    assert.deepEqual(await pongsFrom({ maxPendingPongs: 2 }), ['p0', 'p1', 'p9']);
    assert.equal((await pongsFrom({})).length, 10);
  });
});
