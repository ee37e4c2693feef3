/**
 * Interop with Python's `websockets` (Debian python3-websockets under /usr/bin/python3): its
 * client against our server, and our client against its server.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dialOurs, dropIfOpen, startOurServer, type OurServer } from './fullduplex-ends.js';
import { OFFERED_PROTOCOLS, describePeerMatrix } from './peer-matrix.js';
import { PythonPeer } from './python-peer.js';

let ours: OurServer;
/** The same, with permessage-deflate on (websockets offers and accepts it by default). */
let oursDeflate: OurServer;
let pyClient: PythonPeer;
let pyServer: PythonPeer;
let pyServerUrl = '';
let versions: string[] = [];
/** Why the peer could not start; every test then fails with it (a missing peer never skips). */
let missing: Error | null = null;

function requirePeer(): void {
  if (missing) throw missing;
}

before(async () => {
  ours = await startOurServer();
  oursDeflate = await startOurServer({ deflate: true });
  try {
    const client = await PythonPeer.start('client.py');
    pyClient = client.peer;
    const server = await PythonPeer.start('server.py');
    pyServer = server.peer;
    pyServerUrl = `ws://127.0.0.1:${await pyServer.port()}`;
    versions = [client.version, server.version];
  } catch (error) {
    missing = error as Error;
  }
});

after(async () => {
  await Promise.all([pyClient?.stop(), pyServer?.stop()]);
  await ours?.stop();
  await oursDeflate?.stop();
});

describe('python websockets peer', () => {
  it('is the websockets package, version 10 or later', () => {
    requirePeer();
    for (const version of versions) assert.ok(Number(version.split('.')[0]) >= 10, `websockets ${version}`);
  });
});

for (const deflate of [false, true]) {
  const suffix = deflate ? ', permessage-deflate' : '';
  describePeerMatrix(`python websockets client → fullduplex server${suffix}`, {
    // websockets echoes the close frame it received, reason included.
    echoedCloseReason: 'done',
    cannotCloseWithoutCode: "websockets' close() always sends a status code",
    deflate,
    async connect() {
      requirePeer();
      const server = deflate ? oursDeflate : ours;
      pyClient.command({ op: 'connect', url: server.url, protocols: OFFERED_PROTOCOLS });
      const peer = await pyClient.nextEndpoint();
      const accepted = await server.nextConnection();
      return {
        ours: accepted.endpoint,
        peer,
        dispose: async () => {
          await pyClient.abort(peer);
          await dropIfOpen(accepted.endpoint, accepted.socket);
        },
      };
    },
  });

  describePeerMatrix(`fullduplex client → python websockets server${suffix}`, {
    echoedCloseReason: 'done',
    cannotCloseWithoutCode: "websockets' close() always sends a status code",
    deflate,
    async connect() {
      requirePeer();
      const client = await dialOurs(pyServerUrl, { deflate });
      const peer = await pyServer.nextEndpoint();
      return {
        ours: client.endpoint,
        peer,
        dispose: async () => {
          await dropIfOpen(client.endpoint, client.socket);
          await pyServer.abort(peer);
        },
      };
    },
  });
}
