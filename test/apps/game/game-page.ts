/**
 * Driving the arena's page (apps/game/browser) in Chromium: join, and read where the page shows
 * each player (its roster, which lists what the canvas draws). Every wait is bounded.
 */
import type { Page } from 'playwright-core';

const WAIT_MS = 15_000;

/** The page's DOM as the functions run inside Chromium see it (the project compiles without the DOM lib). */
declare const document: { getElementById(id: string): any; querySelector(selector: string): any };

/** Opens the arena and waits until this page knows its player id; returns it. */
export async function joinArena(page: Page, url: string): Promise<number> {
  await page.goto(url, { timeout: WAIT_MS });
  await page.waitForSelector('#connection[data-state="open"]', { timeout: WAIT_MS });
  await page.waitForFunction(() => /^you are #\d+$/.test(document.getElementById('me').textContent ?? ''), undefined, { timeout: WAIT_MS });
  return Number((await page.textContent('#me'))!.replace(/\D/g, ''));
}

/** Where `page` shows player `id` (its roster), or null if it does not show it. */
export async function shownAt(page: Page, id: number): Promise<{ x: number; y: number } | null> {
  const item = await page.$(`#roster li[data-id="${id}"]`);
  if (!item) return null;
  return { x: Number(await item.getAttribute('data-x')), y: Number(await item.getAttribute('data-y')) };
}


/**
 * Holds `key` on `page` until the page shows player `id` more than `distance` units away from
 * x = `fromX` (its own prediction), then releases it. A page in the background gets its timers
 * throttled, so it is brought to the front first.
 */
export async function moveAway(page: Page, id: number, key: 'ArrowLeft' | 'ArrowRight', fromX: number, distance: number): Promise<void> {
  await page.bringToFront();
  await page.keyboard.down(key);
  try {
    await page.waitForFunction(
      ({ id, fromX, distance }) => Math.abs(Number(document.querySelector(`#roster li[data-id="${id}"]`)?.dataset.x ?? fromX) - fromX) > distance,
      { id, fromX, distance },
      { timeout: WAIT_MS },
    );
  } finally {
    await page.keyboard.up(key);
  }
}
