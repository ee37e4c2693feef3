/**
 * Runner 2: every case against our WebSocketServer over loopback. The server runs an echo app
 * (text back as text, binary as binary); a raw TCP client performs the opening handshake, writes
 * the case's masked frames as its delivery says, and reads everything until the server closes
 * the connection. What the server echoes stands for what it delivered.
 *
 * Beyond the case's expectation, each run checks that the server closed the TCP connection first
 * (RFC 6455 §7.1.1), what its application saw (error or close code), and, after a failure, that
 * a new client is still served.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { WebSocket, WebSocketServer } from '../../src/index.js';
import { rawHandshake, startServer, stopServer } from '../support/servers.js';
import { casesFor, utf8, type Case } from './cases.js';
import { CASE_TIMEOUT_MS, collectUntilClose, writeDelivery } from './loopback.js';
import { assertOutcome, summarizeFrames, type Observed } from './outcome.js';
import { caseFrameBytes, encodeCaseFrame, parseFrames } from './wire.js';

interface ServerSide {
  errors: Array<{ closeCode: number | undefined }>;
  closed: Promise<{ code: number }>;
}

interface RunningServer {
  wss: WebSocketServer;
  port: number;
  accepted: ServerSide[];
}

const servers = new Map<string, Promise<RunningServer>>();

/** One echo server per set of case options, started on first use. */
function serverFor(c: Case): Promise<RunningServer> {
  const key = JSON.stringify(c.options ?? {});
  let running = servers.get(key);
  if (!running) {
    running = (async () => {
      const { wss, port } = await startServer({ ...c.options, pingIntervalMs: 0, closeTimeoutMs: CASE_TIMEOUT_MS });
      const accepted: ServerSide[] = [];
      wss.on('connection', (ws: WebSocket) => {
        const side: ServerSide = {
          errors: [],
          closed: new Promise((resolve) => ws.once('close', (code: number) => resolve({ code }))),
        };
        accepted.push(side);
        ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
        ws.on('error', (error: Error & { closeCode?: number }) => side.errors.push({ closeCode: error.closeCode }));
      });
      return { wss, port, accepted };
    })();
    servers.set(key, running);
  }
  return running;
}

after(async () => {
  for (const running of servers.values()) await stopServer((await running).wss);
});

/** A raw client conversation: handshake, the case's bytes, everything the server sends until it closes. */
async function converse(port: number, c: Case | null, frames: Uint8Array[]) {
  const { socket, rest, head } = await rawHandshake(port);
  socket.setNoDelay(true);
  assert.match(head, /^HTTP\/1\.1 101 /, 'the opening handshake');
  const collected = collectUntilClose(socket, rest);
  await writeDelivery(socket, c ?? ({ delivery: { split: 'whole' } } as Case), frames);
  return collected;
}

/** After a failure, the server still serves a fresh client: a text message comes back, the close is answered. */
async function assertStillServing(running: RunningServer, id: string): Promise<void> {
  const frames = [encodeCaseFrame({ opcode: 0x1, payload: utf8('still served') }, 'client', 0).bytes, encodeCaseFrame({ opcode: 0x8, payload: Uint8Array.of(0x03, 0xe8) }, 'client', 1).bytes];
  const seen = await converse(running.port, null, frames);
  const { frames: back } = parseFrames(seen.bytes);
  assert.deepEqual(
    back.map((f) => [f.opcode, Buffer.from(f.payload).toString('latin1')]),
    [
      [0x1, 'still served'],
      [0x8, '\x03\xe8'],
    ],
    `${id}: a new client after the failure`,
  );
}

describe('server over loopback', () => {
  for (const c of casesFor('server')) {
    test(`${c.id} ${c.section} ${c.title}`, async () => {
      const running = await serverFor(c);
      running.accepted.length = 0;
      const collected = await converse(running.port, c, caseFrameBytes(c, 'client'));
      assert.equal(collected.closed, true, `${c.id}: the server did not close the connection within ${CASE_TIMEOUT_MS} ms`);
      // RFC 6455 §7.1.1: the server closes the TCP connection first (this client never ends on its own).
      assert.equal(collected.endReceived, true, `${c.id}: the server should close the TCP connection first`);

      const serverSide = running.accepted[0];
      assert.ok(serverSide, `${c.id}: the server saw no connection`);
      const { frames, rest } = parseFrames(collected.bytes);
      const summary = summarizeFrames(frames, 'server', rest.length);
      const seen: Observed = {
        messages: summary.dataMessages,
        pongs: summary.pongs,
        closeFrames: summary.closeFrames,
        failedWith: serverSide.errors[0]?.closeCode ?? null,
        problems: summary.problems,
      };
      if (serverSide.errors.length > 1) seen.problems.push(`${serverSide.errors.length} error events`);
      assertOutcome(c, seen, 'server');

      const { code } = await serverSide.closed;
      const close = c.expect.close;
      if ('fail' in close) {
        // As in `ws`: after a failure the application sees the code it failed with (the wire
        // close code; RFC 6455 §7.1.5 would name the connection's state 1006 as no close frame came back).
        assert.equal(code, close.fail, `${c.id}: the close code the server's application saw`);
        await assertStillServing(running, c.id);
      } else {
        assert.equal(code, close.code ?? 1005, `${c.id}: the close code the server's application saw`);
      }
    });
  }
});
