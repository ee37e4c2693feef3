/**
 * The public surface of fullduplex/realtime and fullduplex/client, pinned: it changes only by a
 * reviewed change of this list.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import * as realtime from '../../src/realtime.js';
import * as client from '../../src/client.js';

it('fullduplex/realtime exports exactly these values', () => {
  assert.deepEqual(Object.keys(realtime).sort(), [
    'CLOSE_CODES',
    'ERROR_CODES',
    'MEMORY_ENGINE_DEFAULTS',
    'MemoryEngine',
    'REALTIME_DEFAULTS',
    'RealtimeConnection',
    'RealtimeError',
    'RealtimeServer',
    'SUBPROTOCOL',
    'channelProblem',
    'mountRealtime',
    'parseMessage',
    'serialize',
    'shouldReconnect',
    'systemClock',
    'webSocketTransport',
  ]);
});

it('fullduplex/client exports exactly these values', () => {
  assert.deepEqual(Object.keys(client).sort(), ['RealtimeError', 'SUBPROTOCOL', 'createClient']);
});
