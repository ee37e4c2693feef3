/**
 * Debian's Chromium with separate browser contexts (separate cookies, storage and connections,
 * as two people on two machines), for the demos' end-to-end tests; and where their screenshots
 * go: test-artifacts/<demo>/ at the repository root (git-ignored), kept after the run.
 * Must not: skip when the browser is missing (launching fails with the reason instead).
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../../support/chromium.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} does not exist (install the Debian package chromium)`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
}

/** A page in a context of its own. */
export async function pageInNewContext(browser: Browser, viewport = { width: 1100, height: 760 }): Promise<Page> {
  const context = await browser.newContext({ viewport });
  return context.newPage();
}

/** Saves a screenshot of `page` as test-artifacts/<demo>/<name>.png; returns its path. */
export async function saveScreenshot(page: Page, demo: string, name: string): Promise<string> {
  const dir = path.join(ROOT, 'test-artifacts', demo);
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}
