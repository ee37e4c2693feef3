/**
 * The remaining options of `ws`'s documentation, differentially: fragment and close-timeout
 * limits, client-side limits and validation, TLS, a server-side connection's properties, and a
 * client of each implementation against a stock `ws` server.
 */
import { describe } from 'node:test';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { ClientOptions, WebSocket as WsWebSocket } from 'ws';
import { WebSocketServer as WsServer } from 'ws';
import { upgradedPeer } from '../hostile/raw-peer.js';
import { OP, clientFrame, fragmented, serverFrame } from '../support/frames.js';
import { CLIENT_EVENTS, Recorder, delay, drainTicks, once, rawServer, scenario, show, until, type Scope } from './harness.js';

const FIXTURES = new URL('../fixtures/', import.meta.url);

async function fragmentOutcome(scope: Scope, fragments: number, options: Record<string, unknown>) {
  const { wss, port } = await scope.server(options);
  const rec = new Recorder();
  wss.on('connection', (ws: WsWebSocket) => rec.watch(ws, 'server', ['message', 'error', 'close']));
  const peer = await upgradedPeer(port);
  scope.defer(() => peer.destroy());
  peer.write(fragmented(Array.from({ length: fragments }, () => 'x')));
  await rec.waitFor('server', fragments > 0 ? 'close' : 'message', 3000);
  const events = rec.log.map((entry) => (entry[1] === 'message' ? ['server', 'message', (entry[2] as { Buffer: string }).Buffer.split(':')[0]] : entry));
  return { events, close: peer.closeFrame()?.code ?? null };
}

