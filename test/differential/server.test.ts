/**
 * WebSocketServer, differentially: construction, options, the opening handshake as a raw client
 * sees it (statuses, headers), every server event and method, as `ws` documents them.
 */
import { describe } from 'node:test';
import http from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { WebSocket as WsWebSocket } from 'ws';
import { Peer, goodHeaders, request, upgradedPeer } from '../hostile/raw-peer.js';
import { OP, clientFrame } from '../support/frames.js';
import { Recorder, attempt, drainTicks, once, scenario, settle, show, until, type Scope } from './harness.js';

/** The answer a raw client gets to `bytes`: status, the headers named, and whether the server closed. */
async function answer(port: number, bytes: string, headerNames: readonly string[] = []): Promise<unknown> {
  const peer = await Peer.open(port);
  peer.write(bytes);
  await peer.until(() => peer.httpHead() !== null, 1500);
  const headers: Record<string, string | undefined> = {};
  for (const name of headerNames) headers[name] = peer.header(name);
  const closed = await peer.waitClosed(1500);
  peer.destroy();
  return { status: peer.status(), headers, closed };
}

/** A server plus a recorder of 'wsClientError' (the error, and that a socket and request came with it). */
async function refusing(scope: Scope, options: Record<string, unknown> = {}, listen = false) {
  const { wss, port } = await scope.server(options);
  const rec = new Recorder();
  if (listen) {
    wss.on('wsClientError', (error: Error, socket: Duplex, req: http.IncomingMessage) => {
      rec.note('wsClientError', error, typeof socket.write, req.method);
      socket.end('HTTP/1.1 418 I\'m a Teapot\r\nConnection: close\r\n\r\n');
    });
  }
  return { wss, port, rec };
}

const HANDSHAKE_CASES: Array<[string, string]> = [
  ['a POST request', request(goodHeaders(), 'POST / HTTP/1.1')],
  ['an Upgrade header other than websocket', request(goodHeaders().map((h) => (h.startsWith('Upgrade') ? 'Upgrade: h2c' : h)))],
  ['a missing Sec-WebSocket-Key', request(goodHeaders().filter((h) => !h.startsWith('Sec-WebSocket-Key')))],
  ['a Sec-WebSocket-Key that is not 16 bytes in base64', request(goodHeaders('c2hvcnQ=').slice())],
  ['Sec-WebSocket-Version 12', request(goodHeaders().map((h) => (h.startsWith('Sec-WebSocket-Version') ? 'Sec-WebSocket-Version: 12' : h)))],
  ['Sec-WebSocket-Version 8 (HyBi drafts)', request(goodHeaders().map((h) => (h.startsWith('Sec-WebSocket-Version') ? 'Sec-WebSocket-Version: 8' : h)))],
  ['a missing Sec-WebSocket-Version', request(goodHeaders().filter((h) => !h.startsWith('Sec-WebSocket-Version')))],
  ['a malformed Sec-WebSocket-Protocol', request([...goodHeaders(), 'Sec-WebSocket-Protocol: a,,b'])],
  ['a duplicated subprotocol', request([...goodHeaders(), 'Sec-WebSocket-Protocol: a, a'])],
  ['no Host header', request(goodHeaders().filter((h) => !h.startsWith('Host')))],
  ['a valid request', request(goodHeaders())],
];

