#!/usr/bin/env node
// The layer rule of docs/design.md, checked mechanically, and the absence of import cycles in src/.
//   node scripts/check-layers.mjs [root]     (root: the project folder; default: this checkout)
// Reads every import of src/, apps/, bench/, scripts/ and test/apps/ with the TypeScript parser
// (static, dynamic, `import type`, `export ... from`, `require`, `import('x').T` types), checks it
// against the rule of the folder the file is in, and looks for cycles among src/'s relative
// imports. Prints each violation with its file and exits 1 if there is any.
// Must not: change files, or accept a folder of src/ it has no rule for.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
const PACKAGE = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const SOURCE = /\.(?:ts|mts|cts|js|mjs|cjs)$/;
const problems = [];

/**
 * Folders of src/ and what their files may import. `may` lists folders (ending in /) and single
 * files, relative to src/; `entries` adds the public entry files; `builtins` allows node:*;
 * `packages` maps a package to the files that may import it.
 */
const LAYERS = {
  protocol: { may: ['protocol/'], why: 'the core is pure: protocol/ imports only itself' },
  pubsub: { may: ['pubsub/', 'broker/broker.ts', 'protocol/errors.ts'], why: 'pubsub/ sees only the broker port and the error family' },
  broker: {
    may: ['broker/', 'protocol/', 'engine/redis-engine.ts', 'engine/redis-link.ts', 'engine/command-timeout.ts', 'engine/redis-unavailable.ts', 'engine/script-runner.ts', 'realtime/presence-store.ts', 'realtime/realtime-error.ts'],
    builtins: true,
    packages: { redis: ['broker/redis-broker.ts'] },
    why: 'broker/ holds the broker port and its implementations, and the Redis presence store; its redis.ts is the `fullduplex/redis` entry, which also exports the Redis engine',
  },
  engine: {
    may: ['engine/', 'realtime/engine.ts', 'realtime/session-store.ts', 'realtime/protocol.ts', 'realtime/realtime-error.ts', 'realtime/clock.ts'],
    builtins: true,
    packages: { redis: ['engine/redis-link.ts'] },
    why: 'engine/ implements the Engine port on Redis: it sees the port, its types and error, never the server or node/',
  },
  node: { may: ['node/', 'protocol/', 'pubsub/', 'broker/broker.ts'], builtins: true, why: 'node/ never imports realtime/ or metrics/' },
  realtime: { may: ['realtime/', 'pubsub/', 'broker/broker.ts'], why: 'realtime/ sees only its ports, pubsub/ and the broker port; never node/ or node:*' },
  metrics: { may: ['metrics/'], builtins: true, why: 'metrics/ listens on diagnostics channels by name' },
  loadgen: { may: ['loadgen/', 'protocol/'], builtins: true, packages: { 'hdr-histogram-js': ['loadgen/latency-histogram.ts'] }, why: 'loadgen/ must not measure itself: frames via protocol/, never node/' },
  // loadgen/ is the engine of `fdx bench`, part of the command rather than of the library.
  cli: { may: ['cli/', 'loadgen/'], entries: true, builtins: true, why: 'cli/ uses the public entry points only' },
  '': { may: ['', 'protocol/', 'pubsub/', 'broker/', 'node/', 'realtime/', 'metrics/'], why: 'the entry files assemble the library' },
};

/**
 * Folders outside src/: they use the package from the outside. `forms` says how a public entry
 * point may be named: 'package' (`fullduplex`, `fullduplex/protocol`, ...: the subpaths of
 * package.json "exports"), 'dist' (the built file an export points to), 'src' (the source file
 * it is built from). `own` lists the folders they may import relatively. node:* and other
 * packages are allowed.
 */
const AREAS = {
  apps: { forms: ['package'], own: ['apps/'], why: 'apps/ import the package as its users do' },
  bench: { forms: ['package', 'dist'], own: ['bench/'], why: 'bench/ measures the built package' },
  scripts: { forms: ['package', 'src'], own: ['scripts/'], why: 'scripts/ use the public entry points only' },
  'test/apps': { forms: ['package', 'src'], own: ['test/apps/', 'test/support/', 'apps/'], why: 'the apps\' tests use the apps and the public entry points only' },
};

