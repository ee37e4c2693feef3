/**
 * Messages, differentially: what send() puts on the wire for every kind of data and option (read
 * by a raw server), what 'message' gives for each binaryType, ping and pong, callbacks, pause and
 * resume, between a client and a server of the same implementation where both ends matter.
 */
import { describe } from 'node:test';
import type { WebSocket as WsWebSocket } from 'ws';
import { upgradedPeer } from '../hostile/raw-peer.js';
import { OP, serverFrame } from '../support/frames.js';
import { CLIENT_EVENTS, Recorder, attempt, delay, drainTicks, once, rawServer, scenario, settle, show, until, type Scope } from './harness.js';

/** A client of the implementation connected to a raw server; returns both ends. */
async function rawPair(scope: Scope, options: Record<string, unknown> = { perMessageDeflate: false }) {
  const server = await rawServer(scope);
  const client = scope.client(server.url, options);
  await once(client, 'open');
  await until(() => server.peers.length > 0);
  return { client, peer: server.peers[0]! };
}

/** Frames the raw server has, once `count` arrived (or what came within the wait). */
async function framesOf(peer: { frames: unknown[]; shownFrames(): unknown[] }, count: number): Promise<unknown[]> {
  await until(() => peer.frames.length >= count);
  await delay(20);
  return peer.shownFrames();
}

const SEND_CASES: Array<[string, () => unknown, Record<string, unknown>?]> = [
  ['a string', () => 'héllo'],
  ['an empty string', () => ''],
  ['a Buffer', () => Buffer.from([1, 2, 3])],
  ['an ArrayBuffer', () => Uint8Array.of(4, 5).buffer],
  ['a Uint8Array view into a larger buffer', () => new Uint8Array(Uint8Array.of(9, 8, 7, 6).buffer, 1, 2)],
  ['a Float32Array', () => Float32Array.of(0, 0.5, 1)],
  ['a DataView', () => new DataView(Uint8Array.of(1, 2, 3, 4).buffer, 1, 2)],
  ['the number 0', () => 0],
  ['the number 42', () => 42],
  ['a Blob', () => new Blob([Uint8Array.of(1, 2), 'x'])],
  ['nothing', () => undefined],
  ['null', () => null],
  ['a string as binary', () => 'bin', { binary: true }],
  ['a Buffer as text', () => Buffer.from('txt'), { binary: false }],
  ['a Buffer with compress: false', () => Buffer.from([1]), { compress: false }],
];

