/**
 * createWebSocketStream, differentially: data both ways, encodings and object mode, and how the
 * Duplex ends in every case (both ends finish, the peer closes, an error, destroy()), with the
 * stream's and the socket's events in order.
 */
import { describe } from 'node:test';
import { serverFrame } from '../support/frames.js';
import { Recorder, delay, once, rawServer, scenario, show, until, type Scope } from './harness.js';

const STREAM_EVENTS = ['data', 'end', 'finish', 'close', 'error'] as const;

async function streamPair(scope: Scope, options: Record<string, unknown> = {}) {
  const { client, server } = await scope.pair();
  const duplex = scope.impl.createWebSocketStream(client, options);
  const rec = new Recorder().watch(duplex, 'stream', STREAM_EVENTS).watch(client, 'client', ['close', 'error']);
  return { client, server, duplex, rec };
}

describe('createWebSocketStream', () => {
  scenario('writes become messages and messages become data', async (scope) => {
    const { server, duplex, rec } = await streamPair(scope);
    const got = new Recorder().watch(server, 'server', ['message']);
    duplex.write('text chunk');
    duplex.write(Buffer.from([1, 2]));
    server.send('from server');
    server.send(Buffer.from([3]));
    await until(() => got.log.length === 2 && rec.log.length === 2);
    return { server: got.log, stream: rec.log };
  });

  scenario('the encoding option gives strings', async (scope) => {
    const { server, rec } = await streamPair(scope, { encoding: 'utf8' });
    server.send('é');
    server.send(Buffer.from('bin'));
    await until(() => rec.log.length === 2);
    return rec.log;
  });

  scenario('readableObjectMode gives text messages as strings', async (scope) => {
    const { server, rec } = await streamPair(scope, { readableObjectMode: true });
    server.send('text');
    server.send(Buffer.from('bin'));
    await until(() => rec.log.length === 2);
    return rec.log;
  });

  scenario('the stream ends and closes when the peer closes and the stream is ended', async (scope) => {
    const { server, duplex, rec } = await streamPair(scope);
    duplex.resume();
    server.close(1000);
    await rec.waitFor('stream', 'end');
    duplex.end();
    await rec.waitFor('stream', 'close');
    await delay(20);
    return { log: rec.byLabel(), destroyed: duplex.destroyed };
  });

  scenario('end() closes the socket and the stream closes once the peer closed', async (scope) => {
    const { duplex, rec } = await streamPair(scope);
    duplex.resume();
    duplex.end();
    await rec.waitFor('stream', 'close');
    await delay(20);
    return { log: rec.byLabel(), destroyed: duplex.destroyed };
  });

  scenario('destroy() terminates the socket and closes the stream', async (scope) => {
    const { duplex, rec, client } = await streamPair(scope);
    duplex.destroy();
    await rec.waitFor('stream', 'close');
    await rec.waitFor('client', 'close');
    await delay(20);
    return { log: rec.byLabel(), readyState: client.readyState };
  });

  scenario('destroy(error) emits the error, then close', async (scope) => {
    const { duplex, rec } = await streamPair(scope);
    duplex.destroy(new Error('stop'));
    await rec.waitFor('stream', 'close');
    await delay(20);
    return rec.byLabel();
  });

  scenario('a protocol error on the socket destroys the stream with it', async (scope) => {
    const server = await rawServer(scope);
    const client = scope.client(server.url, { perMessageDeflate: false });
    const duplex = scope.impl.createWebSocketStream(client);
    const rec = new Recorder().watch(duplex, 'stream', STREAM_EVENTS).watch(client, 'client', ['close', 'error']);
    await once(client, 'open');
    await until(() => server.peers.length > 0);
    server.peers[0]!.write(serverFrame({ opcode: 0x3, payload: '' }));
    await rec.waitFor('stream', 'close');
    await delay(20);
    return { log: rec.byLabel(), destroyed: duplex.destroyed };
  });

  scenario('a stream over a connecting socket writes once it opens', async (scope) => {
    const { wss, url } = await scope.server();
    const got = new Recorder();
    wss.on('connection', (ws) => got.watch(ws, 'server', ['message']));
    const client = scope.client(url);
    const duplex = scope.impl.createWebSocketStream(client);
    duplex.write('early');
    await got.waitFor('server', 'message');
    return got.log;
  });

  scenario('a write after the socket closed fails', async (scope) => {
    const { duplex, client, rec } = await streamPair(scope);
    client.terminate();
    await rec.waitFor('client', 'close');
    const result = await new Promise((resolve) => {
      duplex.write('late', (error) => resolve(show(error)));
      setTimeout(() => resolve('no callback'), 500);
    });
    await delay(20);
    return { result, log: rec.byLabel() };
  });

  scenario('pausing the stream pauses the socket', async (scope) => {
    const { server, duplex, client } = await streamPair(scope, { highWaterMark: 1 });
    server.send(Buffer.alloc(16));
    server.send(Buffer.alloc(16));
    await delay(50);
    const paused = client.isPaused;
    duplex.read();
    duplex.read();
    duplex.resume();
    await delay(50);
    return { paused, resumed: client.isPaused };
  });
});
