/** The browser client's size budget: bundled, minified, gzip -9, at most 5,120 bytes. */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { CLIENT_BUDGET_BYTES, buildBrowserClient, gzippedSize } from './client-size.js';

it(`the browser build of fullduplex/client is at most ${CLIENT_BUDGET_BYTES} bytes gzipped`, () => {
  const bundle = buildBrowserClient();
  const text = new TextDecoder().decode(bundle);
  // Everything the budget promises is in it, and nothing from Node.
  for (const word of ['fdx.v1', 'subscribe', 'publish', 'since', 'recovered', 'DEADLINE_EXCEEDED', 'OUTBOX_FULL', 'sessionStorage', 'ping', 'set-presence']) {
    assert.ok(text.includes(word), `the bundle contains ${word}`);
  }
  assert.ok(!/require\(|node:/.test(text), 'no Node built-ins in the browser build');
  const size = gzippedSize(bundle);
  assert.ok(size <= CLIENT_BUDGET_BYTES, `${size} bytes gzipped, budget ${CLIENT_BUDGET_BYTES}`);
  console.log(`fullduplex/client: ${bundle.length} bytes minified, ${size} bytes gzip -9`);
});
