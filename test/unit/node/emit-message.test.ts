import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { emitMessage } from '../../../src/node/emit-message.js';
import type { ConnectionOwner } from '../../../src/node/internal.js';

/** An emitter standing in for a WebSocket (emit, listenerCount, binaryType). */
class Owner extends EventEmitter {
  binaryType = 'nodebuffer' as const;
}

const asOwner = (emitter: EventEmitter): ConnectionOwner => emitter as unknown as ConnectionOwner;

describe('emitMessage', () => {
  it('calls the one listener with the emitter as this and (data, isBinary)', () => {
    const owner = new Owner();
    const calls: unknown[][] = [];
    owner.on('message', function (this: unknown, data: unknown, isBinary: boolean) {
      calls.push([this, data, isBinary]);
    });
    const data = Buffer.from('hi');
    emitMessage(asOwner(owner), data, false);
    assert.deepEqual(calls, [[owner, data, false]]);
  });

  it('calls several listeners in order, and a once listener only once', () => {
    const owner = new Owner();
    const seen: string[] = [];
    owner.once('message', () => seen.push('once'));
    emitMessage(asOwner(owner), Buffer.from('a'), true);
    emitMessage(asOwner(owner), Buffer.from('b'), true);
    owner.on('message', () => seen.push('first'));
    owner.on('message', () => seen.push('second'));
    emitMessage(asOwner(owner), Buffer.from('c'), true);
    assert.deepEqual(seen, ['once', 'first', 'second']);
  });

  it('lets what a listener throws through, as emit does', () => {
    const owner = new Owner();
    owner.on('message', () => {
      throw new Error('boom');
    });
    assert.throws(() => emitMessage(asOwner(owner), Buffer.from('x'), false), /boom/);
  });

  it('goes through an emit that a subclass overrides', () => {
    const emitted: unknown[] = [];
    class Logged extends Owner {
      override emit(event: string | symbol, ...args: unknown[]): boolean {
        emitted.push(event);
        return super.emit(event, ...args);
      }
    }
    const owner = new Logged();
    let heard = 0;
    owner.on('message', () => heard++);
    emitMessage(asOwner(owner), Buffer.from('x'), false);
    assert.deepEqual(emitted, ['message']);
    assert.equal(heard, 1);
  });

  it('with captureRejections, a listener rejecting its promise reaches error as with emit', async () => {
    const owner = new (class extends EventEmitter {
      binaryType = 'nodebuffer' as const;
      constructor() {
        super({ captureRejections: true });
      }
    })();
    const errors: unknown[] = [];
    owner.on('error', (error) => errors.push(error));
    owner.on('message', async () => {
      throw new Error('rejected');
    });
    emitMessage(asOwner(owner), Buffer.from('x'), false);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(errors.length, 1);
    assert.match(String(errors[0]), /rejected/);
  });
});
