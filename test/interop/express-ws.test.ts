/**
 * express-ws, a library built on `ws`, runs on fullduplex unchanged. It creates its server with
 * `require('ws').Server` and offers no option to pass another, so, as a user would alias the
 * package (`"ws": "npm:fullduplex"`), its `require('ws')` is resolved to our entry point here.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import Module, { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { WebSocket as WsWebSocket } from 'ws';
import { WebSocket } from '../../src/index.js';
import { within } from './inbox.js';

const require = createRequire(import.meta.url);
const EXPRESS_WS = dirname(require.resolve('express-ws/package.json'));
const OUR_ENTRY = fileURLToPath(new URL('../../src/index.ts', import.meta.url));

type Resolver = (request: string, parent: { filename?: string } | undefined, ...rest: unknown[]) => string;
const moduleInternals = Module as unknown as { _resolveFilename: Resolver };

describe('express-ws on fullduplex', () => {
  const original = moduleInternals._resolveFilename;
  let server: http.Server;
  let url: string;
  let serverClass = '';

  before(async () => {
    moduleInternals._resolveFilename = function (request, parent, ...rest) {
      if (request === 'ws' && parent?.filename?.startsWith(EXPRESS_WS)) return OUR_ENTRY;
      return original.call(this, request, parent, ...rest);
    };
    const express = require('express') as typeof import('express');
    const expressWs = require('express-ws') as typeof import('express-ws');
    const app = express();
    server = http.createServer(app);
    const instance = expressWs(app, server);
    serverClass = instance.getWss().constructor.name;
    instance.app.ws('/echo/:name', (ws, req) => {
      ws.on('message', (data, isBinary) => ws.send(isBinary ? data : `${req.params.name}: ${data}`, { binary: isBinary }));
    });
    app.get('/plain', (_req, res) => void res.send('plain http still works'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    moduleInternals._resolveFilename = original;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("builds its server from fullduplex's WebSocketServer", () => {
    assert.equal(serverClass, 'WebSocketServer');
    assert.ok(Object.keys(require.cache).some((path) => path === OUR_ENTRY), 'express-ws loaded our entry point');
  });

  const clients: Array<[string, (address: string) => WsWebSocket]> = [
    ['our client', (address) => new WebSocket(address) as unknown as WsWebSocket],
    ["ws's client", (address) => new WsWebSocket(address)],
  ];
  for (const [name, dial] of clients) {
    it(`routes a WebSocket request with params to its handler, for ${name}`, async () => {
      const client = dial(`ws://${url}/echo/ada`);
      try {
        await within(new Promise((resolve, reject) => {
          client.once('open', resolve);
          client.once('error', reject);
        }), 5000, 'open');
        const text = new Promise<string>((resolve) => client.once('message', (data: Buffer) => resolve(data.toString())));
        client.send('hi');
        assert.equal(await within(text, 5000, 'text echo'), 'ada: hi');
        const bytes = new Promise<Buffer>((resolve) => client.once('message', (data: Buffer) => resolve(data)));
        client.send(Buffer.from([1, 2, 3]));
        assert.deepEqual(await within(bytes, 5000, 'binary echo'), Buffer.from([1, 2, 3]));
      } finally {
        client.terminate();
      }
    });
  }

  it('leaves plain HTTP routes to express', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      http.get(`http://${url}/plain`, (res) => {
        let text = '';
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve(text));
      }).on('error', reject);
    });
    assert.equal(body, 'plain http still works');
  });
});
