/**
 * Protocol violations, differentially: a raw client sends each broken frame to a server of the
 * implementation; the 'error' event (class, code, message), the 'close' event and the close
 * frame on the wire must match `ws`'s.
 */
import { describe } from 'node:test';
import type { WebSocket as WsWebSocket } from 'ws';
import { closeBody, frame, fragmented, OP, upgradedPeer } from '../hostile/raw-peer.js';
import { Recorder, delay, scenario } from './harness.js';

const CASES: Array<[string, Buffer, Record<string, unknown>?]> = [
  ['RSV1 set without an extension', frame({ opcode: OP.TEXT, payload: 'x', rsv1: true })],
  ['RSV2 set', frame({ opcode: OP.TEXT, payload: 'x', rsv2: true })],
  ['RSV3 set', frame({ opcode: OP.TEXT, payload: 'x', rsv3: true })],
  ['a reserved opcode', frame({ opcode: 0x3, payload: '' })],
  ['a reserved control opcode', frame({ opcode: 0xb, payload: '' })],
  ['a fragmented ping', frame({ opcode: OP.PING, payload: 'x', fin: false })],
  ['a ping with 126 bytes', frame({ opcode: OP.PING, payload: Buffer.alloc(126) })],
  ['an unmasked frame', frame({ opcode: OP.TEXT, payload: 'x', mask: false })],
  ['a continuation with nothing to continue', frame({ opcode: OP.CONT, payload: 'x' })],
  ['a new message inside a fragmented one', Buffer.concat([frame({ opcode: OP.TEXT, payload: 'a', fin: false }), frame({ opcode: OP.TEXT, payload: 'b' })])],
  ['a 64-bit length with the top bit set', frame({ opcode: OP.BINARY, payload: '', declaredLength: 1n << 63n, lengthBits: 64 })],
  ['invalid UTF-8 in a text message', frame({ opcode: OP.TEXT, payload: Uint8Array.of(0xc3, 0x28) })],
  ['invalid UTF-8 across fragments', fragmented([Uint8Array.of(0xe2, 0x82), Uint8Array.of(0x28)])],
  ['a close frame of one byte', frame({ opcode: OP.CLOSE, payload: Uint8Array.of(3) })],
  ['close code 1005 on the wire', frame({ opcode: OP.CLOSE, payload: closeBody(1005) })],
  ['close code 999', frame({ opcode: OP.CLOSE, payload: closeBody(999) })],
  ['close code 1016', frame({ opcode: OP.CLOSE, payload: closeBody(1016) })],
  ['close code 5000', frame({ opcode: OP.CLOSE, payload: closeBody(5000) })],
  ['a close reason that is not UTF-8', frame({ opcode: OP.CLOSE, payload: Buffer.concat([closeBody(1000), Buffer.from([0xff])]) })],
  ['a message over maxPayload in fragments', fragmented(['12345', '67890', 'x']), { maxPayload: 10 }],
  ['a non-minimal 16-bit length', frame({ opcode: OP.TEXT, payload: 'short', lengthBits: 16 })],
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
    peer.write(frame({ opcode: 0x3, payload: '' }));
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
    peer.write(frame({ opcode: OP.CLOSE, payload: closeBody(4999, 'fine') }));
    await peer.waitClosed(1500);
    await rec.waitFor('server', 'close', 500);
    const close = peer.closeFrame();
    return { events: rec.log, closeFrame: close && { code: close.code, reason: close.reason.toString() } };
  });
});
