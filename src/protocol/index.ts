/**
 * fullduplex/protocol: the Sans-I/O core of RFC 6455 (and the RFC 7692 hooks). Pure and
 * synchronous: bytes in, events and bytes out. Safe to use in any JavaScript runtime.
 * Every name exported here is public surface; the reader, assembler and output queue inside a
 * Connection are not.
 * Must not: export anything that needs Node.
 */
export {
  Connection,
  DEFAULT_MAX_FRAGMENTS,
  DEFAULT_MAX_PAYLOAD,
  DEFAULT_MAX_PENDING_PONGS,
} from './connection.js';
export type { ConnectionEvent, ConnectionOptions, ConnectionState, Side } from './connection.js';
export { sendFrameOptions } from './send-frame-options.js';
export type { SendFrameOptions } from './send-frame-options.js';
export type { MessageCodec } from './codec.js';
export { CloseCode, MAX_CLOSE_REASON, MAX_CONTROL_PAYLOAD, Opcode, ReadyState, WEBSOCKET_GUID, isValidCloseCode } from './constants.js';
export {
  BROKER_ERRORS,
  BrokerError,
  FullduplexError,
  HANDSHAKE_ERRORS,
  HandshakeError,
  PROTOCOL_ERRORS,
  ProtocolError,
  USAGE_ERRORS,
  UsageError,
} from './errors.js';
export type { BrokerErrorCode, FullduplexErrorCode, HandshakeErrorCode, ProtocolErrorCode, UsageErrorCode } from './errors.js';
export { encodeFrame, frameHeaderSize, writeFrameHeader } from './frame-writer.js';
export type { FrameFields } from './frame-writer.js';
export { applyMask, maskInto } from './mask.js';
export type { MaskFunction } from './mask.js';
export { Utf8Validator, isValidUtf8 } from './utf8-validator.js';
export { formatExtensions, isToken, listHasToken, parseExtensions, parseTokenList, splitList } from './header-tokens.js';
export type { ExtensionOffer, HeaderValue } from './header-tokens.js';
export { selectSubprotocol, validateRequest } from './handshake/server.js';
export type { HandshakeRequest, ValidRequest } from './handshake/server.js';
export { acceptHeaders, formatHead, rejectResponse } from './handshake/http-answer.js';
export type { AcceptOptions } from './handshake/http-answer.js';
export { acceptValue } from './handshake/accept-key.js';
export { generateKey, requestHeaders, validateResponse } from './handshake/client.js';
export type { AcceptedResponse, ClientRequestOptions, ServerResponse } from './handshake/client.js';
export { base64Encode } from './handshake/base64.js';
export { sha1 } from './handshake/sha1.js';
export { PERMESSAGE_DEFLATE, acceptDeflateResponse, deflateOffer, negotiateDeflate } from './permessage-deflate.js';
export type { DeflateConfig, DeflateParams } from './permessage-deflate.js';
