/**
 * Interop with `ws`, the reference Node implementation: its client against our server, and our
 * client against its server.
 */
import { after, before } from 'node:test';
import { WebSocket as WsWebSocket, WebSocketServer as WsServer } from 'ws';
import type { AddressInfo } from 'node:net';
import { emitterEndpoint, type Endpoint } from './endpoint.js';
import { dialOurs, dropIfOpen, startOurServer, type OurServer } from './fullduplex-ends.js';
import { Inbox, within } from './inbox.js';
import { OFFERED_PROTOCOLS, describePeerMatrix, pickB } from './peer-matrix.js';

for (const deflate of [false, true]) {
  let ours: OurServer;
  before(async () => {
    ours = await startOurServer({ deflate });
  });
  after(() => ours.stop());

  describePeerMatrix(`ws client → fullduplex server${deflate ? ', permessage-deflate' : ''}`, {
    echoedCloseReason: 'done',
    deflate,
    async connect() {
      const client = new WsWebSocket(ours.url, OFFERED_PROTOCOLS, {
        handshakeTimeout: 10_000,
        perMessageDeflate: deflate ? { threshold: 0 } : false,
      });
      const peer = emitterEndpoint(client, 'ws client');
      await within(
        new Promise<void>((resolve, reject) => {
          client.once('open', () => resolve());
          client.once('error', reject);
        }),
        10_000,
        'ws client opening',
      );
      const accepted = await ours.nextConnection();
      return {
        ours: accepted.endpoint,
        peer,
        dispose: async () => {
          await dropIfOpen(peer, client);
          await dropIfOpen(accepted.endpoint, accepted.socket);
        },
      };
    },
  });
}

for (const deflate of [false, true]) {
  let wsServer: WsServer;
  let wsUrl = '';
  const wsAccepted = new Inbox<{ endpoint: Endpoint; socket: WsWebSocket }>('ws server connections');
  before(async () => {
    wsServer = new WsServer({
      port: 0,
      host: '127.0.0.1',
      handleProtocols: pickB,
      perMessageDeflate: deflate ? { threshold: 0 } : false,
    });
    await new Promise<void>((resolve, reject) => {
      wsServer.once('listening', resolve);
      wsServer.once('error', reject);
    });
    wsUrl = `ws://127.0.0.1:${(wsServer.address() as AddressInfo).port}`;
    wsServer.on('connection', (socket) => wsAccepted.push({ endpoint: emitterEndpoint(socket, 'ws server'), socket }));
  });
  after(async () => {
    for (const client of wsServer.clients) client.terminate();
    await within(new Promise<void>((resolve) => wsServer.close(() => resolve())), 10_000, 'stopping the ws server');
  });

  describePeerMatrix(`fullduplex client → ws server${deflate ? ', permessage-deflate' : ''}`, {
    echoedCloseReason: 'done',
    deflate,
    async connect() {
      const client = await dialOurs(wsUrl, { deflate });
      const accepted = await wsAccepted.next(10_000);
      return {
        ours: client.endpoint,
        peer: accepted.endpoint,
        dispose: async () => {
          await dropIfOpen(client.endpoint, client.socket);
          await dropIfOpen(accepted.endpoint, accepted.socket);
        },
      };
    },
  });
}
