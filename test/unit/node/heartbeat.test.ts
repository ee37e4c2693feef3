import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from '../../../src/index.js';
import { rawHandshake, startServer, stopServer } from '../../support/servers.js';
import { closed, openClient } from '../../support/clients.js';

describe('heartbeat', () => {
  it('terminates a client that stops answering heartbeats', async () => {
    const { wss, port } = await startServer({ pingIntervalMs: 50 });
    after(() => stopServer(wss));
    // A raw client that completes the handshake and then never reads or answers.
    const { socket } = await rawHandshake(port);
    await new Promise((r) => setImmediate(r));
    const serverSide = [...wss.clients][0]!;
    const { code } = await closed(serverSide);
    assert.equal(code, 1006);
    socket.destroy();
  });

  it('keeps a client that answers heartbeats', async () => {
    const { wss, url } = await startServer({ pingIntervalMs: 40 });
    after(() => stopServer(wss));
    const ws = await openClient(url);
    let pings = 0;
    ws.on('ping', () => pings++);
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(pings >= 2, `expected pings, saw ${pings}`);
    assert.equal(ws.readyState, WebSocket.OPEN);
    ws.close();
  });
});
