/**
 * The editor page's script: browser/editor-page.js with CodeMirror, Yjs, y-codemirror.next and
 * y-websocket, bundled by esbuild in memory the first time the page asks for it, so nothing
 * generated is committed and `npm start` works right after `npm ci`.
 * Must not: write files.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ENTRY = fileURLToPath(new URL('./browser/editor-page.js', import.meta.url));

export class PageBundle {
  #built: Promise<Uint8Array> | null = null;

  /** The bundle's bytes (built once per PageBundle). */
  bytes(): Promise<Uint8Array> {
    this.#built ??= build({
      entryPoints: [ENTRY],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2020',
      minify: true,
      write: false,
      logLevel: 'silent',
    }).then((result) => result.outputFiles[0]!.contents);
    return this.#built;
  }

  /** Answers a GET or HEAD with the bundle (500 with one line if it cannot be built). */
  async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    let bytes: Uint8Array;
    try {
      bytes = await this.bytes();
    } catch (error) {
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`the editor's script could not be built: ${(error as Error).message}\n`);
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/javascript; charset=utf-8',
      'content-length': bytes.length,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
    });
    res.end(req.method === 'HEAD' ? undefined : bytes);
  }
}
