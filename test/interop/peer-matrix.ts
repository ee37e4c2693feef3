/**
 * The interop matrix: one list of behaviours run against every real peer, in each direction
 * the peer supports. Each test opens its own connection (client offers ['a', 'b'], the server
 * picks 'b') and asserts exact payloads, subprotocols, close codes and reasons.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { within } from './inbox.js';
import type { Closed, Endpoint, Session } from './endpoint.js';
import { MESSAGE_CASES, describeBytes } from './message-cases.js';

export const OFFERED_PROTOCOLS = ['a', 'b'];
export const PICKED_PROTOCOL = 'b';

/** Server-side subprotocol choice, shaped like ws's handleProtocols. */
export function pickB(protocols: Set<string>): string | false {
  return protocols.has(PICKED_PROTOCOL) ? PICKED_PROTOCOL : false;
}

export interface MatrixOptions {
  /** Opens a fresh connection; `ours` is fullduplex's end. */
  connect(): Promise<Session>;
  /**
   * The reason the peer puts in the close frame that answers ours. RFC 6455 §5.5.1 only asks
   * that the code be echoed; some peers echo the reason too, some send none.
   */
  echoedCloseReason: string;
  /**
   * permessage-deflate is on at both ends: fullduplex's end must report it negotiated, and every
   * behaviour below then runs over compressed messages.
   */
  deflate?: boolean;
  /** Why the peer cannot send pings, when its API has no way to. */
  cannotPing?: string;
  /** Why the peer cannot send a message in several frames, when its API has no way to. */
  cannotFragment?: string;
  /** Why the peer cannot send an empty close frame, when its API always puts a code in. */
  cannotCloseWithoutCode?: string;
}

/** 'héllo ✓ 🚀' split inside the 2-, 3- and 4-byte sequences. */
const FRAGMENTED_TEXT_PARTS = ((): Buffer[] => {
  const bytes = Buffer.from('héllo ✓ 🚀', 'utf8');
  return [bytes.subarray(0, 2), bytes.subarray(2, 8), bytes.subarray(8, 12), bytes.subarray(12)];
})();
const FRAGMENTED_BINARY_PARTS = [Buffer.from([0x00, 0x01]), Buffer.alloc(0), Buffer.from([0xfe, 0xff, 0x80]), Buffer.from([0x7f])];

const CLOSE_WAIT_MS = 10_000;
const TEST_TIMEOUT_MS = 30_000;

function closedWithin(endpoint: Endpoint, what: string): Promise<Closed> {
  return within(endpoint.closed, CLOSE_WAIT_MS, what);
}

async function withSession(options: MatrixOptions, body: (session: Session) => Promise<void>): Promise<void> {
  const session = await options.connect();
  try {
    await body(session);
  } finally {
    await session.dispose();
  }
}

function assertSameBytes(actual: Buffer, expected: Buffer, what: string): void {
  if (!actual.equals(expected)) {
    let at = 0;
    while (at < actual.length && at < expected.length && actual[at] === expected[at]) at++;
    assert.fail(`${what}: got ${describeBytes(actual)}, expected ${describeBytes(expected)} (first difference at byte ${at})`);
  }
}

