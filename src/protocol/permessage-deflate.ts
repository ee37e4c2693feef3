/**
 * permessage-deflate negotiation, RFC 7692 §5 and §7.1: the client's offer, the server's choice
 * among offers, and the client's checks of the server's answer. The outcome is a
 * `DeflateParams` that both ends then hold to; the compression itself is a MessageCodec
 * (codec.ts) implemented outside the core.
 * Must not: compress anything, or know about zlib.
 */
import { HandshakeError } from './errors.js';
import { formatExtensions, type ExtensionOffer } from './header-tokens.js';

export const PERMESSAGE_DEFLATE = 'permessage-deflate';

/** The order of the parameters an answer adds to those of the offer. */
const ANSWER_ORDER = ['server_no_context_takeover', 'client_no_context_takeover', 'server_max_window_bits', 'client_max_window_bits'];

/** What one side wants (ws's option names). Window bits are 8..15. */
export interface DeflateConfig {
  serverNoContextTakeover?: boolean;
  clientNoContextTakeover?: boolean;
  serverMaxWindowBits?: number;
  clientMaxWindowBits?: number;
}

/** The negotiated agreement. Window bits are the largest window each side may compress with. */
export interface DeflateParams {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number;
  clientMaxWindowBits: number;
}

const PARAM_NAMES = new Set([
  'server_no_context_takeover',
  'client_no_context_takeover',
  'server_max_window_bits',
  'client_max_window_bits',
]);

function isWindowBits(value: string): boolean {
  // RFC 7692 §7.1.2.1: a decimal integer 8..15 with no leading zeros.
  return /^(8|9|1[0-5])$/.test(value);
}

interface ParsedParams {
  server_no_context_takeover?: true;
  client_no_context_takeover?: true;
  server_max_window_bits?: number;
  /** `true`: offered without a value. */
  client_max_window_bits?: number | true;
}

/**
 * Reads the parameters of one permessage-deflate element; null when one is unknown, duplicated,
 * or has an invalid value (RFC 7692 §7: such an offer is declined, such an answer fails).
 */
function parseParams(offer: ExtensionOffer, side: 'offer' | 'response'): ParsedParams | null {
  const out: ParsedParams = {};
  const seen = new Set<string>();
  for (const [name, value] of offer.params) {
    if (!PARAM_NAMES.has(name) || seen.has(name)) return null;
    seen.add(name);
    switch (name) {
      case 'server_no_context_takeover':
      case 'client_no_context_takeover':
        if (value !== true) return null;
        out[name] = true;
        break;
      case 'server_max_window_bits':
        if (value === true || !isWindowBits(value)) return null;
        out.server_max_window_bits = Number(value);
        break;
      case 'client_max_window_bits':
        if (value === true) {
          // Only an offer may carry it bare; an answer must give the value (RFC 7692 §7.1.2.2).
          if (side === 'response') return null;
          out.client_max_window_bits = true;
        } else {
          if (!isWindowBits(value)) return null;
          out.client_max_window_bits = Number(value);
        }
        break;
    }
  }
  return out;
}

/** The client's Sec-WebSocket-Extensions value for `config`. */
export function deflateOffer(config: DeflateConfig): string {
  const params: ExtensionOffer['params'] = [];
  if (config.serverNoContextTakeover) params.push(['server_no_context_takeover', true]);
  if (config.clientNoContextTakeover) params.push(['client_no_context_takeover', true]);
  if (config.serverMaxWindowBits !== undefined) params.push(['server_max_window_bits', String(config.serverMaxWindowBits)]);
  // Always announce that we can honour a client window limit; give ours if we have one.
  params.push(['client_max_window_bits', config.clientMaxWindowBits !== undefined ? String(config.clientMaxWindowBits) : true]);
  return formatExtensions([{ name: PERMESSAGE_DEFLATE, params }]);
}

/**
 * The server's choice (RFC 7692 §5): the first acceptable permessage-deflate offer, with the
 * agreed parameters and the answer header value; null when every offer is declined. An offer is
 * declined when malformed, or when it cannot be met (a client window limit that the client did
 * not allow us to impose).
 */
