/**
 * A demo's source as plain text, for the home page's "source" links: /source/<name>/ lists the
 * files of apps/<name>/ (taken once at start-up), /source/<name>/<file> shows one.
 * Must not: serve a file outside that listing, or anything but GET and HEAD.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, relative, sep } from 'node:path';

const SHOWN = /\.(?:ts|js|html|css|md)$/;

export class SourceListing {
  readonly #files = new Map<string, string>();
  readonly #name: string;

  constructor(name: string, folder: string) {
    this.#name = name;
    const visit = (dir: string): void => {
      for (const entry of readdirSync(dir)) {
        if (entry.startsWith('.') || entry === 'node_modules') continue;
        const path = join(dir, entry);
        if (statSync(path).isDirectory()) visit(path);
        else if (SHOWN.test(entry)) this.#files.set(relative(folder, path).split(sep).join('/'), path);
      }
    };
    visit(folder);
  }

  /** Answers a path below /source/<name>/; false when it names nothing. */
  serve(req: IncomingMessage, res: ServerResponse, below: string): boolean {
    const text = below === '' ? this.#index() : this.#files.has(below) ? readFileSync(this.#files.get(below)!, 'utf8') : null;
    if (text === null) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return true;
    }
    const html = below === '';
    res.writeHead(200, {
      'content-type': html ? 'text/html; charset=utf-8' : 'text/plain; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      'x-content-type-options': 'nosniff',
    });
    res.end(req.method === 'HEAD' ? undefined : text);
    return true;
  }

  #index(): string {
    const items = [...this.#files.keys()].sort().map((file) => `<li><a href="${encodeURI(file)}">${file}</a></li>`);
    return `<!doctype html><meta charset="utf-8"><title>apps/${this.#name}/</title><h1>apps/${this.#name}/</h1><ul>${items.join('')}</ul>`;
  }
}
