/**
 * The client side of `ws`'s documented API, as typed by `@types/ws` (type-checked only).
 */
import http from 'node:http';
import net from 'node:net';
import WebSocket, { createWebSocketStream, type ClientOptions, type RawData, type Data } from 'ws';

export function constructors(): WebSocket[] {
  const options: ClientOptions = {
    followRedirects: true,
    maxRedirects: 3,
    handshakeTimeout: 1000,
    perMessageDeflate: { clientMaxWindowBits: 10, serverNoContextTakeover: true },
    protocolVersion: 13,
    headers: { Authorization: 'Bearer x' },
    origin: 'https://example.org',
    agent: new http.Agent(),
    family: 4,
    localAddress: '127.0.0.1',
    rejectUnauthorized: false,
    allowSynchronousEvents: true,
    autoPong: false,
    maxPayload: 1 << 20,
    skipUTF8Validation: false,
    createConnection: net.createConnection,
    finishRequest: (request: http.ClientRequest, ws: WebSocket) => {
      request.setHeader('X-Ready-State', String(ws.readyState));
      request.end();
    },
    checkServerIdentity: () => true,
  };
  return [
    new WebSocket('ws://127.0.0.1:8080'),
    new WebSocket(new URL('wss://example.org/path')),
    new WebSocket('ws://127.0.0.1:8080', 'chat'),
    new WebSocket('ws://127.0.0.1:8080', ['chat', 'superchat']),
    new WebSocket('ws://127.0.0.1:8080', options),
    new WebSocket('ws://127.0.0.1:8080', ['chat'], options),
    new WebSocket('ws+unix:///tmp/sock:/path', { auth: 'user:pass' }),
  ];
}

export function properties(ws: WebSocket): void {
  const state: 0 | 1 | 2 | 3 = ws.readyState;
  const constants: [0, 1, 2, 3] = [WebSocket.CONNECTING, WebSocket.OPEN, WebSocket.CLOSING, WebSocket.CLOSED];
  const instance: [0, 1, 2, 3] = [ws.CONNECTING, ws.OPEN, ws.CLOSING, ws.CLOSED];
  const text: string[] = [ws.protocol, ws.extensions, ws.url];
  const numbers: number[] = [ws.bufferedAmount];
  const paused: boolean = ws.isPaused;
  ws.binaryType = 'arraybuffer';
  ws.binaryType = 'fragments';
  ws.binaryType = 'nodebuffer';
  console.log(state, constants, instance, text, numbers, paused);
}

export function methods(ws: WebSocket): void {
  ws.send('text');
  ws.send(Buffer.from('bytes'));
  ws.send(new Uint8Array(4));
  ws.send(new ArrayBuffer(4));
  ws.send(new DataView(new ArrayBuffer(2)));
  ws.send(42);
  ws.send(new Blob(['blob']));
  ws.send('x', (error?: Error) => console.log(error?.message));
  ws.send('x', { binary: false, compress: true, fin: true, mask: true }, (error) => console.log(error));
  ws.send('x', { fin: false });
  ws.ping();
  ws.ping('data');
  ws.ping(Buffer.from('x'), true, (error: Error) => console.log(error));
  ws.pong();
  ws.pong('data', false);
  ws.close();
  ws.close(1000);
  ws.close(4000, 'reason');
  ws.close(1000, Buffer.from('reason'));
  ws.terminate();
  ws.pause();
  ws.resume();
}

export function events(ws: WebSocket): void {
  ws.on('open', function (this: WebSocket) {
    this.send('hello');
  });
  ws.on('message', (data: RawData, isBinary: boolean) => {
    if (isBinary && Buffer.isBuffer(data)) console.log(data.length);
    else console.log(data.toString());
    const any: Data = data;
    void any;
  });
  ws.on('close', (code: number, reason: Buffer) => console.log(code, reason.toString()));
  ws.on('error', (error: Error) => console.log(error.message));
  ws.on('ping', (data: Buffer) => console.log(data));
  ws.on('pong', (data: Buffer) => console.log(data));
  ws.on('upgrade', (response: http.IncomingMessage) => console.log(response.headers));
  ws.on('unexpected-response', (request: http.ClientRequest, response: http.IncomingMessage) => {
    console.log(response.statusCode);
    request.destroy();
  });
  ws.on('redirect', (url: string, request: http.ClientRequest) => {
    if (new URL(url).host !== 'example.org') request.removeHeader('authorization');
  });
  ws.once('close', (code) => console.log(code));
  ws.off('message', () => undefined);
  ws.addListener('open', () => undefined);
  ws.removeListener('open', () => undefined);
  ws.removeAllListeners();
}

export function stream(ws: WebSocket): void {
  const duplex = createWebSocketStream(ws, { encoding: 'utf8', readableObjectMode: false });
  duplex.on('close', () => console.log('closed'));
}
