/**
 * Reads the head of an HTTP/1.1 upgrade request (RFC 9112 §3, §5; RFC 6455 §4.1) when it is
 * written in the plainest form: `GET <target> HTTP/1.1`, `Name: value` lines, CRLF endings.
 * It is a filter, not a full HTTP parser: whatever it is not sure an ordinary HTTP/1.1 parser
 * reads the same way (other methods or versions, bodies, empty or padded values, a field name
 * given twice (how repeats combine is the full parser's rule), bytes outside printable ASCII,
 * obsolete line folding, a request that is no upgrade) it declines with null, and the caller
 * hands the bytes to a full parser. What it accepts is then checked like any other request
 * (server.ts validateRequest).
 * Must not: judge the handshake (server.ts does), or accept anything a full parser would read
 * differently.
 */
import { isToken } from '../header-tokens.js';

export interface RequestHead {
  /** The request target as written (origin or absolute form). */
  url: string;
  /** Name/value pairs as received, in order (the shape of Node's `rawHeaders`). */
  rawHeaders: string[];
  /** Values by lower-case name (each name appears once). */
  headers: Record<string, string>;
}

/** The most header lines read here; longer heads go to the full parser. */
const MAX_HEADER_LINES = 100;

/** An origin-form request target (RFC 9112 §3.2.1) of RFC 3986 characters, without the fragment's "#". */
const REQUEST_LINE = /^GET (\/[A-Za-z0-9\-._~:/?[\]@!$&'()*+,;=%]*) HTTP\/1\.1$/;

/** RFC 9110 §5.6.2 tchar: the characters of a field name. */
const NAME_CHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") NAME_CHAR[c.charCodeAt(0)] = 1;

const COLON = 0x3a;
const SPACE = 0x20;
const TAB = 0x09;

/**
 * Fields that give the request a body or expectations (content-length, transfer-encoding,
 * expect): a full parser's business. Compared by length first: no hashing of each name.
 */
function isDeclinedField(lower: string): boolean {
  const length = lower.length;
  return (length === 14 && lower === 'content-length') || (length === 17 && lower === 'transfer-encoding') || (length === 6 && lower === 'expect');
}

/**
 * Reads `text`, the head's bytes as latin1 up to (not including) the blank line that ends it.
 * Returns the request, or null when a full HTTP parser must read it instead, which includes
 * every request that does not ask to upgrade (an `Upgrade` field and a `Connection` field
 * with the `upgrade` option, RFC 9110 §7.8).
 * Each field line is `name:[ \t]*value`: a name of tchar, a non-empty value of printable
 * ASCII, spaces and tabs that neither starts nor ends with a space or tab. Lines are read in
 * place, one character at a time (no line array, no match objects).
 */
export function readRequestHead(text: string): RequestHead | null {
  const length = text.length;
  let lineEnd = text.indexOf('\r\n');
  if (lineEnd === -1) lineEnd = length;
  const requestLine = REQUEST_LINE.exec(text.slice(0, lineEnd));
  if (requestLine === null) return null;
  const rawHeaders: string[] = [];
  const headers: Record<string, string> = {};
  let upgrade = false;
  let connectionUpgrade = false;
  let fields = 0;
  for (let at = lineEnd + 2; at <= length; at = lineEnd + 2) {
    if (++fields > MAX_HEADER_LINES) return null;
    lineEnd = text.indexOf('\r\n', at);
    if (lineEnd === -1) lineEnd = length;
    let i = at;
    let c = 0;
    while (i < lineEnd && (c = text.charCodeAt(i)) < 128 && NAME_CHAR[c] === 1) i++;
    if (i === at || i === lineEnd || c !== COLON) return null;
    const name = text.slice(at, i);
    i++;
    while (i < lineEnd && ((c = text.charCodeAt(i)) === SPACE || c === TAB)) i++;
    if (i === lineEnd) return null;
    const valueStart = i;
    for (; i < lineEnd; i++) {
      c = text.charCodeAt(i);
      if (c > 0x7e || (c < 0x21 && c !== SPACE && c !== TAB)) return null;
    }
    if (c === SPACE || c === TAB) return null;
    const value = text.slice(valueStart, lineEnd);
    const lower = name.toLowerCase();
    // A name given twice, or one that `headers` inherits (`constructor`, `__proto__`): the
    // full parser's business either way.
    if (isDeclinedField(lower) || headers[lower] !== undefined) return null;
    headers[lower] = value;
    if (lower === 'upgrade') upgrade = true;
    else if (lower === 'connection') {
      const options = connectionOptions(value);
      if (options === null) return null;
      if (options) connectionUpgrade = true;
    }
    rawHeaders.push(name, value);
  }
  if (!upgrade || !connectionUpgrade) return null;
  return { url: requestLine[1]!, rawHeaders, headers };
}

/** Whether a Connection value names `upgrade`; null when an option is not a plain token. */
function connectionOptions(value: string): boolean | null {
  // A field value has no whitespace around it: a single option needs no splitting.
  if (value.indexOf(',') === -1) return isToken(value) ? value.length === 7 && value.toLowerCase() === 'upgrade' : null;
  let found = false;
  for (const part of value.split(',')) {
    const option = part.replace(/^[ \t]+|[ \t]+$/g, '');
    if (!isToken(option)) return null;
    if (option.length === 7 && option.toLowerCase() === 'upgrade') found = true;
  }
  return found;
}
