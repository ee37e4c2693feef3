/**
 * A demo's public/ folder over HTTP: GET and HEAD of the files a demo ships (its page, script,
 * style, and browser bundles it names), nothing else. Paths are matched against the folder's
 * listing taken at start-up, so no request can name a file outside it.
 * Must not: read a path built from the request, or buffer large files per request.
 */
import { readdirSync, statSync, createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, relative, sep } from 'node:path';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
};

export class PublicFolder {
  /** URL path below the base path ('' for index.html) -> absolute file. */
  readonly #files = new Map<string, string>();

  /** Lists `root` recursively; `extra` adds files from elsewhere (e.g. a bundle in node_modules) by URL path. */
  constructor(root: string, extra: Record<string, string> = {}) {
    const visit = (dir: string) => {
      for (const name of readdirSync(dir)) {
        if (name.startsWith('.')) continue;
        const path = join(dir, name);
        if (statSync(path).isDirectory()) visit(path);
        else this.#files.set(relative(root, path).split(sep).join('/'), path);
      }
    };
    visit(root);
    if (this.#files.has('index.html')) this.#files.set('', this.#files.get('index.html')!);
    for (const [urlPath, file] of Object.entries(extra)) this.#files.set(urlPath, file);
  }

  /**
   * Answers `req` when `pathBelowBase` (the path after the demo's base path, no query) names one
   * of the files: 200 for GET and HEAD, 405 for other methods. Returns false when it names none.
   */
  serve(req: IncomingMessage, res: ServerResponse, pathBelowBase: string): boolean {
    const file = this.#files.get(pathBelowBase);
    if (file === undefined) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return true;
    }
    const size = statSync(file).size;
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': size,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
    });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
    return true;
  }
}
