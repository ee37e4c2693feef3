/**
 * Programs written for `ws` and its `@types/ws` declarations (every example of ws's README and
 * its documented API, typed WHATWG events included) type-check with `tsc --strict` against
 * `@types/ws` and, with 'ws' mapped to fullduplex's src/index.ts, against our declarations:
 * a TypeScript user switches by changing the import.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');

function typeCheck(project: string): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, [TSC, '-p', HERE + project, '--pretty', 'false'], { encoding: 'utf8', timeout: 240_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
}

describe('ws programs under tsc --strict', () => {
  it('type-check against @types/ws (the programs are valid ws programs)', () => {
    const { status, output } = typeCheck('tsconfig.ws.json');
    assert.equal(output, '');
    assert.equal(status, 0);
  });

  it("type-check against fullduplex's declarations with the import unchanged", () => {
    const { status, output } = typeCheck('tsconfig.fullduplex.json');
    assert.equal(output, '');
    assert.equal(status, 0);
  });
});
