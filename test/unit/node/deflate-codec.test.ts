import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import type net from 'node:net';
import { WebSocket as WsClient } from 'ws';
import WebSocket from '../../../src/index.js';
import { Connection, Opcode } from '../../../src/protocol/index.js';
import { DeflateCodec, deflateStreamBytes, inflateStreamBytes } from '../../../src/node/compression/deflate-codec.js';
import { clientFrame, closePayload, concat } from '../../support/frames.js';
import { rawHandshake, readUntilClose, startEchoServer, startServer, stopServer } from '../../support/servers.js';

const PARAMS = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };

/** What a peer would put on the wire for `text` with a fresh context: deflate, sync flush, tail removed. */
function deflateMessage(data: Uint8Array): Uint8Array {
  const out = zlib.deflateRawSync(data, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  return out.subarray(0, out.length - 4);
}

function serverConnection(options: { maxPayload?: number; params?: typeof PARAMS } = {}) {
  return new Connection({
    side: 'server',
    maxPayload: options.maxPayload,
    codec: new DeflateCodec(options.params ?? PARAMS, 'server', { threshold: 0 }),
  });
}

/** Parses unmasked server frames from raw bytes. */
function parseFrames(bytes: Buffer): Array<{ fin: boolean; rsv1: boolean; opcode: number; payload: Buffer }> {
  const frames = [];
  let i = 0;
  while (i + 2 <= bytes.length) {
    const b0 = bytes[i]!;
    let len = bytes[i + 1]! & 0x7f;
    let o = i + 2;
    if (len === 126) {
      len = bytes.readUInt16BE(o);
      o += 2;
    } else if (len === 127) {
      len = Number(bytes.readBigUInt64BE(o));
      o += 8;
    }
    if (o + len > bytes.length) break;
    frames.push({ fin: (b0 & 0x80) !== 0, rsv1: (b0 & 0x40) !== 0, opcode: b0 & 0x0f, payload: bytes.subarray(o, o + len) });
    i = o + len;
  }
  return frames;
}

describe('permessage-deflate in the core with the zlib codec', () => {
  it('inflates a compressed text message', () => {
    const c = serverConnection();
    c.receiveData(clientFrame({ opcode: Opcode.TEXT, rsv1: true, payload: deflateMessage(Buffer.from('hello hello hello')) }));
    const [event] = c.takeEvents();
    assert.equal(event?.type, 'message');
    assert.equal(Buffer.from((event as { data: Uint8Array }).data).toString(), 'hello hello hello');
  });

  it('inflates a compressed message split into fragments with a ping between them', () => {
    const c = serverConnection();
    const compressed = deflateMessage(Buffer.from('fragmented and compressed, fragmented and compressed'));
    const third = Math.floor(compressed.length / 3);
    c.receiveData(clientFrame({ opcode: Opcode.TEXT, rsv1: true, fin: false, payload: compressed.subarray(0, third) }));
    c.receiveData(clientFrame({ opcode: Opcode.PING, payload: Buffer.from('p') }));
    c.receiveData(clientFrame({ opcode: Opcode.CONTINUATION, fin: false, payload: compressed.subarray(third, 2 * third) }));
    c.receiveData(clientFrame({ opcode: Opcode.CONTINUATION, payload: compressed.subarray(2 * third) }));
    const events = c.takeEvents();
    assert.deepEqual(events.map((e) => e.type), ['ping', 'message']);
    assert.equal(Buffer.from((events[1] as { data: Uint8Array }).data).toString(), 'fragmented and compressed, fragmented and compressed');
  });

  it('keeps the peer context between messages (context takeover)', () => {
    const c = serverConnection();
    const peer = zlib.createDeflateRaw();
    const messages = ['the same words again', 'the same words again', 'the same words again and more'];
    // A stateful peer: each message continues the previous deflate stream.
    const chunks: Buffer[] = [];
    peer.on('data', (d: Buffer) => chunks.push(d));
    return (async () => {
      for (const m of messages) {
        chunks.length = 0;
        peer.write(m);
        await new Promise<void>((r) => peer.flush(zlib.constants.Z_SYNC_FLUSH, () => r()));
        const out = Buffer.concat(chunks);
        c.receiveData(clientFrame({ opcode: Opcode.TEXT, rsv1: true, payload: out.subarray(0, out.length - 4) }));
      }
      const got = c.takeEvents().map((e) => Buffer.from((e as { data: Uint8Array }).data).toString());
      assert.deepEqual(got, messages);
    })();
  });

  it('fails with 1009 while inflating a bomb, without allocating what it would inflate to', async () => {
    // About 100 KiB on the wire that would inflate to 100 MiB.
    const deflater = zlib.createDeflateRaw({ level: 9 });
    const parts: Buffer[] = [];
    deflater.on('data', (d: Buffer) => parts.push(d));
    const zeros = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < 100; i++) deflater.write(zeros);
    await new Promise<void>((r) => deflater.flush(zlib.constants.Z_SYNC_FLUSH, () => r()));
    const wire = Buffer.concat(parts);
    assert.ok(wire.length < 200 * 1024, `bomb is small on the wire (${wire.length})`);
    const c = serverConnection({ maxPayload: 1024 * 1024 });
    global.gc?.();
    const before = process.memoryUsage().arrayBuffers;
    c.receiveData(clientFrame({ opcode: Opcode.BINARY, rsv1: true, payload: wire.subarray(0, wire.length - 4) }));
    const grown = process.memoryUsage().arrayBuffers - before;
    const [event] = c.takeEvents();
    assert.equal(event?.type, 'error');
    assert.equal((event as { error: { closeCode: number; code: string } }).error.closeCode, 1009);
    assert.ok(grown < 32 * 1024 * 1024, `memory grew by ${grown} bytes`);
    const out = concat(c.takeOutput());
    assert.deepEqual([...out.subarray(0, 4)], [0x88, 0x02, 0x03, 0xf1]); // close 1009
  });

  it('fails with 1007 on corrupt compressed data', () => {
    const c = serverConnection();
    c.receiveData(clientFrame({ opcode: Opcode.BINARY, rsv1: true, payload: Buffer.from([0xff, 0xff, 0xff, 0xff, 0x12]) }));
    const [event] = c.takeEvents();
    assert.equal(event?.type, 'error');
    assert.equal((event as { error: { code: string } }).error.code, 'WS_ERR_INFLATE_FAILED');
    assert.equal((event as { error: { closeCode: number } }).error.closeCode, 1007);
  });

  it('validates UTF-8 on the inflated text (1007)', () => {
    const c = serverConnection();
    c.receiveData(clientFrame({ opcode: Opcode.TEXT, rsv1: true, payload: deflateMessage(Buffer.from([0x61, 0xc3, 0x28])) }));
    const [event] = c.takeEvents();
    assert.equal((event as { error: { closeCode: number } }).error.closeCode, 1007);
  });

  it('fails with 1002 on RSV1 on a continuation frame or a control frame', () => {
    const a = serverConnection();
    a.receiveData(clientFrame({ opcode: Opcode.TEXT, rsv1: true, fin: false, payload: deflateMessage(Buffer.from('x')) }));
    a.receiveData(clientFrame({ opcode: Opcode.CONTINUATION, rsv1: true, payload: new Uint8Array(0) }));
    assert.equal((a.takeEvents()[0] as { error: { code: string } }).error.code, 'WS_ERR_UNEXPECTED_RSV_1');
    const b = serverConnection();
    b.receiveData(clientFrame({ opcode: Opcode.PING, rsv1: true }));
    assert.equal((b.takeEvents()[0] as { error: { closeCode: number } }).error.closeCode, 1002);
  });

  it('compresses outgoing messages, sets RSV1 on the first frame only, and strips the tail', () => {
    const c = serverConnection();
    c.send(Buffer.from('part one '), { binary: false, fin: false });
    c.send(Buffer.from('part two'), { binary: false, fin: true });
    const frames = parseFrames(Buffer.from(concat(c.takeOutput())));
    assert.deepEqual(frames.map((f) => [f.opcode, f.rsv1, f.fin]), [[1, true, false], [0, false, true]]);
    const inflated = zlib.inflateRawSync(Buffer.concat([frames[0]!.payload, frames[1]!.payload, Buffer.from([0, 0, 0xff, 0xff])]), {
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
    });
    assert.equal(inflated.toString(), 'part one part two');
  });

  it('never compresses when its own window would be 8 bits (zlib cannot), but still inflates', () => {
    const codec = new DeflateCodec({ ...PARAMS, serverMaxWindowBits: 8 }, 'server', { threshold: 0 });
    assert.equal(codec.shouldCompress(10_000), false);
    const inflated = codec.decompress(deflateMessage(Buffer.from('still fine')), 0);
    assert.equal(Buffer.from(inflated as Uint8Array).toString(), 'still fine');
  });

  it('restores a released inflater from a window that wrapped around many messages', () => {
    const codec = new DeflateCodec({ ...PARAMS, clientMaxWindowBits: 10 }, 'server', { threshold: 0 });
    let plain = Buffer.alloc(0);
    const parts = Array.from({ length: 7 }, (_, i) => Buffer.from(Array.from({ length: 300 + i * 13 }, (_, j) => (i * 31 + j * 7) & 0xff)));
    for (const part of parts) {
      // Each message compressed on its own, so the window the codec keeps is all it needs.
      const inflated = codec.decompress(deflateMessage(part), 0);
      assert.ok(Buffer.from(inflated as Uint8Array).equals(part));
      plain = Buffer.concat([plain, part]);
    }
    codec.releaseIdle();
    codec.releaseIdle();
    const window = plain.subarray(plain.length - 1024);
    const referring = zlib.deflateRawSync(window, { windowBits: 10, dictionary: window, finishFlush: zlib.constants.Z_SYNC_FLUSH });
    assert.ok(referring.length < 100, 'the test message must refer back into the window');
    const again = codec.decompress(referring.subarray(0, referring.length - 4), 0);
    assert.ok(Buffer.from(again as Uint8Array).equals(window));
    codec.close();
  });

  it('holds no zlib state with no context takeover, and releases idle streams otherwise', () => {
    const shared = new DeflateCodec({ ...PARAMS, serverNoContextTakeover: true, clientNoContextTakeover: true }, 'server', { threshold: 0 });
    shared.compress(Buffer.alloc(100_000, 1), true);
    shared.decompress(deflateMessage(Buffer.alloc(100_000, 2)), 0);
    assert.equal(shared.retainedBytes, 0);
    const full = new DeflateCodec({ ...PARAMS, clientMaxWindowBits: 10 }, 'server', { threshold: 0 });
    full.compress(Buffer.alloc(100_000, 1), true);
    full.decompress(deflateMessage(Buffer.alloc(100_000, 2)), 0);
    const active = deflateStreamBytes(15) + inflateStreamBytes(10) + (1 << 10);
    assert.equal(full.retainedBytes, active);
    full.releaseIdle(); // traffic since the last check: kept
    assert.equal(full.retainedBytes, active);
    full.releaseIdle(); // idle for a whole period: both streams go, the receiving window stays
    assert.equal(full.retainedBytes, 1 << 10);
    // The released inflater is restored from the window: a message referring back still inflates.
    const window = Buffer.from(Array.from({ length: 1024 }, (_, i) => (i * 7) & 0xff));
    full.decompress(deflateMessage(window), 0);
    full.releaseIdle();
    full.releaseIdle();
    assert.equal(full.retainedBytes, 1 << 10);
    const referring = zlib.deflateRawSync(window, { windowBits: 10, dictionary: window, finishFlush: zlib.constants.Z_SYNC_FLUSH });
    assert.ok(referring.length < 100, 'the test message must refer back into the window');
    const again = full.decompress(referring.subarray(0, referring.length - 4), 0);
    assert.ok(Buffer.from(again as Uint8Array).equals(window));
    full.close();
  });
});

