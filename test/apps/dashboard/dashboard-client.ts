/**
 * A dashboard page in Node speaking fdx.v1 itself (no reconnect, nothing hidden): it connects,
 * keeps every message the server sent (a binary `pub` with its sample decoded as `data`), and
 * sends requests whose replies it waits for, bounded.
 * The tests that need the real client's reconnect and recovery use fullduplex/client instead.
 */
import WebSocket from 'fullduplex';
import { createClient } from 'fullduplex/client';
import { until as waitUntil } from '../../support/clients.js';
import { decodeSample } from '../../../apps/dashboard/sample-codec.js';

export const WAIT_MS = 10_000;

export type Message = { type: string; [field: string]: any };
export type Reply = { result?: any; error?: { code: string; message?: string } };
export interface CatalogEntry {
  id: string;
  label: string;
  unit: string;
  group: string;
  channel: string;
}

/** A binary frame (docs/protocol.md section 1): a 2-byte header length, the JSON header, the bytes. */
function readBinary(frame: Buffer): Message {
  const length = frame.readUInt16BE(0);
  const header = JSON.parse(frame.subarray(2, 2 + length).toString('utf8')) as Message;
  return { ...header, data: decodeSample(new Uint8Array(frame.subarray(2 + length))), binary: true };
}

export class DashboardClient {
  readonly ws: WebSocket;
  readonly messages: Message[] = [];
  welcome: any = null;
  closed: { code: number; reason: string } | null = null;
  #nextId = 1;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data, isBinary) => this.messages.push(isBinary ? readBinary(data as Buffer) : (JSON.parse(String(data)) as Message)));
    ws.on('close', (code, reason) => (this.closed = { code, reason: String(reason) }));
    ws.on('error', () => {});
  }

  /** Connects and waits for the welcome. */
  static async open(url: string): Promise<DashboardClient> {
    const client = new DashboardClient(new WebSocket(url, 'fdx.v1'));
    await new Promise<void>((resolve, reject) => {
      client.ws.once('open', () => resolve());
      client.ws.once('error', reject);
    });
    client.send({ type: 'connect', id: 0 });
    await client.until(() => client.replyTo(0) !== undefined, 'the welcome');
    client.welcome = client.replyTo(0)!.result.data;
    return client;
  }

  /** The catalog entry of a series id, by the welcome (or the latest catalog event). */
  entry(id: string): CatalogEntry {
    const entry = this.catalog().find((info) => info.id === id);
    if (!entry) throw new Error(`no series ${id}`);
    return entry;
  }

  catalog(): CatalogEntry[] {
    return (this.events('catalog').at(-1)?.series ?? this.welcome.series) as CatalogEntry[];
  }

  replyTo(id: number): Reply | undefined {
    return this.messages.find((message) => message.type === 'reply' && message.id === id) as Reply | undefined;
  }

  /** Pushes of the server event `name`, their data. */
  events(name: string): any[] {
    return this.messages.filter((message) => message.type === 'event' && message.event === name).map((message) => message.data);
  }

  /** Publications received on `channel`. */
  pubs(channel: string): Message[] {
    return this.messages.filter((message) => message.type === 'pub' && message.channel === channel);
  }

  send(message: object | string): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** Sends a request (its id added) without waiting; returns the id. */
  post(message: object): number {
    const id = this.#nextId++;
    this.send({ ...message, id });
    return id;
  }

  /** Sends a request and waits for its reply. */
  async request(message: object): Promise<Reply> {
    const id = this.post(message);
    await this.until(() => this.replyTo(id) !== undefined, `the reply to ${JSON.stringify(message).slice(0, 80)}`);
    return this.replyTo(id)!;
  }

  subscribe(channel: string): Promise<Reply> {
    return this.request({ type: 'subscribe', channel });
  }

  until(check: () => boolean, what: string, ms = WAIT_MS): Promise<void> {
    return waitUntil(check, what, ms);
  }

  close(): void {
    this.ws.terminate();
  }
}

/**
 * A page on fullduplex/client subscribed to the channel `pick` chooses from the welcome's
 * catalog: once samples flow, its socket is cut under it; resolves once the client reconnected
 * (a second later) and received 25 samples more, with every offset received and whether each
 * (re)subscription recovered.
 */
export async function dropAndRecover(url: string, pick: (series: CatalogEntry[]) => string): Promise<{ offsets: number[]; recoveries: boolean[] }> {
  const sockets: WebSocket[] = [];
  class TrackedWebSocket extends WebSocket {
    constructor(address: string, protocols: string | string[]) {
      super(address, protocols);
      sockets.push(this);
    }
  }
  const client = createClient(url, { WebSocket: TrackedWebSocket as never, minDelayMs: 1000, maxDelayMs: 1000, random: () => 1 });
  try {
    const welcome = await new Promise<any>((resolve) => client.on('online', resolve));
    const offsets: number[] = [];
    const recoveries: boolean[] = [];
    client.on('subscribed', (_channel, recovered) => recoveries.push(recovered));
    client.subscribe(pick(welcome.series), (_sample, info) => offsets.push(Number(info.offset)));
    await waitUntil(() => offsets.length >= 5, 'samples before the drop', WAIT_MS);
    sockets.at(-1)!.terminate();
    await waitUntil(() => client.state === 'disconnected', 'disconnected', WAIT_MS);
    const lastBefore = offsets.at(-1)!;
    await waitUntil(() => recoveries.length === 2 && offsets.at(-1)! > lastBefore + 25, 'samples after the reconnect', WAIT_MS);
    return { offsets, recoveries };
  } finally {
    client.close();
  }
}
