/**
 * Replays the committed seed corpus (corpus/*.hex, described by corpus/index.json): each input
 * is fed whole, in 7-byte chunks and one byte at a time, and must give the documented events and
 * answer frames; failures must surface on the documented byte. Every .hex file must be listed.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ConnectionEvent, ConnectionOptions } from '../../src/protocol/index.js';
import { closeCodeOf, concat, decodeFrames, hex, splitAt, text } from '../support/frames.js';
import { bytewise, clientConnection, serverConnection } from '../unit/protocol/wire.js';

const dir = fileURLToPath(new URL('./corpus/', import.meta.url));

type ExpectedEvent =
  | { type: 'message'; binary: boolean; text?: string; hex?: string }
  | { type: 'ping' | 'pong'; text: string }
  | { type: 'close'; code: number; reason: string }
  | { type: 'error'; code: string; closeCode: number };

interface Entry {
  file: string;
  side: 'server' | 'client';
  options?: Partial<ConnectionOptions>;
  events: ExpectedEvent[];
  output: Array<{ frame: 'pong' | 'close'; text?: string; code?: number | null }>;
  failsAtByte?: number;
}

const index = JSON.parse(readFileSync(dir + 'index.json', 'utf8')) as { entries: Entry[] };

function load(file: string): Uint8Array {
  const body = readFileSync(dir + file, 'utf8')
    .split('\n')
    .filter((line) => !line.startsWith('#'))
    .join(' ');
  return hex(body);
}

function describeEvent(e: ConnectionEvent): ExpectedEvent {
  switch (e.type) {
    case 'message':
      return e.binary ? { type: 'message', binary: true, hex: Buffer.from(e.data).toString('hex') } : { type: 'message', binary: false, text: text(e.data) };
    case 'ping':
    case 'pong':
      return { type: e.type, text: text(e.data) };
    case 'close':
      return { type: 'close', code: e.code, reason: text(e.reason) };
    case 'error':
      return { type: 'error', code: e.error.code, closeCode: e.error.closeCode };
  }
}

function replay(entry: Entry, chunks: Uint8Array[]) {
  const conn = entry.side === 'server' ? serverConnection(entry.options) : clientConnection(entry.options);
  const events: ConnectionEvent[] = [];
  let errorAt = -1;
  let fed = 0;
  for (const chunk of chunks) {
    conn.receiveData(chunk.slice());
    fed += chunk.length;
    const got = conn.takeEvents();
    if (errorAt < 0 && got.some((e) => e.type === 'error')) errorAt = fed - 1;
    events.push(...got);
  }
  const frames = decodeFrames(concat(conn.takeOutput()));
  for (const f of frames) assert.equal(f.masked, entry.side === 'client');
  const output = frames.map((f) => {
    if (f.opcode === 0x8) {
      const code = closeCodeOf(f);
      const reason = text(f.payload.subarray(2));
      return reason ? { frame: 'close', code, text: reason } : { frame: 'close', code };
    }
    if (f.opcode === 0xa) return { frame: 'pong', text: text(f.payload) };
    return { frame: `opcode ${f.opcode}` };
  });
  return { events: events.map(describeEvent), output, errorAt };
}

describe('seed corpus', () => {
  it('lists every .hex file in index.json', () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.hex')).sort();
    assert.deepEqual([...new Set(index.entries.map((e) => e.file))].sort(), files);
  });

  for (const entry of index.entries) {
    const label = `${entry.file} (${entry.side}${entry.options ? ' ' + JSON.stringify(entry.options) : ''})`;
    it(`replays ${label} with the documented outcome, whole, in 7-byte chunks and byte by byte`, () => {
      const bytes = load(entry.file);
      const cuts = Array.from({ length: Math.ceil(bytes.length / 7) }, (_, i) => i * 7);
      for (const chunks of [[bytes], splitAt(bytes, cuts), bytewise(bytes)]) {
        const result = replay(entry, chunks);
        assert.deepEqual(result.events, entry.events);
        assert.deepEqual(result.output, entry.output);
      }
      const byteByByte = replay(entry, bytewise(bytes));
      assert.equal(byteByByte.errorAt, entry.failsAtByte ?? -1, 'the error surfaced on another byte');
    });
  }
});
