/**
 * Reads of a `port` server's connections past the upgrade land in one shared read area
 * (handle-bindings.ts, the WebAssembly memory of bytes/apply-mask-fast.ts), reused by every read
 * of every connection. What users get must not show it: messages and ping payloads kept across
 * many later reads stay intact, frames cut anywhere between reads parse as whole ones, and a
 * net.Socket made later reads buffers of its own.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { WebSocket, WebSocketServer } from 'fullduplex';
import { handleBindings } from '../../../src/node/handle-bindings.js';
import { clientFrame } from '../../support/frames.js';
import { eventually, upgradedPeer } from '../../hostile/raw-peer.js';

type Options = ConstructorParameters<typeof WebSocketServer>[0];

async function portServer(options: Options = {}): Promise<WebSocketServer> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', pingIntervalMs: 0, ...options });
  await once(wss, 'listening');
  return wss;
}

const portOf = (wss: WebSocketServer): number => (wss.address() as AddressInfo).port;

function pattern(size: number, seed: number): Buffer {
  const bytes = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + seed * 17) & 0xff;
  return bytes;
}

const SIZES = [1, 125, 126, 700, 16_384, 65_535, 65_536, 70_000, 200_000, 3];

describe('reads lent to the shared read area', () => {
  const servers: WebSocketServer[] = [];
  after(async () => {
    for (const wss of servers) await new Promise((resolve) => wss.close(resolve));
  });

  it('is in use on this Node (a port server with the handle transport)', () => {
    assert.ok(handleBindings !== null, 'the handle transport is available');
    assert.ok(handleBindings.readArea !== null, 'the read area is available');
    assert.equal(handleBindings.readArea.length, 65536);
  });

  for (const [name, options] of [
    ['events at once', {}],
    ['one event per turn (allowSynchronousEvents: false)', { allowSynchronousEvents: false }],
    ['permessage-deflate', { perMessageDeflate: { threshold: 0 } }],
  ] as const) {
    it(`keeps every message of many connections intact while later reads reuse the area: ${name}`, async () => {
      const wss = await portServer(options as Options);
      servers.push(wss);
      const kept = new Map<WebSocket, Buffer[]>();
      wss.on('connection', (ws) => {
        const list: Buffer[] = [];
        kept.set(ws, list);
        ws.on('message', (data: Buffer) => {
          list.push(data);
          ws.send(data);
        });
      });
      const clients = await Promise.all(
        Array.from({ length: 6 }, async () => {
          const ws = new WebSocket(`ws://127.0.0.1:${portOf(wss)}`, { perMessageDeflate: 'perMessageDeflate' in options });
          await once(ws, 'open');
          return ws;
        }),
      );
      const rounds = 3;
      const echoed = clients.map((ws, c) => {
        const got: Buffer[] = [];
        return new Promise<Buffer[]>((resolve) => {
          ws.on('message', (data: Buffer) => {
            got.push(data);
            if (got.length === SIZES.length * rounds) resolve(got);
          });
          for (let r = 0; r < rounds; r++) for (const [i, size] of SIZES.entries()) ws.send(pattern(size, c * 100 + r * 10 + i));
        });
      });
      const replies = await Promise.all(echoed);
      for (const [c, got] of replies.entries()) {
        for (let r = 0; r < rounds; r++) {
          for (const [i, size] of SIZES.entries()) assert.ok(got[r * SIZES.length + i]!.equals(pattern(size, c * 100 + r * 10 + i)), `echo ${c}/${r}/${i}`);
        }
      }
      // What the server kept from the first reads was not overwritten by the later ones.
      const lists = [...kept.values()];
      assert.equal(lists.length, clients.length);
      for (const list of lists) {
        assert.equal(list.length, SIZES.length * rounds);
        for (const data of list) assert.notEqual(data.buffer, handleBindings!.readArea!.buffer, 'a message is a view of the read area');
      }
      const all = new Set(replies.flat().map((b) => b.toString('hex')));
      for (const list of lists) for (const data of list) assert.ok(all.has(data.toString('hex')), 'a kept message changed');
      for (const ws of clients) ws.close();
    });
  }

  it('reads frames and ping payloads cut between lent reads, inside headers and masking keys', async () => {
    const wss = await portServer();
    servers.push(wss);
    const connected = once(wss, 'connection') as Promise<[WebSocket]>;
    const peer = await upgradedPeer(portOf(wss));
    const [server] = await connected;
    const got: string[] = [];
    server.on('message', (data: Buffer) => got.push(data.length > 100 ? `${data.length}:${data.toString('hex', 0, 4)}` : data.toString()));
    server.on('ping', (data: Buffer) => got.push(`ping:${data.toString()}`));
    (peer.socket as net.Socket).setNoDelay(true);
    const frames = [
      clientFrame({ opcode: 2, payload: pattern(6000, 1) }),
      clientFrame({ opcode: 9, payload: 'are you there' }),
      clientFrame({ opcode: 2, payload: pattern(9000, 2) }),
      clientFrame({ opcode: 1, payload: 'last' }),
      clientFrame({ opcode: 2, payload: pattern(5000, 3) }),
    ];
    const starts = frames.map((_, i) => frames.slice(0, i).reduce((n, f) => n + f.length, 0));
    const wire = Buffer.concat(frames);
    // Each piece its own read of 4 KiB or more (lent whole): the cuts fall inside the ping's
    // header, inside a payload, and inside the masking key of the text frame.
    const cuts = [0, starts[1]! + 3, starts[2]! + 4500, starts[3]! + 4, wire.length];
    for (let i = 1; i < cuts.length; i++) {
      assert.ok(cuts[i]! - cuts[i - 1]! >= 4096);
      peer.write(wire.subarray(cuts[i - 1], cuts[i]));
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.ok(await eventually(() => got.length === 5));
    const hex4 = (b: Buffer): string => b.toString('hex', 0, 4);
    assert.deepEqual(got, [`6000:${hex4(pattern(6000, 1))}`, 'ping:are you there', `9000:${hex4(pattern(9000, 2))}`, 'last', `5000:${hex4(pattern(5000, 3))}`]);
    // The pong answers with the ping's payload, not with what later reads left in the area.
    assert.ok(await eventually(() => peer.frames().some((f) => f.opcode === 10)));
    assert.equal(peer.frames().find((f) => f.opcode === 10)!.payload.toString(), 'are you there');
    peer.destroy();
  });

  it('gives a net.Socket made after lent reads buffers of its own, and the connection goes on', async () => {
    const wss = await portServer();
    servers.push(wss);
    const connected = once(wss, 'connection') as Promise<[WebSocket]>;
    const ws = new WebSocket(`ws://127.0.0.1:${portOf(wss)}`);
    const [[server]] = await Promise.all([connected, once(ws, 'open')]);
    const kept: Buffer[] = [];
    server.on('message', (data: Buffer) => kept.push(data));
    ws.send(pattern(40_000, 1));
    await eventually(() => kept.length === 1);
    const socket = server._socket as net.Socket;
    const raw: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => raw.push(chunk));
    ws.send(pattern(50_000, 2));
    ws.send(pattern(10, 3));
    assert.ok(await eventually(() => kept.length === 3));
    assert.ok(kept[0]!.equals(pattern(40_000, 1)));
    assert.ok(kept[1]!.equals(pattern(50_000, 2)));
    assert.ok(kept[2]!.equals(pattern(10, 3)));
    assert.ok(raw.length > 0);
    for (const chunk of raw) assert.notEqual(chunk.buffer, handleBindings!.readArea!.buffer);
    assert.equal(raw.reduce((n, c) => n + c.length, 0), 50_000 + 8 + 10 + 6);
    ws.close();
    await once(server, 'close');
  });
});
