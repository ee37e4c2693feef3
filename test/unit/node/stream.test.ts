import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import WebSocket, { createWebSocketStream } from '../../../src/index.js';
import { startEchoServer, stopServer } from '../../support/servers.js';

describe('createWebSocketStream', () => {
  it('turns messages into a readable stream and writes into messages', async () => {
    const { wss, url } = await startEchoServer();
    after(() => stopServer(wss));
    const ws = new WebSocket(url);
    const duplex = createWebSocketStream(ws);
    const chunks: Buffer[] = [];
    const sixBytes = new Promise<void>((resolve) => {
      duplex.on('data', (c: Buffer) => {
        chunks.push(c);
        if (Buffer.concat(chunks).length >= 6) resolve();
      });
    });
    duplex.write('abc');
    duplex.write('def');
    await sixBytes;
    assert.equal(Buffer.concat(chunks).toString(), 'abcdef');
    duplex.end();
    await once(duplex, 'end');
    assert.equal(ws.readyState, WebSocket.CLOSED);
  });
});
