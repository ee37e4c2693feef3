/**
 * The WebSocket client, differentially, against a raw server: the URL and argument checks, the
 * request it sends, every handshake outcome and the events it gives, redirects, client options.
 */
import { describe } from 'node:test';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClientOptions, WebSocket as WsWebSocket } from 'ws';
import {
  CLIENT_EVENTS,
  Recorder,
  RawServerPeer,
  attempt,
  drainTicks,
  once,
  rawServer,
  requestHeaders,
  scenario,
  settle,
  show,
  switchingProtocols,
  until,
  type Scope,
} from './harness.js';

const REQUEST_HEADERS = [
  'host',
  'connection',
  'upgrade',
  'sec-websocket-version',
  'sec-websocket-extensions',
  'sec-websocket-protocol',
  'origin',
  'authorization',
  'x-custom',
] as const;

/** Dials `url` and records every client event until 'close' (or a timeout). */
async function dialAndRecord(scope: Scope, url: string, protocols?: string | string[] | ClientOptions, options?: ClientOptions, until = 'close') {
  const rec = new Recorder();
  const client = scope.client(url, protocols, options);
  rec.watch(client, 'client', CLIENT_EVENTS);
  await rec.waitFor('client', until);
  await drainTicks();
  return { client, rec };
}

describe('WebSocket client: arguments', () => {
  const urls: Array<[string, string]> = [
    ['an unparsable URL', 'not a url'],
    ['an ftp: URL', 'ftp://127.0.0.1/'],
    ['a URL with a fragment', 'ws://127.0.0.1/#x'],
    ['a ws+unix: URL without a path', 'ws+unix:'],
  ];
  for (const [name, url] of urls) {
    scenario(`new WebSocket with ${name} throws`, async ({ impl }) => attempt(() => new impl.WebSocket(url)));
  }

  scenario('an http: URL becomes ws:', async (scope) => {
    const server = await rawServer(scope);
    const client = scope.client(`http://127.0.0.1:${server.port}/p?q`);
    const url = client.url;
    await once(client, 'open');
    return url.replace(String(server.port), 'PORT');
  });

  scenario('a URL object is accepted', async (scope) => {
    const server = await rawServer(scope);
    const client = scope.client(new URL(`${server.url}/x`) as unknown as string);
    await once(client, 'open');
    return show(client.url);
  });

  const protocols: Array<[string, unknown]> = [
    ['an invalid subprotocol', ['a b']],
    ['a duplicated subprotocol', ['a', 'a']],
    ['an empty subprotocol', ['']],
  ];
  for (const [name, list] of protocols) {
    scenario(`new WebSocket with ${name} throws`, async ({ impl }) => attempt(() => new impl.WebSocket('ws://127.0.0.1:1', list as string[])));
  }

  scenario('an unsupported protocolVersion throws', async ({ impl }) =>
    attempt(() => new impl.WebSocket('ws://127.0.0.1:1', { protocolVersion: 7 } as ClientOptions)),
  );

  scenario('the properties of a connecting client', async (scope) => {
    const server = await rawServer(scope, () => null);
    const client = scope.client(`${server.url}/a?b=1`);
    const W = scope.impl.WebSocket;
    return {
      readyState: client.readyState,
      url: show(client.url),
      protocol: client.protocol,
      extensions: client.extensions,
      bufferedAmount: client.bufferedAmount,
      binaryType: client.binaryType,
      isPaused: client.isPaused,
      statics: [W.CONNECTING, W.OPEN, W.CLOSING, W.CLOSED],
      instance: [client.CONNECTING, client.OPEN, client.CLOSING, client.CLOSED],
    };
  });

  scenario('the default export is the WebSocket class', async ({ impl }) => impl.default === impl.WebSocket);
});

