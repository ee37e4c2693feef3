/**
 * The server's HTTP/1.1 answers to an opening handshake: the 101 Switching Protocols head
 * (RFC 6455 §4.2.2 item 5) and the error answers that refuse one (§4.2.2 item 4, §4.4 for 426).
 * Must not: decide whether to accept (server.ts and the transport's policy do), or touch sockets.
 */
import { acceptValue } from './accept-key.js';

export interface AcceptOptions {
  /** The key from the request, or its accept value already computed. */
  key?: string;
  accept?: string;
  protocol?: string | undefined;
  extensions?: string | undefined;
  /** Extra header lines, "Name: value" each. */
  headers?: string[];
}

/** The header lines of the 101 answer, first line included (no final blank line). */
export function acceptHeaders(options: AcceptOptions): string[] {
  const accept = options.accept ?? acceptValue(options.key!);
  const lines = [
    'HTTP/1.1 101 Switching Protocols',
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Accept: ${accept}`,
  ];
  if (options.protocol) lines.push(`Sec-WebSocket-Protocol: ${options.protocol}`);
  if (options.extensions) lines.push(`Sec-WebSocket-Extensions: ${options.extensions}`);
  if (options.headers) lines.push(...options.headers);
  return lines;
}

const SWITCHING_HEAD = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ';

/** The whole 101 answer, as formatHead(acceptHeaders(...)) writes it, without the lines in between. */
export function acceptHead(accept: string, protocol: string | undefined, extensions: string | undefined): string {
  let head = SWITCHING_HEAD + accept;
  if (protocol) head += `\r\nSec-WebSocket-Protocol: ${protocol}`;
  if (extensions) head += `\r\nSec-WebSocket-Extensions: ${extensions}`;
  return head + '\r\n\r\n';
}

/** Joins header lines into a full HTTP head. */
export function formatHead(lines: string[]): string {
  return lines.join('\r\n') + '\r\n\r\n';
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  426: 'Upgrade Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  505: 'HTTP Version Not Supported',
};

/**
 * A complete HTTP error answer that ends the connection. A 426 carries Sec-WebSocket-Version: 13
 * (RFC 6455 §4.4), a 405 carries Allow: GET.
 */
export function rejectResponse(status: number, message?: string, headers: Record<string, string> = {}): string {
  const reason = REASONS[status] ?? 'Error';
  const body = message ?? reason;
  const lines = [`HTTP/1.1 ${status} ${reason}`, 'Connection: close', 'Content-Type: text/plain; charset=utf-8'];
  if (status === 426) lines.push('Sec-WebSocket-Version: 13');
  if (status === 405) lines.push('Allow: GET');
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  lines.push(`Content-Length: ${utf8Length(body)}`);
  return formatHead(lines) + body;
}

function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
