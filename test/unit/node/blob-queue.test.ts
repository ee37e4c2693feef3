import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BlobQueue } from '../../../src/node/blob-queue.js';
import { startEchoServer, stopServer } from '../../support/servers.js';
import WebSocket from '../../../src/index.js';

describe('blob queue', () => {
  it('holds sends made while a Blob is read and runs them after it, in order, behind a second Blob too', async () => {
    const queue = new BlobQueue(() => false);
    const out: string[] = [];
    const done = new Promise<void>((resolve) => {
      queue.read(new Blob(['first']), undefined, (bytes) => out.push(bytes.toString()), () => out.push('error'));
      assert.equal(queue.holding, true);
      queue.hold(() => out.push('second'));
      queue.hold(() => queue.read(new Blob(['third']), undefined, (bytes) => out.push(bytes.toString()), () => out.push('error')));
      queue.hold(() => {
        out.push('fourth');
        resolve();
      });
    });
    await done;
    assert.deepEqual(out, ['first', 'second', 'third', 'fourth']);
    assert.equal(queue.holding, false);
  });

  it('abandons a Blob read after the socket is gone: its callback and those held behind it get the error, nothing runs', async () => {
    const queue = new BlobQueue(() => true);
    const out: string[] = [];
    await new Promise<void>((resolve) => {
      queue.read(new Blob(['first']), (error) => out.push(`first: ${error?.message}`), () => out.push('delivered'), () => out.push('failed'));
      queue.hold(() => out.push('second ran'));
      queue.hold(() => out.push('third ran'), (error) => {
        out.push(`third: ${error?.message}`);
        resolve();
      });
    });
    assert.deepEqual(out, ['first: The socket was closed while the blob was being read', 'third: The socket was closed while the blob was being read']);
    assert.equal(queue.holding, false);
  });

  it('sends a Blob as a binary message, and a text message sent after it arrives after it', async () => {
    const { wss, url } = await startEchoServer();
    const client = new WebSocket(url);
    try {
      await new Promise((resolve) => client.once('open', resolve));
      const received: Array<[string, boolean]> = [];
      const both = new Promise<void>((resolve) =>
        client.on('message', (data, isBinary) => {
          received.push([String(data), isBinary]);
          if (received.length === 2) resolve();
        }),
      );
      assert.equal(client.send(new Blob(['blob bytes'])), 'buffered');
      client.send('after');
      await both;
      assert.deepEqual(received, [['blob bytes', true], ['after', false]]);
    } finally {
      client.terminate();
      await stopServer(wss);
    }
  });
});
