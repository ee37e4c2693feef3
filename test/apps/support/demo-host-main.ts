/**
 * One demo on its own HTTP server in a child process, for multi-process tests:
 *   node --import tsx test/apps/support/demo-host-main.ts NAME [--redis URL]
 * Prints `listening on http://127.0.0.1:PORT/NAME/` once it accepts connections; SIGTERM closes.
 * Must not: be used by the demos themselves (npm start is apps/server.ts).
 */
import { parseArgs } from 'node:util';
import { hostDemo } from './demo-host.js';

const { positionals, values } = parseArgs({ allowPositionals: true, options: { redis: { type: 'string' } } });
const name = positionals[0];
if (!name || !/^[a-z]+$/.test(name)) throw new Error('usage: demo-host-main.ts NAME [--redis URL]');
const { createDemo } = (await import(`../../../apps/${name}/server.ts`)) as typeof import('../../../apps/dashboard/server.js');
const host = await hostDemo(name, createDemo, { redisUrl: values.redis, log: (line) => console.log(line) });
console.log(`listening on ${host.pageUrl}`);
process.once('SIGTERM', () => {
  void host.close().then(() => process.exit(0));
});
