/**
 * The README's examples are files that run: each code block marked `<!-- example: FILE -->` must
 * be FILE's text, every file in examples/ must be shown, the files type-check with tsc --strict
 * against our declarations, and each one runs to its end with the output it promises.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLES = `${ROOT}examples/`;
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');

/** The README's example blocks: file -> the block's text. */
function readmeBlocks(): Map<string, string> {
  const readme = readFileSync(`${ROOT}README.md`, 'utf8');
  const blocks = new Map<string, string>();
  for (const match of readme.matchAll(/<!-- example: (\S+) -->\n```\w*\n([\s\S]*?)```/g)) blocks.set(match[1]!, match[2]!);
  return blocks;
}

/** Two consecutive free ports on the loopback interface (an example may use PORT and PORT + 1). */
async function freePorts(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, () => {
        const p = (probe.address() as net.AddressInfo).port;
        probe.close(() => resolve(p));
      });
    });
    const next = await new Promise<boolean>((resolve) => {
      const probe = net.createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port + 1, () => probe.close(() => resolve(true)));
    });
    if (next) return port;
  }
}

/** Runs an example to its end; its stdout, exit code, and whether it ended by itself in time. */
async function run(file: string): Promise<{ stdout: string; stderr: string; code: number | null; ended: boolean }> {
  const port = await freePorts();
  const child = spawn(process.execPath, ['--import', 'tsx', `${EXAMPLES}${file}`], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port) },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const timer = setTimeout(() => child.kill(), 15_000);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearTimeout(timer);
  return { stdout, stderr, code, ended: child.signalCode === null };
}

function redisUp(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(6379, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe("the README's examples", () => {
  it('are the files in examples/, each shown once, text for text', () => {
    const blocks = readmeBlocks();
    const files = readdirSync(EXAMPLES).filter((name) => name.endsWith('.ts')).sort();
    assert.deepEqual([...blocks.keys()].map((path) => path.replace(/^examples\//, '')).sort(), files);
    for (const [path, text] of blocks) assert.equal(text, readFileSync(`${ROOT}${path}`, 'utf8'), `${path} differs from its README block`);
  });

  it('type-check with tsc --strict against our declarations', () => {
    const result = spawnSync(process.execPath, [TSC, '-p', `${EXAMPLES}tsconfig.json`, '--pretty', 'false'], { encoding: 'utf8', timeout: 240_000 });
    assert.equal(`${result.stdout}${result.stderr}`.trim(), '');
    assert.equal(result.status, 0);
  });

  it('"Use": the client receives the publication, then the echo, and everything closes', async () => {
    const { stdout, stderr, code, ended } = await run('use.ts');
    assert.equal(stderr, '');
    assert.deepEqual(stdout.trim().split('\n'), ['{"headline":"framed once, sent to all; / joined"}', 'hello', 'closed 1005']);
    assert.equal(ended, true, 'the example ends by itself');
    assert.equal(code, 0);
  });

  it('"The Sans-I/O core": a message crosses two connections without a socket, and the close follows', async () => {
    const { stdout, stderr, code, ended } = await run('protocol.ts');
    assert.equal(stderr, '');
    assert.deepEqual(stdout.trim().split('\n'), ['hello', 'message', 'close']);
    assert.equal(ended, true, 'the example ends by itself');
    assert.equal(code, 0);
  });

  it('"Across processes": a publication on one server reaches a client of the other through Redis', async (t) => {
    if (!(await redisUp())) {
      t.skip('needs Redis on 127.0.0.1:6379 (.ci/run starts it)');
      return;
    }
    const { stdout, stderr, code, ended } = await run('redis.ts');
    assert.equal(stderr, '');
    assert.equal(stdout.trim(), 'published on a, received through b');
    assert.equal(ended, true, 'the example ends by itself');
    assert.equal(code, 0);
  });
});
