/**
 * permessage-deflate, differentially: what a server answers to each offer, what a client accepts,
 * the extensions property, compress and threshold, messages through a compressed connection.
 */
import { describe } from 'node:test';
import type { WebSocket as WsWebSocket } from 'ws';
import { goodHeaders, Peer, request } from '../hostile/raw-peer.js';
import { Recorder, once, rawServer, RawServerPeer, scenario, switchingProtocols, until } from './harness.js';

const OFFERS: Array<[string, string]> = [
  ['a bare offer', 'permessage-deflate'],
  ['client_max_window_bits without a value', 'permessage-deflate; client_max_window_bits'],
  ['server_no_context_takeover', 'permessage-deflate; server_no_context_takeover'],
  ['server_max_window_bits=10', 'permessage-deflate; server_max_window_bits=10'],
  ['two offers, the first unacceptable', 'permessage-deflate; server_max_window_bits=7, permessage-deflate'],
  ['an unknown parameter', 'permessage-deflate; foo=1'],
  ['a malformed header', 'permessage-deflate;;'],
  ['another extension only', 'x-webkit-deflate-frame'],
];

const SERVER_SETTINGS: Array<[string, unknown]> = [
  ['true', true],
  ['serverNoContextTakeover and clientMaxWindowBits 12', { serverNoContextTakeover: true, clientMaxWindowBits: 12 }],
];

describe('permessage-deflate negotiation on the server', () => {
  for (const [settingName, setting] of SERVER_SETTINGS) {
    for (const [offerName, offer] of OFFERS) {
      scenario(`perMessageDeflate ${settingName}: the answer to ${offerName}`, async (scope) => {
        const { port } = await scope.server({ perMessageDeflate: setting as boolean });
        const peer = await Peer.open(port);
        scope.defer(() => peer.destroy());
        peer.write(request([...goodHeaders(), `Sec-WebSocket-Extensions: ${offer}`]));
        await peer.until(() => peer.httpHead() !== null, 1500);
        return { status: peer.status(), extensions: peer.header('sec-websocket-extensions') ?? null };
      });
    }
  }

  scenario('the server leaves extensions off by default', async (scope) => {
    const { port } = await scope.server();
    const peer = await Peer.open(port);
    scope.defer(() => peer.destroy());
    peer.write(request([...goodHeaders(), 'Sec-WebSocket-Extensions: permessage-deflate']));
    await peer.until(() => peer.httpHead() !== null, 1500);
    return { status: peer.status(), extensions: peer.header('sec-websocket-extensions') ?? null };
  });
});

describe('permessage-deflate between two ends of one implementation', () => {
  scenario('the extensions property on both ends', async (scope) => {
    const { client, server } = await scope.pair({ perMessageDeflate: true });
    return { client: client.extensions, server: server.extensions };
  });

  scenario('messages over and under the threshold arrive whole', async (scope) => {
    const { client, server } = await scope.pair({ perMessageDeflate: { threshold: 16 } });
    const rec = new Recorder().watch(server, 'server', ['message']);
    client.send('short');
    client.send('long enough to be compressed '.repeat(10));
    client.send(Buffer.alloc(5000, 7), { compress: false });
    client.send(Buffer.alloc(5000, 9));
    await until(() => rec.log.length === 4);
    return rec.log;
  });

  scenario('the client accepts a server answer with client_max_window_bits', async (scope) => {
    const server = await rawServer(scope, (req, socket, head) => {
      socket.write(switchingProtocols(req, ['Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=9']));
      return new RawServerPeer(req, socket, head);
    });
    const client = scope.client(server.url);
    const rec = new Recorder().watch(client, 'client', ['open', 'error', 'close']);
    await rec.waitFor('client', 'open');
    return { log: rec.log, extensions: client.extensions };
  });

  scenario('a compressed message on the wire', async (scope) => {
    const server = await rawServer(scope, (req, socket, head) => {
      socket.write(switchingProtocols(req, ['Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover']));
      return new RawServerPeer(req, socket, head);
    });
    const client = scope.client(server.url, { perMessageDeflate: { threshold: 0 } });
    await once(client, 'open');
    client.send('a'.repeat(2000));
    await until(() => server.peers[0]!.frames.length > 0);
    return server.peers[0]!.shownFrames();
  });

  scenario('the server compresses what it sends to a client that offered', async (scope) => {
    const { wss, url } = await scope.server({ perMessageDeflate: { threshold: 0 } });
    wss.on('connection', (ws: WsWebSocket) => ws.send('x'.repeat(3000)));
    const client = scope.client(url);
    const [data, isBinary] = (await once(client, 'message')) as [unknown, boolean];
    return { data, isBinary, extensions: client.extensions };
  });
});
