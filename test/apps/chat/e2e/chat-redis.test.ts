/**
 * The chat as two processes sharing one Redis, as `npm start -- --redis URL` runs it: two
 * children of this test through the real command line, each with its own data folder, on a
 * private redis-server. Messages, presence (typing too) and history are one chat over both; a
 * killed process's members leave the other's view within the presence ttl and a third; history
 * survives a restart of every process (it lives in Redis). Every child is killed by PID.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { LIMITS } from '../../../../apps/chat/server.js';
import { ChatClient, waitUntil } from '../chat-client.js';
import { openChat, say, shownMessages, waitForMessageText, waitForPeople, waitForText } from '../chat-page.js';
import { DemoProcesses, type DemoProcess } from '../../demo-processes.js';
import { launchBrowser, newPerson, screenshot } from '../../demo-browser.js';

const processes = new DemoProcesses();
let a: DemoProcess;
let b: DemoProcess;
let browser: Browser;

before(async () => {
  await processes.start();
  [a, b] = await Promise.all([processes.spawn(), processes.spawn()]);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await processes.stop();
});

const present = (client: ChatClient, room: string, name: string): boolean => (client.presence[room] ?? []).some((member) => member.name === name);

describe('two chat processes sharing Redis', () => {
  test('clients on either process share messages, presence and history; the history outlives both processes', async () => {
    const ada = await ChatClient.connect(`${a.url}chat/`, 'Ada', ['general', 'tech']);
    const bob = await ChatClient.connect(`${b.url}chat/`, 'Bob', ['general', 'tech']);
    try {
      await ada.enter('general');
      await bob.enter('general');
      await waitUntil(() => present(ada, 'general', 'Bob') && present(bob, 'general', 'Ada'), 'each sees the other in #general');

      await bob.send('general', 'hello from B');
      await waitUntil(() => ada.texts('general').includes('hello from B'), 'A got B');
      await ada.send('general', 'hello from A');
      await waitUntil(() => bob.texts('general').includes('hello from A'), 'B got A');
      await bob.send('tech', 'only in tech');
      await waitUntil(() => ada.texts('tech').includes('only in tech'), 'A got #tech');
      assert.deepEqual(ada.texts('general'), ['hello from B', 'hello from A'], 'each once, in order');

      // Typing on one process shows on the other.
      await bob.typing(true);
      await waitUntil(() => ada.presence.general?.find((member) => member.name === 'Bob')?.typing === true, 'A sees Bob typing');

      // Bob's process dies (no goodbye): his presence expires from A's view, well within the
      // store's ttl + ttl/3 + a tick, while Ada stays listed.
      const killedAt = Date.now();
      await b.child.stop('SIGKILL');
      await waitUntil(() => !present(ada, 'general', 'Bob'), 'Bob gone from A', LIMITS.presenceTtlMs * 2);
      const goneAfterMs = Date.now() - killedAt;
      assert.ok(goneAfterMs <= (LIMITS.presenceTtlMs * 4) / 3 + 2000, `Bob gone after ${goneAfterMs} ms`);
      assert.ok(present(ada, 'general', 'Ada'));
    } finally {
      ada.close();
      bob.close();
    }

    // Every process restarts: the history is still there, in order.
    await a.child.stop('SIGTERM');
    [a, b] = await Promise.all([processes.spawn(), processes.spawn()]);
    const cleo = await ChatClient.connect(`${b.url}chat/`, 'Cleo', ['general']);
    try {
      const { history } = (await cleo.client.request('chat:history', { room: 'general' })) as { history: Array<{ name: string; text: string }> };
      assert.deepEqual(history.map((line) => [line.name, line.text]), [
        ['Bob', 'hello from B'],
        ['Ada', 'hello from A'],
      ]);
    } finally {
      cleo.close();
    }
  });

  test('tabs served by different processes chat in one room and see each other', async (t) => {
    const pia = await openChat(await newPerson(browser), `${a.url}chat/`, 'Pia', 'games');
    const quinn = await openChat(await newPerson(browser), `${b.url}chat/`, 'Quinn', 'games');
    try {
      await waitForPeople(pia, ['Pia (you)', 'Quinn']);
      await waitForPeople(quinn, ['Pia', 'Quinn (you)']);
      await say(pia, 'typed on the page from A');
      await waitForMessageText(quinn, 'typed on the page from A');
      await say(quinn, 'typed on the page from B');
      await waitForMessageText(pia, 'typed on the page from B');
      await quinn.type('#text', 'a');
      await waitForText(pia, '#typing', 'Quinn is typing…');
      await quinn.fill('#text', '');
      await quinn.type('#text', 'b');
      await quinn.press('#text', 'Backspace');
      await waitForText(pia, '#typing', '');
      assert.deepEqual(await shownMessages(pia), [
        { name: 'Pia', text: 'typed on the page from A', mine: true },
        { name: 'Quinn', text: 'typed on the page from B', mine: false },
      ]);
      t.diagnostic(`screenshot: ${await screenshot(pia, 'chat', 'two-processes')}`);
    } finally {
      await pia.context().close();
      await quinn.context().close();
    }
  });
});
