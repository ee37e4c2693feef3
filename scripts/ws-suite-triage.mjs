// The triage of ws's own suite run against fullduplex (scripts/ws-suite.mjs), keyed by mocha's
// full test title.
// EXCLUDED: tests that read ws's private state (fields and symbols of its classes, its Receiver
// and Sender objects); they are skipped against fullduplex and not counted.
// TRIAGE: the failures that stay, each `kind` one of
//   'difference': a documented difference (test/differential/differences.ts names the scenario);
//   'artefact': the test cannot pass through a shim for a reason that is not about behaviour;
//   'incompatibility': a real difference not fixed yet (the README's count says so).
// `skip: true` marks a failing test whose failure would stall the tests after it (it never calls
// done() and leaves a shared server open): it is not run, and counted as failing.
// Must not: list an incompatibility as a difference or an artefact.

export const EXCLUDED = {
  "WebSocket #ctor options accepts the `maxPayload` option":
    "reads ws's Receiver (ws._receiver)",
  "WebSocket #close sets a timer for the closing handshake to complete":
    "reads the closing timer kept as ws._closeTimer",
  "WebSocket WHATWG API emulation doesn't remove listeners added with `on`":
    "reads ws's private kListener symbol on listener wrappers",
  "WebSocket WHATWG API emulation supports the `addEventListener` method":
    "reads ws's private kListener symbol on listener wrappers",
  "WebSocket WHATWG API emulation doesn't return listeners added with `addEventListener`":
    "reads ws's private kListener symbol on listener wrappers",
  "WebSocket WHATWG API emulation doesn't remove listeners added with `addEventListener`":
    "reads ws's private kListener symbol on listener wrappers",
  "WebSocket WHATWG API emulation supports the `removeEventListener` method":
    "reads ws's private kListener symbol on listener wrappers",
  "WebSocket permessage-deflate consumes all received data when connection is closed (1/2)":
    "reads ws's Receiver (ws._receiver), ws's internal state numbers (_state)",
  "WebSocket permessage-deflate consumes all received data when connection is closed (2/2)":
    "reads ws's Receiver (ws._receiver), ws's internal state numbers (_state)",
  "WebSocket permessage-deflate handles a close frame received while compressing data":
    "reads ws's Receiver (ws._receiver), ws's Sender (ws._sender), ws's internal state numbers (_state)",
  "WebSocket permessage-deflate #close can be used while data is being decompressed":
    "reads ws's Receiver (ws._receiver), ws's internal state numbers (_state)",
  "WebSocket permessage-deflate #terminate can be used while data is being decompressed":
    "reads ws's Receiver (ws._receiver), ws's internal state numbers (_state)",
  "WebSocketServer #ctor options accepts the `maxPayload` option":
    "reads ws's Receiver (ws._receiver)",
  "WebSocketServer #close calls the callback if the server is already closed":
    "reads ws's internal state numbers (_state)",
  "WebSocketServer #close emits the 'close' event if the server is already closed":
    "reads ws's internal state numbers (_state)",
  "createWebSocketStream The returned stream errors if a write occurs when `readyState` is `CLOSING`":
    "reads ws's Receiver (ws._receiver)",
  "createWebSocketStream The returned stream handles backpressure (2/3)":
    "reads ws's Receiver (ws._receiver)",
  "createWebSocketStream The returned stream handles backpressure (3/3)":
    "reads ws's Receiver (ws._receiver)",
};

