/**
 * The `fullduplex/redis` entry: the Redis Broker, kept out of the main entry so that `redis`
 * stays an optional peer dependency.
 */
export { RedisBroker, type RedisBrokerOptions, type RedisConnection } from './redis-broker.js';
export { BrokerError, type Broker, type BrokerMessageHandler } from './broker.js';