describe('WebSocketServer: construction', () => {
  scenario('new WebSocketServer() without options throws', async ({ impl }) =>
    attempt(() => new (impl.WebSocketServer as unknown as new () => unknown)()),
  );
  scenario('new WebSocketServer({}) throws a TypeError', async ({ impl }) => attempt(() => new impl.WebSocketServer({})));
  scenario('port and noServer together throw', async ({ impl }) => attempt(() => new impl.WebSocketServer({ port: 0, noServer: true })));
  scenario('server and noServer together throw', async ({ impl }) =>
    attempt(() => new impl.WebSocketServer({ server: http.createServer(), noServer: true })),
  );

  scenario('the callback runs on listening and address() gives the port', async (scope) => {
    const rec = new Recorder();
    const wss = new scope.impl.WebSocketServer({ port: 0, host: '127.0.0.1' }, function (this: unknown, ...args: unknown[]) {
      rec.note('callback', args.length);
    });
    scope.defer(() => new Promise<void>((resolve) => wss.close(() => resolve())));
    rec.watch(wss, 'wss', ['listening']);
    await once(wss, 'listening');
    await drainTicks();
    const address = wss.address() as AddressInfo;
    return { log: rec.log, family: address.family, address: address.address, port: typeof address.port };
  });

  scenario('address() in noServer mode throws', async ({ impl }) => attempt(() => new impl.WebSocketServer({ noServer: true }).address()));

  scenario('address() of a server that is not listening yet is null', async ({ impl }) =>
    attempt(() => new impl.WebSocketServer({ server: http.createServer() }).address()),
  );

  scenario('clientTracking: false leaves clients undefined', async ({ impl }) => {
    const wss = new impl.WebSocketServer({ noServer: true, clientTracking: false });
    const tracked = new impl.WebSocketServer({ noServer: true });
    return { untracked: wss.clients, tracked: tracked.clients instanceof Set };
  });

  scenario('options keeps what was given', async ({ impl }) => {
    const verifyClient = (): boolean => true;
    const wss = new impl.WebSocketServer({ noServer: true, path: '/x', verifyClient, perMessageDeflate: true });
    return {
      path: wss.options.path,
      noServer: wss.options.noServer,
      verifyClient: wss.options.verifyClient === verifyClient,
      perMessageDeflate: typeof wss.options.perMessageDeflate,
      clientTracking: wss.options.clientTracking,
      skipUTF8Validation: wss.options.skipUTF8Validation,
      autoPong: wss.options.autoPong,
      allowSynchronousEvents: wss.options.allowSynchronousEvents,
    };
  });

  scenario('listening twice on one port emits error EADDRINUSE', async (scope) => {
    const { port } = await scope.server();
    const second = new scope.impl.WebSocketServer({ port, host: '127.0.0.1' });
    scope.defer(() => new Promise<void>((resolve) => second.close(() => resolve())));
    const [error] = (await once(second, 'error')) as [{ code?: string }];
    return { code: error?.code };
  });

  scenario("the socket flows when 'connection' fires on a port server, and pause()/resume() turn it", async (scope) => {
    const { wss, url } = await scope.server();
    const seen: unknown[] = [];
    wss.on('connection', (ws: WsWebSocket) => {
      const socket = (ws as unknown as { _socket: Socket })._socket;
      seen.push(socket.isPaused());
      ws.pause();
      seen.push(socket.isPaused());
      ws.resume();
      seen.push(socket.isPaused());
    });
    const client = scope.client(url);
    await once(client, 'open');
    await drainTicks();
    return seen;
  });

  scenario("pause() in 'connection' on a port server holds messages until resume()", async (scope) => {
    const { wss, url } = await scope.server();
    const accepted = new Promise<WsWebSocket>((resolve) => {
      wss.once('connection', (ws: WsWebSocket) => {
        ws.pause();
        resolve(ws);
      });
    });
    const client = scope.client(url);
    await once(client, 'open');
    const ws = await accepted;
    const got: string[] = [];
    ws.on('message', (data: Buffer) => got.push(String(data)));
    client.send('held');
    const socket = (ws as unknown as { _socket: Socket })._socket;
    const arrived = await until(() => socket.readableLength > 0);
    await drainTicks();
    const whilePaused = [...got];
    ws.resume();
    await until(() => got.length > 0);
    return { arrived, whilePaused, isPaused: ws.isPaused, after: got };
  });

  scenario("req.socket and ws._socket in 'connection' on a port server are the connection's net.Socket", async (scope) => {
    const { wss, url } = await scope.server();
    const seen = new Promise<Record<string, unknown>>((resolve) => {
      wss.once('connection', (ws: WsWebSocket, req: { socket: Socket; connection: Socket }) => {
        const socket = (ws as unknown as { _socket: Socket })._socket;
        resolve({
          remoteAddress: req.socket.remoteAddress,
          family: req.socket.remoteFamily,
          samePort: socket.remotePort === req.socket.remotePort && typeof socket.remotePort === 'number',
          same: socket === req.socket && req.connection === req.socket,
          isNet: socket instanceof net.Socket,
          localPort: socket.localPort === Number(new URL(url).port),
        });
      });
    });
    const client = scope.client(url);
    await once(client, 'open');
    return seen;
  });

  scenario('the WebSocket option makes connections of the given class', async (scope) => {
    const Base = scope.impl.WebSocket;
    class Tagged extends Base {
      tag = 'mine';
    }
    const { wss, url } = await scope.server({ WebSocket: Tagged });
    const connected = once(wss, 'connection');
    const client = scope.client(url);
    const accepted = await new Promise<WsWebSocket>((resolve) => wss.once('connection', resolve));
    await connected;
    await once(client, 'open');
    return { tagged: (accepted as unknown as Tagged).tag, instance: accepted instanceof Base };
  });
});

