/**
 * Driving the chat demo's page (apps/chat/public) in Chromium: open a tab, type, read what it
 * shows. Every wait is bounded by WAIT_MS (a bound, not a measurement).
 */
import type { BrowserContext, Page } from 'playwright-core';
import { WAIT_MS } from './chat-client.js';

/**
 * Opens the page at `pageUrl` as `name` (the ?name= query skips the prompt), in `room` if given
 * (the first room otherwise), and waits until it is connected and in its room.
 */
export async function openChat(context: BrowserContext, pageUrl: string, name: string, room?: string): Promise<Page> {
  const page = await context.newPage();
  const query = new URLSearchParams({ name, ...(room ? { room } : {}) });
  await page.goto(`${pageUrl}?${query}`, { timeout: WAIT_MS });
  await page.waitForSelector('#connection[data-state="open"]', { timeout: WAIT_MS });
  await waitForText(page, '#me', name);
  await page.waitForSelector(room ? `#room-title:text-is("# ${room}")` : '#room-title:text-matches("^# ")', { timeout: WAIT_MS });
  return page;
}

/** Waits until an element matching `selector` has exactly the text `text`. */
export async function waitForText(page: Page, selector: string, text: string): Promise<void> {
  await page.waitForSelector(`${selector}:text-is(${JSON.stringify(text)})`, { timeout: WAIT_MS });
}

/** Waits until the current room shows `count` members. */
export async function waitForOnline(page: Page, count: number): Promise<void> {
  await waitForText(page, '#online', `${count} online`);
}

/** Waits until the room list shows `count` members in `room`. */
export async function waitForRoomCount(page: Page, room: string, count: number): Promise<void> {
  await waitForText(page, `.room-button[data-room="${room}"] .count`, String(count));
}

export async function say(page: Page, text: string): Promise<void> {
  await page.fill('#text', text);
  await page.press('#text', 'Enter');
}

/** The messages a tab shows, as {name, text, mine} read from the DOM. */
export function shownMessages(page: Page): Promise<Array<{ name: string; text: string; mine: boolean }>> {
  return page.$$eval('#messages .message', (items) =>
    items.map((item) => ({
      name: item.querySelector('.name')?.textContent ?? '',
      text: item.querySelector('.text')?.textContent ?? '',
      mine: item.classList.contains('mine'),
    })),
  );
}

/** Waits until the tab shows at least `count` messages and returns them. */
export async function waitForMessages(page: Page, count: number): Promise<Array<{ name: string; text: string; mine: boolean }>> {
  await page.locator('#messages .message').nth(count - 1).waitFor({ timeout: WAIT_MS });
  return shownMessages(page);
}

/** Waits until the tab shows a message with exactly the text `text`. */
export async function waitForMessageText(page: Page, text: string): Promise<void> {
  await waitForText(page, '#messages .message .text', text);
}

export function notices(page: Page): Promise<string[]> {
  return page.$$eval('#messages .notice', (items) => items.map((item) => item.textContent ?? ''));
}
