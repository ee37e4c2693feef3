/**
 * Interop over HTTP/2 (RFC 8441) with another client: undici's WebSocket on an Agent with
 * allowH2 sends an extended CONNECT to our TLS server. undici also sends a Sec-WebSocket-Key
 * and checks the Sec-WebSocket-Accept of the answer, which RFC 8441 §5 leaves out: our server
 * answers it when the key is well formed, so such clients work too.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Agent, WebSocket as UndiciWebSocket } from 'undici';
import { startHttp2Server } from '../support/http2-peers.js';

describe('undici over HTTP/2', () => {
  it('exchanges messages and closes cleanly with our server over one HTTP/2 stream', async () => {
    const h2 = await startHttp2Server({ perMessageDeflate: true }, { secure: true });
    after(() => h2.close());
    const versions: string[] = [];
    const serverCloses: number[] = [];
    h2.wss.on('connection', (ws, req) => {
      versions.push(req.httpVersion);
      ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
      ws.on('close', (code) => serverCloses.push(code));
    });
    const dispatcher = new Agent({ allowH2: true, connect: { rejectUnauthorized: false } });
    after(() => dispatcher.close());
    const ws = new UndiciWebSocket(`wss://127.0.0.1:${h2.port}/`, { dispatcher, protocols: ['chat'] } as never);
    ws.binaryType = 'arraybuffer';
    const outcome = await new Promise<{ got: unknown[]; code: number }>((resolve, reject) => {
      const got: unknown[] = [];
      ws.onopen = () => {
        ws.send('text ✓');
        ws.send(new Uint8Array([0, 1, 2, 255]));
      };
      ws.onmessage = (event) => {
        got.push(typeof event.data === 'string' ? event.data : [...new Uint8Array(event.data as ArrayBuffer)]);
        if (got.length === 2) ws.close(1000, 'done');
      };
      ws.onclose = (event) => resolve({ got, code: event.code });
      ws.onerror = () => reject(new Error('undici reported an error'));
    });
    assert.deepEqual(outcome, { got: ['text ✓', [0, 1, 2, 255]], code: 1000 });
    assert.equal(ws.protocol, 'chat');
    assert.deepEqual(versions, ['2.0'], 'the WebSocket went over HTTP/2');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(serverCloses, [1000]);
  });
});
