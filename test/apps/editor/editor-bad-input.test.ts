/**
 * Bad input to the editor demo: every kind gets its documented answer (HTTP 400 for a bad
 * document name, close 1003 / 1007 / 1008 / 1009 for bad messages), and two y-websocket clients
 * editing the same document go on syncing through all of it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import * as encoding from 'lib0/encoding';
import { WebSocket } from 'fullduplex';
import * as Y from 'yjs';
import { EDITOR_LIMITS } from '../../../apps/editor/server.js';
import { MESSAGE, SYNC, awarenessMessage, syncMessage } from '../../../apps/editor/y-message.js';
import { NodeEditor, WAIT_MS, hostEditor, removeDir, type EditorHost } from './editor-host.js';

let at: EditorHost;
let ada: NodeEditor;
let bob: NodeEditor;
let round = 0;

before(async () => {
  at = await hostEditor({ limits: { maxDocumentBytes: 64 * 1024 } });
  ada = new NodeEditor(at.wsUrl, 'target', 'Ada');
  bob = new NodeEditor(at.wsUrl, 'target', 'Bob');
  await Promise.all([ada.synced(), bob.synced()]);
});

after(async () => {
  ada.destroy();
  bob.destroy();
  await at.close();
  await removeDir(at.dataDir);
});

/** Opens a raw connection to `doc`, lets `act` send, and resolves with how the server closed it. */
function closedWith(doc: string, act: (ws: WebSocket) => void): Promise<{ code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${at.wsUrl}/${doc}`);
    const timer = setTimeout(() => reject(new Error('the server did not close the connection')), WAIT_MS);
    ws.on('error', () => {});
    ws.on('open', () => act(ws));
    ws.on('close', (code, reason) => {
      clearTimeout(timer);
      resolve({ code, reason: reason.toString() });
    });
  });
}

function bytes(...values: number[]): Uint8Array {
  return new Uint8Array(values);
}

/** A valid update inserting `text` into a fresh document's editor text. */
function updateOf(text: string): Uint8Array {
  const doc = new Y.Doc();
  doc.getText('codemirror').insert(0, text);
  return Y.encodeStateAsUpdate(doc);
}

/** The two editors still sync both ways after the bad input. */
async function othersUndisturbed(): Promise<void> {
  round++;
  ada.text.insert(ada.text.length, `a${round} `);
  bob.text.insert(bob.text.length, `b${round} `);
  const both = (text: string) => text.includes(`a${round} `) && text.includes(`b${round} `);
  const text = await ada.waitForText(both);
  await bob.waitForText(text);
  assert.equal(at.demo.connections >= 2, true);
}

const MALFORMED: Array<[string, () => Uint8Array | string, number]> = [
  ['a text frame', () => 'hello', 1003],
  ['an unknown message type', () => bytes(7, 0), 1003],
  ['an unknown sync message type', () => bytes(MESSAGE.sync, 9, 0), 1003],
  ['an empty message', () => bytes(), 1007],
  ['a sync message cut short', () => bytes(MESSAGE.sync), 1007],
  ['an update whose length runs past the message', () => bytes(MESSAGE.sync, SYNC.update, 5, 1, 2), 1007],
  ['trailing bytes after an update', () => Uint8Array.from([...syncMessage(SYNC.update, updateOf('x')), 99]), 1007],
  ['an update that does not decode', () => syncMessage(SYNC.update, bytes(5)), 1007],
  ['a state vector that does not decode', () => syncMessage(SYNC.step1, bytes(3, 1)), 1007],
  [
    'an awareness state that is not JSON',
    () => {
      const encoder = encoding.createEncoder();
      encoding.writeVarUint(encoder, 1);
      encoding.writeVarUint(encoder, 12345);
      encoding.writeVarUint(encoder, 1);
      encoding.writeVarString(encoder, '{not json');
      return awarenessMessage(encoding.toUint8Array(encoder));
    },
    1007,
  ],
];

describe('editor bad input', () => {
  for (const [what, message, code] of MALFORMED) {
    test(`closes with ${code} on ${what}, and the other editors go on`, async () => {
      const closed = await closedWith('target', (ws) => ws.send(message()));
      assert.equal(closed.code, code, closed.reason);
      await othersUndisturbed();
    });
  }

  test('closes with 1009 on a message over maxPayload', async () => {
    const closed = await closedWith('target', (ws) => ws.send(new Uint8Array(EDITOR_LIMITS.maxPayload + 1)));
    assert.equal(closed.code, 1009);
    await othersUndisturbed();
  });

  test('closes with 1008 on a flood of messages', async () => {
    const closed = await closedWith('target', (ws) => {
      for (let i = 0; i <= EDITOR_LIMITS.maxMessagesPerSecond; i++) ws.send(bytes(MESSAGE.queryAwareness));
    });
    assert.deepEqual(closed, { code: 1008, reason: 'too many messages' });
    await othersUndisturbed();
  });

  test('closes with 1008 on an update that would grow the document past maxDocumentBytes, and leaves the text as it was', async () => {
    const before = ada.text.toString();
    const closed = await closedWith('target', (ws) => ws.send(syncMessage(SYNC.update, updateOf('x'.repeat(70 * 1024)))));
    assert.deepEqual(closed, { code: 1008, reason: 'document is full' });
    await othersUndisturbed();
    assert.ok(!ada.text.toString().includes('xxxx') && ada.text.toString().startsWith(before));
  });

  test('a valid update from a raw client is taken: the wire format is the one documented', async () => {
    const ws = new WebSocket(`${at.wsUrl}/target`);
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(syncMessage(SYNC.update, updateOf('raw ')));
    await ada.waitForText((text) => text.includes('raw '));
    await bob.waitForText((text) => text.includes('raw '));
    ws.close();
  });

  for (const [path, status] of [
    ['/editor/ws/bad%20name', 400],
    ['/editor/ws/', 400],
    [`/editor/ws/${'x'.repeat(65)}`, 400],
    ['/editor/ws/a/b', 400],
    ['/editor/elsewhere', 404],
  ] as const) {
    test(`answers an upgrade to ${path.length > 40 ? 'a 65-character name' : path} with HTTP ${status}`, async () => {
      const answer = await new Promise<number>((resolve, reject) => {
        const req = http.get(`http://127.0.0.1:${at.port}${path}`, {
          headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' },
        });
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('upgrade', () => reject(new Error('upgraded')));
        req.on('error', reject);
      });
      assert.equal(answer, status);
    });
  }

  test('answers a plain GET of a socket path with 426', async () => {
    const res = await fetch(`${at.pageUrl}ws/target`);
    assert.equal(res.status, 426);
  });
});
