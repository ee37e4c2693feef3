/**
 * Runner 1: every case fed to the pure core (`Connection`) in memory, on the server side (the
 * peer's frames masked, as a client sends them) and on the client side (unmasked, as a server
 * sends them). Each case is delivered several ways: all at once, frame by frame, in 7-byte
 * pieces, byte by byte (when small), and the way the case itself asks for.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Connection } from '../../src/protocol/index.js';
import { casesFor, type Case, type Delivery } from './cases.js';
import { assertOutcome, summarizeFrames, type Observed } from './outcome.js';
import { caseFrameBytes, concatBytes, deliver, parseFrames } from './wire.js';

/** Byte-by-byte delivery only for cases up to this size, to keep the run short. */
const BYTEWISE_LIMIT = 300 * 1024;

function splitsFor(c: Case, frames: Uint8Array[]): Array<Delivery['split']> {
  const total = frames.reduce((n, f) => n + f.length, 0);
  const splits: Array<Delivery['split']> = ['whole', 'frames', 7];
  if (total <= BYTEWISE_LIMIT) splits.push('bytes');
  const own = c.delivery?.split;
  if (own !== undefined && !splits.includes(own)) splits.push(own);
  return splits;
}

function runCore(c: Case, side: 'server' | 'client', split: Delivery['split']): { seen: Observed; connection: Connection } {
  const connection = new Connection({
    side,
    maxPayload: c.options?.maxPayload,
    maxFragments: c.options?.maxFragments,
    generateMask: side === 'client' ? (key) => key.set([0x6d, 0x61, 0x73, 0x6b]) : undefined,
  });
  const peer = side === 'server' ? 'client' : 'server';
  const seen: Observed = { messages: [], pongs: [], closeFrames: [], failedWith: null, problems: [] };
  const output: Uint8Array[] = [];
  let closeEvents = 0;
  for (const piece of deliver(caseFrameBytes(c, peer), split)) {
    connection.receiveData(piece);
    for (const event of connection.takeEvents()) {
      if (event.type === 'message') seen.messages.push({ binary: event.binary, data: event.data.slice() });
      else if (event.type === 'error') {
        if (seen.failedWith !== null) seen.problems.push('a second error event');
        seen.failedWith = event.error.closeCode;
      } else if (event.type === 'close') closeEvents++;
    }
    output.push(...connection.takeOutput().map((b) => b.slice()));
  }
  const { frames, rest } = parseFrames(concatBytes(output));
  const summary = summarizeFrames(frames, side, rest.length);
  seen.pongs = summary.pongs;
  seen.closeFrames = summary.closeFrames;
  seen.problems.push(...summary.problems);
  if (summary.dataMessages.length > 0) seen.problems.push('the core sent data frames on its own');
  if (closeEvents > 1) seen.problems.push(`${closeEvents} close events`);
  return { seen, connection };
}

for (const side of ['server', 'client'] as const) {
  describe(`in memory, ${side} side`, () => {
    for (const c of casesFor('memory')) {
      test(`${c.id} ${c.section} ${c.title}`, () => {
        const peer = side === 'server' ? 'client' : 'server';
        for (const split of splitsFor(c, caseFrameBytes(c, peer))) {
          const label = `memory ${side}, ${typeof split === 'number' ? `${split}-byte pieces` : split}`;
          const { seen, connection } = runCore(c, side, split);
          assertOutcome(c, seen, label);
          const close = c.expect.close;
          if ('fail' in close) {
            // RFC 6455 §7.1.7: after failing, either side may close the transport at once.
            assert.equal(connection.closeExpected(), true, `${c.id} [${label}]: the transport should be closed after a failure`);
            assert.equal(connection.error?.closeCode, close.fail, `${c.id} [${label}]: connection.error`);
          } else {
            // RFC 6455 §7.1.1: the server closes the TCP connection first; the client waits for it.
            assert.equal(connection.closeExpected(), side === 'server', `${c.id} [${label}]: closeExpected()`);
            assert.equal(connection.closeCode, close.code ?? 1005, `${c.id} [${label}]: the received close code`);
            assert.equal(connection.state, 'CLOSED', `${c.id} [${label}]: state after both close frames`);
          }
        }
      });
    }
  });
}
