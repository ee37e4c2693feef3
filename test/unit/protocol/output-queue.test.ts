/**
 * OutputQueue: framing what is sent (RFC 6455 §5.2, §5.3 masking, §5.4 fragments, RFC 7692
 * RSV1), the pong cap (§5.5.3) and the one close frame (§5.5.1). Its own contract is checked
 * directly; the rules are checked through Connection.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OutputQueue } from '../../../src/protocol/output-queue.js';
import { applyMask, Connection, ProtocolError, UsageError } from '../../../src/protocol/index.js';
import { MASK, clientFrame, closePayload, hex, serverFrame, text, toHex, utf8 } from '../../support/frames.js';
import {
  BINARY, CLOSE, CONT, PING, PONG, TEXT, clientConnection, closeCodeOf, decodeFrames, errorsIn, feed,
  joinChunks, reversingCodec, serverConnection, summarize, takeFrames,
} from './wire.js';

describe('OutputQueue: sending', () => {
  it('masks every client frame with a fresh key from generateMask', () => {
    let n = 0;
    const conn = clientConnection({
      generateMask: (k) => {
        n++;
        k.set([n, 0x80 | n, 0x40 + n, 0xff - n]);
      },
    });
    conn.send(utf8('hello'), { binary: false });
    conn.send(new Uint8Array(3000).fill(7), { binary: true });
    conn.sendPing(utf8('pi'));
    conn.sendPong(utf8('po'));
    conn.sendClose(1000, utf8('bye'));
    const frames = takeFrames(conn);
    assert.deepEqual(frames.map((f) => f.opcode), [TEXT, BINARY, PING, PONG, CLOSE]);
    frames.forEach((f, i) => {
      assert.equal(f.masked, true);
      assert.deepEqual([...f.maskingKey!], [i + 1, 0x80 | (i + 1), 0x40 + i + 1, 0xff - i - 1]);
    });
    assert.equal(text(frames[0]!.payload), 'hello');
    assert.deepEqual(frames[1]!.payload, new Uint8Array(3000).fill(7));
    assert.equal(frames[1]!.lengthBytes, 2);
    assert.deepEqual(frames[4]!.payload, closePayload(1000, 'bye'));
  });

  it('writes the exact masked bytes of RFC 6455 §5.7 with its masking key', () => {
    const conn = clientConnection({ generateMask: (k) => k.set(MASK) });
    conn.send(utf8('Hello'), { binary: false });
    assert.equal(toHex(joinChunks(conn.takeOutput())), '81 85 37 fa 21 3d 7f 9f 4d 51 58');
  });

  it('never masks server frames', () => {
    const conn = serverConnection();
    conn.send(utf8('Hello'), { binary: false });
    conn.send(new Uint8Array(70000), { binary: true });
    conn.sendPing();
    conn.sendClose(1000);
    const bytes = joinChunks(conn.takeOutput());
    assert.equal(toHex(bytes.subarray(0, 7)), '81 05 48 65 6c 6c 6f');
    const frames = decodeFrames(bytes);
    assert.ok(frames.every((f) => !f.masked));
    assert.equal(frames[1]!.lengthBytes, 8);
    assert.equal(toHex(bytes.subarray(-4)), '88 02 03 e8');
  });

  it('leaves the caller\'s buffer untouched when a client masks a payload it does not own', () => {
    const data = new Uint8Array(5000).fill(0x41);
    const conn = clientConnection();
    conn.send(data, { binary: true });
    assert.ok(data.every((b) => b === 0x41));
    assert.ok(takeFrames(conn)[0]!.payload.every((b) => b === 0x41));
  });

  it('sends a fragmented message with fin: false then continuation frames', () => {
    const conn = clientConnection();
    conn.send(utf8('one '), { binary: false, fin: false });
    conn.sendPing(utf8('mid'));
    conn.send(utf8('two '), { binary: true, fin: false });
    conn.send(utf8('three'), { binary: true, fin: true });
    conn.send(utf8('next'), { binary: true });
    const frames = takeFrames(conn);
    assert.deepEqual(
      frames.map((f) => [f.opcode, f.fin, text(f.payload)]),
      [
        [TEXT, false, 'one '],
        [PING, true, 'mid'],
        [CONT, false, 'two '],
        [CONT, true, 'three'],
        [BINARY, true, 'next'],
      ],
    );
    // What this side sends, the other side reads back.
    const server = serverConnection();
    server.receiveData(joinChunks(conn.takeOutput()));
  });

  it('produces frames that a peer connection reads back as the same messages', () => {
    const client = clientConnection();
    client.send(utf8('héllo'), { binary: false, fin: false });
    client.send(utf8(' wörld'), { binary: false });
    client.send(new Uint8Array(66000).fill(3), { binary: true });
    const server = serverConnection();
    const events = feed(server, client.takeOutput());
    assert.deepEqual(
      events.map((e) => (e.type === 'message' ? [e.binary, e.data.length] : e.type)),
      [
        [false, utf8('héllo wörld').length],
        [true, 66000],
      ],
    );
    server.send(utf8('back'), { binary: false });
    assert.equal(text((feed(client, server.takeOutput())[0] as { data: Uint8Array }).data), 'back');
  });

  it('compresses messages through the codec with RSV1 on the first frame only, and small ones plain', () => {
    const conn = serverConnection({ codec: reversingCodec() });
    conn.send(utf8('abcdef'), { binary: false });
    conn.send(utf8('ab'), { binary: false });
    conn.send(utf8('abcdef'), { binary: false, fin: false });
    conn.send(utf8('gh'), { binary: false });
    conn.send(utf8('uncompressed'), { binary: true, fin: true, owned: false, compress: false });
    const frames = takeFrames(conn);
    assert.deepEqual(
      frames.map((f) => [f.rsv1, f.opcode, f.fin, text(f.payload)]),
      [
        [true, TEXT, true, 'fedcba'],
        [false, TEXT, true, 'ab'],
        [true, TEXT, false, 'fedcba'],
        [false, CONT, true, 'hg'],
        [false, BINARY, true, 'uncompressed'],
      ],
    );
  });

  it('queues a prepared frame byte for byte on the server, and refuses it on the client or inside a fragmented message', () => {
    const frame = hex('81 02 68 69');
    const server = serverConnection();
    server.sendFrame(frame);
    assert.equal(toHex(joinChunks(server.takeOutput())), '81 02 68 69');
    server.send(utf8('a'), { binary: false, fin: false });
    assert.throws(() => server.sendFrame(frame), (e: unknown) => e instanceof UsageError && e.code === 'WS_ERR_FRAGMENT_OPEN');
    assert.throws(() => clientConnection().sendFrame(frame), (e: unknown) => e instanceof UsageError && e.code === 'WS_ERR_PREPARED_CLIENT');
    server.sendClose(1000);
    assert.throws(() => server.sendFrame(frame), (e: unknown) => e instanceof UsageError && e.code === 'WS_ERR_CLOSE_SENT');
  });

  it('counts queued bytes in outputBytes and resets it when output is taken', () => {
    const conn = serverConnection();
    conn.send(new Uint8Array(2000), { binary: true });
    conn.sendPing(utf8('x'));
    assert.equal(conn.outputBytes, 4 + 2000 + 3);
    conn.takeOutput();
    assert.equal(conn.outputBytes, 0);
  });
});

describe('OutputQueue: pongs past maxPendingPongs (RFC 6455 §5.5.3)', () => {
  it('answers only the newest ping once maxPendingPongs pongs are waiting', () => {
    const conn = serverConnection({ maxPendingPongs: 2 });
    const pings = Array.from({ length: 6 }, (_, i) => clientFrame({ opcode: PING, payload: utf8(`p${i}`) }));
    const events = feed(conn, pings);
    assert.equal(events.length, 6);
    const out = takeFrames(conn);
    // Two pongs within the cap, then one answer for the newest of the pings past it.
    assert.deepEqual(out.map((f) => [f.opcode, text(f.payload)]), [
      [PONG, 'p0'],
      [PONG, 'p1'],
      [PONG, 'p5'],
    ]);
    // Taking the output frees the budget again.
    feed(conn, [clientFrame({ opcode: PING, payload: utf8('q0') }), clientFrame({ opcode: PING, payload: utf8('q1') })]);
    assert.deepEqual(takeFrames(conn).map((f) => text(f.payload)), ['q0', 'q1']);
  });

  it('keeps the byte count of queued output right when a pong is replaced', () => {
    const conn = clientConnection({ maxPendingPongs: 1 });
    feed(conn, [serverFrame({ opcode: PING, payload: utf8('a') }), serverFrame({ opcode: PING, payload: utf8('longer') })]);
    const bytes = conn.outputBytes;
    const chunks = conn.takeOutput();
    assert.equal(bytes, joinChunks(chunks).length);
    const frames = decodeFrames(joinChunks(chunks));
    assert.deepEqual(frames.map((f) => text(f.payload)), ['a', 'longer']);
    assert.ok(frames.every((f) => f.masked));
    assert.equal(conn.outputBytes, 0);
  });

  it('sends a pong waiting past the cap before its own close frame', () => {
    const conn = serverConnection({ maxPendingPongs: 1 });
    feed(conn, [clientFrame({ opcode: PING, payload: utf8('a') }), clientFrame({ opcode: PING, payload: utf8('b') })]);
    conn.sendClose(1000);
    assert.deepEqual(takeFrames(conn).map((f) => [f.opcode, text(f.payload)]), [
      [PONG, 'a'],
      [PONG, 'b'],
      [0x8, text(new Uint8Array([0x03, 0xe8]))],
    ]);
  });
});

describe('OutputQueue: at most one close frame is sent (RFC 6455 §5.5.1)', () => {
  function closeFrames(conn: Connection) {
    return takeFrames(conn).filter((f) => f.opcode === CLOSE);
  }

  it('sends one close frame when sendClose is called twice', () => {
    const conn = serverConnection();
    conn.sendClose(1000);
    conn.sendClose(4000, utf8('again'));
    conn.sendClose();
    const closes = closeFrames(conn);
    assert.equal(closes.length, 1);
    assert.equal(closeCodeOf(closes[0]!), 1000);
  });

  it('sends no second close frame when the connection fails after sendClose', () => {
    const conn = serverConnection();
    conn.sendClose(1001);
    const events = feed(conn, [hex('81 01 61')]);
    assert.equal(errorsIn(events)[0]!.code, 'WS_ERR_EXPECTED_MASK');
    const closes = closeFrames(conn);
    assert.equal(closes.length, 1);
    assert.equal(closeCodeOf(closes[0]!), 1001);
    assert.equal(conn.closeExpected(), true);
  });

  it('sends no second close frame when fail is called twice or after a failure', () => {
    const conn = clientConnection();
    feed(conn, [hex('83 00')]);
    conn.fail(new ProtocolError('WS_ERR_INVALID_UTF8'));
    conn.sendClose(1000);
    feed(conn, [serverFrame({ opcode: CLOSE, payload: closePayload(1000) })]);
    const closes = closeFrames(conn);
    assert.equal(closes.length, 1);
    assert.equal(closeCodeOf(closes[0]!), 1002);
    assert.equal(conn.error!.code, 'WS_ERR_INVALID_OPCODE');
  });

  it('sends no second close frame when sendClose follows a received close', () => {
    const conn = clientConnection();
    feed(conn, [serverFrame({ opcode: CLOSE, payload: closePayload(3000) })]);
    conn.sendClose(1000);
    const closes = closeFrames(conn);
    assert.equal(closes.length, 1);
    assert.equal(closeCodeOf(closes[0]!), 3000);
  });

  it('sends no second close frame when fail follows a completed close handshake', () => {
    const conn = serverConnection();
    conn.sendClose(1000);
    feed(conn, [clientFrame({ opcode: CLOSE, payload: closePayload(1000) })]);
    conn.fail(new ProtocolError('WS_ERR_INTERNAL'));
    assert.equal(closeFrames(conn).length, 1);
  });

  it('keeps the close frame count at one even if output was taken in between', () => {
    const conn = serverConnection();
    conn.sendClose(1000);
    assert.equal(closeFrames(conn).length, 1);
    conn.sendClose(1000);
    feed(conn, [clientFrame({ opcode: CLOSE, payload: closePayload(1000) })]);
    assert.equal(closeFrames(conn).length, 0);
  });

  it('stops answering pings once its close frame was sent', () => {
    const conn = serverConnection();
    conn.sendClose(1000);
    takeFrames(conn);
    const events = feed(conn, [clientFrame({ opcode: PING, payload: utf8('x') })]);
    assert.deepEqual(summarize(events), [{ type: 'ping', hex: '78' }]);
    assert.deepEqual(takeFrames(conn), []);
  });
});

describe('OutputQueue: its own contract', () => {
  const serverQueue = (options: Partial<ConstructorParameters<typeof OutputQueue>[0]> = {}) =>
    new OutputQueue({ generateMask: null, mask: applyMask, allocate: (n) => new Uint8Array(n), maxPendingPongs: 16, codec: null, ...options });

  it('writes the small frames queued between two takes into one chunk', () => {
    const q = serverQueue();
    q.message(utf8('one'), false, true, false, true);
    q.control(PING, utf8('p'));
    q.message(utf8('two'), true, true, false, true);
    const chunks = q.take();
    assert.equal(chunks.length, 1);
    assert.deepEqual(
      decodeFrames(chunks[0]!).map((f) => [f.opcode, text(f.payload)]),
      [[TEXT, 'one'], [PING, 'p'], [BINARY, 'two']],
    );
  });

  it('sends a large server payload as its own chunk, uncopied, behind its header', () => {
    const q = serverQueue();
    const big = new Uint8Array(5000).fill(9);
    q.message(big, true, true, false, true);
    const chunks = q.take();
    assert.equal(chunks.length, 2);
    assert.equal(chunks[1], big);
    assert.equal(toHex(chunks[0]!), '82 7e 13 88');
  });

  it('queues one close frame whatever the number of calls, and counts bytes until the take', () => {
    const q = serverQueue();
    q.close(1000, utf8('bye'));
    q.close(1001, new Uint8Array(0));
    assert.equal(q.closeSent, true);
    assert.equal(q.bytes, 2 + 2 + 3);
    const frames = decodeFrames(joinChunks(q.take()));
    assert.equal(frames.length, 1);
    assert.equal(closeCodeOf(frames[0]!), 1000);
    assert.equal(q.bytes, 0);
  });

  it('reports an open fragmented message until its last frame is queued', () => {
    const q = serverQueue();
    q.message(utf8('a'), false, false, false, true);
    assert.equal(q.fragmenting, true);
    q.message(utf8('b'), false, true, false, true);
    assert.equal(q.fragmenting, false);
    assert.deepEqual(decodeFrames(joinChunks(q.take())).map((f) => [f.opcode, f.fin]), [[TEXT, false], [CONT, true]]);
  });
});

describe('OutputQueue: the arena its small frames share with other queues', () => {
  const countingAllocator = () => {
    const sizes: number[] = [];
    const allocate = (n: number) => {
      sizes.push(n);
      return new Uint8Array(n);
    };
    return { sizes, allocate };
  };
  const queueWith = (allocate: (n: number) => Uint8Array) =>
    new OutputQueue({ generateMask: null, mask: applyMask, allocate, maxPendingPongs: 16, codec: null });

  it('carves the small frames of many queues and takes from one buffer', () => {
    const { sizes, allocate } = countingAllocator();
    const queues = Array.from({ length: 50 }, () => queueWith(allocate));
    for (let round = 0; round < 3; round++) {
      for (const [i, q] of queues.entries()) {
        q.message(utf8(`message ${round}.${i}`), false, true, false, true);
        const chunks = q.take();
        assert.equal(chunks.length, 1);
        assert.deepEqual(decodeFrames(chunks[0]!).map((f) => text(f.payload)), [`message ${round}.${i}`]);
      }
    }
    assert.equal(sizes.length, 1, '150 small frames fit in one arena');
  });

  it('keeps each queue\'s bytes whole and in order when queues write in turns', () => {
    const { allocate } = countingAllocator();
    const a = queueWith(allocate);
    const b = queueWith(allocate);
    a.message(utf8('a1'), false, true, false, true);
    b.message(utf8('b1'), false, true, false, true);
    a.message(utf8('a2'), false, true, false, true);
    a.control(PING, utf8('a3'));
    b.message(utf8('b2'), false, true, false, true);
    const fromA = a.take();
    const fromB = b.take();
    // a's first frame and its later two lie apart: two chunks, in order.
    assert.equal(fromA.length, 2);
    assert.deepEqual(decodeFrames(joinChunks(fromA)).map((f) => text(f.payload)), ['a1', 'a2', 'a3']);
    assert.deepEqual(decodeFrames(joinChunks(fromB)).map((f) => text(f.payload)), ['b1', 'b2']);
    assert.equal(a.bytes + b.bytes, 0);
  });

  it('starts a fresh arena when one is full, and never writes over bytes taken before', () => {
    const { sizes, allocate } = countingAllocator();
    const q = queueWith(allocate);
    const taken: Uint8Array[] = [];
    for (let i = 0; i < 400; i++) {
      q.message(new Uint8Array(100).fill(i & 0xff), true, true, false, true);
      taken.push(...q.take());
    }
    assert.ok(sizes.length >= 2, 'more than one arena');
    taken.forEach((chunk, i) => assert.deepEqual(decodeFrames(chunk)[0]!.payload, new Uint8Array(100).fill(i & 0xff)));
  });

  it('gives a frame above half an arena a buffer of its own', () => {
    const { sizes, allocate } = countingAllocator();
    const q = queueWith(allocate);
    q.message(utf8('small'), false, true, false, true);
    const client = new OutputQueue({ generateMask: (k) => k.set(MASK), mask: applyMask, allocate, maxPendingPongs: 16, codec: null });
    // A client copies a payload it may not mask in place into its slab, whatever its size.
    client.message(new Uint8Array(6000).fill(1), true, true, false, true);
    const [chunk] = client.take();
    assert.equal(chunk!.length, 8 + 6000);
    assert.ok(sizes.includes(8 + 6000));
    assert.deepEqual(decodeFrames(q.take()[0]!).map((f) => text(f.payload)), ['small']);
  });
});