export const TRIAGE = {
  "WebSocket #ctor options throws an error when using an invalid `protocolVersion`":
    { kind: 'difference', why: "only version 13 is spoken, so the message lists 13 alone ('an unsupported protocolVersion throws')" },
  "WebSocket Attributes `bufferedAmount` takes into account the data in the sender queue":
    { kind: 'difference', why: "bufferedAmount counts the framed bytes that wait for the end-of-tick write ('bufferedAmount counts what waits to be written')" },
  "WebSocket Attributes `bufferedAmount` takes into account the data in the socket queue":
    { kind: 'difference', why: "sends made in one tick are written at its end, so the socket's queue is still empty ('bufferedAmount counts what waits to be written')" },
  "WebSocket Events emits an 'error' event if an error occurs (1/2)":
    { kind: 'difference', why: "'close' reports the 1002 this end sent ('the code of the server\\'s close event after it failed a connection')" },
  "WebSocket Connection close closes cleanly after simultaneous errors (1/2)":
    { kind: 'difference', why: "'close' reports the 1002 this end sent ('the code of the server\\'s close event after it failed a connection')" },
  "WebSocket Connection close closes cleanly after simultaneous errors (2/2)":
    { kind: 'difference', why: "'close' reports the 1002 this end sent ('the code of the server\\'s close event after it failed a connection')" },
  "WebSocket Connection close resumes the socket when an error occurs":
    { kind: 'difference', why: "'close' reports the 1009 this end sent ('the code of the server\\'s close event after it failed a connection')" },
  "WebSocket Connection establishing fails if server sends no subprotocol":
    { kind: 'difference', why: "an answer without a subprotocol is accepted ('the events for no subprotocol when one was offered'); the test then never ends and stalls its describe block", skip: true },
  "WebSocket #ping throws an error if `readyState` is `CONNECTING`":
    { kind: 'difference', why: "the error is a UsageError, so String(error) starts with 'UsageError:' ('the error send() throws while CONNECTING')" },
  "WebSocket #pong throws an error if `readyState` is `CONNECTING`":
    { kind: 'difference', why: "the error is a UsageError, so String(error) starts with 'UsageError:' ('the error send() throws while CONNECTING')" },
  "WebSocket #send throws an error if `readyState` is `CONNECTING`":
    { kind: 'difference', why: "the error is a UsageError, so String(error) starts with 'UsageError:' ('the error send() throws while CONNECTING')" },
  "WebSocket Request headers honors the `origin` option (2/2)":
    { kind: 'difference', why: "it asks for protocolVersion 8, which throws ('the request headers for protocolVersion 8')" },
  "WebSocket permessage-deflate #send calls the callback if the socket is closed prematurely":
    { kind: 'difference', why: "compression is synchronous, so the messages were written, and their callbacks succeed, before the socket closed ('a compressed message on the wire')" },
  "WebSocket permessage-deflate #terminate can be used while data is being compressed":
    { kind: 'difference', why: "compression is synchronous: nothing is being compressed when terminate() runs, and the message already handed to the socket succeeds ('a compressed message on the wire')" },
  "WebSocketServer Connection establishing fails if the Sec-WebSocket-Version header is invalid (1/2)":
    { kind: 'difference', why: "426 with the versions spoken ('the answer to a missing Sec-WebSocket-Version')" },
  "WebSocketServer Connection establishing fails if the Sec-WebSocket-Version header is invalid (2/2)":
    { kind: 'difference', why: "426 with the versions spoken ('the answer to Sec-WebSocket-Version 12')" },
  "WebSocketServer Connection establishing fails if the Sec-WebSocket-Extensions header is invalid":
    { kind: 'difference', why: "an offer the server cannot accept is declined, not refused ('perMessageDeflate true: the answer to an unknown parameter')" },
  "WebSocketServer Connection establishing `verifyClient` can reject client synchronously":
    { kind: 'difference', why: "the request asks for version 8, answered 426 before verifyClient runs ('the answer to Sec-WebSocket-Version 8 (HyBi drafts)')" },
  "WebSocketServer Connection establishing `verifyClient` can reject client asynchronously":
    { kind: 'difference', why: "the request asks for version 8, answered 426 before verifyClient runs ('the answer to Sec-WebSocket-Version 8 (HyBi drafts)')" },
  "WebSocketServer Connection establishing `verifyClient` can reject client asynchronously w/ status code":
    { kind: 'difference', why: "the request asks for version 8, answered 426 before verifyClient runs ('the answer to Sec-WebSocket-Version 8 (HyBi drafts)')" },
  "WebSocketServer Connection establishing `verifyClient` can reject client asynchronously w/ custom headers":
    { kind: 'difference', why: "the request asks for version 8, answered 426 before verifyClient runs ('the answer to Sec-WebSocket-Version 8 (HyBi drafts)')" },
  "WebSocketServer Connection establishing fails if the Upgrade header field value cannot be read":
    { kind: 'difference', why: "maxHeadersCount = 1 drops the Host header too, and a request without Host is refused first, with its own message ('the answer to no Host header')" },
  "WebSocket Events emits the 'error' event only once (2/2)":
    { kind: 'difference', why: "messages are inflated as they arrive, so the server's bad frame fails the connection before the Blob's read does, and 'error' reports the frame (a RangeError); `ws` inflates on the thread pool and reaches the frame after the Blob failed ('a bad frame behind compressed messages while an unreadable Blob is read: the one error')" },
  "WebSocket #send honors the `mask` option":
    { kind: 'difference', why: "the unmasked frame fails the connection as in `ws`; the server's 'close' then reports the 1002 it sent ('the code of the server\\'s close event after it failed a connection')" },
};
