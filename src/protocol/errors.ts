/**
 * The error family of fullduplex, drawn once here, with every `code` in one typed table.
 *
 *   FullduplexError            base: a stable `code` string (FullduplexErrorCode)
 *   ├── ProtocolError          a peer broke RFC 6455/7692 after the handshake: carries `closeCode`
 *   │                          (PROTOCOL_ERRORS)
 *   ├── HandshakeError         the opening handshake failed: carries the HTTP `status` to answer
 *   │                          (HANDSHAKE_ERRORS)
 *   ├── UsageError             the API was misused: wrong state or bad arguments (USAGE_ERRORS)
 *   └── BrokerError            a broker could not take or deliver a message (BROKER_ERRORS)
 *
 * A code string, its default message and its close code (or HTTP status) are decided here and
 * nowhere else; each class takes only a code of its own table. Where `ws` throws a built-in type
 * for bad arguments (TypeError, RangeError, SyntaxError) the node layer does the same instead.
 * Must not: import anything outside protocol/, or be thrown from the core's receive path.
 */

export class FullduplexError extends Error {
  readonly code: FullduplexErrorCode;
  constructor(code: FullduplexErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

export class ProtocolError extends FullduplexError {
  declare readonly code: ProtocolErrorCode;
  /** The close code sent to the peer when this error fails the connection. */
  readonly closeCode: number;
  /** The offending value, where there is one: the opcode, a control frame's length, the close code. */
  readonly detail: number | undefined;
  constructor(code: ProtocolErrorCode, message?: string, detail?: number, options?: ErrorOptions) {
    const row = PROTOCOL_ERRORS[code];
    super(code, message ?? (detail === undefined ? row.message : `${row.message} ${detail}`), options);
    this.closeCode = row.closeCode;
    this.detail = detail;
  }
}

export class HandshakeError extends FullduplexError {
  declare readonly code: HandshakeErrorCode;
  /** The HTTP status a server answers with (clients see 0: the server's answer was wrong). */
  readonly status: number;
  constructor(code: HandshakeErrorCode, message?: string, status?: number) {
    const row = HANDSHAKE_ERRORS[code];
    super(code, message ?? row.message);
    this.status = status ?? row.status;
  }
}

/** Errors raised by misuse of the API (bad arguments, wrong state). */
export class UsageError extends FullduplexError {
  declare readonly code: UsageErrorCode;
  constructor(code: UsageErrorCode, message?: string) {
    super(code, message ?? USAGE_ERRORS[code].message);
  }
}

/**
 * A broker could not publish, subscribe or unsubscribe. Rejected promises carry it, so a lost
 * publication is never silent; `cause` holds the broker client's own error when there is one.
 */
export class BrokerError extends FullduplexError {
  declare readonly code: BrokerErrorCode;
  constructor(code: BrokerErrorCode, message?: string, options?: ErrorOptions) {
    super(code, message ?? BROKER_ERRORS[code].message, options);
  }
}

export const PROTOCOL_ERRORS = {
  WS_ERR_UNEXPECTED_RSV_1: { closeCode: 1002, message: 'RSV1 must be clear' },
  WS_ERR_UNEXPECTED_RSV_2: { closeCode: 1002, message: 'RSV2 must be clear' },
  WS_ERR_UNEXPECTED_RSV_3: { closeCode: 1002, message: 'RSV3 must be clear' },
  WS_ERR_INVALID_OPCODE: { closeCode: 1002, message: 'invalid opcode' },
  WS_ERR_EXPECTED_FIN: { closeCode: 1002, message: 'control frames must not be fragmented' },
  WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH: { closeCode: 1002, message: 'control frame payload longer than 125 bytes' },
  WS_ERR_EXPECTED_MASK: { closeCode: 1002, message: 'client frames must be masked' },
  WS_ERR_UNEXPECTED_MASK: { closeCode: 1002, message: 'server frames must not be masked' },
  WS_ERR_UNEXPECTED_CONTINUATION: { closeCode: 1002, message: 'continuation frame without a message to continue' },
  WS_ERR_EXPECTED_CONTINUATION: { closeCode: 1002, message: 'new data frame while a fragmented message is open' },
  WS_ERR_NON_MINIMAL_LENGTH: { closeCode: 1002, message: 'payload length not in its minimal encoding' },
  WS_ERR_INVALID_PAYLOAD_LENGTH: { closeCode: 1002, message: '64-bit payload length has its most significant bit set' },
  WS_ERR_UNSUPPORTED_MESSAGE_LENGTH: { closeCode: 1009, message: 'message larger than maxPayload' },
  WS_ERR_TOO_MANY_FRAGMENTS: { closeCode: 1009, message: 'message split into more than maxFragments frames' },
  WS_ERR_INVALID_UTF8: { closeCode: 1007, message: 'invalid UTF-8 in a text message' },
  WS_ERR_INVALID_CLOSE_UTF8: { closeCode: 1007, message: 'invalid UTF-8 in a close reason' },
  WS_ERR_INVALID_CLOSE_CODE: { closeCode: 1002, message: 'invalid close code' },
  WS_ERR_INVALID_CLOSE_PAYLOAD: { closeCode: 1002, message: 'close payload of one byte' },
  WS_ERR_INFLATE_FAILED: { closeCode: 1007, message: 'compressed data could not be inflated' },
  WS_ERR_INTERNAL: { closeCode: 1011, message: 'internal error' },
} as const;
export type ProtocolErrorCode = keyof typeof PROTOCOL_ERRORS;

export const HANDSHAKE_ERRORS = {
  WS_ERR_HANDSHAKE_METHOD: { status: 405, message: 'the opening handshake must be a GET request' },
  WS_ERR_HANDSHAKE_HTTP_VERSION: { status: 505, message: 'the opening handshake needs HTTP/1.1 or later' },
  WS_ERR_HANDSHAKE_HOST: { status: 400, message: 'missing or duplicate Host header' },
  WS_ERR_HANDSHAKE_UPGRADE: { status: 400, message: 'missing or invalid Upgrade header' },
  WS_ERR_HANDSHAKE_CONNECTION: { status: 400, message: 'missing or invalid Connection header' },
  WS_ERR_HANDSHAKE_KEY: { status: 400, message: 'missing, duplicate or invalid Sec-WebSocket-Key header' },
  WS_ERR_HANDSHAKE_VERSION: { status: 426, message: 'unsupported Sec-WebSocket-Version (only 13)' },
  WS_ERR_HANDSHAKE_PROTOCOL: { status: 400, message: 'invalid Sec-WebSocket-Protocol header' },
  WS_ERR_HANDSHAKE_EXTENSIONS: { status: 400, message: 'invalid Sec-WebSocket-Extensions header' },
  WS_ERR_HANDSHAKE_PATH: { status: 400, message: 'no WebSocket endpoint at this path' },
  WS_ERR_HANDSHAKE_TARGET: { status: 400, message: 'the request target must be a path or an absolute URI' },
  WS_ERR_HANDSHAKE_ORIGIN: { status: 403, message: 'origin not allowed' },
  WS_ERR_HANDSHAKE_REJECTED: { status: 401, message: 'the server refused the connection' },
  WS_ERR_HANDSHAKE_CAPACITY: { status: 503, message: 'the server is at maxConnections' },
  WS_ERR_HANDSHAKE_TIMEOUT: { status: 408, message: 'the opening handshake timed out' },
  WS_ERR_HANDSHAKE_HEADERS_TOO_LARGE: { status: 431, message: 'request headers too large' },
  WS_ERR_HANDSHAKE_SHUTTING_DOWN: { status: 503, message: 'the server is shutting down' },
  // HTTP/2 (RFC 8441): the extended CONNECT's own checks, answered as the stream's :status.
  WS_ERR_H2_CONNECT_WITHOUT_PROTOCOL: { status: 405, message: 'a CONNECT without :protocol is not served here (no proxying)' },
  WS_ERR_H2_PROTOCOL: { status: 501, message: 'the only :protocol served is websocket' },
  WS_ERR_H2_PSEUDO_HEADERS: { status: 400, message: 'an extended CONNECT needs :scheme, :path and :authority' },
  WS_ERR_H2_STREAM_LIMIT: { status: 429, message: 'too many WebSockets on this HTTP/2 connection' },
  // Client side: the server's answer broke the rules. Status 0: there is nobody to answer.
  WS_ERR_UNEXPECTED_RESPONSE: { status: 0, message: 'unexpected server response' },
  WS_ERR_INVALID_ACCEPT: { status: 0, message: 'invalid Sec-WebSocket-Accept header' },
  WS_ERR_INVALID_UPGRADE_RESPONSE: { status: 0, message: 'the server response lacks Upgrade: websocket or Connection: upgrade' },
  WS_ERR_SERVER_PROTOCOL: { status: 0, message: 'the server chose a subprotocol that was not offered, or none when one was required' },
  WS_ERR_SERVER_EXTENSIONS: { status: 0, message: 'the server accepted an extension that was not offered or is malformed' },
  WS_ERR_TOO_MANY_REDIRECTS: { status: 0, message: 'maximum redirects exceeded' },
  WS_ERR_INVALID_URL: { status: 0, message: 'invalid WebSocket URL' },
  WS_ERR_CLIENT_HANDSHAKE_TIMEOUT: { status: 0, message: 'opening handshake has timed out' },
  WS_ERR_H2_NOT_SUPPORTED: { status: 0, message: 'the server does not accept WebSockets over HTTP/2 (no SETTINGS_ENABLE_CONNECT_PROTOCOL)' },
} as const;
export type HandshakeErrorCode = keyof typeof HANDSHAKE_ERRORS;

export const USAGE_ERRORS = {
  WS_ERR_NOT_OPEN: { message: 'WebSocket is not open' },
  WS_ERR_CLOSED_BEFORE_OPEN: { message: 'WebSocket was closed before the connection was established' },
  WS_ERR_CLOSE_SENT: { message: 'a close frame was already sent' },
  WS_ERR_CLOSED: { message: 'the connection is closed' },
  WS_ERR_INVALID_CLOSE_ARGS: { message: 'a close reason needs a close code' },
  WS_ERR_INVALID_CLOSE_CODE: { message: 'invalid close code' },
  WS_ERR_CLOSE_REASON_TOO_LONG: { message: 'close reason longer than 123 bytes' },
  WS_ERR_CONTROL_TOO_LONG: { message: 'control frame payload longer than 125 bytes' },
  WS_ERR_FRAGMENT_OPEN: { message: 'a fragmented message is being sent' },
  WS_ERR_PREPARED_CLIENT: { message: 'clients must mask each frame themselves' },
  WS_ERR_NO_MASK_SOURCE: { message: 'a client connection needs generateMask' },
  WS_ERR_INVALID_KEY_SOURCE: { message: 'a key needs 16 random bytes' },
  WS_ERR_INVALID_SUBPROTOCOL: { message: 'invalid subprotocol' },
  WS_ERR_NO_TOPICS: { message: 'topics exist only on connections accepted by a WebSocketServer' },
} as const;
export type UsageErrorCode = keyof typeof USAGE_ERRORS;

export const BROKER_ERRORS = {
  BROKER_UNAVAILABLE: { message: 'the broker is unavailable' },
  BROKER_CLOSED: { message: 'the broker is closed' },
} as const;
export type BrokerErrorCode = keyof typeof BROKER_ERRORS;

/** Every code any error of the family may carry. */
export type FullduplexErrorCode = ProtocolErrorCode | HandshakeErrorCode | UsageErrorCode | BrokerErrorCode;
