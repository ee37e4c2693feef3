/**
 * Interop with undici's WebSocket (the WHATWG client Node itself ships) against our server.
 * undici has no server. Its pings and pongs are visible only on diagnostics channels.
 */
import { after, before } from 'node:test';
import diagnostics from 'node:diagnostics_channel';
import { WebSocket as UndiciWebSocket, ping as undiciPing } from 'undici';
import type { Closed, Endpoint, Received } from './endpoint.js';
import { dropIfOpen, startOurServer, type OurServer } from './fullduplex-ends.js';
import { Inbox, within } from './inbox.js';
import { OFFERED_PROTOCOLS, describePeerMatrix } from './peer-matrix.js';

type ControlFrame = { payload: Buffer; websocket: unknown };

function undiciEndpoint(socket: UndiciWebSocket): { endpoint: Endpoint; dispose(): void } {
  socket.binaryType = 'arraybuffer';
  const messages = new Inbox<Received>('undici messages');
  const pings = new Inbox<Buffer>('undici pings');
  const pongs = new Inbox<Buffer>('undici pongs');
  const onPing = (frame: unknown): void => {
    const { payload, websocket } = frame as ControlFrame;
    if (websocket === socket) pings.push(Buffer.from(payload));
  };
  const onPong = (frame: unknown): void => {
    const { payload, websocket } = frame as ControlFrame;
    if (websocket === socket) pongs.push(Buffer.from(payload));
  };
  diagnostics.subscribe('undici:websocket:ping', onPing);
  diagnostics.subscribe('undici:websocket:pong', onPong);
  socket.addEventListener('message', (event) => {
    const data: unknown = event.data;
    if (typeof data === 'string') messages.push({ binary: false, data: Buffer.from(data, 'utf8') });
    else if (data instanceof ArrayBuffer) messages.push({ binary: true, data: Buffer.from(data) });
    else throw new TypeError(`undici message of unexpected type ${Object.prototype.toString.call(data)}`);
  });
  const closed = new Promise<Closed>((resolve) => {
    socket.addEventListener('close', (event) => {
      const gone = new Error(`undici socket closed (${event.code})`);
      messages.fail(gone);
      pings.fail(gone);
      pongs.fail(gone);
      resolve({ code: event.code, reason: event.reason, wasClean: event.wasClean });
    });
  });
  const endpoint: Endpoint = {
    get protocol() {
      return socket.protocol;
    },
    send: async (message) => {
      // Text goes as a string (the usual path); binary as a fresh ArrayBuffer.
      if (message.binary) socket.send(new Uint8Array(message.data).buffer);
      else socket.send(message.data.toString('utf8'));
    },
    nextMessage: () => messages.next(10_000),
    ping: async (payload) => {
      undiciPing(socket, payload);
      return pongs.next(10_000);
    },
    nextPing: () => pings.next(10_000),
    close: async (code, reason) => socket.close(code, reason),
    closeWithoutCode: async () => socket.close(),
    closed,
  };
  return {
    endpoint,
    dispose: () => {
      diagnostics.unsubscribe('undici:websocket:ping', onPing);
      diagnostics.unsubscribe('undici:websocket:pong', onPong);
    },
  };
}

for (const deflate of [false, true]) {
  let ours: OurServer;
  before(async () => {
    ours = await startOurServer({ deflate });
  });
  after(() => ours.stop());

  // undici offers permessage-deflate on every connection.
  describePeerMatrix(`undici WebSocket client → fullduplex server${deflate ? ', permessage-deflate' : ''}`, {
    // undici answers a close frame with the code alone.
    echoedCloseReason: '',
    cannotFragment: 'the WHATWG WebSocket API sends each message in one frame',
    deflate,
    async connect() {
      const client = new UndiciWebSocket(ours.url, OFFERED_PROTOCOLS);
      const peer = undiciEndpoint(client);
      await within(
        new Promise<void>((resolve, reject) => {
          client.addEventListener('open', () => resolve());
          client.addEventListener('error', (event) => reject(new Error(`undici could not open: ${event.message}`)));
        }),
        10_000,
        'undici client opening',
      );
      const accepted = await ours.nextConnection();
      return {
        ours: accepted.endpoint,
        peer: peer.endpoint,
        dispose: async () => {
          if (client.readyState === UndiciWebSocket.OPEN) client.close();
          // Our side terminating ends undici's socket too.
          await dropIfOpen(accepted.endpoint, accepted.socket);
          await within(peer.endpoint.closed, 5000, 'undici close').catch(() => undefined);
          peer.dispose();
        },
      };
    },
  });
}
