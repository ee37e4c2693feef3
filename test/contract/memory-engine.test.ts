/** The Engine contract against the in-process MemoryEngine (driven by a fake clock). */
import { describeEngineContract } from './realtime-engine.contract.js';
import { MemoryEngine } from '../../src/realtime/memory-engine.js';
import { FakeClock } from '../support/fake-clock.js';

const clocks = new WeakMap<object, FakeClock>();

describeEngineContract('MemoryEngine', {
  async make({ historySize }) {
    const clock = new FakeClock();
    const engine = new MemoryEngine({ historySize, historyTtlMs: 60_000, clock });
    clocks.set(engine, clock);
    return engine;
  },
  async age(engine) {
    clocks.get(engine)!.time += 61_000;
  },
});