export function negotiateDeflate(
  offers: readonly ExtensionOffer[],
  config: DeflateConfig,
): { params: DeflateParams; response: string } | null {
  for (const offer of offers) {
    if (offer.name !== PERMESSAGE_DEFLATE) continue;
    const p = parseParams(offer, 'offer');
    if (p === null) continue;
    // client_max_window_bits may only be sent back if the client offered it.
    if (config.clientMaxWindowBits !== undefined && p.client_max_window_bits === undefined) continue;
    const serverNoContextTakeover = Boolean(config.serverNoContextTakeover || p.server_no_context_takeover);
    const clientNoContextTakeover = Boolean(config.clientNoContextTakeover || p.client_no_context_takeover);
    let serverMaxWindowBits = 15;
    let sendServerBits = false;
    if (p.server_max_window_bits !== undefined) {
      serverMaxWindowBits = p.server_max_window_bits;
      sendServerBits = true;
    }
    if (config.serverMaxWindowBits !== undefined && config.serverMaxWindowBits < serverMaxWindowBits) {
      serverMaxWindowBits = config.serverMaxWindowBits;
      sendServerBits = true;
    }
    let clientMaxWindowBits = 15;
    let sendClientBits = false;
    if (typeof p.client_max_window_bits === 'number') {
      clientMaxWindowBits = p.client_max_window_bits;
      sendClientBits = true;
    }
    if (config.clientMaxWindowBits !== undefined && config.clientMaxWindowBits < clientMaxWindowBits) {
      clientMaxWindowBits = config.clientMaxWindowBits;
      sendClientBits = true;
    }
    const params: ExtensionOffer['params'] = [];
    if (serverNoContextTakeover) params.push(['server_no_context_takeover', true]);
    if (clientNoContextTakeover) params.push(['client_no_context_takeover', true]);
    if (sendServerBits) params.push(['server_max_window_bits', String(serverMaxWindowBits)]);
    if (sendClientBits) params.push(['client_max_window_bits', String(clientMaxWindowBits)]);
    // Parameters the offer named keep its order, ours follow (the answer `ws` writes, byte for byte).
    const rank = (name: string): number => {
      const at = offer.params.findIndex(([offered]) => offered === name);
      return at === -1 ? offer.params.length + ANSWER_ORDER.indexOf(name) : at;
    };
    params.sort((a, b) => rank(a[0]) - rank(b[0]));
    return {
      params: { serverNoContextTakeover, clientNoContextTakeover, serverMaxWindowBits, clientMaxWindowBits },
      response: formatExtensions([{ name: PERMESSAGE_DEFLATE, params }]),
    };
  }
  return null;
}

/**
 * The client's checks of the server's answer (RFC 7692 §5, §7.1): one permessage-deflate
 * element, known parameters once each with valid values, window limits within what was offered.
 */
export function acceptDeflateResponse(
  response: readonly ExtensionOffer[],
  config: DeflateConfig,
): DeflateParams | HandshakeError {
  const elements = response.filter((e) => e.name === PERMESSAGE_DEFLATE);
  const fail = (why: string): HandshakeError => new HandshakeError('WS_ERR_SERVER_EXTENSIONS', `invalid permessage-deflate answer: ${why}`);
  if (elements.length !== 1) return fail('it must appear exactly once');
  const p = parseParams(elements[0]!, 'response');
  if (p === null) return fail('unknown, duplicated or invalid parameter');
  if (config.serverNoContextTakeover && !p.server_no_context_takeover) return fail('server_no_context_takeover was requested');
  if (config.serverMaxWindowBits !== undefined) {
    if (p.server_max_window_bits === undefined) return fail('server_max_window_bits was requested');
    if (p.server_max_window_bits > config.serverMaxWindowBits) return fail('server_max_window_bits above the offer');
  }
  const clientBits = p.client_max_window_bits as number | undefined;
  if (config.clientMaxWindowBits !== undefined && clientBits !== undefined && clientBits > config.clientMaxWindowBits) {
    return fail('client_max_window_bits above the offer');
  }
  return {
    serverNoContextTakeover: Boolean(p.server_no_context_takeover),
    clientNoContextTakeover: Boolean(p.client_no_context_takeover || config.clientNoContextTakeover),
    serverMaxWindowBits: p.server_max_window_bits ?? 15,
    clientMaxWindowBits: clientBits ?? config.clientMaxWindowBits ?? 15,
  };
}