describe('WebSocket client: the request', () => {
  const cases: Array<[string, string[] | undefined, ClientOptions | undefined, string]> = [
    ['the default request', undefined, undefined, ''],
    ['subprotocols', ['chat', 'superchat'], undefined, ''],
    ['one subprotocol as a string', 'chat' as unknown as string[], undefined, ''],
    ['perMessageDeflate: false', undefined, { perMessageDeflate: false }, ''],
    ['perMessageDeflate with every parameter', undefined, { perMessageDeflate: { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 12 } }, ''],
    ['perMessageDeflate with clientMaxWindowBits: true', undefined, { perMessageDeflate: { clientMaxWindowBits: true } } as unknown as ClientOptions, ''],
    ['origin and headers', undefined, { origin: 'https://example.org', headers: { 'X-Custom': 'yes' } }, ''],
    ['the auth option', undefined, { auth: 'user:pass' } as ClientOptions, ''],
    ['credentials in the URL', undefined, undefined, 'u%40x:p%3Ay@'],
    ['credentials in the URL and the auth option', undefined, { auth: 'other:secret' } as ClientOptions, 'url:wins@'],
    ['protocolVersion 8', undefined, { protocolVersion: 8, origin: 'https://example.org' } as ClientOptions, ''],
  ];
  for (const [name, protocols, options, userinfo] of cases) {
    scenario(`the request headers for ${name}`, async (scope) => {
      const server = await rawServer(scope, () => null);
      const url = `ws://${userinfo}127.0.0.1:${server.port}/path?x=1`;
      scope.client(url, protocols as string[], options);
      await until(() => server.requests.length > 0);
      const request = server.requests[0];
      return request ? { url: request.url, method: request.method, headers: show(requestHeaders(request, REQUEST_HEADERS)) } : 'no request';
    });
  }

  scenario('finishRequest finds its request as _req', async (scope) => {
    const server = await rawServer(scope);
    const seen: unknown[] = [];
    const client = scope.client(server.url, {
      finishRequest: (req: http.ClientRequest, socket: WsWebSocket) => {
        seen.push(req === (socket as unknown as { _req: unknown })._req);
        req.end();
      },
    } as ClientOptions);
    await once(client, 'open');
    return seen;
  });

  scenario('finishRequest ends the request itself', async (scope) => {
    const server = await rawServer(scope);
    const seen: unknown[] = [];
    const client = scope.client(server.url, {
      finishRequest: (req: http.ClientRequest, socket: WsWebSocket) => {
        seen.push(show(req), show(socket), socket.readyState);
        req.setHeader('X-Custom', 'late');
        req.end();
      },
    } as ClientOptions);
    await once(client, 'open');
    return { seen, header: server.requests[0]?.headers['x-custom'] };
  });

  scenario('createConnection makes the socket', async (scope) => {
    const server = await rawServer(scope);
    let called = 0;
    const client = scope.client(server.url, {
      createConnection: ((options: net.NetConnectOpts) => {
        called++;
        return net.createConnection(options);
      }) as unknown as ClientOptions['createConnection'],
    });
    await once(client, 'open');
    return called;
  });

  scenario('a ws+unix: URL connects over a Unix socket', async (scope) => {
    const path = join(mkdtempSync(join(tmpdir(), 'fdx-diff-')), 'sock');
    const server = http.createServer();
    server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket) => {
      socket.write(switchingProtocols(req));
      socket.end();
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    scope.defer(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const urls: unknown[] = [];
    server.on('upgrade', (req: http.IncomingMessage) => urls.push(req.url));
    const { rec } = await dialAndRecord(scope, `ws+unix://${path}:/chat?x=1`);
    return { urls, log: rec.log.map((entry) => entry.slice(0, 2)) };
  });
});

describe('WebSocket client: handshake outcomes', () => {
  scenario('a successful handshake emits upgrade then open', async (scope) => {
    const server = await rawServer(scope);
    const { client, rec } = await dialAndRecord(scope, server.url, undefined, undefined, 'open');
    return { log: rec.log, readyState: client.readyState, protocol: client.protocol, extensions: client.extensions };
  });

  scenario('the accepted subprotocol and extensions are exposed', async (scope) => {
    const server = await rawServer(scope, (req, socket, head) => {
      socket.write(switchingProtocols(req, ['Sec-WebSocket-Protocol: b', 'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=10']));
      return new RawServerPeer(req, socket, head);
    });
    const { client } = await dialAndRecord(scope, server.url, ['a', 'b'], undefined, 'open');
    return { protocol: client.protocol, extensions: client.extensions };
  });

  const refusals: Array<[string, (req: http.IncomingMessage) => string, string[]?]> = [
    ['a 403 answer', () => 'HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n'],
    ['a 101 without Upgrade', (req) => switchingProtocols(req).replace('Upgrade: websocket\r\n', '')],
    ['a wrong Sec-WebSocket-Accept', (req) => switchingProtocols(req).replace(/Accept: .*/, 'Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=')],
    ['a 101 without Sec-WebSocket-Accept', (req) => switchingProtocols(req).replace(/Sec-WebSocket-Accept: .*\r\n/, '')],
    ['a subprotocol that was not offered', (req) => switchingProtocols(req, ['Sec-WebSocket-Protocol: z']), ['a']],
    ['no subprotocol when one was offered', (req) => switchingProtocols(req), ['a']],
    ['a subprotocol when none was offered', (req) => switchingProtocols(req, ['Sec-WebSocket-Protocol: a'])],
    ['an extension that was not offered', (req) => switchingProtocols(req, ['Sec-WebSocket-Extensions: x-unknown'])],
    ['a malformed permessage-deflate answer', (req) => switchingProtocols(req, ['Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=99'])],
  ];
  for (const [name, reply, protocols] of refusals) {
    scenario(`the events for ${name}`, async (scope) => {
      const server = await rawServer(scope, (req, socket) => {
        socket.write(reply(req));
        return null;
      });
      const { client, rec } = await dialAndRecord(scope, server.url, protocols);
      return { log: rec.log, readyState: client.readyState };
    });
  }

  scenario('an unexpected-response listener gets the request and the response, and no error follows', async (scope) => {
    const server = await rawServer(scope, (_req, socket) => {
      socket.write('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
      return null;
    });
    const rec = new Recorder();
    const client = scope.client(server.url);
    rec.watch(client, 'client', [...CLIENT_EVENTS, 'unexpected-response']);
    await rec.waitFor('client', 'unexpected-response');
    await settle(new Promise((resolve) => setTimeout(resolve, 100)));
    return { log: rec.log, readyState: client.readyState };
  });

  for (const method of ['close', 'terminate'] as const) {
    scenario(`${method}() from an unexpected-response listener ends with error and close`, async (scope) => {
      const server = await rawServer(scope, (_req, socket) => {
        socket.write('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
        return null;
      });
      const rec = new Recorder();
      const client = scope.client(server.url);
      const thrown: unknown[] = [];
      client.on('unexpected-response', () => thrown.push(attempt(() => client[method]())));
      rec.watch(client, 'client', [...CLIENT_EVENTS, 'unexpected-response']);
      await rec.waitFor('client', 'close');
      await drainTicks();
      return { thrown, log: rec.log, readyState: client.readyState };
    });
  }

  scenario('a refused connection emits error then close 1006', async (scope) => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const { rec } = await dialAndRecord(scope, `ws://127.0.0.1:${port}`);
    return rec.log;
  });

  scenario('close() from an error listener while connecting', async (scope) => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const client = scope.client(`ws://127.0.0.1:${port}`);
    const thrown: unknown[] = [];
    client.on('error', () => thrown.push(attempt(() => client.close())));
    const rec = new Recorder().watch(client, 'client', CLIENT_EVENTS);
    await rec.waitFor('client', 'close');
    await drainTicks();
    return { thrown, log: rec.log };
  });

  for (const method of ['close', 'terminate'] as const) {
    scenario(`${method}() while connecting emits error and close 1006`, async (scope) => {
      const server = await rawServer(scope, () => null);
      const client = scope.client(server.url);
      const rec = new Recorder().watch(client, 'client', CLIENT_EVENTS);
      const returned = attempt(() => client[method]());
      const state = client.readyState;
      await rec.waitFor('client', 'close');
      await drainTicks();
      return { returned, state, log: rec.log, readyState: client.readyState };
    });
  }

  scenario('handshakeTimeout ends a handshake that gets no answer', async (scope) => {
    const server = await rawServer(scope, () => null);
    const { rec } = await dialAndRecord(scope, server.url, { handshakeTimeout: 100 });
    return rec.log;
  });

  scenario('the server closing the socket during the handshake', async (scope) => {
    const server = await rawServer(scope, (_req, socket) => {
      socket.destroy();
      return null;
    });
    const { rec } = await dialAndRecord(scope, server.url);
    return rec.log;
  });
});

describe('WebSocket client: redirects', () => {
  async function redirecting(scope: Scope, status = 302, hops = 1, to?: (server: { url: string }) => string) {
    const target = await rawServer(scope);
    const state = { count: 0 };
    const server = await rawServer(scope, (req, socket, head) => {
      state.count++;
      if (state.count <= hops) {
        const location = to ? to(target) : `${state.count < hops ? `ws://127.0.0.1:${serverPort()}` : target.url}/next`;
        socket.write(`HTTP/1.1 ${status} Moved\r\nLocation: ${location}\r\nContent-Length: 0\r\n\r\n`);
        return null;
      }
      socket.write(switchingProtocols(req));
      return new RawServerPeer(req, socket, head);
    });
    const serverPort = () => server.port;
    return { server, target };
  }

  scenario('a redirect without followRedirects is an unexpected response', async (scope) => {
    const { server } = await redirecting(scope);
    const { rec } = await dialAndRecord(scope, server.url);
    return rec.log;
  });

  scenario('followRedirects emits redirect and connects to the new location', async (scope) => {
    const { server, target } = await redirecting(scope);
    const { client, rec } = await dialAndRecord(scope, server.url, { followRedirects: true }, undefined, 'open');
    return { log: rec.log, url: show(client.url), reached: target.requests.length };
  });

  scenario('a redirect listener can remove a header from the next request', async (scope) => {
    const { server, target } = await redirecting(scope);
    const client = scope.client(server.url, { followRedirects: true, headers: { 'X-Custom': 'secret' } });
    const thrown: unknown[] = [];
    client.on('redirect', (_url: string, req: http.ClientRequest) => {
      thrown.push(attempt(() => req.removeHeader('x-custom')), req.headersSent);
    });
    await once(client, 'open');
    return { thrown, forwarded: target.requests[0]?.headers['x-custom'] ?? null };
  });

  for (const method of ['close', 'terminate'] as const) {
    scenario(`${method}() from a redirect listener ends with error and close`, async (scope) => {
      const { server } = await redirecting(scope);
      const client = scope.client(server.url, { followRedirects: true });
      const thrown: unknown[] = [];
      client.on('redirect', () => thrown.push(attempt(() => client[method]())));
      const rec = new Recorder().watch(client, 'client', CLIENT_EVENTS);
      await rec.waitFor('client', 'close');
      await drainTicks();
      return { thrown, log: rec.log };
    });
  }

  scenario('more redirects than maxRedirects fail', async (scope) => {
    const { server } = await redirecting(scope, 302, 5);
    const { rec } = await dialAndRecord(scope, server.url, { followRedirects: true, maxRedirects: 2 });
    return rec.log;
  });

  scenario('a redirect to an unsupported URL fails', async (scope) => {
    const { server } = await redirecting(scope, 302, 1, () => 'ftp://127.0.0.1/');
    const { rec } = await dialAndRecord(scope, server.url, { followRedirects: true });
    return rec.log;
  });

  /** `_req` (the request under way) and `_redirects` as seen right after `new` and at each event. */
  async function privateDialState(scope: Scope, url: string, options: ClientOptions) {
    const client = scope.client(url, options) as unknown as WsWebSocket & { _req: unknown; _redirects: number };
    const seen: unknown[] = [];
    const look = (when: string) => seen.push([when, client._req instanceof http.ClientRequest ? 'request' : client._req, client._redirects]);
    look('new');
    for (const event of ['redirect', 'upgrade', 'open', 'unexpected-response', 'error', 'close']) client.on(event, () => look(event));
    client.on('open', () => client.close());
    await once(client, 'close');
    await drainTicks();
    return seen;
  }

  scenario('_req and _redirects through a followed redirect', async (scope) => {
    const { server } = await redirecting(scope, 302, 2);
    return privateDialState(scope, server.url, { followRedirects: true });
  });

  scenario('_req and _redirects past maxRedirects', async (scope) => {
    const { server } = await redirecting(scope, 302, 5);
    return privateDialState(scope, server.url, { followRedirects: true, maxRedirects: 2 });
  });

  scenario('_req and _redirects on a redirect not followed', async (scope) => {
    const { server } = await redirecting(scope);
    return privateDialState(scope, server.url, {});
  });

  scenario('_req and _redirects without a redirect', async (scope) => {
    const { target } = await redirecting(scope);
    return privateDialState(scope, target.url, {});
  });

  scenario('_req and _redirects on a redirect to an unparsable URL', async (scope) => {
    const { server } = await redirecting(scope, 302, 1, () => 'ws://');
    return privateDialState(scope, server.url, { followRedirects: true });
  });

  scenario('_req and _redirects on a redirect to an unsupported URL', async (scope) => {
    const { server } = await redirecting(scope, 302, 1, () => 'ftp://127.0.0.1/');
    return privateDialState(scope, server.url, { followRedirects: true });
  });

  scenario('the error of a redirect to an unparsable URL', async (scope) => {
    const { server } = await redirecting(scope, 302, 1, () => 'ws://');
    return once(scope.client(server.url, { followRedirects: true }), 'error');
  });

  scenario("the first URL's credentials go on through a redirect to the same host", async (scope) => {
    const server = await rawServer(scope, (req, socket, head) => {
      if (server.requests.length > 1) {
        socket.write(switchingProtocols(req));
        return new RawServerPeer(req, socket, head);
      }
      socket.write(`HTTP/1.1 302 Found\r\nLocation: ws://other:secret@127.0.0.1:${server.port}/next\r\nContent-Length: 0\r\n\r\n`);
      return null;
    });
    const client = scope.client(server.url.replace('ws://', 'ws://user:pw@'), { followRedirects: true });
    await once(client, 'open');
    return { url: show(client.url), authorization: server.requests.map((req) => req.headers.authorization ?? null) };
  });

  scenario('credentials are dropped on a redirect to another Unix socket', async (scope) => {
    const dir = mkdtempSync(join(tmpdir(), 'fdx-diff-'));
    const [first, second] = [join(dir, 'a'), join(dir, 'b')];
    const seen: unknown[] = [];
    for (const path of [first, second]) {
      const server = http.createServer();
      server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket) => {
        seen.push([req.headers.authorization ?? null, req.headers.cookie ?? null, req.headers.host ?? null]);
        socket.write(path === first ? `HTTP/1.1 302 Found\r\nLocation: ws+unix:${second}\r\nContent-Length: 0\r\n\r\n` : switchingProtocols(req));
        socket.end();
      });
      await new Promise<void>((resolve) => server.listen(path, resolve));
      scope.defer(() => new Promise<void>((resolve) => server.close(() => resolve())));
    }
    const headers = { Authorization: 'Basic Zm9vOmJhcg==', Cookie: 'a=1', Host: 'foo' };
    // No 'redirect' listener: with one, the headers are the listener's to drop.
    const client = scope.client(`ws+unix:${first}`, { followRedirects: true, headers });
    return { opened: await once(client, 'open'), seen };
  });

  scenario('a redirect from wss: to ws: on the same host keeps the Host header only', async (scope) => {
    const fixtures = new URL('../fixtures/', import.meta.url);
    const tls = https.createServer({ cert: readFileSync(new URL('cert.pem', fixtures)), key: readFileSync(new URL('key.pem', fixtures)) });
    const plain = http.createServer();
    // One port for both: a TLS handshake starts with byte 22.
    const front = net.createServer({ allowHalfOpen: true }, (socket) => {
      socket.on('readable', function first() {
        socket.removeListener('readable', first);
        const byte = socket.read(1) as Buffer | null;
        if (byte === null) return;
        socket.unshift(byte);
        (byte[0] === 22 ? tls : plain).emit('connection', socket);
      });
    });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    const port = (front.address() as net.AddressInfo).port;
    const sockets: net.Socket[] = [];
    front.on('connection', (socket) => sockets.push(socket));
    scope.defer(() => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      front.close(() => resolve());
    }));
    tls.on('upgrade', (_req: http.IncomingMessage, socket: net.Socket) => {
      socket.end(`HTTP/1.1 302 Found\r\nLocation: ws://127.0.0.1:${port}/\r\nContent-Length: 0\r\n\r\n`);
    });
    const seen: unknown[] = [];
    plain.on('upgrade', (req: http.IncomingMessage, socket: net.Socket) => {
      seen.push([req.headers.authorization ?? null, req.headers.cookie ?? null, req.headers.host ?? null]);
      socket.write(switchingProtocols(req));
      socket.end();
    });
    const headers = { Authorization: 'Basic Zm9vOmJhcg==', Cookie: 'a=1', Host: 'foo' };
    const client = scope.client(`wss://127.0.0.1:${port}`, { followRedirects: true, headers, rejectUnauthorized: false });
    return { opened: await once(client, 'open'), seen };
  });

  scenario('credentials are dropped on a redirect to another host', async (scope) => {
    const { server, target } = await redirecting(scope, 302, 1, (t) => t.url.replace('127.0.0.1', 'localhost'));
    const client = scope.client(server.url.replace('ws://', 'ws://user:pw@'), { followRedirects: true, headers: { Cookie: 'a=1' } });
    await once(client, 'open');
    const first = server.requests[0]?.headers;
    const next = target.requests[0]?.headers;
    return { first: [first?.authorization, first?.cookie], next: [next?.authorization ?? null, next?.cookie ?? null] };
  });
});

describe('WebSocket client: the open socket', () => {
  scenario('_socket is the underlying socket once open', async (scope) => {
    const server = await rawServer(scope);
    const client = scope.client(server.url);
    const before = (client as unknown as { _socket?: unknown })._socket;
    await once(client, 'open');
    const socket = (client as unknown as { _socket?: net.Socket })._socket;
    return { before: before ?? null, remoteAddress: socket?.remoteAddress, hasUnref: typeof socket?.unref, isNet: socket instanceof net.Socket };
  });
});