describe('send: what goes on the wire', () => {
  for (const [name, data, options] of SEND_CASES) {
    scenario(`send(${name})`, async (scope) => {
      const { client, peer } = await rawPair(scope);
      const calls: unknown[] = [];
      const thrown = attempt(() =>
        options ? client.send(data() as Buffer, options, (e?: Error) => calls.push(show(e))) : client.send(data() as Buffer, (e?: Error) => calls.push(show(e))),
      );
      const frames = await framesOf(peer, 1);
      await until(() => calls.length > 0);
      return { thrown: (thrown as { threw?: unknown }).threw ?? 'returned', frames, calls };
    });
  }

  scenario('what a server puts on the wire', async (scope) => {
    const { wss, port } = await scope.server();
    wss.on('connection', (ws: WsWebSocket) => {
      ws.send('text');
      ws.send(Buffer.from([1, 2]));
      ws.send(Buffer.alloc(200, 3));
      ws.send(Buffer.alloc(70000, 4));
      ws.send('frag', { fin: false });
      ws.send('ment');
      ws.ping('p');
      ws.close(1001, 'bye');
    });
    const peer = await upgradedPeer(port);
    scope.defer(() => peer.destroy());
    await peer.until(() => peer.frames().length >= 8, 1500);
    return peer.frames().map((f) => ({ fin: f.fin, rsv: (f.rsv1 ? 4 : 0) | (f.rsv2 ? 2 : 0) | (f.rsv3 ? 1 : 0), opcode: f.opcode, masked: f.masked, payload: show(f.payload) }));
  });

  scenario('generateMask chooses the masking keys', async (scope) => {
    const server = await rawServer(scope);
    const client = scope.client(server.url, { perMessageDeflate: false, generateMask: (mask: Buffer) => mask.fill(0) } as Record<string, unknown>);
    const raw: Buffer[] = [];
    await once(client, 'open');
    await until(() => server.peers.length > 0);
    server.peers[0]!.socket.on('data', (chunk: Buffer) => raw.push(chunk));
    client.send('ab');
    await until(() => raw.length > 0);
    return Buffer.concat(raw).toString('hex');
  });

  scenario('what send() returns', async (scope) => {
    const { client } = await rawPair(scope);
    return [client.send('x') as unknown, client.send(Buffer.from([1]), { binary: true }) as unknown];
  });

  scenario('send with fin: false fragments a message', async (scope) => {
    const { client, peer } = await rawPair(scope);
    client.send('a', { fin: false });
    client.send('b', { fin: false });
    client.send('c', { fin: true });
    client.send(Buffer.from([1]), { fin: false });
    client.send(Buffer.from([2]));
    return framesOf(peer, 5);
  });

  scenario('every client frame is masked and every server frame is not', async (scope) => {
    const { client, peer } = await rawPair(scope);
    client.send('x');
    client.ping();
    client.close();
    return (await framesOf(peer, 3)).map((f) => (f as { masked: boolean }).masked);
  });

  scenario('send callbacks run once each, in order', async (scope) => {
    const { client } = await scope.pair();
    const order: unknown[] = [];
    for (let i = 0; i < 3; i++) client.send(`m${i}`, (e?: Error) => order.push([i, show(e)]));
    await until(() => order.length === 3);
    return order;
  });

  scenario('send while connecting throws', async (scope) => {
    const server = await rawServer(scope, () => null);
    const client = scope.client(server.url);
    return [attempt(() => client.send('x')), attempt(() => client.ping()), attempt(() => client.pong())];
  });

  scenario('send after close passes an error to the callback', async (scope) => {
    const { client } = await scope.pair();
    client.close();
    const calls: unknown[] = [];
    const thrown = attempt(() => client.send('late', (e?: Error) => calls.push(show(e))));
    const thrownPing = attempt(() => client.ping('x', undefined, (e?: Error) => calls.push(show(e))));
    await until(() => calls.length === 2);
    await drainTicks();
    return { calls, thrown: (thrown as { threw?: unknown }).threw ?? 'returned', thrownPing: (thrownPing as { threw?: unknown }).threw ?? 'returned' };
  });

  scenario('send after close without a callback', async (scope) => {
    const { client } = await scope.pair();
    client.close();
    const before = client.bufferedAmount;
    const thrown = attempt(() => client.send('late'));
    return { thrown: (thrown as { threw?: unknown }).threw ?? 'returned', grew: client.bufferedAmount > before };
  });

  scenario('send(data, cb) then terminate() calls the callback', async (scope) => {
    const { client } = await scope.pair();
    const calls: unknown[] = [];
    client.send(Buffer.alloc(1024), (e?: Error) => calls.push(show(e)));
    client.terminate();
    await until(() => calls.length > 0);
    await drainTicks();
    return calls;
  });

  scenario('a large send then terminate() calls the callback with an error', async (scope) => {
    const { client, server } = await scope.pair();
    server.pause();
    const calls: unknown[] = [];
    client.send(Buffer.alloc(8 * 1024 * 1024), (e?: Error) => calls.push(show(e)));
    client.terminate();
    await until(() => calls.length > 0);
    await drainTicks();
    return calls;
  });

  scenario('bufferedAmount counts what waits to be written', async (scope) => {
    const { client } = await scope.pair();
    const empty = client.bufferedAmount;
    client.send(Buffer.alloc(10));
    const queued = client.bufferedAmount > 0;
    await until(() => client.bufferedAmount === 0);
    return { empty, queued, drained: client.bufferedAmount };
  });
});

describe('ping and pong', () => {
  scenario('ping and pong frames carry their data', async (scope) => {
    const { client, peer } = await rawPair(scope);
    client.ping('p1');
    client.ping(Buffer.from([7]));
    client.ping();
    client.pong('q');
    client.ping(3 as unknown as string);
    return framesOf(peer, 5);
  });

  scenario('ping with more than 125 bytes throws', async (scope) => {
    const { client } = await rawPair(scope);
    return [attempt(() => client.ping(Buffer.alloc(126))), attempt(() => client.pong(Buffer.alloc(126)))];
  });

  scenario('a ping from the server is answered and reported', async (scope) => {
    const { client, peer } = await rawPair(scope);
    const rec = new Recorder().watch(client, 'client', CLIENT_EVENTS);
    peer.write(serverFrame({ opcode: OP.PING, payload: 'hb' }));
    peer.write(serverFrame({ opcode: OP.PONG, payload: 'unsolicited' }));
    await rec.waitFor('client', 'pong');
    return { log: rec.log, frames: await framesOf(peer, 1) };
  });

  scenario('autoPong: false leaves pings unanswered', async (scope) => {
    const { client, peer } = await rawPair(scope, { perMessageDeflate: false, autoPong: false });
    const rec = new Recorder().watch(client, 'client', CLIENT_EVENTS);
    peer.write(serverFrame({ opcode: OP.PING, payload: 'hb' }));
    await rec.waitFor('client', 'ping');
    await delay(50);
    return { log: rec.log, frames: peer.shownFrames() };
  });

  scenario('ping callbacks run once the frame is written', async (scope) => {
    const { client, server } = await scope.pair();
    const rec = new Recorder().watch(server, 'server', ['ping']);
    const calls: unknown[] = [];
    client.ping('a', undefined, (e?: Error) => calls.push(show(e)));
    client.pong('b', undefined, (e?: Error) => calls.push(show(e)));
    await until(() => calls.length === 2);
    await rec.waitFor('server', 'ping');
    return { calls, log: rec.log };
  });
});

