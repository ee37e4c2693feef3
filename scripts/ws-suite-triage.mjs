// The triage of ws's own suite run against fullduplex (scripts/ws-suite.mjs), keyed by mocha's
// full test title.
// EXCLUDED: tests that read ws's private state (fields and symbols of its classes, its Receiver
// and Sender objects); they are skipped against fullduplex and not counted.
// TRIAGE: the failures that stay, each `kind` one of
//   'difference': a documented difference (test/differential/differences.ts names the scenario);
//   'artefact': the test cannot pass through a shim for a reason that is not about behaviour.
// `skip: true` marks a failing test whose failure would stall the tests after it (it never calls
// done() and leaves a shared server open): it is not run, and counted as failing.
// Must not: list a fixable incompatibility as anything but a failure to fix.

export const EXCLUDED = {
  "WebSocket #ctor options accepts the `maxPayload` option":
    "reads ws's Receiver (ws._receiver)",
  "WebSocket Events emits a 'redirect' event":
    "reads the redirect count kept as ws._redirects",
  "WebSocket Connection establishing fails if the Upgrade header field value cannot be read":
    "reads the handshake request kept as ws._req",
  "WebSocket Connection establishing does not follow redirects by default":
    "reads the redirect count kept as ws._redirects",
  "WebSocket Connection establishing honors the `followRedirects` option":
    "reads the redirect count kept as ws._redirects",
  "WebSocket Connection establishing honors the `maxRedirects` option":
    "reads the redirect count kept as ws._redirects",
  "WebSocket Connection establishing emits an error if the redirect URL is invalid (1/2)":
    "reads the redirect count kept as ws._redirects",
  "WebSocket Connection establishing emits an error if the redirect URL is invalid (2/2)":
    "reads the redirect count kept as ws._redirects",
  "WebSocket Connection establishing uses the first url userinfo when following redirects":
    "reads the handshake request kept as ws._req, the redirect count kept as ws._redirects",
  "WebSocket Connection establishing When moving away from a secure context If there is no 'redirect' event listener drops the `auth` option":
    "reads the handshake request kept as ws._req, the redirect count kept as ws._redirects",
  "WebSocket Connection establishing When moving away from a secure context If there is no 'redirect' event listener drops the Authorization and Cookie headers":
    "reads the handshake request kept as ws._req, the redirect count kept as ws._redirects",
  "WebSocket Connection establishing When moving away from a secure context If there is at least one 'redirect' event listener does not drop any headers by default":
    "reads the handshake request kept as ws._req, the redirect count kept as ws._redirects",
  "WebSocket Connection establishing When the redirect host is different If there is no 'redirect' event listener drops the `auth` option":
    "reads the handshake request kept as ws._req, the redirect count kept as ws._redirects",
  "WebSocket Connection establishing When the redirect host is different If there is no 'redirect' event listener drops the Authorization, Cookie and Host headers (1/4)":
    "reads the handshake request kept as ws._req, the redirect count kept as ws._redirects",
  "WebSocket Connection establishing When the redirect host is different If there is no 'redirect' event listener drops the Authorization, Cookie and Host headers (2/4)":
    "reads the handshake request kept as ws._req, the redirect count kept as ws._redirects",
  "WebSocket Connection establishing When the redirect host is different If there is no 'redirect' event listener drops the Authorization, Cookie and Host headers (3/4)":
    "reads the handshake request kept as ws._req, the redirect count kept as ws._redirects",
  "WebSocket Connection establishing When the redirect host is different If there is no 'redirect' event listener drops the Authorization, Cookie and Host headers (4/4)":
    "reads the handshake request kept as ws._req, the redirect count kept as ws._redirects",
  "WebSocket Connection establishing When the redirect host is different If there is at least one 'redirect' event listener does not drop any headers by default":
    "reads the handshake request kept as ws._req, the redirect count kept as ws._redirects",
  "WebSocket Connection establishing In a listener of the 'redirect' event allows to abort the request without swallowing errors":
    "reads the redirect count kept as ws._redirects",
  "WebSocket Connection establishing In a listener of the 'redirect' event allows to remove headers":
    "reads the redirect count kept as ws._redirects",
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
  "WebSocket Request headers excludes default ports from host header":
    "reads the handshake request kept as ws._req",
  "WebSocket Request headers honors the `finishRequest` option":
    "reads the handshake request kept as ws._req",
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
  "WebSocketServer #ctor binds the server on any IPv6 address when available":
    "reads the HTTP server kept as wss._server",
  "WebSocketServer #ctor options accepts the `maxPayload` option":
    "reads ws's Receiver (ws._receiver)",
  "WebSocketServer #address returns the address of the server":
    "reads the HTTP server kept as wss._server",
  "WebSocketServer #close emits the 'close' event after the server closes":
    "reads the HTTP server kept as wss._server",
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

export const TRIAGE = {};
