/**
 * The real-time layer over HTTP/2 (RFC 8441): mountRealtime on an h2c server, two clients whose
 * WebSockets share one HTTP/2 session, subscribe, publish, presence, and recovery after the
 * session drops. The layer sees only Transports, so nothing in it knows which HTTP carried them.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { WebSocket } from '../../src/index.js';
import { MemoryEngine, mountRealtime, RealtimeServer } from '../../src/realtime.js';
import { createClient } from '../../src/client.js';
import { until } from './loopback.js';

/** Our WebSocket with `http2: true`: the class the real-time client is given. */
class Http2WebSocket extends WebSocket {
  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols, { http2: true });
  }
}

describe('the real-time layer over HTTP/2', () => {
  it('subscribes, publishes, shows presence and recovers across a dropped session', async () => {
    const server = http2.createServer({ settings: { enableConnectProtocol: true } });
    const sessions = new Set<http2.ServerHttp2Session>();
    server.on('session', (session) => {
      sessions.add(session);
      session.on('close', () => sessions.delete(session));
    });
    const connects: string[] = [];
    server.on('stream', (_stream, headers) => connects.push(`${headers[':method']} ${headers[':protocol']} ${headers[':path']}`));
    const realtime = new RealtimeServer<any, any, any>({
      engine: new MemoryEngine(),
      authenticate: ({ token }) => token,
      presence: (channel) => channel === 'room',
    });
    const wss = mountRealtime(realtime, { server: server as never, path: '/rt', pingIntervalMs: 0 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/rt`;
    const options = { WebSocket: Http2WebSocket as never, minDelayMs: 20, maxDelayMs: 200 };
    const ada = createClient(url, { ...options, token: 'ada' });
    const bob = createClient(url, { ...options, token: 'bob' });
    after(async () => {
      ada.close();
      bob.close();
      await realtime.close();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      for (const session of sessions) session.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    const got: unknown[] = [];
    ada.subscribe('room', (data) => void got.push(data));
    bob.subscribe('room', () => undefined);
    const presence = ada.presence('room');
    await until(() => ada.position('room') !== undefined && bob.position('room') !== undefined, 5000, 'both subscriptions');
    await until(() => presence.count === 2, 5000, 'both members in presence');
    assert.deepEqual([...presence.members.keys()].sort(), ['ada', 'bob']);
    assert.equal(sessions.size, 1, 'both WebSockets ride one HTTP/2 session');
    assert.ok(connects.every((line) => line === 'CONNECT websocket /rt'), connects.join(', '));

    await bob.publish('room', 1);
    await until(() => got.length === 1, 5000, 'the first publication');

    // The session drops; what is published meanwhile is recovered from ada's position.
    for (const session of sessions) session.destroy();
    await until(() => ada.state !== 'connected', 5000, 'the drop');
    await realtime.publish('room', 2);
    await until(() => got.length === 2 && ada.state === 'connected', 10_000, 'the missed publication');
    assert.deepEqual(got, [1, 2]);
  });
});
