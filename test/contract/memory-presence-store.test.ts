/** The PresenceStore contract against the in-process MemoryPresenceStore (driven by a fake clock). */
import { describePresenceStoreContract } from './presence-store.contract.js';
import { MemoryPresenceStore } from '../../src/realtime/memory-presence-store.js';
import { FakeClock } from '../support/fake-clock.js';

describePresenceStoreContract('MemoryPresenceStore', {
  async make({ ttlMs }) {
    const clock = new FakeClock();
    const store = new MemoryPresenceStore({ ttlMs, clock });
    // One process: both "stores" are the same one (closing it twice is allowed).
    return { stores: [store, store], wait: (ms) => clock.advance(ms) };
  },
});
