/**
 * The static folder of `fdx serve`: answers GET and HEAD with files under one root folder.
 * A request path is percent-decoded and normalised, then must stay inside the root, even
 * through symbolic links (403 otherwise); hidden names (a segment starting with ".") are 404;
 * a folder answers with its index.html (or 404); other methods get 405 with `Allow`; a path
 * that cannot be decoded, or holds a NUL, gets 400.
 * Must not: serve anything outside the root, or buffer whole files in memory.
 */
import { createReadStream, realpathSync, statSync, type Stats } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';

/** Content types by file extension; others are application/octet-stream. */
export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.xml': 'application/xml',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.mp3': 'audio/mpeg',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
};

export type Resolution = { status: 200; file: string; stats: Stats } | { status: 400 | 403 | 404; file?: undefined };

/**
 * Maps a request target to a file under `root` (an absolute, real path), or to the status that
 * refuses it. Pure apart from reading the file system's metadata.
 */
export function resolveStaticPath(root: string, target: string): Resolution {
  const pathPart = target.split('?', 1)[0]!.split('#', 1)[0]!;
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathPart);
  } catch {
    return { status: 400 };
  }
  if (!decoded.startsWith('/') || decoded.includes('\0')) return { status: 400 };
  const segments = decoded.split(/[/\\]+/).filter((s) => s !== '' && s !== '.');
  // ".." never climbs: a path that tries is refused whole rather than quietly clamped.
  if (segments.includes('..')) return { status: 403 };
  if (segments.some((s) => s.startsWith('.'))) return { status: 404 };
  let file = resolve(root, ...segments);
  if (!inside(root, file)) return { status: 403 };
  let stats: Stats;
  try {
    stats = statSync(file);
    if (stats.isDirectory()) {
      file = join(file, 'index.html');
      stats = statSync(file);
    }
    if (!stats.isFile()) return { status: 404 };
    // A symbolic link may point anywhere: what is served must really be under the root.
    if (!inside(root, realpathSync(file))) return { status: 403 };
  } catch {
    return { status: 404 };
  }
  return { status: 200, file, stats };
}

function inside(root: string, file: string): boolean {
  return file === root || file.startsWith(root.endsWith(sep) ? root : root + sep);
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed' };

/** Answers a plain HTTP request from the folder `root` (absolute, real), or with the refusal. */
export function serveStatic(root: string | null, request: IncomingMessage, response: ServerResponse): void {
  const method = request.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD') return plain(response, 405, method, { Allow: 'GET, HEAD' });
  const found = root === null ? ({ status: 404 } as const) : resolveStaticPath(root, request.url ?? '/');
  if (found.status !== 200) return plain(response, found.status, method);
  response.writeHead(200, {
    'Content-Type': CONTENT_TYPES[extname(found.file).toLowerCase()] ?? 'application/octet-stream',
    'Content-Length': found.stats.size,
    'Last-Modified': found.stats.mtime.toUTCString(),
    'X-Content-Type-Options': 'nosniff',
  });
  if (method === 'HEAD') return void response.end();
  const stream = createReadStream(found.file);
  stream.on('error', () => response.destroy());
  stream.pipe(response);
}

function plain(response: ServerResponse, status: number, method: string, headers: Record<string, string> = {}): void {
  const body = `${status} ${STATUS_TEXT[status] ?? ''}\n`;
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), ...headers });
  response.end(method === 'HEAD' ? undefined : body);
}