/** Named exceptions to AREAS, each with its reason: [file, target pattern, reason]. */
const EXCEPTIONS = [
  ['bench/deflate-cost.mjs', /^src\/node\/(?:.*\/)?deflate-codec\.ts$/, 'it measures the compression codec alone, below the public API'],
  ['bench/deflate-cost.mjs', /^src\/loadgen\/frames\.ts$/, 'it compresses the load generator\'s own payloads'],
];

const posix = (path) => path.split(sep).join('/');

function walk(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) return [];
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return walk(path);
      return SOURCE.test(name) && !name.endsWith('.d.ts') ? [path] : [];
    });
}

/** Every module specifier in a file, with its line. */
function importsOf(file) {
  const text = readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, file.endsWith('ts') ? ts.ScriptKind.TS : ts.ScriptKind.JS);
  const found = [];
  const add = (node) => {
    if (node && ts.isStringLiteralLike(node)) found.push({ spec: node.text, line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1 });
  };
  const visit = (node) => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) add(node.moduleReference.expression);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal);
    else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require')) add(node.arguments[0]);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The file a relative specifier names (`./x.js` may be `./x.ts`), relative to root, or null. */
function resolveRelative(from, spec) {
  const base = resolve(dirname(from), spec);
  const stem = base.replace(/\.(?:js|mjs|cjs)$/, '');
  const candidates = [base, `${stem}.ts`, `${stem}.mts`, `${stem}.cts`, `${base}.ts`, `${base}.js`, join(base, 'index.ts'), join(base, 'index.js')];
  const hit = candidates.find((c) => existsSync(c) && statSync(c).isFile());
  return hit ? posix(relative(root, hit)) : null;
}

/**
 * The public entry points, from package.json "exports" and tsup.config.ts's entries: the names
 * a package import may use, and for each the built files and the source file behind it.
 */
function entryPoints() {
  const names = new Set();
  const dist = new Set();
  const distToName = new Map();
  const exportsField = typeof PACKAGE.exports === 'string' ? { '.': PACKAGE.exports } : (PACKAGE.exports ?? {});
  for (const [subpath, target] of Object.entries(exportsField)) {
    names.add(subpath === '.' ? PACKAGE.name : `${PACKAGE.name}/${subpath.replace(/^\.\//, '')}`);
    const leaves = [];
    const collect = (value) => (typeof value === 'string' ? leaves.push(value) : value && Object.values(value).forEach(collect));
    collect(target);
    for (const leaf of leaves) {
      const m = /^\.\/dist\/(.+)\.(?:js|cjs|mjs)$/.exec(leaf);
      if (!m) continue;
      dist.add(`dist/${m[0].slice('./dist/'.length)}`);
      distToName.set(m[1], subpath);
    }
  }
  const src = new Set();
  const tsupEntries = readTsupEntries();
  for (const [name, subpath] of distToName) {
    const file = tsupEntries.get(name);
    if (file) src.add(file);
    else problems.push(`package.json: exports "${subpath}" points to dist/${name}.js, but tsup.config.ts has no entry "${name}" to build it from`);
  }
  return { names, dist, src };
}

