#!/usr/bin/env node
// Runs `ws`'s own test suite against fullduplex (or, as a sanity check, against `ws` itself).
//   node scripts/ws-suite.mjs SUITE_DIR [--against fullduplex|ws] [--json FILE]
// SUITE_DIR is a folder you filled yourself: SUITE_DIR/test/ holds ws's websocket.test.js,
// websocket-server.test.js, create-websocket-stream.test.js, event-target.test.js and
// subprotocol.test.js, with the duplex-pair.js they require (from the ws repository, at the
// version in package.json's devDependencies),
// and SUITE_DIR/node_modules/ holds mocha (`npm i mocha` there). Nothing is fetched, and no file of
// ws's is kept in this repository. TLS fixtures missing from SUITE_DIR/test/fixtures are made with
// openssl in a temporary copy.
// The tests `require('..')` and `require('../lib/...')`: a shim in a temporary folder answers with
// fullduplex's built CommonJS entry (dist/index.cjs: run `npm run build` first) or with `ws`.
// Tests that read ws's private state are listed in ws-suite-triage.mjs with the reason, and
// skipped when running against fullduplex; every other failure is printed with its triage.
// Must not: fetch anything, change SUITE_DIR, or count a skipped test as passed.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXCLUDED, TRIAGE } from './ws-suite-triage.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const FILES = ['websocket.test.js', 'websocket-server.test.js', 'create-websocket-stream.test.js', 'event-target.test.js', 'subprotocol.test.js'];

function usage(message) {
  console.error(`${message}\nusage: node scripts/ws-suite.mjs SUITE_DIR [--against fullduplex|ws] [--json FILE]`);
  process.exit(2);
}

const args = process.argv.slice(2);
let suite = null;
let against = 'fullduplex';
let jsonOut = null;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--against') against = args[++i];
  else if (args[i] === '--json') jsonOut = args[++i];
  else if (suite === null) suite = resolve(args[i]);
  else usage(`unexpected argument: ${args[i]}`);
}
if (suite === null) usage('SUITE_DIR is missing');
if (against !== 'fullduplex' && against !== 'ws') usage(`--against takes fullduplex or ws, not ${against}`);
const mocha = join(suite, 'node_modules', 'mocha', 'bin', 'mocha.js');
if (!existsSync(mocha)) usage(`no mocha in ${suite}/node_modules (run \`npm i mocha\` there)`);
const present = FILES.filter((f) => existsSync(join(suite, 'test', f)));
if (present.length === 0) usage(`none of ${FILES.join(', ')} in ${suite}/test`);

const requireHere = createRequire(join(ROOT, 'package.json'));
const wsDir = dirname(requireHere.resolve('ws/package.json'));
const fdxEntry = join(ROOT, 'dist', 'index.cjs');
if (against === 'fullduplex' && !existsSync(fdxEntry)) usage('dist/index.cjs is missing: run `npm run build` first');

// ------------------------------------------------------------------ the shim
const work = mkdtempSync(join(tmpdir(), 'fdx-ws-suite-'));
cpSync(join(suite, 'test'), join(work, 'test'), { recursive: true });
symlinkSync(join(suite, 'node_modules'), join(work, 'node_modules'), 'dir');
makeFixtures(join(work, 'test', 'fixtures'));

