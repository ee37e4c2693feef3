/**
 * fullduplex/protocol: the Sans-I/O core of RFC 6455 (and the RFC 7692 hooks). Pure and
 * synchronous: bytes in, events and bytes out. Safe to use in any JavaScript runtime.
 */
export { Connection, DEFAULT_MAX_FRAGMENTS, DEFAULT_MAX_PAYLOAD, DEFAULT_MAX_PENDING_PONGS } from './connection.js';
export type { ConnectionEvent, ConnectionOptions, ConnectionState, Side } from './connection.js';
export type { MessageCodec } from './codec.js';
export { CloseCode, MAX_CLOSE_REASON, MAX_CONTROL_PAYLOAD, Opcode, ReadyState, WEBSOCKET_GUID, isValidCloseCode } from './constants.js';
export {
  FullduplexError,
  HANDSHAKE_ERRORS,
  HandshakeError,
  PROTOCOL_ERRORS,
  ProtocolError,
  UsageError,
} from './errors.js';
export type { HandshakeErrorCode, ProtocolErrorCode } from './errors.js';
export { encodeFrame, frameHeaderSize, writeFrameHeader } from './frame-writer.js';
export type { FrameFields } from './frame-writer.js';
export { applyMask, maskInto } from './mask.js';
export { Utf8Validator, isValidUtf8 } from './utf8-validator.js';
export { formatExtensions, isToken, listHasToken, parseExtensions, parseTokenList, splitList } from './header-tokens.js';
export type { ExtensionOffer } from './header-tokens.js';
export {
  acceptHeaders,
  acceptValue,
  formatHead,
  rejectResponse,
  selectSubprotocol,
  validateRequest,
} from './server-handshake.js';
export type { AcceptOptions, HandshakeRequest, HeaderValue, ValidRequest } from './server-handshake.js';
export { generateKey, requestHeaders, validateResponse } from './client-handshake.js';
export type { AcceptedResponse, ClientRequestOptions, ServerResponse } from './client-handshake.js';
export { base64Encode, sha1 } from './sha1.js';
export { PERMESSAGE_DEFLATE, acceptDeflateResponse, deflateOffer, negotiateDeflate } from './permessage-deflate.js';
export type { DeflateConfig, DeflateParams } from './permessage-deflate.js';