describe('WebSocketServer: the opening handshake', () => {
  for (const [name, bytes] of HANDSHAKE_CASES) {
    scenario(`the answer to ${name}`, async (scope) => {
      const { port } = await scope.server();
      return answer(port, bytes, ['sec-websocket-version', 'upgrade', 'connection', 'sec-websocket-accept']);
    });
    scenario(`wsClientError for ${name}`, async (scope) => {
      const { port, rec } = await refusing(scope, {}, true);
      const result = await answer(port, bytes);
      return { result, log: rec.log };
    });
  }

  scenario('a plain HTTP request to an own server gets 426 Upgrade Required', async (scope) => {
    const { port } = await scope.server();
    const peer = await Peer.open(port);
    peer.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await peer.waitClosed(1500);
    const body = peer.socket.readableLength;
    void body;
    return { status: peer.status(), contentType: peer.header('content-type') };
  });

  scenario('the 101 answer carries Upgrade, Connection and Sec-WebSocket-Accept', async (scope) => {
    const { port } = await scope.server();
    const peer = await upgradedPeer(port);
    scope.defer(() => peer.destroy());
    const lines = peer.httpHead()!.split('\r\n');
    return { statusLine: lines[0], headers: lines.slice(1).map((line) => line.split(':')[0]!.toLowerCase()).sort() };
  });

  scenario('path refuses other paths with 400 and accepts a query string', async (scope) => {
    const { port } = await scope.server({ path: '/chat' });
    const wrong = await answer(port, request(goodHeaders(), 'GET /other HTTP/1.1'));
    const query = await answer(port, request(goodHeaders(), 'GET /chat?room=1 HTTP/1.1'));
    return { wrong, query };
  });

  scenario('shouldHandle compares the path without the query', async ({ impl }) => {
    const wss = new impl.WebSocketServer({ noServer: true, path: '/a' });
    const req = (url: string) => ({ url, headers: {} }) as http.IncomingMessage;
    return [wss.shouldHandle(req('/a')), wss.shouldHandle(req('/a?x=1')), wss.shouldHandle(req('/b')), wss.shouldHandle(req('/a/'))];
  });

  scenario('verifyClient gets origin, secure and req', async (scope) => {
    const seen: unknown[] = [];
    const { url } = await scope.server({
      verifyClient: (info: { origin: string; secure: boolean; req: http.IncomingMessage }) => {
        seen.push(Object.keys(info).sort(), info.origin, info.secure, info.req.url);
        return true;
      },
    });
    const client = scope.client(`${url}/p?q=1`, { origin: 'https://example.org' });
    await once(client, 'open');
    return seen;
  });

  scenario('a synchronous verifyClient returning false answers 401', async (scope) => {
    const { port } = await scope.server({ verifyClient: () => false });
    return answer(port, request(goodHeaders()));
  });

  scenario('an asynchronous verifyClient chooses the status, message and headers', async (scope) => {
    const { port } = await scope.server({
      verifyClient: (_info: unknown, cb: (ok: boolean, code?: number, message?: string, headers?: Record<string, string>) => void) =>
        setImmediate(() => cb(false, 403, 'Go away', { 'X-Reason': 'policy' })),
    });
    return answer(port, request(goodHeaders()), ['x-reason']);
  });

  scenario('an asynchronous verifyClient without a code answers 401', async (scope) => {
    const { port } = await scope.server({ verifyClient: (_info: unknown, cb: (ok: boolean) => void) => cb(false) });
    return answer(port, request(goodHeaders()));
  });

  scenario('handleProtocols gets the offered set and the request, and picks one', async (scope) => {
    const seen: unknown[] = [];
    const { url } = await scope.server({
      handleProtocols: (protocols: Set<string>, req: http.IncomingMessage) => {
        seen.push(protocols instanceof Set, [...protocols], typeof req.headers);
        return 'b';
      },
    });
    const client = scope.client(url, ['a', 'b']);
    await once(client, 'open');
    return { seen, protocol: client.protocol };
  });

  scenario('without handleProtocols the first offered subprotocol is chosen', async (scope) => {
    const { url } = await scope.server();
    const client = scope.client(url, ['x', 'y']);
    await once(client, 'open');
    return client.protocol;
  });

  scenario('handleProtocols returning false accepts without a subprotocol', async (scope) => {
    const { port } = await scope.server({ handleProtocols: () => false });
    return answer(port, request([...goodHeaders(), 'Sec-WebSocket-Protocol: a']), ['sec-websocket-protocol']);
  });

  scenario('the headers event can add a header to the 101 answer', async (scope) => {
    const { wss, port } = await scope.server();
    const seen: unknown[] = [];
    wss.on('headers', (headers: string[], req: http.IncomingMessage) => {
      seen.push(headers.length, headers[0], req.url);
      headers.push('Set-Cookie: a=1');
    });
    const peer = await upgradedPeer(port);
    scope.defer(() => peer.destroy());
    return { seen, cookie: peer.header('set-cookie') };
  });

  scenario('connection gets the socket and the upgrade request', async (scope) => {
    const { wss, url } = await scope.server();
    const got = new Promise<unknown[]>((resolve) =>
      wss.once('connection', (ws: WsWebSocket, req: http.IncomingMessage) => resolve([show(ws), req.url, req.headers.upgrade, ws.readyState])),
    );
    const client = scope.client(`${url}/room?x=1`);
    await once(client, 'open');
    return settle(got);
  });

  scenario('clients holds open connections and forgets closed ones', async (scope) => {
    const { wss, url } = await scope.server();
    const a = scope.client(url);
    const b = scope.client(url);
    await Promise.all([once(a, 'open'), once(b, 'open')]);
    await until(() => wss.clients.size === 2);
    const before = wss.clients.size;
    a.close();
    await until(() => wss.clients.size === 1);
    return { before, after: wss.clients.size, states: [...wss.clients].map((c) => c.readyState) };
  });
});

