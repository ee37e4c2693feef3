import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from '../../../src/index.js';
import { startEchoServer, stopServer } from '../../support/servers.js';

describe('browser API', () => {
  it('supports on* attributes and addEventListener like a browser WebSocket', async () => {
    const { wss, url } = await startEchoServer();
    after(() => stopServer(wss));
    const ws = new WebSocket(url);
    const seen: string[] = [];
    ws.onopen = () => {
      seen.push('open');
      ws.send('hi');
    };
    const listener = (event: { data: unknown }) => seen.push(`listener:${String(event.data)}`);
    ws.addEventListener('message', listener);
    ws.addEventListener('message', listener); // the same listener is added once
    const done = new Promise<{ code: number; reason: string; wasClean: boolean }>((resolve) => {
      ws.onmessage = (event: { data: unknown }) => {
        seen.push(`onmessage:${typeof event.data}:${String(event.data)}`);
        ws.close(1000, 'bye');
      };
      ws.onclose = (event: { code: number; reason: string; wasClean: boolean }) => resolve(event);
    });
    const event = await done;
    assert.deepEqual(seen, ['open', 'listener:hi', 'onmessage:string:hi']);
    assert.equal(event.code, 1000);
    assert.equal(event.reason, 'bye');
    assert.equal(event.wasClean, true);
    assert.equal(typeof ws.onmessage, 'function');
    ws.removeEventListener('message', listener);
    assert.equal(ws.listenerCount('message'), 1);
  });
});