/** A stock `ws` server, whichever implementation the scenario runs. */
async function stockServer(scope: Scope, options: Record<string, unknown> = {}) {
  const wss = new WsServer({ port: 0, host: '127.0.0.1', ...options });
  await new Promise((resolve) => wss.once('listening', resolve));
  scope.defer(
    () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  );
  return { wss, url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}` };
}

describe('limits', () => {
  scenario('a message in more fragments than maxFragments', async (scope) => fragmentOutcome(scope, 5, { maxFragments: 4 }));
  scenario('a message in exactly maxFragments fragments', async (scope) => {
    const { wss, port } = await scope.server({ maxFragments: 4 });
    const got = new Promise((resolve) => wss.once('connection', (ws: WsWebSocket) => ws.once('message', (d) => resolve(show(d)))));
    const peer = await upgradedPeer(port);
    scope.defer(() => peer.destroy());
    peer.write(fragmented(['a', 'b', 'c', 'd']));
    return until(() => false, 0).then(() => got);
  });
  scenario('a message in 20000 fragments with the default maxFragments', async (scope) => {
    const { wss, port } = await scope.server();
    const rec = new Recorder();
    wss.on('connection', (ws: WsWebSocket) => rec.watch(ws, 'server', ['error', 'close']));
    const got = new Promise((resolve) => wss.once('connection', (ws: WsWebSocket) => ws.once('message', (d: Buffer) => resolve(d.length))));
    const peer = await upgradedPeer(port);
    scope.defer(() => peer.destroy());
    peer.write(fragmented(Array.from({ length: 20000 }, () => 'x')));
    const length = await Promise.race([got, rec.waitFor('server', 'close', 3000).then(() => 'closed')]);
    return { length, log: rec.log, close: peer.closeFrame()?.code ?? null };
  });

  scenario('closeTimeout ends a close handshake the peer never answers', async (scope) => {
    const server = await rawServer(scope);
    const client = scope.client(server.url, { closeTimeout: 200, perMessageDeflate: false } as ClientOptions);
    await once(client, 'open');
    const rec = new Recorder().watch(client, 'client', CLIENT_EVENTS);
    const started = Date.now();
    client.close(1000);
    await rec.waitFor('client', 'close', 3000);
    return { log: rec.log, withinASecond: Date.now() - started < 1000 };
  });

  scenario('a client over maxPayload closes with 1009', async (scope) => {
    const server = await rawServer(scope);
    const client = scope.client(server.url, { maxPayload: 4, perMessageDeflate: false });
    const rec = new Recorder().watch(client, 'client', CLIENT_EVENTS);
    await once(client, 'open');
    await until(() => server.peers.length > 0);
    const peer = server.peers[0]!;
    peer.write(serverFrame({ opcode: OP.BINARY, payload: Buffer.alloc(5) }));
    await until(() => peer.frames.length > 0);
    await delay(20);
    peer.socket.end();
    await rec.waitFor('client', 'close');
    return { log: rec.withoutCloseCodes(), frames: peer.shownFrames() };
  });

  scenario('a client receiving invalid UTF-8 with skipUTF8Validation', async (scope) => {
    const server = await rawServer(scope);
    const client = scope.client(server.url, { skipUTF8Validation: true, perMessageDeflate: false });
    const rec = new Recorder().watch(client, 'client', CLIENT_EVENTS);
    await once(client, 'open');
    await until(() => server.peers.length > 0);
    server.peers[0]!.write(serverFrame({ opcode: OP.TEXT, payload: Uint8Array.of(0xff) }));
    await rec.waitFor('client', 'message');
    return rec.log;
  });

  scenario('a masked frame from the server fails the client', async (scope) => {
    const server = await rawServer(scope);
    const client = scope.client(server.url, { perMessageDeflate: false });
    const rec = new Recorder().watch(client, 'client', CLIENT_EVENTS);
    await once(client, 'open');
    await until(() => server.peers.length > 0);
    const peer = server.peers[0]!;
    peer.write(clientFrame({ opcode: OP.TEXT, payload: 'masked' }));
    await until(() => peer.frames.length > 0);
    await delay(20);
    peer.socket.end();
    await rec.waitFor('client', 'close');
    return { log: rec.withoutCloseCodes(), frames: peer.shownFrames() };
  });
});

describe('a connection accepted by the server', () => {
  scenario('the properties of a server-side connection', async (scope) => {
    const { server } = await scope.pair({}, { protocol: undefined } as ClientOptions);
    return {
      readyState: server.readyState,
      url: server.url ?? null,
      protocol: server.protocol,
      extensions: server.extensions,
      binaryType: server.binaryType,
      bufferedAmount: server.bufferedAmount,
      isPaused: server.isPaused,
    };
  });

  scenario('new WebSocket(null, undefined, options) is an unconnected socket', async ({ impl }) => {
    // How a server makes its connections (ws's own calls pass the server's options).
    const ws = new (impl.WebSocket as unknown as new (a: null, b: undefined, o: object) => WsWebSocket)(null, undefined, {});
    return { readyState: ws.readyState, url: ws.url ?? null, protocol: ws.protocol };
  });

  scenario('the upgrade event gives the 101 response', async (scope) => {
    const { url } = await scope.server();
    const client = scope.client(url);
    const response = await new Promise<unknown[]>((resolve) => client.once('upgrade', (res) => resolve([res.statusCode, res.headers.upgrade, res.headers.connection])));
    await once(client, 'open');
    return response;
  });

  scenario('a server ping reaches the client and its pong comes back', async (scope) => {
    const { client, server } = await scope.pair();
    const rec = new Recorder().watch(client, 'client', ['ping']).watch(server, 'server', ['pong']);
    server.ping('beat');
    await rec.waitFor('server', 'pong');
    return rec.byLabel();
  });

  scenario('terminate() while closing', async (scope) => {
    const server = await rawServer(scope);
    const client = scope.client(server.url, { perMessageDeflate: false });
    await once(client, 'open');
    const rec = new Recorder().watch(client, 'client', CLIENT_EVENTS);
    client.close(1000);
    const closing = client.readyState;
    client.terminate();
    await rec.waitFor('client', 'close');
    await drainTicks();
    return { closing, log: rec.log };
  });
});

describe('TLS', () => {
  scenario('a wss connection to a server on an https server', async (scope) => {
    const server = https.createServer({ cert: readFileSync(new URL('cert.pem', FIXTURES)), key: readFileSync(new URL('key.pem', FIXTURES)) });
    const secure: unknown[] = [];
    const wss = new scope.impl.WebSocketServer({
      server,
      verifyClient: (info: { secure: boolean }) => {
        secure.push(info.secure);
        return true;
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    scope.defer(() => {
      for (const c of wss.clients) c.terminate();
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const port = (server.address() as AddressInfo).port;
    const refused = scope.client(`wss://127.0.0.1:${port}`);
    const refusal = new Recorder().watch(refused, 'strict', ['open', 'error', 'close']);
    await refusal.waitFor('strict', 'close');
    const client = scope.client(`wss://127.0.0.1:${port}`, { rejectUnauthorized: false });
    const echoed = new Promise((resolve) => client.once('message', (d) => resolve(show(d))));
    wss.on('connection', (ws: WsWebSocket) => ws.send('over tls'));
    await once(client, 'open');
    return { secure, refusal: refusal.log.map((entry) => entry.slice(0, 2)), echoed: await echoed };
  });
});

describe('against a stock ws server', () => {
  scenario('a client with clientMaxWindowBits: true', async (scope) => {
    const { url } = await stockServer(scope, { perMessageDeflate: true });
    const client = scope.client(url, { perMessageDeflate: { clientMaxWindowBits: true } } as unknown as ClientOptions);
    const rec = new Recorder().watch(client, 'client', CLIENT_EVENTS);
    await Promise.race([rec.waitFor('client', 'open'), rec.waitFor('client', 'close')]);
    return { log: rec.log, extensions: client.extensions };
  });

  scenario('a client with the default options and a compressing server', async (scope) => {
    const { wss, url } = await stockServer(scope, { perMessageDeflate: { threshold: 0 } });
    wss.on('connection', (ws: WsWebSocket) => ws.on('message', (d, isBinary) => ws.send(d, { binary: isBinary })));
    const client = scope.client(url);
    await once(client, 'open');
    const echoed = once(client, 'message');
    client.send('y'.repeat(4000));
    return { extensions: client.extensions, echoed: await echoed };
  });
});
