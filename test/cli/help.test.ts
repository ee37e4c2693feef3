/**
 * `fdx --version`, `fdx help [COMMAND]`, `fdx COMMAND --help` and the usage line of a mistake,
 * through the real binary.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ROOT, exitOf, fdx } from './fdx-process.js';

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe('fdx help and version', () => {
  for (const flag of ['--version', '-v']) {
    test(`${flag} prints the package's version and exits 0`, async () => {
      const run = fdx([flag]);
      assert.deepEqual(await exitOf(run), { code: 0, signal: null });
      assert.equal(run.stdout(), `fdx ${VERSION}\n`);
      assert.equal(run.stderr(), '');
    });
  }

  test('help lists every command and the exit codes', async () => {
    const run = fdx(['help']);
    assert.deepEqual(await exitOf(run), { code: 0, signal: null });
    for (const name of ['connect', 'serve', 'bench', 'echo', 'help']) assert.match(run.stdout(), new RegExp(`^  ${name}\\s+\\S`, 'm'), name);
    assert.match(run.stdout(), /Exit codes: 0 .*1 .*2 usage\s+mistake, 3 connection closed abnormally/s);
  });

  for (const name of ['connect', 'serve', 'bench', 'echo']) {
    test(`"fdx help ${name}" and "fdx ${name} --help" print the same usage and exit 0`, async () => {
      const viaHelp = fdx(['help', name]);
      const viaFlag = fdx([name, '--help']);
      assert.deepEqual(await exitOf(viaHelp), { code: 0, signal: null });
      assert.deepEqual(await exitOf(viaFlag), { code: 0, signal: null });
      assert.match(viaHelp.stdout(), new RegExp(`^Usage: fdx ${name}`));
      assert.equal(viaHelp.stdout(), viaFlag.stdout());
      assert.match(viaHelp.stdout(), /Exit codes/);
    });
  }

  test('connect --help documents every exit code and option', async () => {
    const run = fdx(['connect', '-h']);
    assert.deepEqual(await exitOf(run), { code: 0, signal: null });
    for (const text of ['--header', '--origin', '--subprotocol', '--no-deflate', '--binary hex|base64', '--json', '--exit-after', '--wait', '--reconnect', '--insecure', '--ca', '--realtime', '/ping', '/close', '/sub', '/pub', '/req']) {
      assert.ok(run.stdout().includes(text), text);
    }
    for (const code of ['0', '1', '2', '3']) assert.match(run.stdout(), new RegExp(`^  ${code}  `, 'm'), code);
  });

  test('bench --help documents every scenario, option and exit code', async () => {
    const run = fdx(['help', 'bench']);
    assert.deepEqual(await exitOf(run), { code: 0, signal: null });
    for (const text of ['echo', 'rate', 'connect', 'hold', 'fanout', 'publish', '--connections', '--rate', '--size', '--duration', '--warmup', '--workers', '--source-addresses', '--inflight', '--json', '--html', 'coordinated omission']) {
      assert.ok(run.stdout().includes(text), text);
    }
    assert.match(run.stdout(), /Exit codes: 0 .* 1 .* 2 usage mistake/s);
  });

  const mistakes: Array<{ args: string[]; stderr: RegExp }> = [
    { args: ['help', 'frobnicate'], stderr: /^fdx: no command 'frobnicate'\nRun "fdx --help" for usage\.\n$/ },
    { args: ['--version', 'extra'], stderr: /^fdx: unexpected argument 'extra'\n/ },
    { args: ['--frobnicate'], stderr: /^fdx: unknown option '--frobnicate'\n/ },
  ];
  for (const { args, stderr } of mistakes) {
    test(`exits 2 with a usage line for: fdx ${args.join(' ')}`, async () => {
      const run = fdx(args);
      assert.deepEqual(await exitOf(run), { code: 2, signal: null });
      assert.match(run.stderr(), stderr);
      assert.equal(run.stdout(), '');
    });
  }
});
