import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    protocol: 'src/protocol/index.ts',
    redis: 'src/broker/redis.ts',
    realtime: 'src/realtime.ts',
    client: 'src/client.ts',
    metrics: 'src/metrics/index.ts',
    cli: 'src/cli/main.ts',
    // The load generator's process, forked by `fdx bench` and by bench/run.mjs.
    'loadgen-worker': 'src/loadgen/worker-main.ts',
  },
  // The Redis client stays the user's dependency (needed only with fullduplex/redis).
  external: ['redis'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  splitting: false,
  // `const WebSocket = require('fullduplex')` must give the class, as `require('ws')` does.
  footer: ({ format }) =>
    format === 'cjs'
      ? { js: 'if (module.exports.default) module.exports = Object.assign(module.exports.default, module.exports);' }
      : {},
});
