/**
 * The real-time server and client through real sockets: fullduplex/realtime mounted on an HTTP
 * server with our WebSocketServer, fullduplex/client over our WebSocket.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket, WebSocketServer } from '../../src/index.js';
import { MemoryEngine, RealtimeError, type StandardSchemaV1 } from '../../src/realtime.js';
import { connectClient, startLoopback, until, type Loopback } from './loopback.js';

type ToServer = {
  add: (data: { a: number; b: number }) => number;
  shout: (text: string) => string;
};
type ToClient = {
  confirm: (question: string) => boolean;
  notice: (text: string) => void;
};

const numbers: StandardSchemaV1<unknown, { a: number; b: number }> = {
  '~standard': {
    version: 1,
    vendor: 'test',
    validate: (v: any) => (typeof v?.a === 'number' && typeof v?.b === 'number' ? { value: v } : { issues: [{ message: 'a and b must be numbers' }] }),
  },
};

const servers: Loopback<any, any>[] = [];
const clients: { close(): void }[] = [];
after(async () => {
  for (const c of clients) c.close();
  for (const s of servers) await s.stop().catch(() => undefined);
});

async function serve(options: Parameters<typeof startLoopback>[0] = {}): Promise<Loopback<ToServer, ToClient>> {
  const loop = await startLoopback<ToServer, ToClient>({
    ...options,
    setup: (rt) => {
      rt.on('add', ({ a, b }) => a + b, { schema: numbers });
      rt.on('shout', (text) => String(text).toUpperCase());
      options.setup?.(rt as never);
    },
  });
  servers.push(loop);
  return loop;
}

function client(url: string, options: Parameters<typeof connectClient>[1] = {}) {
  const c = connectClient<ToServer, ToClient>(url, options);
  clients.push(c);
  return c;
}

describe('real-time loopback', () => {
  it('subscribes, publishes and receives, with typed requests both ways', async () => {
    const loop = await serve();
    const a = client(loop.url);
    const b = client(loop.url);
    const got: unknown[] = [];
    b.subscribe('room', (data) => got.push(data));
    await until(() => b.state === 'connected' && b.position('room') !== undefined, 5000, 'b subscribed');
    const published = await a.publish('room', { text: 'hi' });
    assert.equal(published.offset, '1');
    await until(() => got.length === 1);
    assert.deepEqual(got, [{ text: 'hi' }]);
    assert.equal(await a.request('add', { a: 2, b: 3 }), 5);
    await assert.rejects(a.request('add', { a: 'x' } as never), { code: 'INVALID_PAYLOAD' });
    assert.equal(await a.request('shout', 'hey'), 'HEY');

    b.handle('confirm', (q) => q === 'ok?');
    const connection = loop.realtime.connections.get(b.id)!;
    assert.equal(await connection.request('confirm', 'ok?'), true);
    const notices: string[] = [];
    a.handle('notice', (text) => void notices.push(text));
    loop.realtime.broadcast('notice', 'to all', { except: connection });
    await until(() => notices.length === 1);
    assert.deepEqual(notices, ['to all']);
  });

  it('frames a channel publication and a broadcast once for all the connections they go to', async () => {
    const loop = await serve();
    const subscribers = [client(loop.url), client(loop.url), client(loop.url)];
    const got: unknown[][] = subscribers.map(() => []);
    const events: string[] = [];
    subscribers.forEach((c, i) => {
      c.subscribe('room', (data) => got[i]!.push(data));
      c.handle('notice', (text) => void events.push(text));
    });
    await until(() => subscribers.every((c) => c.position('room') !== undefined), 5000, 'all subscribed');
    const prepare = loop.wss.prepare;
    const prepared: unknown[] = [];
    loop.wss.prepare = function (this: WebSocketServer, ...args: Parameters<WebSocketServer['prepare']>) {
      prepared.push(args[0]);
      return prepare.apply(this, args);
    };
    try {
      await loop.realtime.publish('room', { text: 'once' });
      await until(() => got.every((g) => g.length === 1), 5000, 'every subscriber got it');
      loop.realtime.broadcast('notice', 'to all');
      await until(() => events.length === 3, 5000, 'every connection got the broadcast');
    } finally {
      loop.wss.prepare = prepare;
    }
    for (const g of got) assert.deepEqual(g, [{ text: 'once' }]);
    assert.equal(prepared.length, 2);
    assert.match(String(prepared[0]), /^\{"type":"pub","channel":"room",/);
    assert.equal(JSON.parse(String(prepared[1])).event, 'notice');
  });

  it('recovers what was published while the server was down, in order, once', async () => {
    const loop = await serve();
    const c = client(loop.url);
    const got: number[] = [];
    const recovery: boolean[] = [];
    c.on('subscribed', (_channel, recovered) => recovery.push(recovered));
    c.subscribe('feed', (n) => got.push(n));
    await until(() => recovery.length === 1);
    for (let i = 1; i <= 3; i++) await loop.realtime.publish('feed', i);
    await until(() => got.length === 3);
    await loop.crash();
    await until(() => c.state !== 'connected');
    // Published by another process sharing the engine while this one is down.
    for (let i = 4; i <= 6; i++) await loop.realtime.engine.publish('feed', i);
    await loop.restart();
    await until(() => recovery.length === 2, 5000, 'resubscribed');
    await loop.realtime.publish('feed', 7);
    await until(() => got.length === 7);
    assert.deepEqual(got, [1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(recovery, [true, true]);
  });

  it('reports recovered: false when the engine lost the history', async () => {
    const loop = await serve();
    const c = client(loop.url);
    const recovery: boolean[] = [];
    c.on('subscribed', (_channel, recovered) => recovery.push(recovered));
    c.subscribe('feed', () => {});
    await until(() => recovery.length === 1);
    await loop.realtime.publish('feed', 1);
    await until(() => c.position('feed')?.offset === '1');
    await loop.crash();
    await loop.restart({ engine: new MemoryEngine() });
    await until(() => recovery.length === 2, 5000, 'resubscribed');
    assert.deepEqual(recovery, [true, false]);
  });

  it('sends publications made while offline once, after reconnecting', async () => {
    const loop = await serve();
    const watcher = client(loop.url);
    const seen: string[] = [];
    watcher.subscribe('box', (d) => seen.push(d));
    const c = client(loop.url);
    await until(() => c.state === 'connected' && watcher.position('box') !== undefined);
    await loop.crash();
    await until(() => c.state === 'disconnected');
    const sent = [c.publish('box', 'a'), c.publish('box', 'b')];
    await loop.restart();
    const results = await Promise.all(sent);
    assert.deepEqual(results.map((r) => r.offset), ['1', '2']);
    await until(() => seen.length === 2);
    assert.deepEqual(seen, ['a', 'b']);
  });

  it('refuses bad credentials: the client stops with UNAUTHORIZED', async () => {
    const loop = await serve({
      authenticate: ({ token }) => {
        if (token !== 'secret') throw new RealtimeError('UNAUTHORIZED', 'wrong token');
        return { user: 'ada' };
      },
    });
    const errors: string[] = [];
    const bad = client(loop.url, { token: 'nope' });
    bad.on('error', (e) => errors.push(e.code));
    await until(() => bad.state === 'closed');
    assert.deepEqual(errors, ['UNAUTHORIZED']);
    const good = client(loop.url, { token: async () => 'secret' });
    await until(() => good.state === 'connected');
    assert.deepEqual(loop.realtime.connections.get(good.id)?.data, { user: 'ada' });
  });

  it('authenticates from the upgrade request, and mounts beside a plain WebSocketServer on one HTTP server', async () => {
    const loop = await serve({
      authenticate: ({ request }) => {
        const url = new URL((request as { url: string }).url, 'http://x');
        if (url.searchParams.get('ticket') !== 'abc') throw new RealtimeError('UNAUTHORIZED', 'no ticket');
        return { ticket: 'abc' };
      },
    });
    const plain = new WebSocketServer({ server: loop.wss.options.server!, path: '/plain' });
    plain.on('connection', (ws) => ws.on('message', (data) => ws.send(`echo ${data}`)));
    try {
      const c = client(`${loop.url}?ticket=abc`);
      await until(() => c.state === 'connected');
      assert.deepEqual(loop.realtime.connections.get(c.id)?.data, { ticket: 'abc' });
      const refused = client(loop.url);
      await until(() => refused.state === 'closed');

      const ws = new WebSocket(`ws://127.0.0.1:${loop.port}/plain`);
      const echoed = await new Promise<string>((resolve) => {
        ws.on('open', () => ws.send('hi'));
        ws.on('message', (data) => resolve(String(data)));
      });
      assert.equal(echoed, 'echo hi');
      ws.close();
    } finally {
      await new Promise<void>((resolve) => plain.close(() => resolve()));
    }
  });

  it('closes with 4501 a WebSocket client that does not offer fdx.v1', async () => {
    const loop = await serve();
    const ws = new WebSocket(loop.url);
    const code = await new Promise<number>((resolve) => ws.on('close', (c) => resolve(c)));
    assert.equal(code, 4501);
  });

  it('drains: clients move to the next server without losing a publication', async () => {
    const loop = await serve({ drainTimeoutMs: 1000 });
    const cs = [client(loop.url), client(loop.url), client(loop.url)];
    const got = cs.map(() => [] as number[]);
    const drains = cs.map(() => 0);
    cs.forEach((c, i) => {
      c.subscribe('d', (n) => got[i]!.push(n));
      c.on('drain', () => drains[i]!++);
    });
    await until(() => cs.every((c) => c.position('d') !== undefined));
    await loop.realtime.publish('d', 1);
    const stopping = loop.drainAndStop(300);
    const pending = cs[0]!.publish('d', 2);
    await stopping;
    await loop.restart();
    await pending;
    await loop.realtime.publish('d', 3);
    await until(() => got.every((g) => g.length === 3), 5000, 'all three publications everywhere');
    for (const g of got) assert.deepEqual(g, [1, 2, 3]);
    assert.deepEqual(drains, [1, 1, 1]);
  });
});