describe('permessage-deflate over loopback', () => {
  for (const serverConfig of [
    {},
    { serverNoContextTakeover: true },
    { clientNoContextTakeover: true },
    { serverMaxWindowBits: 9, clientMaxWindowBits: 10 },
    { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 12 },
  ]) {
    it(`echoes through ws and our client with server config ${JSON.stringify(serverConfig)}`, async () => {
      const { wss, url } = await startEchoServer({ perMessageDeflate: { threshold: 0, ...serverConfig } });
      after(() => stopServer(wss));
      const messages = ['first message, first message', 'first message, first message again', 'x'.repeat(70_000), ''];
      for (const Client of [WebSocket, WsClient] as const) {
        const ws = new (Client as typeof WebSocket)(url, { perMessageDeflate: { threshold: 0 } });
        await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
        assert.match(ws.extensions, /permessage-deflate/);
        const got: string[] = [];
        const done = new Promise<void>((resolve) => ws.on('message', (d) => { got.push(d.toString()); if (got.length === messages.length) resolve(); }));
        for (const m of messages) ws.send(m);
        await done;
        assert.deepEqual(got, messages);
        ws.close();
      }
    });
  }

  it('sends messages below the threshold uncompressed and honours compress: false', async () => {
    const { wss, port } = await startServer({ perMessageDeflate: { threshold: 100 } });
    after(() => stopServer(wss));
    wss.on('connection', (ws) => {
      ws.send('short');
      ws.send('y'.repeat(200));
      ws.send('z'.repeat(200), { compress: false });
      ws.close();
    });
    const { socket, head, rest } = await rawHandshake(port, 'Sec-WebSocket-Extensions: permessage-deflate\r\n');
    assert.match(head, /Sec-WebSocket-Extensions: permessage-deflate/);
    const { bytes } = await readUntilClose(socket, rest);
    const frames = parseFrames(bytes);
    assert.deepEqual(frames.map((f) => f.rsv1), [false, true, false, false]);
    socket.destroy();
  });

  it('broadcasts one compressed frame, byte for byte the same, to every no-context-takeover client', async () => {
    const { wss, port } = await startServer({ perMessageDeflate: { threshold: 0, serverNoContextTakeover: true } });
    after(() => stopServer(wss));
    const sockets: net.Socket[] = [];
    const rests: Buffer[] = [];
    for (let i = 0; i < 3; i++) {
      const { socket, rest } = await rawHandshake(port, 'Sec-WebSocket-Extensions: permessage-deflate\r\n');
      sockets.push(socket);
      rests.push(rest);
    }
    while (wss.clients.size < 3) await new Promise((r) => setImmediate(r));
    const text = JSON.stringify({ type: 'tick', values: Array.from({ length: 50 }, (_, i) => i) });
    assert.equal(wss.broadcast(text), 3);
    for (const ws of wss.clients) ws.close();
    const received = await Promise.all(sockets.map((s, i) => readUntilClose(s, rests[i])));
    const frames = received.map((r) => parseFrames(r.bytes)[0]!);
    for (const f of frames) {
      assert.equal(f.rsv1, true);
      assert.deepEqual(f.payload, frames[0]!.payload);
      const inflated = zlib.inflateRawSync(Buffer.concat([f.payload, Buffer.from([0, 0, 0xff, 0xff])]), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
      assert.equal(inflated.toString(), text);
    }
  });

  it('keeps context-takeover clients decoding correctly across broadcasts and direct sends', async () => {
    const { wss, url } = await startServer({ perMessageDeflate: { threshold: 0 } });
    after(() => stopServer(wss));
    const clients = [new WsClient(url) as unknown as WebSocket, new WebSocket(url)];
    await Promise.all(clients.map((c) => new Promise((r) => c.once('open', r))));
    while (wss.clients.size < 2) await new Promise((r) => setImmediate(r));
    const expected: string[] = [];
    const outputs = clients.map(() => [] as string[]);
    clients.forEach((c, i) => c.on('message', (d: Buffer) => outputs[i]!.push(d.toString())));
    for (let round = 0; round < 5; round++) {
      const direct = `direct message number ${round}, direct message number ${round}`;
      const shared = `broadcast number ${round}, broadcast number ${round}`;
      for (const ws of wss.clients) ws.send(direct);
      wss.broadcast(shared);
      expected.push(direct, shared);
    }
    while (outputs.some((o) => o.length < expected.length)) await new Promise((r) => setTimeout(r, 10));
    for (const o of outputs) assert.deepEqual(o, expected);
    for (const c of clients) c.close();
  });

  it('closes with 1009 when a compressed message inflates past maxPayload', async () => {
    const { wss, url } = await startEchoServer({ perMessageDeflate: { threshold: 0 }, maxPayload: 64 * 1024 });
    after(() => stopServer(wss));
    const ws = new WsClient(url, { perMessageDeflate: { threshold: 0 } });
    await new Promise((r) => ws.once('open', r));
    ws.send(Buffer.alloc(1024 * 1024)); // compresses to about 1 KiB
    const [code] = await new Promise<[number]>((r) => ws.once('close', (c) => r([c])));
    assert.equal(code, 1009);
  });

  it('declines a malformed offer and runs without compression', async () => {
    const { wss, port } = await startServer({ perMessageDeflate: true });
    after(() => stopServer(wss));
    const { socket, head } = await rawHandshake(port, 'Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=99\r\n');
    assert.match(head, /101 Switching Protocols/);
    assert.doesNotMatch(head, /Sec-WebSocket-Extensions/i);
    socket.write(clientFrame({ opcode: Opcode.CLOSE, payload: closePayload(1000) }));
    socket.destroy();
  });
});
