/**
 * Every deliberate difference between fullduplex and `ws`, in one table: the scenario that shows
 * it (a test name in test/differential) and why we differ. The README's "Differences from `ws`"
 * is written from it: each `readme` text is one bullet there, and differences.test.ts checks that
 * the two agree and that every scenario named here exists (its own test checks it still differs).
 * Must not: list a difference that could be fixed without giving up what the reason protects.
 */

export interface Difference {
  /** Why fullduplex behaves differently. */
  reason: string;
  /** The README bullet (shared by the scenarios that show one difference). */
  readme: string;
}

const BOUNDED =
  'Defaults are bounded: `maxPayload` is 16 MiB (not 100 MiB), heartbeats and a backpressure limit are on; see "Limits and defaults".';
const CLOSE_CLIENTS =
  '`wss.close()` closes the clients gracefully with 1001 and waits for them up to `closeTimeoutMs` (`ws` leaves them open).';
const UNLISTENED =
  "`'error'` on a connection is emitted only when someone listens (`ws` throws it, which crashes the process); `'close'` follows either way.";
const BATCHED =
  'Sends made in one tick leave in one socket write at the end of the tick; until then `bufferedAmount` counts them (`ws` writes each at once). A publication reaching a connection with nothing queued is written at once; inside `ws.cork(fn)` it waits for the rest.';
const SEND_RESULT = "`send()` returns `'sent'`, `'buffered'` or `'dropped'` (`ws` returns `undefined`).";
const COMPRESSION =
  "Compression runs synchronously at level 1 by default (`ws`: zlib's 6, on the thread pool), so compressed bytes differ; `concurrencyLimit` is accepted and has nothing to limit. Messages are inflated as they arrive, so a bad frame behind compressed messages fails the connection before a Blob read that fails meanwhile, and `'error'` reports the frame (`ws` reaches the frame later and reports the Blob).";
const VERSION =
  'Only version 13 of the protocol (RFC 6455) is spoken: a request for another version, 8 (the HyBi drafts `ws` also accepts) included, gets 426 with `Sec-WebSocket-Version: 13` (`ws`: 400 with `13, 8`), and `protocolVersion: 8` throws.';
const STRICT_HANDSHAKE = 'A request without `Host` is refused with 400 (RFC 6455 §4.1; `ws` accepts it).';
const STRICT_FRAMES =
  'A frame whose length is not in its minimal encoding, or whose 64-bit length has its top bit set, fails the connection with 1002 (RFC 6455 §5.2; `ws` accepts the first and answers 1009 to the second).';
const SUBPROTOCOL_ANSWER =
  'A client accepts an answer without `Sec-WebSocket-Protocol` when it offered subprotocols (`protocol` is then `\'\'`), as RFC 6455 §4.1 allows; `ws` fails the connection.';
const LIST_ELEMENTS = 'Empty elements of a header list (`Sec-WebSocket-Protocol: a,,b`) are skipped, as RFC 7230 §7 requires; `ws` refuses the handshake with 400.';
const FRAGMENTS =
  "`binaryType = 'fragments'` gives a message as a one-element array: fragments are reassembled into one buffer as they arrive, so a message's memory is bounded by `maxPayload` (`ws`: one Buffer per frame).";
const MAX_FRAGMENTS =
  '`maxFragments` defaults to 131072 and a message with more frames is closed with 1009, like one over `maxPayload` (`ws` 8.23: 16384, closed with 1008).';
const FAILED_CLOSE_CODE =
  "After this end fails a connection, `'close'` reports the code it sent (1002, 1007, 1009, ...) even when the peer does not echo it; `ws` reports 1006 then.";
const ERROR_FAMILY =
  "The errors fullduplex throws and emits are of its one error family (`UsageError`, `ProtocolError`, `HandshakeError`), each with a stable `code`, and carry `ws`'s messages; `String(error)` names the class (`UsageError: WebSocket is not open: ...`, `ws`: `Error: ...`).";
const DEFLATE_OFFERS =
  'A permessage-deflate offer the server cannot accept is declined and the next offer (or no compression) is used, as RFC 7692 §5 says; `ws` refuses the handshake with 400.';

