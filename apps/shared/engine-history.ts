/**
 * The most recent publications of a channel, read from a real-time engine (with Redis, shared by
 * every process and kept across restarts). An engine replays history only from a position it
 * still reaches (all or nothing), so this asks for the last `max` and, if those are no longer
 * all kept (some expired), for half as many, until it gets a whole run.
 * Must not: return a run with a gap, or ask more than log2(max) + 2 times.
 */
import type { Engine } from 'fullduplex/realtime';

export async function recentPublications(engine: Engine, channel: string, max: number): Promise<unknown[]> {
  const { position } = await engine.history(channel);
  const top = Number(position.offset);
  if (!Number.isSafeInteger(top)) return [];
  for (let count = Math.min(top, max); count > 0; count = Math.floor(count / 2)) {
    const run = await engine.history(channel, { offset: String(top - count), epoch: position.epoch });
    if (run.recovered) return run.publications.map((publication) => publication.data);
  }
  return [];
}