const impl = against === 'ws' ? wsDir : fdxEntry;
const wsLib = (name) => JSON.stringify(join(wsDir, 'lib', name));
const ours = against === 'fullduplex';
const shim = {
  'package.json': JSON.stringify({ name: 'ws-suite-shim', private: true, main: 'index.js' }),
  'index.js': `module.exports = require(${JSON.stringify(impl)});\n`,
  // A frame builder only: the tests use Sender.frame() to write raw frames on the wire.
  'lib/sender.js': `module.exports = require(${wsLib('sender.js')});\n`,
  // Plain values (GUID, NOOP, EMPTY_BUFFER, hasBlob, kListener); see hook.js for EMPTY_BUFFER.
  'lib/constants.js': `module.exports = require(${wsLib('constants.js')});\n`,
  'lib/stream.js': ours ? `module.exports = require('..').createWebSocketStream;\n` : `module.exports = require(${wsLib('stream.js')});\n`,
  'lib/event-target.js': ours
    ? `const m = require('..');\nmodule.exports = { CloseEvent: m.CloseEvent, ErrorEvent: m.ErrorEvent, Event: m.Event, MessageEvent: m.MessageEvent };\n`
    : `module.exports = require(${wsLib('event-target.js')});\n`,
  'lib/subprotocol.js': `module.exports = require(${wsLib('subprotocol.js')});\n`,
  // ws answers an empty close reason with one shared Buffer, EMPTY_BUFFER, and the tests compare
  // it by identity; any empty Buffer is the same answer, so against fullduplex it is compared by
  // value. Excluded tests are skipped (reported as pending, never as passed).
  'hook.js': `
const assert = require('assert');
const { EMPTY_BUFFER } = require('./lib/constants');
const excluded = new Set(${ours ? JSON.stringify([...Object.keys(EXCLUDED), ...Object.keys(TRIAGE).filter((t) => TRIAGE[t].skip)]) : '[]'});
if (${ours}) {
  const strictEqual = assert.strictEqual;
  assert.strictEqual = function (actual, expected, message) {
    if (expected === EMPTY_BUFFER && Buffer.isBuffer(actual) && actual.length === 0) return;
    return strictEqual.call(this, actual, expected, message);
  };
}
exports.mochaHooks = {
  beforeEach() {
    if (excluded.has(this.currentTest.fullTitle())) this.skip();
  }
};
`,
};
for (const [name, text] of Object.entries(shim)) {
  const path = join(work, name);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

function makeFixtures(dir) {
  const need = ['ca-certificate.pem', 'ca1-key.pem', 'certificate.pem', 'key.pem', 'client-certificate.pem', 'client-key.pem'];
  if (need.every((f) => existsSync(join(dir, f)))) return;
  mkdirSync(dir, { recursive: true });
  const ssl = (...a) => {
    const r = spawnSync('openssl', a, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${a.join(' ')}: ${r.stderr}`);
  };
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '3650', '-subj', '/CN=ws-suite CA', '-keyout', 'ca1-key.pem', '-out', 'ca-certificate.pem');
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '3650', '-subj', '/CN=localhost', '-keyout', 'key.pem', '-out', 'certificate.pem');
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=client', '-keyout', 'client-key.pem', '-out', 'client.csr');
  ssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca-certificate.pem', '-CAkey', 'ca1-key.pem', '-CAcreateserial', '-days', '3650', '-out', 'client-certificate.pem');
}

// ------------------------------------------------------------------ the run
// subprotocol.test.js tests ws's private header parser (lib/subprotocol.js): only against ws.
const files = present.filter((f) => !(ours && f === 'subprotocol.test.js')).map((f) => join('test', f));
const report = join(work, 'report.json');
const run = spawnSync(process.execPath, [mocha, '--exit', '--require', './hook.js', '--reporter', 'json', '--reporter-option', `output=${report}`, ...files], {
  cwd: work,
  encoding: 'utf8',
  timeout: 15 * 60 * 1000,
});
if (!existsSync(report)) {
  console.error(run.stdout, run.stderr);
  usage('mocha wrote no report');
}
const result = JSON.parse(readFileSync(report, 'utf8'));
rmSync(work, { recursive: true, force: true });

const total = result.stats.tests;
const passed = result.passes.length;
const pending = result.pending.map((t) => t.fullTitle);
const excluded = pending.filter((t) => ours && t in EXCLUDED);
const notRun = pending.filter((t) => ours && TRIAGE[t]?.skip);
const selfSkipped = pending.filter((t) => !excluded.includes(t) && !notRun.includes(t));
// A test whose callbacks fail twice is reported twice: counted once.
const failures = [
  ...[...new Map(result.failures.map((t) => [t.fullTitle, t])).values()].map((t) => ({ title: t.fullTitle, error: String(t.err?.message ?? '').slice(0, 600), triage: TRIAGE[t.fullTitle] ?? null })),
  ...notRun.map((title) => ({ title, error: 'not run (it would stall the tests after it)', triage: TRIAGE[title] })),
];
const counted = total - excluded.length - selfSkipped.length;

console.log(`ws's own suite against ${against}: ${passed} of ${counted} pass`);
console.log(`  (${total} tests: ${excluded.length} excluded as reading ws's private state, ${selfSkipped.length} skipped by the suite itself, ${failures.length} failing)`);
const stale = Object.keys(TRIAGE).filter((t) => ours && !failures.some((f) => f.title === t));
if (stale.length > 0) console.log(`  triaged as failing, yet passing now (remove from ws-suite-triage.mjs): ${stale.join('; ')}`);
const groups = new Map();
for (const f of failures) {
  const key = f.triage?.kind ?? 'UNTRIAGED';
  if (!groups.has(key)) groups.set(key, []);
  groups.get(key).push(f);
}
for (const [kind, list] of groups) {
  console.log(`\n${kind} (${list.length}):`);
  for (const f of list) console.log(`  - ${f.title}\n      ${f.triage?.why ?? f.error}`);
}
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ against, total, counted, passed, excluded, selfSkipped, failures }, null, 2));
