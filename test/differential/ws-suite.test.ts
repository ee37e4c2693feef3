/**
 * Scenarios found by running `ws`'s own test suite against fullduplex (scripts/ws-suite.mjs):
 * each is one behaviour that suite checks, run against both implementations here, so that it
 * stays the same without ws's tests in this repository.
 */
import { describe } from 'node:test';
import { openAsBlob, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Duplex } from 'node:stream';
import type { ClientOptions } from 'ws';
import { attempt, delay, once, rawServer, scenario, show, switchingProtocols, until, type Scope } from './harness.js';

const require = createRequire(import.meta.url);
const ACCESSORS = ['binaryType', 'bufferedAmount', 'extensions', 'isPaused', 'protocol', 'readyState', 'url', 'onopen', 'onmessage', 'onclose', 'onerror'];

function describeProperty(target: object, name: string): Record<string, unknown> | undefined {
  const d = Object.getOwnPropertyDescriptor(target, name);
  if (d === undefined) return undefined;
  return { enumerable: d.enumerable, configurable: d.configurable, writable: d.writable, value: d.value, get: d.get !== undefined, set: d.set !== undefined };
}

/** Status and body of a plain GET with upgrade `headers` to `port`. */
function upgradeRequest(port: number, headers: Record<string, string>): Promise<{ status: number | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port, headers: { Connection: 'Upgrade', Upgrade: 'websocket', ...headers } });
    request.on('error', reject);
    request.on('response', (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode, body }));
    });
  });
}

/** A raw server answering every upgrade with a refusal the client may read; records when its sockets close. */
async function refusingServer(scope: Scope) {
  const closed: boolean[] = [];
  const server = await rawServer(scope, (_request, socket: Duplex) => {
    const index = closed.push(false) - 1;
    socket.on('close', () => (closed[index] = true));
    socket.on('end', () => socket.end());
    socket.write('HTTP/1.1 502 Bad Gateway\r\nConnection: keep-alive\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nfoo');
    return null;
  });
  return { server, closed };
}