/** tsup.config.ts's `entry: { name: 'src/...' }`, read with the TypeScript parser. */
function readTsupEntries() {
  const entries = new Map();
  const file = join(root, 'tsup.config.ts');
  if (!existsSync(file)) return entries;
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const visit = (node) => {
    if (ts.isPropertyAssignment(node) && node.name.getText(source) === 'entry' && ts.isObjectLiteralExpression(node.initializer)) {
      for (const p of node.initializer.properties) {
        if (ts.isPropertyAssignment(p) && ts.isStringLiteralLike(p.initializer)) entries.set(p.name.getText(source).replace(/^['"]|['"]$/g, ''), p.initializer.text.replace(/^\.\//, ''));
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return entries;
}

const entries = entryPoints();
const isPackage = (spec) => spec === PACKAGE.name || spec.startsWith(`${PACKAGE.name}/`);

/** Which rule of `may` (relative to src/) admits `target` (relative to src/), if any. */
const admits = (may, target) => may.some((m) => (m === '' ? !target.includes('/') : m.endsWith('/') ? target.startsWith(m) : target === m));

// src/: each folder by its layer rule; the graph of relative imports kept for the cycle check.
const graph = new Map();
for (const file of walk(join(root, 'src'))) {
  const rel = posix(relative(root, file));
  const inSrc = rel.slice('src/'.length);
  const layer = inSrc.includes('/') ? inSrc.slice(0, inSrc.indexOf('/')) : '';
  const rule = LAYERS[layer];
  if (!rule) {
    problems.push(`${rel}: src/${layer}/ is not a layer of docs/design.md; give it a rule in scripts/check-layers.mjs (LAYERS) first`);
    continue;
  }
  const where = layer === '' ? 'a file at the root of src/' : `${layer}/`;
  const edges = [];
  graph.set(rel, edges);
  for (const { spec, line } of importsOf(file)) {
    const at = `${rel}:${line}`;
    if (spec.startsWith('node:')) {
      if (!rule.builtins) problems.push(`${at}: imports ${spec}, but ${where} may not use Node built-ins (${rule.why})`);
      continue;
    }
    if (!spec.startsWith('.')) {
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
      if (!rule.packages?.[name]?.includes(inSrc)) problems.push(`${at}: imports the package ${spec}, which ${where} may not import (${rule.why})`);
      continue;
    }
    const target = resolveRelative(file, spec);
    if (target === null) {
      problems.push(`${at}: imports ${spec}, which is no file`);
      continue;
    }
    if (!target.startsWith('src/')) {
      problems.push(`${at}: imports ${spec} (${target}), outside src/`);
      continue;
    }
    edges.push(target);
    const inner = target.slice('src/'.length);
    if (admits(rule.may, inner) || (rule.entries && entries.src.has(target))) continue;
    problems.push(`${at}: imports ${spec} (${target}), which ${where} may not import (${rule.why})`);
  }
}

// apps/, bench/, scripts/, test/apps/: public entry points only.
for (const [area, rule] of Object.entries(AREAS)) {
  for (const file of walk(join(root, area))) {
    const rel = posix(relative(root, file));
    const forms = rule.forms.join(' or ');
    for (const { spec, line } of importsOf(file)) {
      const at = `${rel}:${line}`;
      if (isPackage(spec)) {
        if (!rule.forms.includes('package')) problems.push(`${at}: imports ${spec}; ${area}/ names the package by ${forms} (${rule.why})`);
        else if (!entries.names.has(spec)) problems.push(`${at}: imports ${spec}, which is not a subpath of package.json "exports" (${[...entries.names].join(', ')})`);
        continue;
      }
      if (!spec.startsWith('.')) continue; // node:* and other packages
      const target = resolveRelative(file, spec) ?? posix(relative(root, resolve(dirname(file), spec)));
      if (rule.own.some((own) => target.startsWith(own))) continue;
      if (EXCEPTIONS.some(([from, to]) => from === rel && to.test(target))) continue;
      const form = entries.dist.has(target) ? 'dist' : entries.src.has(target) ? 'src' : null;
      if (form && rule.forms.includes(form)) continue;
      const what = form ? `the ${form === 'dist' ? 'built' : 'source'} entry point ${target}, a form ${area}/ does not use` : `${target}, which is no public entry point`;
      problems.push(`${at}: imports ${what}; ${area}/ may import ${forms} entry points and ${rule.own.join(', ')} (${rule.why})`);
    }
  }
}

// Cycles among src/'s relative imports (type-only ones included): one per back edge of a
// depth-first walk, reported as the path that closes it.
const cycles = [];
const state = new Map(); // file -> 1 while on the walk's path, 2 once finished
const path = [];
function dfs(file) {
  state.set(file, 1);
  path.push(file);
  for (const next of [...new Set(graph.get(file) ?? [])].sort()) {
    if (state.get(next) === 1) cycles.push([...path.slice(path.indexOf(next)), next]);
    else if (!state.has(next) && graph.has(next)) dfs(next);
  }
  path.pop();
  state.set(file, 2);
}
for (const file of [...graph.keys()].sort()) if (!state.has(file)) dfs(file);
for (const cycle of cycles) problems.push(`import cycle: ${cycle.join(' -> ')}`);

if (problems.length > 0) {
  console.error(`layer rule: ${problems.length} violation(s)`);
  for (const p of problems) console.error(`  ${p}`);
  process.exit(1);
}
console.log('layer rule: ok (no import cycle in src/)');
