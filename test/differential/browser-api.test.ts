/**
 * The WHATWG-style API, differentially: on* attributes, addEventListener/removeEventListener
 * (once, handleEvent objects, duplicates), and the Event, MessageEvent, CloseEvent and
 * ErrorEvent objects with their fields.
 */
import { describe } from 'node:test';
import net from 'node:net';
import { OP, serverFrame } from '../support/frames.js';
import { Recorder, attempt, delay, once, rawServer, scenario, show, until, type Scope } from './harness.js';

type AnyEvent = Record<string, unknown> & { type: string; target: unknown };

/** The fields of an event object a page would read. */
function fields(event: AnyEvent, client: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = { type: event.type, targetIsSocket: event.target === client };
  for (const key of ['data', 'code', 'reason', 'wasClean', 'message'] as const) {
    if (key in event) out[key] = show(event[key]);
  }
  if ('error' in event) out.error = show(event.error);
  return out;
}

async function rawPair(scope: Scope) {
  const server = await rawServer(scope);
  const client = scope.client(server.url, { perMessageDeflate: false });
  return { server, client };
}

describe('browser-style events', () => {
  scenario('on* attributes receive typed events', async (scope) => {
    const { server, client } = await rawPair(scope);
    const seen: unknown[] = [];
    client.onopen = (e) => seen.push(fields(e as unknown as AnyEvent, client));
    client.onmessage = (e) => seen.push(fields(e as unknown as AnyEvent, client));
    client.onclose = (e) => seen.push(fields(e as unknown as AnyEvent, client));
    client.onerror = (e) => seen.push(fields(e as unknown as AnyEvent, client));
    await until(() => server.peers.length > 0);
    const peer = server.peers[0]!;
    peer.write(serverFrame({ opcode: OP.TEXT, payload: 'hi' }));
    peer.write(serverFrame({ opcode: OP.BINARY, payload: Uint8Array.of(1) }));
    peer.write(serverFrame({ opcode: OP.CLOSE, payload: Buffer.concat([Buffer.from([0x03, 0xe8]), Buffer.from('done')]) }));
    await delay(30);
    peer.socket.end();
    await until(() => seen.length >= 4);
    return seen;
  });

  scenario('the on* getters return what was set, and null clears', async (scope) => {
    const { client } = await rawPair(scope);
    const handler = (): void => {};
    const before = client.onmessage;
    client.onmessage = handler;
    const set = client.onmessage === handler;
    client.onmessage = null as unknown as typeof handler;
    const cleared = client.onmessage;
    client.onopen = 'not a function' as unknown as typeof handler;
    return { before, set, cleared, invalid: client.onopen, listeners: client.listenerCount('message') };
  });

  scenario('an on* attribute set twice keeps only the last handler', async (scope) => {
    const { server, client } = await rawPair(scope);
    const seen: string[] = [];
    client.onmessage = () => seen.push('first');
    client.onmessage = () => seen.push('second');
    await once(client, 'open');
    await until(() => server.peers.length > 0);
    server.peers[0]!.write(serverFrame({ opcode: OP.TEXT, payload: 'x' }));
    await until(() => seen.length > 0);
    await delay(20);
    return seen;
  });

  scenario('addEventListener: duplicates, once, handleEvent objects, removeEventListener', async (scope) => {
    const { server, client } = await rawPair(scope);
    const seen: unknown[] = [];
    const listener = (e: { data: unknown }) => seen.push(['fn', show(e.data)]);
    const object = { handleEvent: (e: { data: unknown }) => seen.push(['object', show(e.data)]) };
    const removed = (e: { data: unknown }) => seen.push(['removed', show(e.data)]);
    client.addEventListener('message', listener);
    client.addEventListener('message', listener);
    client.addEventListener('message', (e) => seen.push(['once', show(e.data)]), { once: true });
    client.addEventListener('message', object as unknown as (e: { data: unknown }) => void);
    client.addEventListener('message', removed);
    client.removeEventListener('message', removed);
    client.addEventListener('bogus' as 'message', listener);
    await once(client, 'open');
    await until(() => server.peers.length > 0);
    server.peers[0]!.write(serverFrame({ opcode: OP.TEXT, payload: 'a' }));
    server.peers[0]!.write(serverFrame({ opcode: OP.TEXT, payload: 'b' }));
    await until(() => seen.length >= 5);
    await delay(20);
    return { seen, listeners: client.listenerCount('message'), bogus: client.listenerCount('bogus') };
  });

  scenario('an on* attribute and addEventListener with the same handler are separate', async (scope) => {
    const { server, client } = await rawPair(scope);
    const seen: string[] = [];
    const handler = (): void => void seen.push('called');
    client.onmessage = handler;
    client.addEventListener('message', handler);
    client.removeEventListener('message', handler);
    await once(client, 'open');
    await until(() => server.peers.length > 0);
    server.peers[0]!.write(serverFrame({ opcode: OP.TEXT, payload: 'x' }));
    await until(() => seen.length > 0);
    await delay(20);
    return { seen, attribute: client.onmessage === handler };
  });

  scenario('an error event for a failed connection', async (scope) => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const client = scope.client(`ws://127.0.0.1:${port}`);
    const seen: unknown[] = [];
    client.onerror = (e) => seen.push(fields(e as unknown as AnyEvent, client));
    client.onclose = (e) => seen.push(fields(e as unknown as AnyEvent, client));
    await until(() => seen.length === 2);
    return seen;
  });

  scenario('a close event after terminate() is not clean', async (scope) => {
    const { client } = await rawPair(scope);
    const seen: unknown[] = [];
    client.onclose = (e) => seen.push(fields(e as unknown as AnyEvent, client));
    await once(client, 'open');
    client.terminate();
    await until(() => seen.length === 1);
    return seen;
  });

  scenario('event objects are instances of the exported classes where ws has them', async (scope) => {
    const { server, client } = await rawPair(scope);
    const seen: unknown[] = [];
    client.addEventListener('message', (e) => seen.push(Object.getPrototypeOf(e)?.constructor?.name, e instanceof Object));
    await once(client, 'open');
    await until(() => server.peers.length > 0);
    server.peers[0]!.write(serverFrame({ opcode: OP.TEXT, payload: 'x' }));
    await until(() => seen.length > 0);
    return seen;
  });

  scenario('listeners added with addEventListener show up as EventEmitter listeners', async (scope) => {
    const { client } = await rawPair(scope);
    const before = ['open', 'message', 'close', 'error'].map((type) => client.listenerCount(type));
    client.addEventListener('open', () => {});
    client.addEventListener('close', () => {});
    const after = ['open', 'message', 'close', 'error'].map((type) => client.listenerCount(type));
    return { before, after, result: attempt(() => client.removeEventListener('close', () => {})) };
  });

  scenario('a listener throwing does not stop the connection', async (scope) => {
    const rec = new Recorder();
    const { server, client } = await rawPair(scope);
    rec.watch(client, 'client', ['close']);
    await once(client, 'open');
    await until(() => server.peers.length > 0);
    const errors: unknown[] = [];
    const onUncaught = (error: Error): void => void errors.push(show(error));
    process.prependListener('uncaughtException', onUncaught);
    scope.defer(() => process.removeListener('uncaughtException', onUncaught));
    client.onmessage = () => {
      throw new Error('listener failed');
    };
    const outcome = attempt(() => client.emit('message', Buffer.from('direct'), false));
    return { outcome, readyState: client.readyState, errors };
  });
});