describe('receiving messages', () => {
  const BINARY_TYPES = ['nodebuffer', 'arraybuffer', 'fragments', 'blob'] as const;
  for (const binaryType of BINARY_TYPES) {
    scenario(`binaryType ${binaryType}: text, binary and fragmented messages`, async (scope) => {
      const { client, peer } = await rawPair(scope);
      const thrown = attempt(() => {
        client.binaryType = binaryType as WsWebSocket['binaryType'];
      });
      const received: unknown[] = [];
      client.on('message', (data: unknown, isBinary: boolean) => received.push(['message', show(data), isBinary]));
      client.onmessage = (event: { data: unknown; type: string }) => received.push(['onmessage', event.type, show(event.data)]);
      peer.write(serverFrame({ opcode: OP.TEXT, payload: 'text é' }));
      peer.write(serverFrame({ opcode: OP.BINARY, payload: Uint8Array.of(1, 2, 3) }));
      peer.write(serverFrame({ opcode: OP.BINARY, payload: Uint8Array.of(4), fin: false }));
      peer.write(serverFrame({ opcode: OP.CONTINUATION, payload: Uint8Array.of(5) }));
      peer.write(serverFrame({ opcode: OP.TEXT, payload: 'fr', fin: false }));
      peer.write(serverFrame({ opcode: OP.CONTINUATION, payload: 'ag' }));
      await until(() => received.length >= 8);
      await delay(20);
      return { thrown, binaryType: client.binaryType, received };
    });
  }

  scenario('an unknown binaryType is ignored', async (scope) => {
    const { client } = await rawPair(scope);
    client.binaryType = 'nodebuffer';
    const thrown = attempt(() => {
      client.binaryType = 'bogus' as WsWebSocket['binaryType'];
    });
    return { thrown, binaryType: client.binaryType };
  });

  scenario('an empty text and an empty binary message', async (scope) => {
    const { client, peer } = await rawPair(scope);
    const rec = new Recorder().watch(client, 'client', ['message']);
    peer.write(serverFrame({ opcode: OP.TEXT, payload: '' }));
    peer.write(serverFrame({ opcode: OP.BINARY, payload: '' }));
    await until(() => rec.log.length === 2);
    return rec.log;
  });

  scenario('messages between two ends of one implementation', async (scope) => {
    const { client, server } = await scope.pair();
    const rec = new Recorder().watch(server, 'server', ['message']).watch(client, 'client', ['message']);
    server.on('message', (data: Buffer, isBinary: boolean) => server.send(data, { binary: isBinary }));
    client.send('echo me');
    client.send(Buffer.from('bytes'));
    client.send(new Float32Array([1.5]));
    await until(() => rec.log.length === 6);
    return rec.log;
  });

  scenario('allowSynchronousEvents: false emits one message per turn', async (scope) => {
    const { client, peer } = await rawPair(scope, { perMessageDeflate: false, allowSynchronousEvents: false });
    const order: string[] = [];
    client.on('message', (data: Buffer) => {
      order.push(`m${data}`);
      queueMicrotask(() => order.push(`micro${data}`));
    });
    peer.write(Buffer.concat([serverFrame({ opcode: OP.TEXT, payload: '1' }), serverFrame({ opcode: OP.TEXT, payload: '2' })]));
    await until(() => order.length === 4);
    return order;
  });

  scenario('pause and resume hold messages back', async (scope) => {
    const { client, peer } = await rawPair(scope);
    const rec = new Recorder().watch(client, 'client', ['message']);
    client.pause();
    const paused = client.isPaused;
    peer.write(serverFrame({ opcode: OP.TEXT, payload: 'held' }));
    await delay(50);
    const whilePaused = rec.log.length;
    client.resume();
    await rec.waitFor('client', 'message');
    return { paused, whilePaused, resumed: client.isPaused, log: rec.log };
  });

  scenario('pause and resume while connecting do nothing', async (scope) => {
    const server = await rawServer(scope, () => null);
    const client = scope.client(server.url);
    return [attempt(() => client.pause()), client.isPaused, attempt(() => client.resume()), client.isPaused];
  });
});

