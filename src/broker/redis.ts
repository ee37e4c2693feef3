/**
 * The `fullduplex/redis` entry: the Redis Broker, the Redis Engine of the real-time layer and
 * the Redis presence store, kept out of the main entry so that `redis` stays an optional peer
 * dependency.
 */
export { RedisBroker, type RedisBrokerOptions, type RedisConnection } from './redis-broker.js';
export { BrokerError, type Broker, type BrokerMessageHandler } from './broker.js';
export { RedisEngine, REDIS_ENGINE_DEFAULTS, type RedisEngineOptions } from '../engine/redis-engine.js';
export { RedisPresenceStore, type RedisPresenceStoreOptions } from './redis-presence-store.js';