export function describePeerMatrix(title: string, options: MatrixOptions): void {
  describe(title, { timeout: 120_000 }, () => {
    it(`agrees on the subprotocol the server picks from ${JSON.stringify(OFFERED_PROTOCOLS)}`, { timeout: TEST_TIMEOUT_MS }, async () => {
      await withSession(options, async ({ ours, peer }) => {
        assert.equal(ours.protocol, PICKED_PROTOCOL);
        assert.equal(peer.protocol, PICKED_PROTOCOL);
      });
    });

    it(options.deflate ? 'negotiates permessage-deflate' : 'negotiates no extension', { timeout: TEST_TIMEOUT_MS }, async () => {
      await withSession(options, async ({ ours, peer }) => {
        if (options.deflate) {
          assert.match(ours.extensions ?? '', /^permessage-deflate(;|$)/);
          if (peer.extensions !== undefined) assert.match(peer.extensions, /^permessage-deflate(;|$)/);
        } else {
          assert.equal(ours.extensions ?? '', '');
        }
      });
    });

    for (const message of MESSAGE_CASES) {
      it(`carries ${message.name} both ways, byte for byte`, { timeout: TEST_TIMEOUT_MS }, async () => {
        await withSession(options, async ({ ours, peer }) => {
          await peer.send(message);
          const atOurs = await ours.nextMessage();
          assert.equal(atOurs.binary, message.binary, 'peer → fullduplex: message type');
          assertSameBytes(atOurs.data, message.data, 'peer → fullduplex');

          await ours.send(message);
          const atPeer = await peer.nextMessage();
          assert.equal(atPeer.binary, message.binary, 'fullduplex → peer: message type');
          assertSameBytes(atPeer.data, message.data, 'fullduplex → peer');
        });
      });
    }

    it('reassembles a text message the peer sends in fragments', { timeout: TEST_TIMEOUT_MS, skip: options.cannotFragment ?? false }, async () => {
      await withSession(options, async ({ ours, peer }) => {
        await peer.sendFragments!(FRAGMENTED_TEXT_PARTS, false);
        const atOurs = await ours.nextMessage();
        assert.equal(atOurs.binary, false, 'message type');
        assertSameBytes(atOurs.data, Buffer.concat(FRAGMENTED_TEXT_PARTS), 'reassembled text');
      });
    });

    it('reassembles a binary message the peer sends in fragments', { timeout: TEST_TIMEOUT_MS, skip: options.cannotFragment ?? false }, async () => {
      await withSession(options, async ({ ours, peer }) => {
        await peer.sendFragments!(FRAGMENTED_BINARY_PARTS, true);
        const atOurs = await ours.nextMessage();
        assert.equal(atOurs.binary, true, 'message type');
        assertSameBytes(atOurs.data, Buffer.concat(FRAGMENTED_BINARY_PARTS), 'reassembled binary');
      });
    });

    it('delivers a fragmented text message split inside UTF-8 sequences, with a ping answered between fragments', { timeout: TEST_TIMEOUT_MS }, async () => {
      await withSession(options, async ({ ours, peer }) => {
        const payload = Buffer.from('mid-message ping');
        await ours.sendFragments!(FRAGMENTED_TEXT_PARTS, false, async () => {
          assertSameBytes(await ours.ping!(payload), payload, 'pong payload while a message is open');
        });
        const atPeer = await peer.nextMessage();
        assert.equal(atPeer.binary, false, 'message type');
        assertSameBytes(atPeer.data, Buffer.concat(FRAGMENTED_TEXT_PARTS), 'text at the peer');
      });
    });

    it('delivers a fragmented binary message', { timeout: TEST_TIMEOUT_MS }, async () => {
      await withSession(options, async ({ ours, peer }) => {
        await ours.sendFragments!(FRAGMENTED_BINARY_PARTS, true);
        const atPeer = await peer.nextMessage();
        assert.equal(atPeer.binary, true, 'message type');
        assertSameBytes(atPeer.data, Buffer.concat(FRAGMENTED_BINARY_PARTS), 'binary at the peer');
      });
    });

    it('gets a pong with the same payload for a ping fullduplex sends', { timeout: TEST_TIMEOUT_MS }, async () => {
      await withSession(options, async ({ ours, peer }) => {
        const payload = Buffer.from('ping from fullduplex ✓');
        const pong = await ours.ping!(payload);
        assertSameBytes(pong, payload, 'pong payload at fullduplex');
        if (peer.nextPing) assertSameBytes(await peer.nextPing(), payload, 'ping payload at the peer');
      });
    });

    it('answers a ping from the peer with a pong of the same payload', { timeout: TEST_TIMEOUT_MS, skip: options.cannotPing ?? false }, async () => {
      await withSession(options, async ({ ours, peer }) => {
        const payload = Buffer.from([0x70, 0x00, 0xff, 0x69, 0x6e, 0x67]);
        const pong = await peer.ping!(payload);
        assertSameBytes(await ours.nextPing!(), payload, 'ping payload at fullduplex');
        assertSameBytes(pong, payload, 'pong payload at the peer');
      });
    });

    it('closes with 4001 "bye" when the peer closes; both ends see code and reason', { timeout: TEST_TIMEOUT_MS }, async () => {
      await withSession(options, async ({ ours, peer }) => {
        await peer.close(4001, 'bye');
        const atOurs = await closedWithin(ours, 'fullduplex close event');
        const atPeer = await closedWithin(peer, 'peer close event');
        assert.deepEqual(atOurs, { code: 4001, reason: 'bye', wasClean: true }, 'fullduplex saw');
        assert.deepEqual(atPeer, { code: 4001, reason: 'bye', wasClean: true }, 'peer saw (fullduplex echoes code and reason)');
      });
    });

    it('closes with 4002 "done" when fullduplex closes; both ends see code and reason', { timeout: TEST_TIMEOUT_MS }, async () => {
      await withSession(options, async ({ ours, peer }) => {
        await ours.close(4002, 'done');
        const atPeer = await closedWithin(peer, 'peer close event');
        const atOurs = await closedWithin(ours, 'fullduplex close event');
        assert.deepEqual(atPeer, { code: 4002, reason: 'done', wasClean: true }, 'peer saw');
        assert.deepEqual(atOurs, { code: 4002, reason: options.echoedCloseReason, wasClean: true }, 'fullduplex saw the peer\'s answer');
      });
    });

    it('reports 1005 and no reason when the peer closes without a code', { timeout: TEST_TIMEOUT_MS, skip: options.cannotCloseWithoutCode ?? false }, async () => {
      await withSession(options, async ({ ours, peer }) => {
        await peer.closeWithoutCode!();
        const atOurs = await closedWithin(ours, 'fullduplex close event');
        const atPeer = await closedWithin(peer, 'peer close event');
        assert.deepEqual(atOurs, { code: 1005, reason: '', wasClean: true }, 'fullduplex saw');
        assert.deepEqual(atPeer, { code: 1005, reason: '', wasClean: true }, 'peer saw (an empty close frame echoed)');
      });
    });

    it('sends an empty close frame the peer reports as 1005 when fullduplex closes without a code', { timeout: TEST_TIMEOUT_MS }, async () => {
      await withSession(options, async ({ ours, peer }) => {
        await ours.closeWithoutCode!();
        const atPeer = await closedWithin(peer, 'peer close event');
        const atOurs = await closedWithin(ours, 'fullduplex close event');
        assert.deepEqual(atPeer, { code: 1005, reason: '', wasClean: true }, 'peer saw');
        assert.deepEqual(atOurs, { code: 1005, reason: '', wasClean: true }, 'fullduplex saw the peer\'s empty answer');
      });
    });

    it('keeps a UTF-8 close reason intact: 4003 "ché ✓"', { timeout: TEST_TIMEOUT_MS }, async () => {
      await withSession(options, async ({ ours, peer }) => {
        await peer.close(4003, 'ché ✓');
        const atOurs = await closedWithin(ours, 'fullduplex close event');
        await closedWithin(peer, 'peer close event');
        assert.deepEqual(atOurs, { code: 4003, reason: 'ché ✓', wasClean: true });
      });
    });
  });
}
