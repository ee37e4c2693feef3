/**
 * The errors a WebSocket emits, in `ws`'s shape, so code written for `ws` reads them unchanged:
 * for a protocol violation the JavaScript class `ws` uses (RangeError for framing, Error for
 * invalid UTF-8), its `code` string and its message for the same condition, plus `closeCode`
 * (the code this end closed with) and the core's ProtocolError as `cause`. Data that does not
 * inflate is reported as `ws` passes zlib's error on: zlib's message, `code` and `errno`
 * ('Z_DATA_ERROR', -3); the cause keeps our stable WS_ERR_INFLATE_FAILED.
 * Must not: decide what is a violation (the core does) or change the close code sent.
 */
import type { ProtocolError, ProtocolErrorCode } from '../protocol/errors.js';

/** An error emitted by a WebSocket for a peer's protocol violation. */
export interface WsProtocolError extends Error {
  readonly code: string;
  readonly closeCode: number;
  readonly cause: ProtocolError;
}

interface Shape {
  /** RangeError for violations of the framing rules, Error for bad UTF-8, as `ws` has them. */
  range: boolean;
  code: string;
  message: string;
}

const FRAME = 'Invalid WebSocket frame: ';

/** Our core's codes, as `ws` reports the same condition. */
const SHAPES: Record<ProtocolErrorCode, Shape> = {
  WS_ERR_UNEXPECTED_RSV_1: { range: true, code: 'WS_ERR_UNEXPECTED_RSV_1', message: `${FRAME}RSV1 must be clear` },
  WS_ERR_UNEXPECTED_RSV_2: { range: true, code: 'WS_ERR_UNEXPECTED_RSV_2_3', message: `${FRAME}RSV2 and RSV3 must be clear` },
  WS_ERR_UNEXPECTED_RSV_3: { range: true, code: 'WS_ERR_UNEXPECTED_RSV_2_3', message: `${FRAME}RSV2 and RSV3 must be clear` },
  WS_ERR_INVALID_OPCODE: { range: true, code: 'WS_ERR_INVALID_OPCODE', message: `${FRAME}invalid opcode` },
  WS_ERR_EXPECTED_FIN: { range: true, code: 'WS_ERR_EXPECTED_FIN', message: `${FRAME}FIN must be set` },
  WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH: { range: true, code: 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH', message: `${FRAME}invalid payload length` },
  WS_ERR_EXPECTED_MASK: { range: true, code: 'WS_ERR_EXPECTED_MASK', message: `${FRAME}MASK must be set` },
  WS_ERR_UNEXPECTED_MASK: { range: true, code: 'WS_ERR_UNEXPECTED_MASK', message: `${FRAME}MASK must be clear` },
  WS_ERR_UNEXPECTED_CONTINUATION: { range: true, code: 'WS_ERR_INVALID_OPCODE', message: `${FRAME}invalid opcode 0` },
  WS_ERR_EXPECTED_CONTINUATION: { range: true, code: 'WS_ERR_INVALID_OPCODE', message: `${FRAME}invalid opcode` },
  WS_ERR_NON_MINIMAL_LENGTH: { range: true, code: 'WS_ERR_NON_MINIMAL_LENGTH', message: `${FRAME}payload length not in its minimal encoding` },
  WS_ERR_INVALID_PAYLOAD_LENGTH: { range: true, code: 'WS_ERR_INVALID_PAYLOAD_LENGTH', message: `${FRAME}64-bit payload length has its most significant bit set` },
  WS_ERR_UNSUPPORTED_MESSAGE_LENGTH: { range: true, code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', message: 'Max payload size exceeded' },
  WS_ERR_TOO_MANY_FRAGMENTS: { range: true, code: 'WS_ERR_TOO_MANY_FRAGMENTS', message: 'Too many message fragments' },
  WS_ERR_INVALID_UTF8: { range: false, code: 'WS_ERR_INVALID_UTF8', message: `${FRAME}invalid UTF-8 sequence` },
  WS_ERR_INVALID_CLOSE_UTF8: { range: false, code: 'WS_ERR_INVALID_UTF8', message: `${FRAME}invalid UTF-8 sequence` },
  WS_ERR_INVALID_CLOSE_CODE: { range: true, code: 'WS_ERR_INVALID_CLOSE_CODE', message: `${FRAME}invalid status code` },
  WS_ERR_INVALID_CLOSE_PAYLOAD: { range: true, code: 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH', message: `${FRAME}invalid payload length 1` },
  WS_ERR_INFLATE_FAILED: { range: false, code: 'WS_ERR_INFLATE_FAILED', message: 'compressed data could not be inflated' },
  WS_ERR_INTERNAL: { range: false, code: 'WS_ERR_INTERNAL', message: 'internal error' },
};

const WITH_DETAIL: ReadonlySet<ProtocolErrorCode> = new Set([
  'WS_ERR_INVALID_OPCODE',
  'WS_ERR_EXPECTED_CONTINUATION',
  'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH',
  'WS_ERR_INVALID_CLOSE_CODE',
] as const);

/** zlib's error behind a failed inflation, when zlib gave one (it names its code and errno). */
function zlibFailure(error: ProtocolError): { message: string; code: string; errno: number } | null {
  if (error.code !== 'WS_ERR_INFLATE_FAILED') return null;
  const zlib = error.cause as { message?: unknown; code?: unknown; errno?: unknown } | undefined;
  if (typeof zlib?.code !== 'string' || typeof zlib.errno !== 'number' || typeof zlib.message !== 'string') return null;
  return { message: zlib.message, code: zlib.code, errno: zlib.errno };
}

/** The error a WebSocket emits for `error`, the core's account of a violation. */
export function wsProtocolError(error: ProtocolError): WsProtocolError {
  const zlib = zlibFailure(error);
  if (zlib !== null) {
    return Object.assign(new Error(zlib.message, { cause: error }), { code: zlib.code, errno: zlib.errno, closeCode: error.closeCode }) as WsProtocolError;
  }
  const shape = SHAPES[error.code];
  // `ws` names the offending opcode, length or close code in these messages.
  const message = error.detail === undefined || !WITH_DETAIL.has(error.code) ? shape.message : `${shape.message} ${error.detail}`;
  const emitted = shape.range ? new RangeError(message, { cause: error }) : new Error(message, { cause: error });
  return Object.assign(emitted, { code: shape.code, closeCode: error.closeCode }) as WsProtocolError;
}
