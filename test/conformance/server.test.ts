/**
 * Runner 2: every case against our WebSocketServer over loopback, over TCP and over HTTP/2
 * streams (RFC 8441, h2c). The server runs an echo app (text back as text, binary as binary); a
 * raw client performs the opening handshake (an HTTP/1.1 upgrade, or an extended CONNECT on one
 * shared HTTP/2 session), writes the case's masked frames as its delivery says, and reads
 * everything until the server closes the connection (or ends the stream). What the server
 * echoes stands for what it delivered.
 *
 * Beyond the case's expectation, each run checks that the server closed the TCP connection (or
 * its side of the stream) first (RFC 6455 §7.1.1, RFC 8441 §5), what its application saw (error
 * or close code), and, after a failure, that a new client is still served (over HTTP/2: on the
 * same session).
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from '../../src/index.js';
import { connectHeaders, openStream, rawSession, startHttp2Server } from '../support/http2-peers.js';
import { rawHandshake, startServer, stopServer } from '../support/servers.js';
import { casesFor, utf8, type Case } from './cases.js';
import { CASE_TIMEOUT_MS, collectUntilClose, writeDelivery } from './loopback.js';
import { assertOutcome, summarizeFrames, type Observed } from './outcome.js';
import { caseFrameBytes, encodeCaseFrame, parseFrames } from './wire.js';

interface ServerSide {
  errors: Array<{ closeCode: number | undefined }>;
  closed: Promise<{ code: number }>;
}

type Transport = 'tcp' | 'http2';

interface RunningServer {
  wss: WebSocketServer;
  port: number;
  accepted: ServerSide[];
  /** Over HTTP/2: the one client session every conversation opens its stream on. */
  session: http2.ClientHttp2Session | null;
  stop(): Promise<void>;
}

const servers = new Map<string, Promise<RunningServer>>();

/** One echo server per transport and set of case options, started on first use. */
function serverFor(c: Case, transport: Transport): Promise<RunningServer> {
  const key = transport + JSON.stringify(c.options ?? {});
  let running = servers.get(key);
  if (!running) {
    running = (async () => {
      const options = { ...c.options, pingIntervalMs: 0, closeTimeoutMs: CASE_TIMEOUT_MS };
      let started: Pick<RunningServer, 'wss' | 'port' | 'session' | 'stop'>;
      if (transport === 'tcp') {
        const { wss, port } = await startServer(options);
        started = { wss, port, session: null, stop: () => stopServer(wss) };
      } else {
        const h2 = await startHttp2Server(options);
        const session = await rawSession(h2.port);
        started = { wss: h2.wss, port: h2.port, session, stop: () => (session.close(), h2.close()) };
      }
      const { wss, port, session, stop } = started;
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
      return { wss, port, accepted, session, stop };
    })();
    servers.set(key, running);
  }
  return running;
}

after(async () => {
  for (const running of servers.values()) await (await running).stop();
});

/** A raw client conversation: handshake, the case's bytes, everything the server sends until it closes. */
async function converse(running: RunningServer, c: Case | null, frames: Uint8Array[]) {
  let socket: Duplex;
  let rest: Buffer = Buffer.alloc(0);
  if (running.session === null) {
    const opened = await rawHandshake(running.port);
    opened.socket.setNoDelay(true);
    assert.match(opened.head, /^HTTP\/1\.1 101 /, 'the opening handshake');
    socket = opened.socket;
    rest = opened.rest;
  } else {
    const { stream, status } = await openStream(running.session, connectHeaders(running.port));
    assert.equal(status, 200, 'the opening handshake (RFC 8441 §5)');
    // A stream stays half open: once the server ended its side, this client ends its own.
    stream.once('end', () => stream.end());
    socket = stream;
  }
  const collected = collectUntilClose(socket, rest);
  await writeDelivery(socket, c ?? ({ delivery: { split: 'whole' } } as Case), frames);
  return collected;
}

/** After a failure, the server still serves a fresh client: a text message comes back, the close is answered. */
async function assertStillServing(running: RunningServer, id: string): Promise<void> {
  const frames = [encodeCaseFrame({ opcode: 0x1, payload: utf8('still served') }, 'client', 0).bytes, encodeCaseFrame({ opcode: 0x8, payload: Uint8Array.of(0x03, 0xe8) }, 'client', 1).bytes];
  const seen = await converse(running, null, frames);
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

for (const transport of ['tcp', 'http2'] as const) describe(`server over loopback (${transport})`, () => {
  for (const c of casesFor('server')) {
    test(`${c.id} ${c.section} ${c.title}`, async () => {
      const running = await serverFor(c, transport);
      running.accepted.length = 0;
      const collected = await converse(running, c, caseFrameBytes(c, 'client'));
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