describe('WebSocketServer: handleUpgrade and noServer', () => {
  async function httpWith(scope: Scope, onUpgrade: (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void) {
    const server = http.createServer();
    server.on('upgrade', onUpgrade);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    scope.defer(() => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    });
    return (server.address() as AddressInfo).port;
  }

  scenario('handleUpgrade hands the socket and the request to the callback', async (scope) => {
    const wss = new scope.impl.WebSocketServer({ noServer: true });
    const rec = new Recorder();
    const port = await httpWith(scope, (req, socket, head) => {
      wss.handleUpgrade(req, socket, head, (ws, request) => {
        rec.note('callback', ws, request === req, ws.readyState);
        wss.emit('connection', ws, request);
        scope.defer(() => ws.terminate());
      });
    });
    rec.watch(wss, 'wss', ['connection']);
    const client = scope.client(`ws://127.0.0.1:${port}/x`);
    await once(client, 'open');
    await drainTicks();
    return { log: rec.log, clients: wss.clients.size };
  });

  scenario('handleUpgrade called twice with one socket throws', async (scope) => {
    const wss = new scope.impl.WebSocketServer({ noServer: true });
    const outcomes: unknown[] = [];
    const port = await httpWith(scope, (req, socket, head) => {
      wss.handleUpgrade(req, socket, head, (ws) => scope.defer(() => ws.terminate()));
      outcomes.push(attempt(() => wss.handleUpgrade(req, socket, head, () => outcomes.push('second callback'))));
    });
    const client = scope.client(`ws://127.0.0.1:${port}`);
    await once(client, 'open');
    await drainTicks();
    return outcomes;
  });

  scenario('two noServer servers share one HTTP server by path', async (scope) => {
    const foo = new scope.impl.WebSocketServer({ noServer: true });
    const bar = new scope.impl.WebSocketServer({ noServer: true });
    const seen: string[] = [];
    foo.on('connection', (ws: WsWebSocket) => {
      seen.push('foo');
      scope.defer(() => ws.terminate());
    });
    bar.on('connection', (ws: WsWebSocket) => {
      seen.push('bar');
      scope.defer(() => ws.terminate());
    });
    const port = await httpWith(scope, (req, socket, head) => {
      const { pathname } = new URL(req.url!, 'ws://base.url');
      const target = pathname === '/foo' ? foo : pathname === '/bar' ? bar : null;
      if (!target) return socket.destroy();
      target.handleUpgrade(req, socket, head, (ws) => target.emit('connection', ws, req));
    });
    const a = scope.client(`ws://127.0.0.1:${port}/bar`);
    await once(a, 'open');
    const b = scope.client(`ws://127.0.0.1:${port}/foo`);
    await once(b, 'open');
    const c = scope.client(`ws://127.0.0.1:${port}/none`);
    const [error] = (await once(c, 'error')) as unknown[];
    return { seen, error };
  });

  scenario('a server attached to an HTTP server that other paths use answers only its path', async (scope) => {
    const server = http.createServer((_req, res) => res.end('plain'));
    const wss = new scope.impl.WebSocketServer({ server, path: '/ws' });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    scope.defer(() => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const port = (server.address() as AddressInfo).port;
    const wrong = await answer(port, request(goodHeaders(), 'GET /other HTTP/1.1'));
    const client = scope.client(`ws://127.0.0.1:${port}/ws`);
    const [connected] = await Promise.all([once(wss, 'connection'), once(client, 'open')]);
    scope.defer(() => {
      for (const ws of wss.clients) ws.terminate();
    });
    return { wrong, connected: Array.isArray(connected) };
  });
});

describe('WebSocketServer: close', () => {
  scenario('close(cb) emits close once and calls back', async (scope) => {
    const wss = new scope.impl.WebSocketServer({ port: 0, host: '127.0.0.1' });
    await once(wss, 'listening');
    const rec = new Recorder().watch(wss, 'wss', ['close']);
    wss.close((error?: Error) => rec.note('callback', error));
    await settle(new Promise((resolve) => setTimeout(resolve, 100)));
    return rec.log;
  });

  scenario('close called three times', async (scope) => {
    const wss = new scope.impl.WebSocketServer({ port: 0, host: '127.0.0.1' });
    await once(wss, 'listening');
    const rec = new Recorder().watch(wss, 'wss', ['close']);
    wss.close((error?: Error) => rec.note('first', error));
    wss.close((error?: Error) => rec.note('second', error));
    await settle(new Promise((resolve) => setTimeout(resolve, 100)));
    wss.close((error?: Error) => rec.note('third', error));
    await settle(new Promise((resolve) => setTimeout(resolve, 100)));
    return rec.log;
  });

  scenario('close on a noServer server emits close', async ({ impl }) => {
    const wss = new impl.WebSocketServer({ noServer: true });
    const rec = new Recorder().watch(wss, 'wss', ['close']);
    wss.close(() => rec.note('callback'));
    await drainTicks();
    return rec.log;
  });

  scenario('close leaves an attached HTTP server listening', async (scope) => {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    scope.defer(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const wss = new scope.impl.WebSocketServer({ server });
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    return { listening: server.listening, upgradeListeners: server.listenerCount('upgrade') };
  });

  scenario('wss.close() with a connected client', async (scope) => {
    const { wss, client } = await scope.pair();
    const rec = new Recorder().watch(client, 'client', ['close']).watch(wss, 'wss', ['close']);
    wss.close();
    await rec.waitFor('client', 'close', 1000);
    return rec.log;
  });

  scenario('a new upgrade after close is refused', async (scope) => {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    scope.defer(() => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const wss = new scope.impl.WebSocketServer({ noServer: true });
    server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => ws.terminate()));
    wss.close();
    const port = (server.address() as AddressInfo).port;
    return answer(port, request(goodHeaders()));
  });
});

describe('WebSocketServer: limits', () => {
  scenario('a message over maxPayload is closed with 1009', async (scope) => {
    const { wss, port } = await scope.server({ maxPayload: 10 });
    const errors: unknown[] = [];
    wss.on('connection', (ws: WsWebSocket) => ws.on('error', (e: Error) => errors.push(show(e))));
    const peer = await upgradedPeer(port);
    scope.defer(() => peer.destroy());
    peer.write(clientFrame({ opcode: OP.TEXT, payload: 'more than ten bytes' }));
    await peer.waitClosed(1500);
    const close = peer.closeFrame();
    return { code: close?.code, reason: close?.reason.toString(), errors };
  });

  scenario('a message of exactly maxPayload bytes is delivered', async (scope) => {
    const { wss, port } = await scope.server({ maxPayload: 10 });
    const got = new Promise<unknown>((resolve) => wss.once('connection', (ws: WsWebSocket) => ws.once('message', (d) => resolve(show(d)))));
    const peer = await upgradedPeer(port);
    scope.defer(() => peer.destroy());
    peer.write(clientFrame({ opcode: OP.TEXT, payload: '0123456789' }));
    return settle(got);
  });

  scenario('a 20 MiB message with the default maxPayload', async (scope) => {
    const { wss, port } = await scope.server();
    const got = new Promise<unknown>((resolve) => wss.once('connection', (ws: WsWebSocket) => ws.once('message', (d: Buffer) => resolve(d.length))));
    const peer = await upgradedPeer(port);
    scope.defer(() => peer.destroy());
    peer.write(clientFrame({ opcode: OP.BINARY, payload: Buffer.alloc(20 * 1024 * 1024, 1) }));
    const length = await settle(got, 3000);
    return { length, close: peer.closeFrame()?.code ?? null };
  });

  scenario('skipUTF8Validation delivers invalid UTF-8 text', async (scope) => {
    const { wss, port } = await scope.server({ skipUTF8Validation: true });
    const got = new Promise<unknown>((resolve) =>
      wss.once('connection', (ws: WsWebSocket) => ws.once('message', (d, isBinary) => resolve([show(d), isBinary]))),
    );
    const peer = await upgradedPeer(port);
    scope.defer(() => peer.destroy());
    peer.write(clientFrame({ opcode: OP.TEXT, payload: Uint8Array.of(0xff, 0xfe) }));
    return settle(got);
  });
});
