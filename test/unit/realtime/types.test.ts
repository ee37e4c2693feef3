/**
 * Typed events: one event map per direction gives both ends compile-time types for payloads and
 * replies. The `@ts-expect-error` lines are checked by `npm run lint` (tsc fails if any of them
 * compiles); the test itself checks that the typed calls run.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { RealtimeServer } from '../../../src/realtime/server/realtime-server.js';
import { createClient } from '../../../src/realtime/client/realtime-client.js';
import { FakeClock } from '../../support/fake-clock.js';

type ToServer = {
  'chat:send': (data: { text: string }) => { id: number };
  ping: (data: null) => 'pong';
};
type ToClient = {
  confirm: (question: string) => boolean;
};

it('types payloads and replies on both ends from the event maps', async () => {
  const server = new RealtimeServer<ToServer, ToClient, { user: string }>({ clock: new FakeClock() });
  server.on('chat:send', (data, connection) => {
    const text: string = data.text;
    const user: string = connection.data.user;
    return { id: text.length + user.length };
  });
  // @ts-expect-error the reply must be { id: number }
  server.on('chat:send', () => ({ id: 'x' }));
  // @ts-expect-error no such event in the map
  server.on('chat:delete', () => null);

  class NoSocket {
    protocol = '';
    onopen = null;
    onmessage = null;
    onclose = null;
    onerror = null;
    send(): void {}
    close(): void {}
  }
  const client = createClient<ToServer, ToClient>('ws://nowhere/rt', { WebSocket: NoSocket, clock: new FakeClock(), maxOutbox: 0 });
  const reply: Promise<{ id: number }> = client.request('chat:send', { text: 'hi' });
  await assert.rejects(reply, { code: 'OUTBOX_FULL' });
  // @ts-expect-error the payload must be { text: string }
  void client.request('chat:send', { text: 1 }).catch(() => {});
  // @ts-expect-error no such event in the map
  void client.request('chat:nope', null).catch(() => {});
  client.handle('confirm', (question) => question.length > 0);
  // @ts-expect-error the handler must return a boolean
  client.handle('confirm', () => 'yes');
  client.close();
});
