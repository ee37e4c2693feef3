/**
 * Where the browser build of fullduplex/client lives on disk, for a demo's PublicFolder `extra`.
 * The package's own "exports" map names the file, so this holds whether the demos run from the
 * built package or from the sources (where `fullduplex/client` resolves to TypeScript).
 * Must not: build anything, or read any file but package.json.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** The absolute path of the ES module build of fullduplex/client; throws if it was not built. */
export function browserClientFile(): string {
  if (cached !== undefined) return cached;
  const manifest = fileURLToPath(import.meta.resolve('fullduplex/package.json'));
  const exportsMap = JSON.parse(readFileSync(manifest, 'utf8')).exports as Record<string, { import: { default: string } }>;
  const file = join(dirname(manifest), exportsMap['./client']!.import.default);
  if (!existsSync(file)) throw new Error(`${file} is missing: run npm run build`);
  cached = file;
  return file;
}
