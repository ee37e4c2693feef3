/**
 * Debian's Chromium for the demos' end-to-end tests: one browser, a fresh context (its own
 * storage, as a separate person) per user, screenshots written under test-artifacts/<demo>/.
 * A missing browser is an error, never a skip.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../support/chromium.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} does not exist (install the Debian package chromium)`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
}

/** A person of their own: a new context (storage, cookies) of `width` x 700 pixels. */
export function newPerson(browser: Browser, width = 900): Promise<BrowserContext> {
  return browser.newContext({ viewport: { width, height: 700 } });
}

/** Saves a screenshot of `page` as test-artifacts/<demo>/<name>.png and returns its path. */
export async function screenshot(page: Page, demo: string, name: string): Promise<string> {
  const dir = path.join(ARTIFACTS, demo);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}