describe("behaviours ws's own suite checks", () => {
  scenario('the ready-state constants and the attributes as properties', async ({ impl }) => {
    const W = impl.WebSocket as unknown as object & { prototype: object };
    return {
      constants: ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'].map((name) => [describeProperty(W, name), describeProperty(W.prototype, name)]),
      accessors: ACCESSORS.map((name) => describeProperty(W.prototype, name)),
    };
  });

  scenario('events constructed as the WHATWG constructors take them', async ({ impl }) => {
    // Not on `ws`'s public surface: it keeps them in lib/event-target.js; fullduplex exports them.
    const m = impl.name === 'ws' ? require(join(dirname(require.resolve('ws')), 'lib', 'event-target.js')) : await import('../../src/index.js');
    const { Event, MessageEvent, CloseEvent, ErrorEvent } = m as Record<string, new (type: string, init?: object) => Record<string, unknown>>;
    const error = new Error('Oops');
    const made = [
      new Event!('foo'),
      new MessageEvent!('message'),
      new MessageEvent!('message', { data: 'bar' }),
      new CloseEvent!('close'),
      new CloseEvent!('close', { code: 1000, reason: 'foo', wasClean: true }),
      new ErrorEvent!('error'),
      new ErrorEvent!('error', { error, message: error.message }),
    ];
    const fields = made.map((e) => {
      const out: Record<string, unknown> = {};
      for (const key of ['type', 'target', 'data', 'code', 'reason', 'wasClean', 'message', 'error']) if (key in e) out[key] = show(e[key]);
      return out;
    });
    const prototypes = [Event!, MessageEvent!, CloseEvent!, ErrorEvent!].map((C) =>
      Object.fromEntries(Object.getOwnPropertyNames(C.prototype).filter((n) => n !== 'constructor').map((n) => [n, describeProperty(C.prototype, n)])),
    );
    return { fields, prototypes, inherits: [MessageEvent, CloseEvent, ErrorEvent].map((C) => C!.prototype instanceof Event!) };
  });

  scenario('subprotocols that are not strings throw', async ({ impl }) =>
    [null, '', 'a,b', ['a', 'a'], 42].map((protocols) => attempt(() => new impl.WebSocket('ws://127.0.0.1:1', protocols as unknown as string))),
  );

  scenario('a generateMask that fills nothing masks with zeros', async (scope) => {
    const chunks: Buffer[] = [];
    const server = await rawServer(scope, (request, socket) => {
      socket.write(switchingProtocols(request));
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      return null;
    });
    const client = scope.client(server.url, { perMessageDeflate: false, generateMask() {} } as ClientOptions);
    await once(client, 'open');
    client.send('hi');
    await until(() => Buffer.concat(chunks).length >= 8);
    return show(Buffer.concat(chunks).subarray(0, 8));
  });

  for (const [name, value] of [
    ['an unparsable Sec-WebSocket-Extensions answer', 'foo;='],
    ['an answer with an extension that was not offered', 'permessage-deflate,foo'],
  ] as const) {
    scenario(`the error for ${name}`, async (scope) => {
      const server = await rawServer(scope, (request, socket) => {
        socket.write(switchingProtocols(request, [`Sec-WebSocket-Extensions: ${value}`]));
        return null;
      });
      const client = scope.client(server.url);
      const [error] = (await once(client, 'error')) as [Error];
      return show(error);
    });
  }

  scenario('the host and port createConnection is given', async (scope) => {
    const seen: unknown[] = [];
    const client = scope.client('ws://example.invalid:22/foo', {
      createConnection: (options: { host?: string; port?: unknown }) => {
        seen.push({ host: options.host, port: options.port });
        return net.connect({ host: '127.0.0.1', port: 9 });
      },
    } as unknown as ClientOptions);
    client.on('error', () => {});
    return seen;
  });

  scenario('the answer to a request with neither key nor version', async (scope) => {
    const { port } = await scope.server();
    return upgradeRequest(port, {});
  });

  scenario('the answer to a request with a bad key and no version', async (scope) => {
    const { port } = await scope.server();
    return upgradeRequest(port, { 'Sec-WebSocket-Key': 'P5l8BJcZwRc=' });
  });

  scenario("close() in an 'unexpected-response' listener after the body was read", async (scope) => {
    const { server, closed } = await refusingServer(scope);
    const client = scope.client(server.url);
    const events: unknown[] = [];
    client.on('error', (error) => events.push(['error', show(error)]));
    client.on('close', (code) => events.push(['close', code]));
    client.on('unexpected-response', (_request, response) => {
      events.push(['unexpected-response', response.statusCode]);
      response.resume();
      response.on('end', () => client.close());
    });
    await until(() => events.length >= 3);
    // The refused handshake's socket goes too, or the server could not close.
    const socketClosed = await until(() => closed[0] === true);
    return { events, socketClosed };
  });

  scenario('Blobs sent just before close() go out before the close frame', async (scope) => {
    const { client, server } = await scope.pair({}, { perMessageDeflate: false });
    const received: string[] = [];
    server.on('message', (data) => received.push(String(data)));
    client.send(new Blob(['foo']));
    client.send(new Blob(['bar']));
    client.close();
    const closed = await once(server, 'close');
    return { received, code: Array.isArray(closed) ? closed[0] : closed };
  });

  scenario('ping and pong with a Blob', async (scope) => {
    const { client, server } = await scope.pair({}, { perMessageDeflate: false });
    const seen: unknown[] = [];
    server.on('ping', (data) => seen.push(['ping', show(data)]));
    server.on('pong', (data) => seen.push(['pong', show(data)]));
    client.ping(new Blob(['hi']) as unknown as Buffer);
    client.pong(new Blob(['yo']) as unknown as Buffer);
    await until(() => seen.length >= 2);
    const tooLong = attempt(() => client.ping(new Blob(['x'.repeat(126)]) as unknown as Buffer));
    client.close();
    await once(client, 'close');
    const before = client.bufferedAmount;
    client.ping(new Blob(['hi']) as unknown as Buffer);
    return { seen, afterClose: client.bufferedAmount - before, tooLong };
  });

  scenario('a Blob that cannot be read any more', async (scope) => {
    const blob = await unreadableBlob(scope, 'blob');
    const { server, client } = await scope.pair({}, { perMessageDeflate: false });
    const events: unknown[] = [];
    server.on('error', (error: Error) => events.push(['error', error.name, error.message]));
    server.on('close', (code) => events.push(['close', code]));
    client.on('close', (code) => events.push(['client close', code]));
    server.send(blob as unknown as Buffer, (error) => events.push(['callback', error?.name]));
    await until(() => events.length >= 4);
    return events;
  });

  scenario('the error send() throws while CONNECTING', async (scope) => {
    const server = await rawServer(scope, () => null);
    const client = scope.client(server.url);
    await delay(0);
    const thrown = (fn: () => void): string => {
      try {
        fn();
        return 'nothing';
      } catch (error) {
        return String(error);
      }
    };
    return [thrown(() => client.send('hi')), thrown(() => client.ping()), thrown(() => client.pong())];
  });

  // ------------------------------------------------------------------ the `mask` option

  scenario('a client send with mask: false fails the connection at the server', async (scope) => {
    const { server, client } = await scope.pair({}, { perMessageDeflate: false });
    const chunks: Buffer[] = [];
    (server as unknown as { _socket: Duplex })._socket.prependListener('data', (chunk: Buffer) => chunks.push(chunk));
    const serverError = once(server, 'error');
    const clientClosed = once(client, 'close');
    client.send('hi', { mask: false });
    const [error] = (await serverError) as [Error & { code?: string }];
    const [code] = (await clientClosed) as [number];
    // The server's own 'close' code is a listed difference ('the code of the server's close event after it failed a connection').
    return { error: [error.constructor.name, error.message, error.code], wire: show(Buffer.concat(chunks).subarray(0, 4)), clientClose: code };
  });

  scenario('a server send, ping or pong with mask: true fails the connection at the client', async (scope) => {
    const outcomes: unknown[] = [];
    for (const how of ['send', 'ping', 'pong'] as const) {
      const { server, client } = await scope.pair({}, { perMessageDeflate: false });
      const clientError = once(client, 'error');
      const serverClosed = once(server, 'close');
      if (how === 'send') server.send('hi', { mask: true });
      else server[how]('hi', true);
      const [error] = (await clientError) as [Error & { code?: string }];
      const [code] = (await serverClosed) as [number];
      outcomes.push({ how, error: [error.constructor.name, error.message, error.code], serverClose: code });
    }
    return outcomes;
  });

  scenario('mask: false and mask: true on what a client sends, as the wire shows them', async (scope) => {
    const server = await rawServer(scope);
    const client = scope.client(server.url, { perMessageDeflate: false });
    await once(client, 'open');
    const written: unknown[] = [];
    client.send('a', { mask: false }, (error) => written.push(['a', show(error)]));
    client.send('b', { mask: true });
    client.send(Buffer.from('c'), { mask: false, binary: true });
    client.ping('d', false, (error) => written.push(['d', show(error)]));
    client.pong('e', false);
    client.ping('f', true);
    client.send('g');
    const peer = server.peers[0]!;
    await until(() => peer.frames.length >= 7);
    return { frames: peer.shownFrames().map((f) => ({ ...(f as object), payload: undefined })), payloads: peer.frames.map((f) => f.payload.toString()), written };
  });

  // ------------------------------------------------------------------ data that does not inflate

  scenario("a compressed message that does not inflate: the error zlib gave, on the socket and on its stream", async (scope) => {
    // FIN, RSV1, binary, 4 bytes that are no DEFLATE data (zlib: "invalid stored block lengths").
    const frame = Buffer.from([0xc2, 0x04, 0x22, 0xfa, 0xec, 0x78]);
    const seen: unknown[] = [];
    for (const viaStream of [false, true]) {
      const { server, client } = await scope.pair({ perMessageDeflate: true });
      const emitter = viaStream ? scope.impl.createWebSocketStream(client) : client;
      const failed = once(emitter, 'error');
      const serverClosed = once(server, 'close');
      (server as unknown as { _socket: Duplex })._socket.write(frame);
      const [error] = (await failed) as [Error & { code?: string; errno?: number }];
      const [code] = (await serverClosed) as [number];
      seen.push({ viaStream, error: [error.constructor.name, error.message, error.code, error.errno], serverClose: code });
    }
    return seen;
  });

  // ------------------------------------------------------------------ Blobs and the end of a connection

  scenario('terminate() while a Blob is read: its callback and those of the sends behind it', async (scope) => {
    const { client, server } = await scope.pair({}, { perMessageDeflate: false });
    const called: unknown[] = [];
    const received: string[] = [];
    server.on('message', (data) => received.push(String(data)));
    const record = (which: string) => (error?: Error) => called.push([which, client.readyState, error instanceof Error, error?.message]);
    client.send(new Blob(['foo']) as unknown as Buffer, record('blob'));
    client.send('bar');
    client.send('baz', record('baz'));
    client.ping('qux', undefined, record('ping'));
    client.terminate();
    await until(() => called.length >= 3);
    await once(server, 'close');
    return { called, received };
  });

  for (const [behind, hex, deflate] of [
    ['', '8500', false],
    [' behind compressed messages', 'c10100'.repeat(5) + '8500', true],
  ] as const) {
    scenario(`a bad frame${behind} while an unreadable Blob is read: the one error`, async (scope) => {
      const file = join(tmpdir(), `fdx-blob-${process.pid}-${scope.impl.name}-${deflate}.txt`);
      writeFileSync(file, 'x'.repeat(64));
      scope.defer(() => rmSync(file, { force: true }));
      const blob = await openAsBlob(file);
      writeFileSync(file, 'x'.repeat(32));
      const { wss, url } = await scope.server({ perMessageDeflate: deflate });
      wss.on('connection', (ws) => (ws as unknown as { _socket: Duplex })._socket.write(Buffer.from(hex, 'hex')));
      const client = scope.client(url);
      const errors: unknown[] = [];
      client.on('open', () => client.send(blob as unknown as Buffer));
      client.on('error', (error: Error) => errors.push([error.name, error.message]));
      await once(client, 'close');
      return errors;
    });
  }

  scenario('a ping with a Blob that cannot be read any more', async (scope) => {
    const blob = await unreadableBlob(scope, 'blob-ping');
    const { server, client } = await scope.pair({}, { perMessageDeflate: false });
    const events: unknown[] = [];
    client.on('error', (error: Error) => events.push(['error', error.name]));
    client.on('close', (code) => events.push(['close', code]));
    server.on('close', (code) => events.push(['server close', code]));
    client.ping(blob as unknown as Buffer, undefined, (error) => events.push(['callback', error?.name]));
    client.send('behind', (error) => events.push(['send callback', error?.name]));
    await until(() => events.length >= 5);
    return events;
  });

  scenario('wss._server: the HTTP server used while running, null once closing', async (scope) => {
    type WithServer = { _server: http.Server | null; address(): AddressInfo };
    const { wss } = await scope.server();
    const own = wss as unknown as WithServer;
    const running = { isServer: own._server instanceof http.Server, samePort: own._server?.address() !== null && (own._server?.address() as AddressInfo).port === own.address().port };
    const given = http.createServer();
    scope.defer(() => given.close());
    const onGiven = new scope.impl.WebSocketServer({ server: given }) as unknown as WithServer & { close(cb?: () => void): void };
    const givenIsKept = onGiven._server === given;
    const closed = new Promise<void>((resolve) => wss.close(() => resolve()));
    const whileClosing = own._server;
    await closed;
    onGiven.close();
    return { running, givenIsKept, whileClosing, afterClose: own._server, givenAfterClose: onGiven._server };
  });
});

/** A file-backed Blob whose file changed after it was opened, so reading it fails. */
async function unreadableBlob(scope: Scope, tag: string): Promise<Blob> {
  const file = join(tmpdir(), `fdx-${tag}-${process.pid}-${scope.impl.name}.txt`);
  writeFileSync(file, 'x'.repeat(64));
  scope.defer(() => rmSync(file, { force: true }));
  const blob = await openAsBlob(file);
  writeFileSync(file, 'x'.repeat(32));
  return blob;
}
