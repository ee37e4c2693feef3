/**
 * A demo's browser script, bundled by esbuild when the demo starts: its entry (JavaScript or
 * TypeScript, importing npm packages such as uPlot and the demo's own shared modules) becomes one
 * ES module file in a folder the demo owns, which its PublicFolder then serves by name. Nothing
 * generated is committed, and `npm start` works right after `npm ci`.
 * Must not: write outside `outDir`, or bundle anything for Node.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';

export interface BrowserBundleOptions {
  /** The entry file (absolute path). */
  entry: string;
  /** The folder the bundle is written to (created if missing). */
  outDir: string;
  /** The bundle's file name in outDir, e.g. 'app.js'. */
  fileName: string;
}

/** Bundles `entry` for browsers (ES2020, minified); resolves with the file's path. */
export async function buildBrowserBundle({ entry, outDir, fileName }: BrowserBundleOptions): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const outfile = join(outDir, fileName);
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    logLevel: 'silent',
  });
  return outfile;
}
