/**
 * Runner 1: every case fed to the pure core (`Connection`) in memory, on the server side (the
 * peer's frames masked, as a client sends them) and on the client side (unmasked, as a server
 * sends them). Each case is delivered several ways: all at once, frame by frame, in 7-byte
 * pieces, byte by byte (when small), and the way the case itself asks for.
 *
 * Each side runs twice: with the core's defaults (it answers close frames and fails on its own),
 * and with `autoCloseReply: false` as the node layer uses it, where the caller echoes every
 * message and sends the close frame itself when it handles the 'close' or 'error' event. The
 * second mode also checks that replies to messages that came before a close or a violation go
 * out before the close frame.
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

function runCore(
  c: Case,
  side: 'server' | 'client',
  callerCloses: boolean,
  split: Delivery['split'],
): { seen: Observed; connection: Connection; echoed: Observed['messages'] } {
  const connection = new Connection({
    side,
    maxPayload: c.options?.maxPayload,
    maxFragments: c.options?.maxFragments,
    autoCloseReply: !callerCloses,
    generateMask: side === 'client' ? (key) => key.set([0x6d, 0x61, 0x73, 0x6b]) : undefined,
  });
  const peer = side === 'server' ? 'client' : 'server';
  const seen: Observed = { messages: [], pongs: [], closeFrames: [], failedWith: null, problems: [] };
  const output: Uint8Array[] = [];
  let closeEvents = 0;
  for (const piece of deliver(caseFrameBytes(c, peer), split)) {
    connection.receiveData(piece);
    for (const event of connection.takeEvents()) {
      if (event.type === 'message') {
        seen.messages.push({ binary: event.binary, data: event.data.slice() });
        // The caller's application echoes, as the loopback echo server does.
        if (callerCloses && !connection.closeSent) connection.send(event.data.slice(), { binary: event.binary });
      } else if (event.type === 'error') {
        if (seen.failedWith !== null) seen.problems.push('a second error event');
        seen.failedWith = event.error.closeCode;
        if (callerCloses) connection.sendClose(event.error.closeCode);
      } else if (event.type === 'close') {
        closeEvents++;
        if (callerCloses) connection.sendClose(event.code === 1005 ? undefined : event.code, event.reason);
      }
    }
    output.push(...connection.takeOutput().map((b) => b.slice()));
  }
  const { frames, rest } = parseFrames(concatBytes(output));
  const summary = summarizeFrames(frames, side, rest.length);
  seen.pongs = summary.pongs;
  seen.closeFrames = summary.closeFrames;
  seen.problems.push(...summary.problems);
  if (!callerCloses && summary.dataMessages.length > 0) seen.problems.push('the core sent data frames on its own');
  if (closeEvents > 1) seen.problems.push(`${closeEvents} close events`);
  return { seen, connection, echoed: summary.dataMessages };
}

for (const [side, callerCloses] of [
  ['server', false],
  ['client', false],
  ['server', true],
  ['client', true],
] as const) {
  describe(`in memory, ${side} side${callerCloses ? ', close frames sent by the caller' : ''}`, () => {
    for (const c of casesFor('memory')) {
      test(`${c.id} ${c.section} ${c.title}`, () => {
        const peer = side === 'server' ? 'client' : 'server';
        for (const split of splitsFor(c, caseFrameBytes(c, peer))) {
          const label = `memory ${side}${callerCloses ? ' caller-closes' : ''}, ${typeof split === 'number' ? `${split}-byte pieces` : split}`;
          const { seen, connection, echoed } = runCore(c, side, callerCloses, split);
          assertOutcome(c, seen, label);
          if (callerCloses) {
            // Every delivered message was echoed before the close frame went out.
            assertOutcome(c, { ...seen, messages: echoed }, `${label}, echoed`);
          }
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