describe('closing', () => {
  scenario('close(1000, reason) from the client', async (scope) => {
    const { client, server } = await scope.pair();
    const rec = new Recorder().watch(client, 'client', CLIENT_EVENTS).watch(server, 'server', ['close', 'error']);
    client.close(1000, 'bye');
    const state = client.readyState;
    await rec.waitFor('client', 'close');
    await rec.waitFor('server', 'close');
    return { state, log: rec.byLabel(), states: [client.readyState, server.readyState] };
  });

  scenario('close() without a code from the server', async (scope) => {
    const { client, server } = await scope.pair();
    const rec = new Recorder().watch(client, 'client', CLIENT_EVENTS).watch(server, 'server', ['close', 'error']);
    server.close();
    await rec.waitFor('client', 'close');
    await rec.waitFor('server', 'close');
    return rec.byLabel();
  });

  scenario('the close frame on the wire', async (scope) => {
    const { client, peer } = await rawPair(scope);
    client.close(4001, Buffer.from('why'));
    return framesOf(peer, 1);
  });

  const closeArguments: Array<[string, unknown[]]> = [
    ['an invalid code', [1005]],
    ['a code out of range', [5000]],
    ['a code as a string', ['1000']],
    ['a reason over 123 bytes', [1000, 'x'.repeat(124)]],
    ['a reason without a code', [undefined, 'why']],
    ['code 1000 and a Buffer reason', [1000, Buffer.from('ok')]],
    ['code 3000', [3000]],
  ];
  for (const [name, args] of closeArguments) {
    scenario(`close with ${name}`, async (scope) => {
      const { client, peer } = await rawPair(scope);
      const result = attempt(() => (client.close as (...a: unknown[]) => void)(...args));
      await delay(30);
      return { result, frames: peer.shownFrames(), readyState: client.readyState };
    });
  }

  scenario('close twice sends one close frame', async (scope) => {
    const { client, peer } = await rawPair(scope);
    client.close(1000);
    client.close(1001);
    await delay(30);
    return peer.shownFrames();
  });

  scenario('terminate() closes both ends with 1006', async (scope) => {
    const { client, server } = await scope.pair();
    const rec = new Recorder().watch(client, 'client', CLIENT_EVENTS).watch(server, 'server', ['close', 'error']);
    client.terminate();
    const state = client.readyState;
    await rec.waitFor('client', 'close');
    await rec.waitFor('server', 'close');
    return { state, log: rec.byLabel() };
  });

  scenario('the server ending TCP without a close frame', async (scope) => {
    const { client, peer } = await rawPair(scope);
    const rec = new Recorder().watch(client, 'client', CLIENT_EVENTS);
    peer.socket.end();
    await rec.waitFor('client', 'close');
    return rec.log;
  });

  scenario('a close frame from the server is answered with the same code', async (scope) => {
    const { client, peer } = await rawPair(scope);
    const rec = new Recorder().watch(client, 'client', CLIENT_EVENTS);
    peer.write(serverFrame({ opcode: OP.CLOSE, payload: Buffer.concat([Buffer.from([0x0f, 0xa1]), Buffer.from('done')]) }));
    await delay(30);
    peer.socket.end();
    await rec.waitFor('client', 'close');
    return { log: rec.log, frames: peer.shownFrames() };
  });

  scenario('an empty close frame from the server reports 1005', async (scope) => {
    const { client, peer } = await rawPair(scope);
    const rec = new Recorder().watch(client, 'client', CLIENT_EVENTS);
    peer.write(serverFrame({ opcode: OP.CLOSE, payload: '' }));
    await delay(30);
    peer.socket.end();
    await rec.waitFor('client', 'close');
    return { log: rec.log, frames: peer.shownFrames() };
  });

  scenario('messages sent before close arrive before it', async (scope) => {
    const { client, server } = await scope.pair();
    const rec = new Recorder().watch(server, 'server', ['message', 'close']);
    client.send('one');
    client.send('two');
    client.close(1000);
    await rec.waitFor('server', 'close');
    return rec.log;
  });

  scenario('readyState through a close', async (scope) => {
    const { client, server } = await scope.pair();
    const states: unknown[] = [client.readyState];
    const serverStates: unknown[] = [];
    client.on('close', () => states.push(['close', client.readyState]));
    server.on('close', () => serverStates.push(['close', server.readyState]));
    client.close();
    states.push(client.readyState);
    await until(() => states.length === 3 && serverStates.length === 1);
    return { states, serverStates };
  });
});
