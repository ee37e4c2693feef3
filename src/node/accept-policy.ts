/**
 * Whom a server accepts, once the request is a valid opening handshake (RFC 6455 §4.2.1): the
 * origin allow-list (§10.2), maxConnections, the user's verifyClient (sync or async, within the
 * handshake timeout), the subprotocol (§4.2.2 /subprotocol/) and permessage-deflate's offer
 * (RFC 7692 §5: the first acceptable offer wins, the rest are declined).
 * Must not: read or write the socket (upgrade/http1.ts does), or parse headers (protocol/ does).
 */
import http from 'node:http';
import { HandshakeError, type HandshakeErrorCode } from '../protocol/errors.js';
import { negotiateDeflate, type DeflateParams } from '../protocol/permessage-deflate.js';
import type { ValidRequest } from '../protocol/handshake/server.js';
import { PLAIN_TCP } from './handle-transport.js';
import type { ResolvedDeflateOptions } from './options.js';

/** What verifyClient learns of a request; `origin` is undefined when the request has none (typed as `ws` types it). */
export interface VerifyClientInfo<Request extends http.IncomingMessage = http.IncomingMessage> {
  origin: string;
  secure: boolean;
  req: Request;
}

export type VerifyClientCallback = (verified: boolean, code?: number, message?: string, headers?: http.OutgoingHttpHeaders) => void;

/**
 * Synchronous when it declares one parameter (returns the verdict), asynchronous with two (calls
 * back). One signature for both, so that an inline function is typed from it either way.
 */
export type VerifyClient<Request extends http.IncomingMessage = http.IncomingMessage> = (
  info: VerifyClientInfo<Request>,
  callback: VerifyClientCallback,
) => unknown;

/** `ws`'s types for the two forms of verifyClient, generic over the request class. */
export type VerifyClientCallbackSync<Request extends http.IncomingMessage = http.IncomingMessage> = (info: {
  origin: string;
  secure: boolean;
  req: Request;
}) => boolean;

export type VerifyClientCallbackAsync<Request extends http.IncomingMessage = http.IncomingMessage> = (
  info: { origin: string; secure: boolean; req: Request },
  callback: (res: boolean, code?: number, message?: string, headers?: http.OutgoingHttpHeaders) => void,
) => void;

/** The options the policy reads (a server's, resolved). */
export interface AcceptOptions {
  origins?: readonly string[];
  maxConnections: number;
  handleProtocols?: (protocols: Set<string>, request: http.IncomingMessage) => string | false;
  verifyClient?: VerifyClient;
  handshakeTimeoutMs: number;
}

/** What the server agreed to for one connection. */
export interface Agreement {
  protocol: string | undefined;
  deflate: { params: DeflateParams; response: string } | null;
}

/** A refusal, with the headers a verifyClient asked for. */
export type Refusal = { error: HandshakeError; headers?: http.OutgoingHttpHeaders };

/**
 * Decides on `request`, calling `answer` once with the agreement or the refusal: synchronously,
 * unless an asynchronous verifyClient has to answer first (then `waiting` counts it as a
 * connection being accepted, for maxConnections, until it answers or times out).
 */
export function decide(
  options: AcceptOptions,
  deflate: ResolvedDeflateOptions | null,
  req: http.IncomingMessage,
  valid: ValidRequest,
  openCount: number,
  waiting: { count: number },
  answer: (outcome: Agreement | Refusal) => void,
): void {
  if (options.origins && valid.origin !== undefined && !options.origins.includes(valid.origin)) {
    return answer({ error: new HandshakeError('WS_ERR_HANDSHAKE_ORIGIN') });
  }
  const max = options.maxConnections;
  if (max > 0 && openCount + waiting.count >= max) return answer({ error: new HandshakeError('WS_ERR_HANDSHAKE_CAPACITY') });

  let protocol: string | undefined;
  if (valid.protocols.length > 0) {
    if (options.handleProtocols) {
      const chosen = options.handleProtocols(new Set(valid.protocols), req);
      protocol = chosen === false ? undefined : chosen;
    } else {
      protocol = valid.protocols[0];
    }
  }
  const agreement: Agreement = {
    protocol,
    deflate: deflate && valid.extensions.length > 0 ? negotiateDeflate(valid.extensions, deflate) : null,
  };

  const verify = options.verifyClient;
  if (!verify) return answer(agreement);
  const info: VerifyClientInfo = {
    // Undefined without an Origin header, as in `ws` (whose types say string).
    origin: valid.origin as string,
    // A request read on a bare handle came over plain TCP: asking its socket would make one.
    secure: (req as { [PLAIN_TCP]?: boolean })[PLAIN_TCP] === true ? false : Boolean((req.socket as { encrypted?: boolean }).encrypted),
    req,
  };
  if (verify.length !== 2) {
    if (!(verify as (i: VerifyClientInfo) => boolean)(info)) return answer({ error: new HandshakeError('WS_ERR_HANDSHAKE_REJECTED') });
    return answer(agreement);
  }
  // Only an asynchronous verifyClient lets the handshake wait; the timer bounds the wait.
  let answered = false;
  const settle = (outcome: Agreement | Refusal): void => {
    if (answered) return;
    answered = true;
    clearTimeout(timer);
    waiting.count--;
    answer(outcome);
  };
  const timer = setTimeout(() => settle({ error: new HandshakeError('WS_ERR_HANDSHAKE_TIMEOUT') }), options.handshakeTimeoutMs);
  timer.unref();
  waiting.count++;
  verify(info, (verified, code, message, headers) => {
    if (verified) return settle(agreement);
    const status = code ?? 401;
    settle({ error: new HandshakeError('WS_ERR_HANDSHAKE_REJECTED', message ?? http.STATUS_CODES[status], status), headers });
  });
}

/** The messages `ws` gives the same refusals (in 'wsClientError' and in the answer's body). */
const WS_REFUSALS: Partial<Record<HandshakeErrorCode, string>> = {
  WS_ERR_HANDSHAKE_METHOD: 'Invalid HTTP method',
  WS_ERR_HANDSHAKE_UPGRADE: 'Invalid Upgrade header',
  WS_ERR_HANDSHAKE_KEY: 'Missing or invalid Sec-WebSocket-Key header',
  WS_ERR_HANDSHAKE_VERSION: 'Missing or invalid Sec-WebSocket-Version header',
  WS_ERR_HANDSHAKE_PROTOCOL: 'Invalid Sec-WebSocket-Protocol header',
  WS_ERR_HANDSHAKE_EXTENSIONS: 'Invalid or unacceptable Sec-WebSocket-Extensions header',
};

/** A refusal worded as `ws` words it, where `ws` has a message for its code. */
export function wsShaped(error: HandshakeError): HandshakeError {
  const message = WS_REFUSALS[error.code as HandshakeErrorCode];
  return message === undefined ? error : new HandshakeError(error.code as HandshakeErrorCode, message, error.status);
}
