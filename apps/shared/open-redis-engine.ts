/**
 * A demo's RedisEngine (fullduplex/redis, imported only when --redis asks for it, so a lone
 * process needs neither Redis nor the redis package), checked once at start-up: a Redis that
 * does not answer within maxWaitMs is an error with one sentence, not a process that hangs.
 * Must not: keep a half-open engine after failing.
 */
import type { Engine } from 'fullduplex/realtime';

export async function openRedisEngine(url: string, options: { keyPrefix: string; historySize: number; historyTtlMs: number }, maxWaitMs = 5000): Promise<Engine> {
  const { RedisEngine } = await import('fullduplex/redis');
  const engine = new RedisEngine({ url, ...options });
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${maxWaitMs} ms`)), maxWaitMs);
  });
  try {
    await Promise.race([engine.history('ready-check'), late]);
    return engine;
  } catch (error) {
    void engine.close().catch(() => undefined);
    throw new Error(`cannot reach Redis at ${url}: ${(error as Error).message}`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}
