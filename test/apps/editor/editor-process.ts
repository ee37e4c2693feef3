/**
 * A child process for the multi-process editor tests: the editor demo on a node:http server
 * (editor-host.ts) on a free port of 127.0.0.1, with --redis URL and --redis-prefix P. Prints
 * "editor listening on <page url>" when ready; SIGTERM closes the demo (it stores what is
 * pending) and exits 0.
 */
import { parseArgs } from 'node:util';
import { hostEditor } from './editor-host.js';

const { values } = parseArgs({ options: { redis: { type: 'string' }, 'redis-prefix': { type: 'string' } } });
const host = await hostEditor({ redisUrl: values.redis, redisPrefix: values['redis-prefix'], log: (line) => console.log(line) });
console.log(`editor listening on ${host.pageUrl}`);
process.once('SIGTERM', () => {
  void host.close().then(() => process.exit(0));
});
