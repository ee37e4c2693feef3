// What permessage-deflate costs: bytes on the wire per message with and without context
// takeover (the server_no_context_takeover mode that lets broadcasts share one compressed
// frame), and zlib memory per connection while compressing and after idle release.
// Usage: node --import tsx --expose-gc bench/deflate-cost.mjs [--connections N]
import { DeflateCodec } from '../src/node/compression/deflate-codec.ts';
import { makePayloads } from '../src/loadgen/frames.ts';

const connections = Number(process.argv[process.argv.indexOf('--connections') + 1]) || 1000;
const gc = globalThis.gc ?? (() => {});

const streams = {
  'JSON records (2 KiB)': makePayloads({ type: 'json', size: 2048, variants: 64 }),
  'chat lines (~80 B)': Array.from({ length: 64 }, (_, i) =>
    Buffer.from(JSON.stringify({ type: 'said', room: 'general', name: `user${i % 7}`, text: `message number ${i} about the weather today`, ts: 1_700_000_000_000 + i * 1000 })),
  ),
};

function params(serverNoContextTakeover, clientNoContextTakeover = false) {
  return { serverNoContextTakeover, clientNoContextTakeover, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };
}

console.log('Bytes per message (server side, threshold 0), 256 messages:');
console.log('| messages | level | context takeover | server_no_context_takeover | cost |');
console.log('|---|---|---|---|---|');
for (const [name, payloads] of Object.entries(streams)) {
  for (const level of [1, 6]) {
    const sizes = [false, true].map((reset) => {
      const codec = new DeflateCodec(params(reset), 'server', { threshold: 0, zlibDeflateOptions: { level } });
      let bytes = 0;
      for (let i = 0; i < 256; i++) bytes += codec.compress(payloads[(i * 13) % payloads.length], true).length;
      codec.close();
      return bytes / 256;
    });
    const plain = payloads.reduce((a, p) => a + p.length, 0) / payloads.length;
    console.log(`| ${name}, ${plain.toFixed(0)} B plain | ${level} | ${sizes[0].toFixed(0)} B | ${sizes[1].toFixed(0)} B | ${((sizes[1] / sizes[0] - 1) * 100).toFixed(0)}% more |`);
  }
}

function rssAfterGc() {
  gc();
  gc();
  return process.memoryUsage().rss;
}

console.log(`\nMemory per connection, ${connections} connections' codecs, each having sent and received one 2 KiB message:`);
const json = streams['JSON records (2 KiB)'];
const modes = [
  ['context takeover both ways', false, false],
  ['server_no_context_takeover', true, false],
  ['no context takeover either way', true, true],
];
for (const [label, reset, clientReset] of modes) {
  const before = rssAfterGc();
  const server = Array.from({ length: connections }, () => new DeflateCodec(params(reset, clientReset), 'server', { threshold: 0 }));
  for (const codec of server) {
    const client = new DeflateCodec(params(reset, clientReset), 'client', { threshold: 0 });
    codec.compress(json[0], true);
    const inflated = codec.decompress(client.compress(json[1], true), 0);
    client.close();
    if (!(inflated instanceof Uint8Array) || inflated.length !== json[1].length) throw new Error('round trip failed');
  }
  const active = rssAfterGc();
  const heldActive = server.reduce((a, c) => a + c.retainedBytes, 0) / connections;
  for (const codec of server) {
    codec.releaseIdle();
    codec.releaseIdle();
  }
  const heldIdle = server.reduce((a, c) => a + c.retainedBytes, 0) / connections;
  console.log(
    `- ${label}: active: RSS +${((active - before) / connections / 1024).toFixed(0)} KiB ` +
      `(zlib's own estimate ${(heldActive / 1024).toFixed(0)} KiB); after a heartbeat period idle: ` +
      `${(heldIdle / 1024).toFixed(0)} KiB held (the receiving window, if any)`,
  );
  for (const codec of server) codec.close();
}
