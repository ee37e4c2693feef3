/**
 * HTTP header values as the opening handshake reads them (`HeaderValue`) and their grammar:
 * comma-separated token lists (RFC 9110 §5.6.1, §5.6.2) and the Sec-WebSocket-Extensions
 * grammar (RFC 6455 §9.1), with quoted-string parameter values (RFC 9110 §5.6.4).
 * Must not: know any extension's meaning (that is negotiation's job).
 */

/** A header's value as an HTTP parser hands it over: repeated headers may come as an array. */
export type HeaderValue = string | string[] | undefined;

/** RFC 9110 §5.6.2 tchar. */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") {
  TCHAR[c.charCodeAt(0)] = 1;
}

export function isToken(value: string): boolean {
  if (value.length === 0) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 128 || TCHAR[c] === 0) return false;
  }
  return true;
}

/** Splits `a, b ,c` into trimmed elements, dropping empty ones (RFC 9110 §5.6.1 allows them). */
export function splitList(value: string): string[] {
  const out: string[] = [];
  for (const part of value.split(',')) {
    const trimmed = part.trim();
    if (trimmed.length > 0) out.push(trimmed);
  }
  return out;
}

/** Does the comma list contain `token`, compared case-insensitively? */
export function listHasToken(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  const wanted = token.toLowerCase();
  // One element (the common case): no list to make.
  if (value.indexOf(',') === -1) return value.trim().toLowerCase() === wanted;
  return splitList(value).some((t) => t.toLowerCase() === wanted);
}

/** Parses a list of tokens; null when an element is not a token or appears twice. */
export function parseTokenList(value: string): string[] | null {
  const tokens = splitList(value);
  const seen = new Set<string>();
  for (const t of tokens) {
    if (!isToken(t) || seen.has(t)) return null;
    seen.add(t);
  }
  return tokens;
}

export interface ExtensionOffer {
  name: string;
  /** Parameters in order; a parameter without a value has `true`. */
  params: Array<[name: string, value: string | true]>;
}

/**
 * Parses a Sec-WebSocket-Extensions value into offers, in order. Returns null when the value
 * does not follow the grammar of RFC 6455 §9.1.
 */
export function parseExtensions(value: string): ExtensionOffer[] | null {
  const offers: ExtensionOffer[] = [];
  let i = 0;
  const n = value.length;
  const skipSpace = (): void => {
    while (i < n && (value[i] === ' ' || value[i] === '\t')) i++;
  };
  const readToken = (): string => {
    const start = i;
    while (i < n) {
      const c = value.charCodeAt(i);
      if (c >= 128 || TCHAR[c] === 0) break;
      i++;
    }
    return value.slice(start, i);
  };
  while (true) {
    skipSpace();
    if (i < n && value[i] === ',') {
      i++; // empty list element
      continue;
    }
    if (i >= n) break;
    const name = readToken();
    if (name.length === 0) return null;
    const offer: ExtensionOffer = { name, params: [] };
    skipSpace();
    while (i < n && value[i] === ';') {
      i++;
      skipSpace();
      const param = readToken();
      if (param.length === 0) return null;
      skipSpace();
      let paramValue: string | true = true;
      if (i < n && value[i] === '=') {
        i++;
        skipSpace();
        if (value[i] === '"') {
          i++;
          let text = '';
          while (i < n && value[i] !== '"') {
            if (value[i] === '\\') i++;
            if (i >= n) return null;
            text += value[i];
            i++;
          }
          if (i >= n) return null;
          i++;
          // RFC 6455 §9.1: a quoted value must still be a token once unquoted.
          if (!isToken(text)) return null;
          paramValue = text;
        } else {
          paramValue = readToken();
          if (paramValue.length === 0) return null;
        }
        skipSpace();
      }
      offer.params.push([param, paramValue]);
    }
    offers.push(offer);
    skipSpace();
    if (i >= n) break;
    if (value[i] !== ',') return null;
    i++;
  }
  return offers;
}

/** Formats offers back into a header value. */
export function formatExtensions(offers: ExtensionOffer[]): string {
  return offers
    .map((o) => [o.name, ...o.params.map(([k, v]) => (v === true ? k : `${k}=${v}`))].join('; '))
    .join(', ');
}
