/**
 * Hostile peers of connections kept on their bare TCP handle (node/handle-transport.ts): bytes
 * that are no upgrade in the first read, an end or a reset at each step, a reset while the
 * server has megabytes queued. Each case ends with the server holding no connection, none left
 * on a handle, its application told of every close, and a normal client served.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { HandleTransport } from '../../src/node/handle-transport.js';
import { clientFrame, OP } from '../support/frames.js';
import { eventually, goodHeaders, Peer, rejection, request, upgradedPeer } from './raw-peer.js';
import { assertStillServing, startTarget, type Target } from './target.js';

describe('hostile peers of connections on the bare handle', () => {
  let target: Target;
  before(async () => {
    target = await startTarget();
  });
  after(() => target.stop());

  async function settled(): Promise<void> {
    await assertStillServing(target);
    assert.ok(await eventually(() => HandleTransport.onHandle === 0, 5000), `${HandleTransport.onHandle} still on a handle`);
  }

  it('answers random bytes in the first read as Node does (400) and closes', async () => {
    const { status, closed } = await rejection(target.port, randomBytes(300));
    assert.equal(status, 400);
    assert.ok(closed);
    await settled();
  });

  it('forgets a connection that ends or resets right after its upgrade request, in the same packet', async () => {
    for (const how of ['end', 'reset'] as const) {
      const peer = await Peer.open(target.port);
      const closes = target.closeCodes.length;
      if (how === 'end') peer.socket.end(request(goodHeaders()));
      else {
        peer.write(request(goodHeaders()));
        peer.socket.resetAndDestroy();
      }
      await peer.until(() => peer.closed, 5000);
      // Accepted or not (a reset may come before the server read the head), never half-open.
      await eventually(() => target.closeCodes.length > closes || target.accepted.length === 0, 2000);
      await settled();
    }
  });

  it('closes with 1006 a peer that resets while megabytes wait for it', async () => {
    const peer = await upgradedPeer(target.port);
    peer.socket.pause();
    const server = target.accepted.at(-1)!;
    for (let i = 0; i < 16; i++) server.send(randomBytes(256 * 1024));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(server.bufferedAmount > 0);
    const closes = target.closeCodes.length;
    peer.socket.resetAndDestroy();
    assert.ok(await eventually(() => target.closeCodes.length > closes, 5000));
    assert.equal(target.closeCodes.at(-1), 1006);
    await settled();
  });

  it('fails with 1002 a frame the server must refuse, after messages echoed on the handle', async () => {
    const peer = await upgradedPeer(target.port);
    const closes = target.closeCodes.length;
    peer.write(clientFrame({ opcode: OP.TEXT, payload: 'fine' }));
    assert.ok(await peer.until(() => peer.frames().length > 0, 5000));
    peer.write(clientFrame({ opcode: 0x3, payload: 'reserved' }));
    assert.ok(await peer.until(() => peer.closed, 5000));
    assert.ok(await eventually(() => target.closeCodes.length > closes, 5000));
    assert.equal(target.closeCodes.at(-1), 1002);
    await settled();
  });
});
