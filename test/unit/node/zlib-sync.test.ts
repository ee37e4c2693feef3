import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import zlib from 'node:zlib';
import { DeflateCodec } from '../../../src/node/compression/deflate-codec.js';
import { SyncZlib, ZlibSyncError, overrideSyncZlibAvailable, syncZlibAvailable } from '../../../src/node/compression/zlib-sync.js';
import type { DeflateParams } from '../../../src/protocol/permessage-deflate.js';

const SYNC = { finishFlush: zlib.constants.Z_SYNC_FLUSH };
const text = (i: number) => Buffer.from(JSON.stringify({ id: i, name: `user ${i}`, tags: ['alpha', 'beta', 'gamma'], pad: 'x'.repeat(200) }));

describe('SyncZlib', () => {
  it('works on this Node', () => {
    assert.equal(syncZlibAvailable(), true);
  });

  it('keeps context between messages, and its output is one valid raw DEFLATE stream', () => {
    const deflater = SyncZlib.deflate({ windowBits: 15 });
    const parts = [text(1), text(2), text(3)].map((m) => deflater.process(m));
    assert.ok(parts[1]!.length < parts[0]!.length / 2, 'the second message should refer back to the first');
    const joined = zlib.inflateRawSync(Buffer.concat(parts), SYNC);
    assert.ok(joined.equals(Buffer.concat([text(1), text(2), text(3)])));
    const inflater = SyncZlib.inflate({ windowBits: 15 });
    parts.forEach((p, i) => assert.ok(inflater.process(p).equals(text(i + 1))));
    deflater.close();
    inflater.close();
  });

  it('stops at the output limit and reports too-large; reports corrupt data as a zlib error', () => {
    const bomb = zlib.deflateRawSync(Buffer.alloc(10 * 1024 * 1024), SYNC);
    const inflater = SyncZlib.inflate({ windowBits: 15 });
    assert.throws(() => inflater.process(bomb, 64 * 1024), (e: unknown) => e instanceof ZlibSyncError && e.reason === 'too-large');
    const other = SyncZlib.inflate({ windowBits: 15 });
    assert.throws(() => other.process(Buffer.from([0xff, 0xff, 0xff, 0xff])), (e: unknown) => e instanceof ZlibSyncError && e.reason === 'zlib');
  });

  it('forgets its history on reset', () => {
    const deflater = SyncZlib.deflate({ windowBits: 15 });
    deflater.process(text(1));
    deflater.reset();
    const alone = deflater.process(text(1));
    assert.ok(zlib.inflateRawSync(alone, SYNC).equals(text(1)), 'after reset the output stands alone');
    deflater.close();
  });
});

describe('DeflateCodec without synchronous zlib streams (the one-shot fallback)', () => {
  after(() => overrideSyncZlibAvailable(undefined));
  const params: DeflateParams = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };

  it('round-trips messages with context takeover in both directions', () => {
    overrideSyncZlibAvailable(false);
    const server = new DeflateCodec(params, 'server', { threshold: 0 });
    const client = new DeflateCodec(params, 'client', { threshold: 0 });
    for (let i = 0; i < 20; i++) {
      const c = client.compress(text(i), true);
      assert.ok(Buffer.from(server.decompress(c, 0) as Uint8Array).equals(text(i)));
      const s = server.compress(text(100 + i), true);
      assert.ok(Buffer.from(client.decompress(s, 0) as Uint8Array).equals(text(100 + i)));
    }
    const bomb = zlib.deflateRawSync(Buffer.alloc(4 * 1024 * 1024), SYNC);
    const result = server.decompress(bomb.subarray(0, bomb.length - 4), 1024 * 1024);
    assert.equal((result as { code?: string }).code, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH');
  });
});
