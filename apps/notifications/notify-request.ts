/**
 * The publish endpoint's input: POST <base>api/notify with `Authorization: Bearer TOKEN` and a
 * JSON body {"user", "title", "body"}. Reads the body up to maxBodyBytes and checks it; every
 * refusal is an HTTP status and a JSON {error, message} (401 token, 400 input, 413 size).
 * Must not: buffer more than maxBodyBytes, or compare tokens in time that depends on them.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const USER = /^[A-Za-z0-9_-]{1,32}$/;

export interface NotifyRequest {
  user: string;
  title: string;
  body: string;
}

export class HttpRefusal extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export interface NotifyLimits {
  maxBodyBytes: number;
  maxTitleLength: number;
  maxTextLength: number;
}

/** True when `header` is `Bearer <token>`. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const given = /^Bearer +(\S+)\s*$/i.exec(header ?? '')?.[1];
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Reads the whole body, refusing (413) past `maxBytes` without reading the rest. */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes) return Promise.reject(new HttpRefusal(413, 'too-large', `the body is limited to ${maxBytes} bytes`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.removeAllListeners('data');
        req.pause();
        reject(new HttpRefusal(413, 'too-large', `the body is limited to ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Checks a body: a JSON object with a valid user and non-empty title and body within limits. */
export function readNotify(text: string, limits: NotifyLimits): NotifyRequest {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new HttpRefusal(400, 'bad-json', 'the body must be JSON: {"user":"ada","title":"...","body":"..."}');
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new HttpRefusal(400, 'bad-json', 'the body must be a JSON object');
  const { user, title, body } = data as Record<string, unknown>;
  if (typeof user !== 'string' || !USER.test(user)) throw new HttpRefusal(400, 'bad-user', '"user" must be 1 to 32 letters, digits, _ or -');
  // eslint-disable-next-line no-control-regex
  const clean = (value: unknown): string => (typeof value === 'string' ? value.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '').trim() : '');
  const cleanTitle = clean(title);
  const cleanBody = clean(body ?? '');
  if (cleanTitle === '') throw new HttpRefusal(400, 'bad-title', '"title" must be a non-empty string');
  if (cleanTitle.length > limits.maxTitleLength) throw new HttpRefusal(400, 'bad-title', `"title" is limited to ${limits.maxTitleLength} characters`);
  if (body !== undefined && typeof body !== 'string') throw new HttpRefusal(400, 'bad-body', '"body" must be a string');
  if (cleanBody.length > limits.maxTextLength) throw new HttpRefusal(400, 'bad-body', `"body" is limited to ${limits.maxTextLength} characters`);
  return { user, title: cleanTitle, body: cleanBody };
}
