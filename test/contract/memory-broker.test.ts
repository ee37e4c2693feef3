/**
 * The Broker contract against MemoryBroker: two instances on one MemoryHub stand for two
 * processes sharing a broker.
 */
import { MemoryBroker, MemoryHub } from '../../src/broker/memory-broker.js';
import { runBrokerContract } from './broker.contract.js';

runBrokerContract('MemoryBroker', async () => {
  const hub = new MemoryHub();
  const a = new MemoryBroker(hub);
  const b = new MemoryBroker(hub);
  return {
    a,
    b,
    async cleanup() {
      await Promise.all([a.close(), b.close()]);
    },
  };
});
