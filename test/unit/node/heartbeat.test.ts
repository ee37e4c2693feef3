import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from '../../../src/index.js';
import { rawHandshake, startServer, stopServer } from '../../support/servers.js';
import { closed, openClient, serverSides } from '../../support/clients.js';

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
    const { wss, url } = await startServer({ pingIntervalMs: 100 });
    after(() => stopServer(wss));
    const ws = await openClient(url);
    let closedEarly = false;
    ws.on('close', () => (closedEarly = true));
    // Three heartbeats answered: the connection outlived two liveness checks.
    await new Promise<void>((resolve) => {
      let pings = 0;
      ws.on('ping', () => {
        if (++pings === 3) resolve();
      });
      ws.on('close', () => resolve());
    });
    assert.equal(closedEarly, false, 'the server ended a connection that answered every ping');
    assert.equal(ws.readyState, WebSocket.OPEN);
    ws.close();
  });

  it('pings an idle server connection by writing one empty ping frame to its socket at once', async () => {
    const { wss, url } = await startServer({ pingIntervalMs: 50 });
    after(() => stopServer(wss));
    const ws = await openClient(url);
    const [serverSide] = await serverSides(wss, 1);
    const socket = serverSide!._socket!;
    const writes: string[] = [];
    const write = socket.write;
    socket.write = function (this: typeof socket, chunk: unknown, ...rest: unknown[]) {
      if (Buffer.isBuffer(chunk)) writes.push(chunk.toString('hex'));
      return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
    } as typeof socket.write;
    await new Promise((resolve) => ws.once('ping', resolve));
    // No output queue is made for the heartbeat: the frame (0x89, length 0) goes straight to the socket.
    assert.deepEqual(writes, ['8900']);
    ws.close();
  });
});