export const DIFFERENCES: Record<string, Difference> = {
  'a 20 MiB message with the default maxPayload': {
    reason: 'one message may not take more than 16 MiB of memory unless the server says so',
    readme: BOUNDED,
  },
  'wss.close() with a connected client': {
    reason: 'a server that closes should not leave connections behind that it no longer accounts for',
    readme: CLOSE_CLIENTS,
  },
  'a protocol error on a connection without an error listener': {
    reason: "a peer's bad bytes must never crash the process",
    readme: UNLISTENED,
  },
  'bufferedAmount counts what waits to be written': {
    reason: 'one write per tick instead of one per message is what makes sending fast',
    readme: BATCHED,
  },
  'what send() returns': {
    reason: 'the caller learns what the backpressure policy did with the message',
    readme: SEND_RESULT,
  },
  'a bad frame behind compressed messages while an unreadable Blob is read: the one error': {
    reason: 'messages are inflated as they arrive, so the bad frame fails the connection before the Blob read does (`ws` inflates on the thread pool and reaches the frame later)',
    readme: COMPRESSION,
  },
  'a compressed message on the wire': {
    reason: 'level 1 compresses a quarter less tightly in well under half the time (docs/design.md)',
    readme: COMPRESSION,
  },
  'the answer to Sec-WebSocket-Version 8 (HyBi drafts)': { reason: 'RFC 6455 is version 13', readme: VERSION },
  'wsClientError for Sec-WebSocket-Version 8 (HyBi drafts)': { reason: 'RFC 6455 is version 13', readme: VERSION },
  'the request headers for protocolVersion 8': { reason: 'RFC 6455 is version 13', readme: VERSION },
  'the answer to no Host header': { reason: 'RFC 6455 §4.1 requires Host', readme: STRICT_HANDSHAKE },
  'wsClientError for no Host header': { reason: 'RFC 6455 §4.1 requires Host', readme: STRICT_HANDSHAKE },
  "the server's answer to a non-minimal 16-bit length": { reason: 'RFC 6455 §5.2: the minimal number of bytes MUST be used', readme: STRICT_FRAMES },
  "the server's answer to a 64-bit length with the top bit set": { reason: 'RFC 6455 §5.2: the most significant bit MUST be 0', readme: STRICT_FRAMES },
  'perMessageDeflate true: the answer to two offers, the first unacceptable': { reason: 'RFC 7692 §5', readme: DEFLATE_OFFERS },
  'perMessageDeflate true: the answer to an unknown parameter': { reason: 'RFC 7692 §5', readme: DEFLATE_OFFERS },
  'perMessageDeflate serverNoContextTakeover and clientMaxWindowBits 12: the answer to a bare offer': { reason: 'RFC 7692 §7.1.2.2', readme: DEFLATE_OFFERS },
  'perMessageDeflate serverNoContextTakeover and clientMaxWindowBits 12: the answer to server_no_context_takeover': { reason: 'RFC 7692 §7.1.2.2', readme: DEFLATE_OFFERS },
  'perMessageDeflate serverNoContextTakeover and clientMaxWindowBits 12: the answer to server_max_window_bits=10': { reason: 'RFC 7692 §7.1.2.2', readme: DEFLATE_OFFERS },
  'perMessageDeflate serverNoContextTakeover and clientMaxWindowBits 12: the answer to two offers, the first unacceptable': { reason: 'RFC 7692 §5', readme: DEFLATE_OFFERS },
  'perMessageDeflate serverNoContextTakeover and clientMaxWindowBits 12: the answer to an unknown parameter': { reason: 'RFC 7692 §5', readme: DEFLATE_OFFERS },
  'an unsupported protocolVersion throws': { reason: 'RFC 6455 is version 13', readme: VERSION },
  'the answer to Sec-WebSocket-Version 12': { reason: 'RFC 6455 §4.4: the versions this server speaks, with 426 as the RFC shows it', readme: VERSION },
  'the answer to a missing Sec-WebSocket-Version': { reason: 'RFC 6455 §4.4: the versions this server speaks, with 426 as the RFC shows it', readme: VERSION },
  'the events for no subprotocol when one was offered': { reason: 'RFC 6455 §4.1 fails the connection only for a subprotocol that was not offered', readme: SUBPROTOCOL_ANSWER },
  'the answer to a malformed Sec-WebSocket-Protocol': { reason: 'RFC 7230 §7: a recipient MUST accept (and skip) empty list elements', readme: LIST_ELEMENTS },
  'wsClientError for a malformed Sec-WebSocket-Protocol': { reason: 'RFC 7230 §7: a recipient MUST accept (and skip) empty list elements', readme: LIST_ELEMENTS },
  'binaryType fragments: text, binary and fragmented messages': { reason: 'the core copies fragments into one buffer bounded by maxPayload (docs/design.md, invariants)', readme: FRAGMENTS },
  'a message in more fragments than maxFragments': { reason: 'RFC 6455 §7.4.1: 1009 is the code for a message too big to process', readme: MAX_FRAGMENTS },
  'a message in 20000 fragments with the default maxFragments': { reason: 'memory is bounded by maxPayload whatever the fragmentation; the count only stops endless floods', readme: MAX_FRAGMENTS },
  "the code of the server's close event after it failed a connection": { reason: 'the application learns why the connection ended without listening for errors', readme: FAILED_CLOSE_CODE },
  'the error send() throws while CONNECTING': { reason: 'every error has a class of one family and a stable code to branch on (docs/design.md, errors)', readme: ERROR_FAMILY },
};
