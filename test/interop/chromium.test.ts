/**
 * Interop with Chromium's native WebSocket (Debian's /usr/bin/chromium, driven by
 * playwright-core) against our server. The page is served from a real http origin on
 * 127.0.0.1; chromium/peer-page.js is its WebSocket driver.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { Closed, Endpoint } from './endpoint.js';
import { dropIfOpen, startOurServer, type OurServer } from './fullduplex-ends.js';
import { CHROMIUM, CHROMIUM_ARGS } from '../support/chromium.js';
import { within } from './inbox.js';
import { OFFERED_PROTOCOLS, describePeerMatrix } from './peer-matrix.js';

const PAGE_SCRIPT = readFileSync(new URL('./chromium/peer-page.js', import.meta.url), 'utf8');
const PAGE_HTML = '<!doctype html><meta charset="utf-8"><title>fullduplex interop</title><script src="/peer-page.js"></script>';

let ours: OurServer;
/** The same, with permessage-deflate on (Chromium offers it on every connection). */
let oursDeflate: OurServer;
let origin: http.Server;
let originUrl = '';
let userDataDir = '';
let context: BrowserContext | undefined;
let page: Page;
/** Why the browser could not start; every test then fails with it (a missing peer never skips). */
let missing: Error | null = null;

before(async () => {
  ours = await startOurServer();
  oursDeflate = await startOurServer({ deflate: true });
  try {
    await startBrowser();
  } catch (error) {
    missing = error as Error;
  }
});

async function startBrowser(): Promise<void> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium peer missing: ${CHROMIUM} does not exist (install the Debian package chromium)`);
  }
  origin = http.createServer((req, res) => {
    const [body, type] = req.url === '/peer-page.js' ? [PAGE_SCRIPT, 'text/javascript'] : [PAGE_HTML, 'text/html'];
    res.writeHead(200, { 'Content-Type': `${type}; charset=utf-8`, 'Cache-Control': 'no-store' });
    res.end(body);
  });
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}/`;
  userDataDir = await mkdtemp(path.join(os.tmpdir(), 'fdx-interop-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 30_000,
  });
  page = context.pages()[0] ?? (await context.newPage());
  await page.goto(originUrl, { timeout: 15_000 });
  await page.waitForFunction(() => 'peer' in window, undefined, { timeout: 10_000 });
}

after(async () => {
  await context?.close().catch(() => undefined);
  if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
  if (origin) {
    origin.closeAllConnections();
    await new Promise<void>((resolve) => origin.close(() => resolve()));
  }
  await ours?.stop();
  await oursDeflate?.stop();
});

type PagePeer = {
  open(url: string, protocols: string[]): Promise<string>;
  send(message: { binary: boolean; b64?: string; pattern?: unknown }): void;
  next(timeoutMs: number): Promise<{ binary: boolean; b64: string }>;
  close(code?: number, reason?: string): void;
  closed(): Promise<Closed>;
  readyState(): number;
};
declare const window: { peer: PagePeer };
declare const navigator: { userAgent: string };
declare const location: { origin: string };

async function openInPage(url: string): Promise<Endpoint> {
  const protocol = await page.evaluate(([u, p]) => window.peer.open(u, p), [url, OFFERED_PROTOCOLS] as const);
  let closed: Promise<Closed> | null = null;
  return {
    protocol,
    send: (message) =>
      page.evaluate(
        (m) => window.peer.send(m),
        message.pattern
          ? { binary: message.binary, pattern: message.pattern }
          : { binary: message.binary, b64: message.data.toString('base64') },
      ),
    nextMessage: async () => {
      const item = await page.evaluate((ms) => window.peer.next(ms), 10_000);
      return { binary: item.binary, data: Buffer.from(item.b64, 'base64') };
    },
    close: (code, reason) => page.evaluate(([c, r]) => window.peer.close(c, r), [code, reason] as const),
    closeWithoutCode: () => page.evaluate(() => window.peer.close()),
    get closed() {
      // Never rejects: a page that went away leaves the close unreported and the caller's deadline fails.
      closed ??= page.evaluate(() => window.peer.closed()).catch(() => new Promise<Closed>(() => undefined));
      return closed;
    },
  };
}

describe('Chromium peer', () => {
  it('is a Chromium page on a real http origin with a native WebSocket', async () => {
    if (missing) throw missing;
    const facts = await page.evaluate(() => ({ ua: navigator.userAgent, origin: location.origin, ws: typeof WebSocket }));
    assert.match(facts.ua, /Chrome\/\d+/);
    assert.equal(facts.origin + '/', originUrl);
    assert.equal(facts.ws, 'function');
  });
});

for (const deflate of [false, true]) {
  describePeerMatrix(`Chromium WebSocket → fullduplex server${deflate ? ', permessage-deflate' : ''}`, {
    // Chromium echoes the close frame it received, reason included.
    echoedCloseReason: 'done',
    cannotPing: 'the browser WebSocket API has no way to send a ping',
    cannotFragment: 'the browser WebSocket API sends each message in one frame',
    deflate,
    async connect() {
      if (missing) throw missing;
      const server = deflate ? oursDeflate : ours;
      const peer = await openInPage(server.url);
      const accepted = await server.nextConnection();
      return {
        ours: accepted.endpoint,
        peer,
        dispose: async () => {
          await dropIfOpen(accepted.endpoint, accepted.socket);
          await within(peer.closed, 5000, 'browser close').catch(() => undefined);
        },
      };
    },
  });
}
