/**
 * Runner 3: every case against our client over loopback. A raw TCP server answers the upgrade
 * with a valid 101 (Sec-WebSocket-Accept computed from the client's key) and then sends the
 * case's frames unmasked, as a server does; `new WebSocket(url)` must deliver the same messages,
 * send the same pongs and close frames, and end the same way. The raw server closes the TCP
 * connection once the client's close frame has arrived (RFC 6455 §7.1.1: the server closes first).
 * With the 'whole' delivery the 101 and the frames leave in one write, so the client must also
 * handle frames that arrive with the handshake answer.
 *
 * The same cases run over HTTP/2 (RFC 8441, h2c): a raw HTTP/2 server answers the client's
 * extended CONNECT with 200 and plays the case on the stream; ending the stream stands for
 * closing the TCP connection.
 */
import assert from 'node:assert/strict';
import type http2 from 'node:http2';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import WebSocket from '../../src/index.js';
import { acceptValue } from '../../src/protocol/index.js';
import { casesFor, type Case } from './cases.js';
import { CASE_TIMEOUT_MS, collectUntilClose, writeDelivery } from './loopback.js';
import { assertOutcome, summarizeFrames, type Observed } from './outcome.js';
import { caseFrameBytes, parseFrames } from './wire.js';
import type { Duplex } from 'node:stream';
import { startRawHttp2Server } from '../support/http2-peers.js';
import { readHead } from '../support/servers.js';

interface ServerRun {
  /** The client half-closed before this server closed the connection. */
  clientEndedFirst: boolean;
  collected: Promise<Awaited<ReturnType<typeof collectUntilClose>>>;
}

let server: net.Server;
let port = 0;
let handle: ((socket: Duplex, head: string, rest: Buffer) => void) | null = null;
let h2: Awaited<ReturnType<typeof startRawHttp2Server>>;

before(async () => {
  server = net.createServer((socket) => {
    readHead(socket, (head, rest) => {
      if (handle) handle(socket, head, rest);
      else socket.destroy();
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  h2 = await startRawHttp2Server((stream, headers) => {
    if (handle && headers[':protocol'] === 'websocket') handle(stream, '', Buffer.alloc(0));
    else stream.close();
  });
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await h2.close();
});

/** Serves one case to the next connection: the 101, then the case's frames; ends after the client's close frame. */
function serveCase(c: Case): Promise<ServerRun> {
  return new Promise((resolve) => {
    handle = (socket, head, rest) => {
      handle = null;
      const stream = 'respond' in socket ? (socket as http2.ServerHttp2Stream) : null;
      (socket as net.Socket).setNoDelay?.(true);
      const key = /^sec-websocket-key:\s*(\S+)\s*$/im.exec(head)?.[1] ?? '';
      // Over HTTP/2 the answer is the stream's 200 HEADERS frame (RFC 8441 §5), not bytes.
      if (stream) stream.respond({ ':status': 200 }, { endStream: false });
      const answer = stream
        ? Buffer.alloc(0)
        : Buffer.from(
            'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
              `Sec-WebSocket-Accept: ${acceptValue(key)}\r\n\r\n`,
            'latin1',
          );
      const run: ServerRun = { clientEndedFirst: false, collected: Promise.resolve(null as never) };
      let weEnded = false;
      socket.on('end', () => {
        if (!weEnded) run.clientEndedFirst = true;
      });
      run.collected = collectUntilClose(socket, rest, CASE_TIMEOUT_MS, (all) => {
        // RFC 6455 §7.1.1: once the client's close frame is here, the server closes the connection.
        if (!weEnded && parseFrames(all).frames.some((f) => f.opcode === 0x8)) {
          weEnded = true;
          socket.end();
        }
      });
      const frames = caseFrameBytes(c, 'server');
      const split = c.delivery?.split ?? 'whole';
      if (stream) {
        void writeDelivery(socket, c, frames);
      } else if (split === 'whole') {
        void writeDelivery(socket, c, [Buffer.concat([answer, ...frames])]);
      } else {
        socket.write(answer);
        void writeDelivery(socket, c, frames);
      }
      resolve(run);
    };
  });
}

for (const transport of ['tcp', 'http2'] as const) describe(`client over loopback (${transport})`, () => {
  for (const c of casesFor('client')) {
    test(`${c.id} ${c.section} ${c.title}`, async () => {
      const served = serveCase(c);
      const messages: Observed['messages'] = [];
      const errors: Array<{ closeCode: number | undefined }> = [];
      const ws =
        transport === 'tcp'
          ? new WebSocket(`ws://127.0.0.1:${port}/`, { ...c.options, closeTimeoutMs: CASE_TIMEOUT_MS })
          : new WebSocket(`ws://127.0.0.1:${h2.port}/`, { ...c.options, closeTimeoutMs: CASE_TIMEOUT_MS, http2: true });
      ws.on('message', (data, isBinary) => messages.push({ binary: isBinary, data: new Uint8Array(data as Buffer) }));
      ws.on('error', (error: Error & { closeCode?: number }) => errors.push({ closeCode: error.closeCode }));
      const closed = new Promise<{ code: number; reason: Buffer }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason })));
      const limit = setTimeout(() => ws.terminate(), CASE_TIMEOUT_MS + 1000);
      try {
        const run = await served;
        const collected = await run.collected;
        const { code, reason } = await closed;
        assert.equal(collected.closed, true, `${c.id}: the conversation did not end within ${CASE_TIMEOUT_MS} ms`);

        const { frames, rest } = parseFrames(collected.bytes);
        const summary = summarizeFrames(frames, 'client', rest.length);
        const seen: Observed = {
          messages,
          pongs: summary.pongs,
          closeFrames: summary.closeFrames,
          failedWith: errors[0]?.closeCode ?? null,
          problems: summary.problems,
        };
        if (summary.dataMessages.length > 0) seen.problems.push('the client sent data frames on its own');
        if (errors.length > 1) seen.problems.push(`${errors.length} error events`);
        assertOutcome(c, seen, 'client');

        const close = c.expect.close;
        if ('fail' in close) {
          // After a failure the application sees the code it failed with (the wire close code;
          // RFC 6455 §7.1.5 and `ws` would report 1006 as no close frame came back: a difference
          // listed in test/differential/differences.ts).
          assert.equal(code, close.fail, `${c.id}: the close code of the 'close' event`);
        } else {
          assert.equal(code, close.code ?? 1005, `${c.id}: the close code of the 'close' event`);
          if (close.reason) assert.ok(reason.equals(close.reason), `${c.id}: the reason of the 'close' event`);
          // RFC 6455 §7.1.1: after a clean close the client waits for the server to close TCP.
          assert.equal(run.clientEndedFirst, false, `${c.id}: the client closed the TCP connection before the server`);
        }
      } finally {
        clearTimeout(limit);
        ws.terminate();
      }
    });
  }
});
