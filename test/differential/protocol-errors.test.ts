/**
 * Protocol violations, differentially: a raw client sends each broken frame to a server of the
 * implementation; the 'error' event (class, code, message), the 'close' event and the close
 * frame on the wire must match `ws`'s.
 */
import { describe } from 'node:test';
import type { WebSocket as WsWebSocket } from 'ws';
import { upgradedPeer } from '../hostile/raw-peer.js';
import { OP, clientFrame, closePayload, fragmented, serverFrame } from '../support/frames.js';
import { Recorder, delay, scenario } from './harness.js';

const CASES: Array<[string, Uint8Array, Record<string, unknown>?]> = [
  ['RSV1 set without an extension', clientFrame({ opcode: OP.TEXT, payload: 'x', rsv1: true })],
  ['RSV2 set', clientFrame({ opcode: OP.TEXT, payload: 'x', rsv2: true })],
  ['RSV3 set', clientFrame({ opcode: OP.TEXT, payload: 'x', rsv3: true })],
  ['a reserved opcode', clientFrame({ opcode: 0x3, payload: '' })],
  ['a reserved control opcode', clientFrame({ opcode: 0xb, payload: '' })],
  ['a fragmented ping', clientFrame({ opcode: OP.PING, payload: 'x', fin: false })],
  ['a ping with 126 bytes', clientFrame({ opcode: OP.PING, payload: Buffer.alloc(126) })],
  ['an unmasked frame', serverFrame({ opcode: OP.TEXT, payload: 'x' })],
  ['a continuation with nothing to continue', clientFrame({ opcode: OP.CONTINUATION, payload: 'x' })],
  ['a new message inside a fragmented one', Buffer.concat([clientFrame({ opcode: OP.TEXT, payload: 'a', fin: false }), clientFrame({ opcode: OP.TEXT, payload: 'b' })])],
  ['a 64-bit length with the top bit set', clientFrame({ opcode: OP.BINARY, payload: '', declaredLength: 1n << 63n, lengthBits: 64 })],
  ['invalid UTF-8 in a text message', clientFrame({ opcode: OP.TEXT, payload: Uint8Array.of(0xc3, 0x28) })],
  ['invalid UTF-8 across fragments', fragmented([Uint8Array.of(0xe2, 0x82), Uint8Array.of(0x28)])],
  ['a close frame of one byte', clientFrame({ opcode: OP.CLOSE, payload: Uint8Array.of(3) })],
  ['close code 1005 on the wire', clientFrame({ opcode: OP.CLOSE, payload: closePayload(1005) })],
  ['close code 999', clientFrame({ opcode: OP.CLOSE, payload: closePayload(999) })],
  ['close code 1016', clientFrame({ opcode: OP.CLOSE, payload: closePayload(1016) })],
  ['close code 5000', clientFrame({ opcode: OP.CLOSE, payload: closePayload(5000) })],
  ['a close reason that is not UTF-8', clientFrame({ opcode: OP.CLOSE, payload: Buffer.concat([closePayload(1000), Buffer.from([0xff])]) })],
  ['a message over maxPayload in fragments', fragmented(['12345', '67890', 'x']), { maxPayload: 10 }],
  ['a non-minimal 16-bit length', clientFrame({ opcode: OP.TEXT, payload: 'short', lengthBits: 16 })],
];

describe('protocol violations seen by the server', () => {
  for (const [name, bytes, options] of CASES) {
    scenario(`the server's answer to ${name}`, async (scope) => {
      const { wss, port } = await scope.server(options ?? {});
      const rec = new Recorder();
      wss.on('connection', (ws: WsWebSocket) => rec.watch(ws, 'server', ['message', 'error', 'close']));
      const peer = await upgradedPeer(port);
      scope.defer(() => peer.destroy());
      peer.write(bytes);
      await peer.waitClosed(1500);
      await rec.waitFor('server', 'close', 500);
      await delay(10);
      const close = peer.closeFrame();
      return { events: rec.withoutCloseCodes(), closeFrame: close && { code: close.code, reason: close.reason.toString() }, closed: peer.closed };
    });
  }

  scenario("the code of the server's close event after it failed a connection", async (scope) => {
    const { wss, port } = await scope.server();
    const rec = new Recorder();
    wss.on('connection', (ws: WsWebSocket) => {
      ws.on('error', () => {});
      rec.watch(ws, 'server', ['close']);
    });
    const peer = await upgradedPeer(port);
    scope.defer(() => peer.destroy());
    peer.write(clientFrame({ opcode: 0x3, payload: '' }));
    await peer.waitClosed(1500);
    await rec.waitFor('server', 'close', 500);
    return rec.log;
  });

  scenario('a valid close code 4999 is echoed', async (scope) => {
    const { wss, port } = await scope.server();
    const rec = new Recorder();
    wss.on('connection', (ws: WsWebSocket) => rec.watch(ws, 'server', ['error', 'close']));
    const peer = await upgradedPeer(port);
    scope.defer(() => peer.destroy());
    peer.write(clientFrame({ opcode: OP.CLOSE, payload: closePayload(4999, 'fine') }));
    await peer.waitClosed(1500);
    await rec.waitFor('server', 'close', 500);
    const close = peer.closeFrame();
    return { events: rec.log, closeFrame: close && { code: close.code, reason: close.reason.toString() } };
  });
});
