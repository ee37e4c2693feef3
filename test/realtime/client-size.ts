/**
 * The browser build of fullduplex/client: bundled and minified with esbuild (ESM, browser,
 * ES2020), as docs/realtime-notes measured the other clients, then gzip -9.
 */
import { buildSync } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

export const CLIENT_ENTRY = fileURLToPath(new URL('../../src/client.ts', import.meta.url));
/** The budget of issue "The real-time layer": 5 KB. */
export const CLIENT_BUDGET_BYTES = 5120;

export function buildBrowserClient(options: { format?: 'esm' | 'iife'; globalName?: string } = {}): Uint8Array {
  const result = buildSync({
    entryPoints: [CLIENT_ENTRY],
    bundle: true,
    minify: true,
    format: options.format ?? 'esm',
    ...(options.globalName ? { globalName: options.globalName } : {}),
    platform: 'browser',
    target: 'es2020',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.contents;
}

export function gzippedSize(bytes: Uint8Array): number {
  return gzipSync(bytes, { level: 9 }).length;
}
