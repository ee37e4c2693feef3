#!/usr/bin/env node
// The layer rule of docs/design.md, checked mechanically: every import in src/ must be allowed
// for the layer of the file that makes it. Exits 1 and lists each violation.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname, sep } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const src = join(root, 'src');

/** layer -> layers it may import (by folder under src/), and whether node:* builtins are allowed. */
const RULES = {
  protocol: { layers: ['protocol'], builtins: false, packages: false },
  node: { layers: ['node', 'protocol', 'pubsub', 'broker'], builtins: true, packages: false },
  pubsub: { layers: ['pubsub', 'broker'], builtins: false, packages: false, files: ['protocol/errors.ts'] },
  broker: { layers: ['broker', 'protocol'], builtins: true, packages: true },
  realtime: { layers: ['realtime', 'broker'], builtins: false, packages: false },
  cli: { layers: ['cli'], builtins: true, packages: false, entries: ['index.ts'] },
  '.': { layers: ['node', 'protocol', 'pubsub', 'broker'], builtins: false, packages: false },
};

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

const importPattern = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g;
const violations = [];
for (const file of files(src)) {
  const rel = relative(src, file);
  const layer = rel.includes(sep) ? rel.split(sep)[0] : '.';
  const rule = RULES[layer];
  if (!rule) {
    violations.push(`${rel}: folder "${layer}" is not a known layer`);
    continue;
  }
  const text = readFileSync(file, 'utf8');
  for (const match of text.matchAll(importPattern)) {
    const spec = match[1] ?? match[2] ?? match[3];
    if (spec.startsWith('node:')) {
      if (!rule.builtins) violations.push(`${rel}: imports ${spec}, but ${layer}/ may not use Node built-ins`);
      continue;
    }
    if (!spec.startsWith('.')) {
      if (!rule.packages) violations.push(`${rel}: imports package ${spec}, but ${layer}/ may not import packages`);
      continue;
    }
    const target = relative(src, resolve(dirname(file), spec));
    const targetLayer = target.includes(sep) ? target.split(sep)[0] : '.';
    if (targetLayer === '.' && rule.entries?.includes(target.replace(/\.js$/, '.ts'))) continue;
    if (rule.files?.includes(target.replace(/\.js$/, '.ts').split(sep).join('/'))) continue;
    if (targetLayer.startsWith('..')) {
      violations.push(`${rel}: imports ${spec}, outside src/`);
    } else if (!rule.layers.includes(targetLayer)) {
      violations.push(`${rel}: imports ${spec} (${targetLayer}/), which ${layer}/ may not import`);
    }
  }
}
if (violations.length > 0) {
  console.error(`layer rule: ${violations.length} violation(s)`);
  for (const v of violations) console.error(`  ${v}`);
  process.exit(1);
}
console.log('layer rule: ok');
