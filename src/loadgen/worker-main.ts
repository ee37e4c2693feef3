/**
 * A load generator process: runs the phases its parent sends over IPC on one Generator and
 * answers each with `{ type, id, ok, ...reply }` (or `ok: false` and the error). Started by
 * `fdx bench` (worker-pool.ts) and by bench/run.mjs, as dist/loadgen-worker.js once built.
 * Exits when its parent disconnects.
 * Must not: print (the parent reports), or run without a parent.
 */
import { Generator, type Phase } from './generator.js';

if (typeof process.send !== 'function') throw new Error('the load generator runs as a child process with an IPC channel');

const generator = new Generator();
process.on('message', (message: Phase & { id?: number }) => {
  generator.run(message).then(
    (reply) => process.send?.({ type: message.type, id: message.id, ok: true, ...reply }),
    (error: unknown) => process.send?.({ type: message.type, id: message.id, ok: false, error: String((error as Error)?.stack ?? error) }),
  );
});
process.on('disconnect', () => process.exit(0));
