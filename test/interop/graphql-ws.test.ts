/**
 * graphql-ws, a library written for `ws`, runs unchanged on fullduplex: its server adapter
 * (graphql-ws/use/ws) on our WebSocketServer, and its client with our WebSocket as
 * `webSocketImpl`, each also crossed with the `ws` counterpart.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { GraphQLInt, GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocket as WsWebSocket, WebSocketServer as WsServer } from 'ws';
import { WebSocket, WebSocketServer } from '../../src/index.js';
import { startServer } from '../support/servers.js';
import { Inbox, within } from './inbox.js';

const GRAPHQL_TRANSPORT_WS = 'graphql-transport-ws';
/** graphql-ws pings this often and drops a client whose pong is this late; short, yet far above loopback latency. */
const KEEP_ALIVE_MS = 1000;

const schema = new GraphQLSchema({
  query: new GraphQLObjectType({
    name: 'Query',
    fields: {
      hello: { type: new GraphQLNonNull(GraphQLString), resolve: () => 'world' },
      greet: {
        type: new GraphQLNonNull(GraphQLString),
        args: { name: { type: new GraphQLNonNull(GraphQLString) } },
        resolve: (_root, args: { name: string }) => `hi ${args.name} ✓`,
      },
    },
  }),
  subscription: new GraphQLObjectType({
    name: 'Subscription',
    fields: {
      count: {
        type: new GraphQLNonNull(GraphQLInt),
        subscribe: async function* () {
          for (let n = 1; n <= 3; n++) yield { count: n };
        },
      },
    },
  }),
});

type ServerSocket = { protocol: string; on(event: string, listener: (...args: any[]) => void): unknown };
type Accepted = { protocol: string; closed: Promise<{ code: number; reason: string }>; pongs: Inbox<true> };

/** Records what the server side sees of each connection graphql-ws serves. */
function watch(server: { on(event: 'connection', listener: (socket: any) => void): unknown }, inbox: Inbox<Accepted>): void {
  server.on('connection', (socket: ServerSocket) => {
    const pongs = new Inbox<true>('server pongs');
    socket.on('pong', () => pongs.push(true));
    const closed = new Promise<{ code: number; reason: string }>((resolve) => {
      socket.on('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() }));
    });
    inbox.push({ protocol: socket.protocol, closed, pongs });
  });
}

function client(url: string, impl: unknown): Client {
  // Not lazy: one connection carries the whole scenario until dispose().
  return createClient({ url, webSocketImpl: impl, lazy: false, retryAttempts: 0, onNonLazyError: () => undefined });
}

async function query(c: Client, source: string): Promise<unknown> {
  const results: unknown[] = [];
  for await (const result of c.iterate({ query: source })) results.push(result);
  return results;
}

async function runScenario(url: string, impl: unknown, accepted: Inbox<Accepted>): Promise<void> {
  const c = client(url, impl);
  try {
    assert.deepEqual(await within(query(c, '{ hello }'), 10_000, 'query'), [{ data: { hello: 'world' } }]);
    const connection = await accepted.next(10_000);
    assert.equal(connection.protocol, GRAPHQL_TRANSPORT_WS);
    assert.deepEqual(await within(query(c, '{ greet(name: "fdx") }'), 10_000, 'query with arguments'), [
      { data: { greet: 'hi fdx ✓' } },
    ]);
    assert.deepEqual(await within(query(c, 'subscription { count }'), 10_000, 'subscription'), [
      { data: { count: 1 } },
      { data: { count: 2 } },
      { data: { count: 3 } },
    ]);
    // graphql-ws's keep-alive pings (socket.ping / once('pong')) are answered; the link stays up.
    await connection.pongs.next(10_000);
    assert.deepEqual(await within(query(c, '{ hello }'), 10_000, 'query after keep-alive'), [{ data: { hello: 'world' } }]);
    // A validation error travels back as graphql-ws's error message.
    await assert.rejects(within(query(c, '{ nope }'), 10_000, 'invalid query'), (errors: unknown) => {
      assert.ok(Array.isArray(errors), 'graphql-ws reports GraphQL errors as an array');
      assert.match((errors as Array<{ message: string }>)[0]!.message, /Cannot query field "nope" on type "Query"/);
      return true;
    });
    await c.dispose();
    assert.deepEqual(await within(connection.closed, 10_000, 'server close event'), { code: 1000, reason: 'Normal Closure' });
    assert.equal(accepted.size, 0, 'one connection served the whole scenario');
  } finally {
    await c.dispose();
  }
}

describe('graphql-ws on a fullduplex WebSocketServer', () => {
  let wss: WebSocketServer;
  let url = '';
  let dispose: () => Promise<void> = async () => undefined;
  const accepted = new Inbox<Accepted>('fullduplex graphql connections');

  before(async () => {
    ({ wss, url } = await startServer());
    watch(wss, accepted);
    // The ws typings name ws's class; the adapter only uses the API both share.
    const server = useServer({ schema }, wss as unknown as WsServer, KEEP_ALIVE_MS);
    dispose = () => within(Promise.resolve(server.dispose()), 10_000, 'graphql-ws dispose');
  });
  after(() => dispose());

  it('serves a query and a subscription to graphql-ws\'s client on a fullduplex WebSocket', { timeout: 30_000 }, async () => {
    await runScenario(url, WebSocket, accepted);
  });

  it('serves a query and a subscription to graphql-ws\'s client on a ws WebSocket', { timeout: 30_000 }, async () => {
    await runScenario(url, WsWebSocket, accepted);
  });
});

describe('graphql-ws client on a fullduplex WebSocket against a ws server', () => {
  let wss: WsServer;
  let url = '';
  let dispose: () => Promise<void> = async () => undefined;
  const accepted = new Inbox<Accepted>('ws graphql connections');

  before(async () => {
    wss = new WsServer({ port: 0, host: '127.0.0.1' });
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', reject);
    });
    url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
    watch(wss, accepted);
    const server = useServer({ schema }, wss, KEEP_ALIVE_MS);
    dispose = () => within(Promise.resolve(server.dispose()), 10_000, 'graphql-ws dispose');
  });
  after(() => dispose());

  it('runs a query and a subscription to completion', { timeout: 30_000 }, async () => {
    await runScenario(url, WebSocket, accepted);
  });
});
