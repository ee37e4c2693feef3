/**
 * Driving the editor demo's page (apps/editor/public) in Chromium: a browser with several
 * contexts (separate users: no shared storage), opening a document, typing, reading what the
 * page shows. Screenshots go to test-artifacts/editor/ (git-ignored). Every wait is bounded by
 * WAIT_MS (a bound, not a measurement).
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../../support/chromium.js';
import { WAIT_MS } from './editor-host.js';

export const ARTIFACTS = path.resolve('test-artifacts', 'editor');

/** Debian's Chromium, a missing one an error; each newContext() is a separate user. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, timeout: 30_000 });
}

/** Opens `doc` as `name` in a new context of `browser` and waits until it is connected and synced. */
export async function openEditor(browser: Browser, pageUrl: string, doc: string, name: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1000, height: 600 } });
  const page = await context.newPage();
  await page.goto(`${pageUrl}?${new URLSearchParams({ doc, name })}`, { timeout: WAIT_MS });
  await waitConnected(page);
  return page;
}

export async function waitConnected(page: Page): Promise<void> {
  await page.waitForSelector('#status[data-state="connected"][data-synced="true"]', { timeout: WAIT_MS });
}

/** The text the editor shows, line by line (the others' caret labels left out). */
export function shownText(page: Page): Promise<string> {
  return page.$$eval('.cm-content .cm-line', (lines) =>
    lines
      .map((line) => {
        const copy = line.cloneNode(true) as typeof line;
        for (const widget of copy.querySelectorAll('.cm-ySelectionCaret, .cm-widgetBuffer')) widget.remove();
        return copy.textContent ?? '';
      })
      .join('\n'),
  );
}

/** Waits until the editor shows `check`'s text; returns it. */
export async function waitForShown(page: Page, check: (text: string) => boolean, what: string): Promise<string> {
  const deadline = Date.now() + WAIT_MS;
  let text = await shownText(page);
  while (!check(text)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until the page shows ${what} (it shows ${JSON.stringify(text)})`);
    await page.waitForTimeout(25);
    text = await shownText(page);
  }
  return text;
}

/** Types `text` at the end of the document. */
export async function typeAtEnd(page: Page, text: string): Promise<void> {
  await page.click('.cm-content');
  await page.keyboard.press('Control+End');
  await page.keyboard.type(text);
}

/** The names in the "Here now" list. */
export function shownPeers(page: Page): Promise<string[]> {
  return page.$$eval('#peers .peer .name', (names) => names.map((name) => name.textContent ?? '').sort());
}

export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, name);
  await page.screenshot({ path: file });
  return file;
}
