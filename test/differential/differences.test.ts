/**
 * The table of deliberate differences stays honest: every scenario it names exists in this
 * folder, and README.md's "Differences from `ws`" lists exactly its bullets, in its order.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DIFFERENCES } from './differences.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const README = fileURLToPath(new URL('../../README.md', import.meta.url));

/**
 * The scenario names the test files register: literal names, and names made in loops from a
 * template (`the answer to ${name}`), matched with each ${...} standing for any text.
 */
function scenarioNames(): { literal: Set<string>; templates: RegExp[] } {
  const literal = new Set<string>();
  const templates: RegExp[] = [];
  for (const file of readdirSync(HERE).filter((name) => name.endsWith('.test.ts'))) {
    const source = readFileSync(HERE + file, 'utf8');
    for (const match of source.matchAll(/scenario\(\s*(['"])((?:\\.|(?!\1).)*)\1/g)) literal.add(match[2]!.replace(/\\(.)/g, '$1'));
    for (const match of source.matchAll(/scenario\(\s*`([^`]*)`/g)) {
      const pattern = match[1]!
        .split(/\$\{[^}]*\}/)
        .map((piece) => piece.replace(/[.*+?^$()|[\]\\{}]/g, '\\$&'))
        .join('.*');
      templates.push(new RegExp(`^${pattern}$`));
    }
  }
  return { literal, templates };
}

describe('the table of differences', () => {
  it('names only scenarios that exist', () => {
    const { literal, templates } = scenarioNames();
    const missing = Object.keys(DIFFERENCES).filter((name) => !literal.has(name) && !templates.some((t) => t.test(name)));
    assert.deepEqual(missing, []);
  });

  it('is what README.md lists under "Differences from `ws`"', () => {
    const readme = readFileSync(README, 'utf8');
    const start = readme.indexOf('## Differences from `ws`');
    assert.notEqual(start, -1, 'README.md has a "Differences from `ws`" section');
    const end = readme.indexOf('\n## ', start + 1);
    const section = readme.slice(start, end === -1 ? undefined : end);
    const bullets = section
      .split('\n- ')
      .slice(1)
      .map((bullet) => bullet.split('\n\n')[0]!.replace(/\s*\n\s*/g, ' ').trim());
    const expected = [...new Set(Object.values(DIFFERENCES).map((d) => d.readme))];
    assert.deepEqual(bullets, expected);
  });
});
