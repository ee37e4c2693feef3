/**
 * The presence storm (bench scenario presence-storm-10k): `count` fdx.v1 connections join one
 * presence channel (connect, subscribe), paced evenly over `windowMs`; each then counts its
 * presence messages and bytes and keeps the member count it was last told (the `count` near the
 * head of every presence message, read without parsing the rest) and when that changed. Once
 * every join is done, a view is complete when its count is the number of members that joined
 * (counts only grow in a storm, so its last change is when it got there).
 * Must not: parse whole presence messages (at 10,000 members that would measure the generator).
 */
import { performance } from 'node:perf_hooks';
import type { Client } from './client.js';

export interface StormPhase {
  type: 'storm';
  host: string;
  port: number;
  count: number;
  windowMs: number;
  channel: string;
  localAddresses?: string[];
  timeoutMs?: number;
}

export interface StormResult {
  opened: number;
  failed: number;
  messages: number;
  bytes: number;
  complete: number;
  incomplete: number;
  lastJoinMs: number;
  completeMs: number;
}

export interface StormPorts {
  /** Opens connection `index` with its fdx.v1 session subscribed to the channel; rejects on failure (already recorded). */
  join(index: number): Promise<Client>;
  until(condition: () => boolean, timeoutMs: number): Promise<boolean>;
}

const COUNT = /"count":(\d+)/;

export async function presenceStorm(phase: StormPhase, ports: StormPorts): Promise<StormResult> {
  const { count, windowMs, timeoutMs = 120_000 } = phase;
  const result = { opened: 0, failed: 0, messages: 0, bytes: 0, lastJoinMs: 0 };
  const started = performance.now();
  const views: Array<{ count: number; at: number }> = [];
  const joins: Promise<void>[] = [];
  for (let i = 0; i < count; i += 1) {
    const wait = started + (i * windowMs) / count - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    joins.push(
      ports.join(i).then(
        (client) => {
          result.opened += 1;
          result.lastJoinMs = performance.now() - started;
          const view = { count: -1, at: 0 };
          views.push(view);
          client.onRaw = (payload) => {
            result.messages += 1;
            result.bytes += payload.length;
            const members = Number(COUNT.exec(payload.toString('latin1', 0, 300))?.[1] ?? -1);
            if (members !== view.count) {
              view.count = members;
              view.at = performance.now() - started;
            }
            return false;
          };
        },
        () => {
          result.failed += 1;
        },
      ),
    );
  }
  await Promise.all(joins);
  const complete = (): number => views.filter((view) => view.count === result.opened).length;
  await ports.until(() => complete() === views.length, timeoutMs);
  const done = complete();
  return { ...result, complete: done, incomplete: result.opened - done, completeMs: Math.max(0, ...views.map((view) => view.at)) };
}
