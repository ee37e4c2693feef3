/**
 * Driving the chat demo's page (apps/chat/public) in Chromium: open a tab, type, read what it
 * shows. Every wait is bounded by WAIT_MS (a bound, not a measurement).
 */
import type { BrowserContext, Page } from 'playwright-core';
import { WAIT_MS } from './chat-client.js';

/**
 * Opens the page at `chatUrl` as `name` (the ?name= query skips the prompt), in `room` if given
 * (as the #hash; the remembered or first room otherwise), and waits until it is online there.
 */
export async function openChat(context: BrowserContext, chatUrl: string, name: string, room?: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${chatUrl}?${new URLSearchParams({ name })}${room ? `#${room}` : ''}`, { timeout: WAIT_MS });
  await waitOnline(page, name, room);
  return page;
}

/** Waits until the page is connected as `name` and shows `room` (any room if not given). */
export async function waitOnline(page: Page, name: string, room?: string): Promise<void> {
  await page.waitForSelector('#connection[data-state="connected"]', { timeout: WAIT_MS });
  await waitForText(page, '#me', name);
  await page.waitForSelector(room ? `#room-title:text-is("# ${room}")` : '#room-title:text-matches("^# ")', { timeout: WAIT_MS });
}

/** Waits until an element matching `selector` has exactly the text `text`. */
export async function waitForText(page: Page, selector: string, text: string): Promise<void> {
  await page.waitForSelector(`${selector}:text-is(${JSON.stringify(text)})`, { timeout: WAIT_MS });
}

/** Waits until the presence list shows exactly `names` (yours marked "(you)"), in order. */
export async function waitForPeople(page: Page, names: string[]): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  let shown: string[] = [];
  while (Date.now() < deadline) {
    shown = await page.$$eval('#people li', (items) => items.map((item) => item.textContent ?? ''));
    if (JSON.stringify(shown) === JSON.stringify(names)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the presence list shows ${JSON.stringify(shown)}, not ${JSON.stringify(names)}`);
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

/** Waits until the tab shows a message with exactly the text `text`. */
export async function waitForMessageText(page: Page, text: string): Promise<void> {
  await waitForText(page, '#messages .message .text', text);
}
