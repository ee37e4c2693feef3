/**
 * Runs a Lua script by its SHA1 (EVALSHA) on the node holding its first key, and falls back to
 * EVAL when that node does not have it cached (NOSCRIPT: a new node, a restarted or flushed
 * Redis), which caches it there for the next time.
 * Must not: retry anything but NOSCRIPT; a script's own error is the caller's.
 */
import { createHash } from 'node:crypto';
import type { RedisLink } from './redis-link.js';

export class ScriptRunner {
  readonly #link: Pick<RedisLink, 'run'>;
  readonly #shas = new Map<string, string>();

  constructor(link: Pick<RedisLink, 'run'>) {
    this.#link = link;
  }

  async run(script: string, keys: string[], args: string[]): Promise<unknown> {
    let sha = this.#shas.get(script);
    if (sha === undefined) {
      sha = createHash('sha1').update(script).digest('hex');
      this.#shas.set(script, sha);
    }
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await this.#link.run(keys[0]!, ['EVALSHA', sha, ...tail]);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return this.#link.run(keys[0]!, ['EVAL', script, ...tail]);
    }
  }
}
