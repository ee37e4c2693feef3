/**
 * The real-time server's Observer port, with a recording observer on a fake clock and fake
 * transports: what it is told (publications, engine refusals, recoveries, request timeouts on
 * both sides), the gauges it reads, and that it stops reading them once the server closed.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryEngine } from '../../../src/realtime/memory-engine.js';
import type { RealtimeGauges, RealtimeObserver } from '../../../src/realtime/observer.js';
import { RealtimeServer } from '../../../src/realtime/server/realtime-server.js';
import { RealtimeError } from '../../../src/realtime/realtime-error.js';
import { FakeClock, settle } from '../../support/fake-clock.js';
import { FakeTransport } from './fakes.js';

function recording(): { observer: RealtimeObserver; events: string[]; read: () => RealtimeGauges; stopped: () => boolean } {
  const events: string[] = [];
  let reader: (() => RealtimeGauges) | null = null;
  let stopped = false;
  const observer: RealtimeObserver = {
    published: (channel) => events.push(`published ${channel}`),
    publishFailed: (channel, code) => events.push(`failed ${channel} ${code}`),
    recovery: (channel, recovered) => events.push(`recovery ${channel} ${recovered}`),
    ackTimedOut: (side) => events.push(`timeout ${side}`),
    gauges: (read) => {
      reader = read;
      return () => {
        stopped = true;
      };
    },
  };
  return { observer, events, read: () => reader!(), stopped: () => stopped };
}

describe('RealtimeServer and its observer', () => {
  it('tells of publications (not duplicates), recoveries hit and miss, and reads the gauges', async () => {
    const clock = new FakeClock();
    const { observer, events, read, stopped } = recording();
    const server = new RealtimeServer<any, any, any>({ clock, engine: new MemoryEngine({ clock }), observer });
    const t = new FakeTransport();
    server.accept(t);
    t.receive({ type: 'connect', id: 0 });
    t.receive({ type: 'subscribe', id: 1, channel: 'a' });
    await settle();
    t.receive({ type: 'publish', id: 2, channel: 'a', data: 1, key: 'k' });
    t.receive({ type: 'publish', id: 3, channel: 'a', data: 1, key: 'k' }); // a duplicate
    await settle();
    const epoch = t.take().find((m) => m.id === 1).result.position.epoch;
    t.receive({ type: 'subscribe', id: 4, channel: 'b', since: { offset: '0', epoch: 'gone' } });
    t.receive({ type: 'subscribe', id: 5, channel: 'a', since: { offset: '0', epoch } });
    await settle();
    assert.deepEqual(events, ['published a', 'recovery b false', 'recovery a true']);
    const gauges = read();
    gauges.busiest.sort((x, y) => x.channel.localeCompare(y.channel));
    assert.deepEqual(gauges, { connections: 1, channels: 2, subscriptions: 2, busiest: [{ channel: 'a', subscribers: 1 }, { channel: 'b', subscribers: 1 }] });
    await server.close();
    assert.ok(stopped());
  });

  it('tells of an engine refusal with its code, and of timed-out requests on both sides', async () => {
    const clock = new FakeClock();
    const { observer, events } = recording();
    const engine = new MemoryEngine({ clock });
    engine.publish = async () => {
      throw new Error('down');
    };
    const server = new RealtimeServer<any, any, any>({ clock, engine, observer, requestTimeoutMs: 1000 });
    server.on('slow', () => new Promise(() => {}));
    const t = new FakeTransport();
    server.accept(t);
    t.receive({ type: 'connect', id: 0 });
    await settle();
    await assert.rejects(server.publish('a', 1), (error: RealtimeError) => error.code === 'UNAVAILABLE');
    const connection = [...server.connections.values()][0]!;
    const unanswered = assert.rejects(connection.request('ask', {}), { code: 'TIMEOUT' });
    t.receive({ type: 'event', id: 7, event: 'slow', data: null });
    await settle();
    await clock.advance(1000);
    await unanswered;
    await settle();
    assert.deepEqual(events.sort(), ['failed a UNAVAILABLE', 'timeout client', 'timeout handler']);
    await server.close();
  });

  it('tells the member count of a presence channel at each tick that changed it, and 0 when its last local subscriber left', async () => {
    const clock = new FakeClock();
    const counts: string[] = [];
    const observer: RealtimeObserver = { presence: (channel, members) => counts.push(`${channel} ${members}`) };
    const server = new RealtimeServer<any, any, any>({
      clock,
      observer,
      presenceTickMs: 100,
      authenticate: ({ token }) => ({ user: token }),
      presence: (channel) => channel === 'room',
    });
    const join = async (user: string, id: number): Promise<FakeTransport> => {
      const t = new FakeTransport();
      server.accept(t);
      t.receive({ type: 'connect', id: 0, token: user });
      await settle();
      t.receive({ type: 'subscribe', id, channel: 'room' });
      await settle();
      return t;
    };
    const ada = await join('ada', 1);
    const bob = [await join('bob', 1), await join('bob', 1)]; // two tabs: one member
    await clock.advance(100);
    await settle();
    assert.deepEqual(counts, ['room 2']);
    ada.close(1000, '');
    await settle();
    await clock.advance(100);
    await settle();
    assert.deepEqual(counts, ['room 2', 'room 1']);
    for (const t of bob) t.close(1000, '');
    await settle();
    assert.deepEqual(counts, ['room 2', 'room 1', 'room 0'], 'the last one out: the channel is no longer counted here');
    await server.close();
  });
});

