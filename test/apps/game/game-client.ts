/**
 * Players of the arena in Node. GameClient is fullduplex/client, as the page uses it: welcomed,
 * subscribed to `arena`, keeping every STATE it decodes and every error the server pushed.
 * RawPlayer speaks fdx.v1 by hand on a plain WebSocket, to send what the client never would.
 * Every wait is bounded.
 */
import { WebSocket } from 'fullduplex';
import { createClient, type RealtimeClient, type RealtimeError } from 'fullduplex/client';
import { until as waitUntil } from '../../support/clients.js';
import { decodeState, type State } from '../../../apps/game/game-frames.js';
import { CHANNEL, type ArenaEvents, type Welcome } from '../../../apps/game/server.js';

export const WAIT_MS = 10_000;

export class GameClient {
  readonly client: RealtimeClient<ArenaEvents>;
  welcome: Welcome | null = null;
  states: State[] = [];
  /** Publications on `arena` that were not a binary STATE. */
  strays: unknown[] = [];
  errors: RealtimeError[] = [];
  #seq = 0;

  private constructor(url: string) {
    this.client = createClient<ArenaEvents>(url, { WebSocket: WebSocket as never, minDelayMs: 50, maxDelayMs: 300 });
    this.client.on('online', (welcome) => (this.welcome = welcome as Welcome));
    this.client.on('error', (error) => this.errors.push(error));
    this.client.subscribe(CHANNEL, (data) => {
      const state = data instanceof Uint8Array ? decodeState(data) : null;
      if (state) this.states.push(state);
      else this.strays.push(data);
    });
  }

  static async join(url: string): Promise<GameClient> {
    const player = new GameClient(url);
    await player.until(() => player.welcome !== null && player.states.length > 0, 'a welcome and a state');
    return player;
  }

  get id(): number {
    return this.welcome!.id;
  }

  /** This player (or `id`) in the newest state. */
  position(id = this.id) {
    return this.states.at(-1)?.players.find((player) => player.id === id);
  }

  /** Sends `count` numbered inputs of `keys`, one per `everyMs` (0: all at once); resolves with the last number. */
  async move(keys: number, count: number, everyMs = 1000 / 30): Promise<number> {
    for (let i = 0; i < count; i++) {
      this.client.emit('input', { seq: ++this.#seq, keys });
      if (everyMs > 0) await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
    return this.#seq;
  }

  until(check: () => boolean, what: string, ms = WAIT_MS): Promise<void> {
    return waitUntil(check, what, ms);
  }

  close(): void {
    this.client.close();
  }
}

/** A connection that speaks fdx.v1 by hand: connected, then sends raw texts and frames. */
export class RawPlayer {
  readonly ws: WebSocket;
  /** Every text message the server sent, parsed. */
  readonly received: Array<Record<string, any>> = [];
  /** Every binary frame the server sent, as it came. */
  readonly frames: Uint8Array[] = [];
  closed: { code: number; reason: string } | null = null;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data, isBinary) => {
      if (isBinary) this.frames.push(new Uint8Array(data as Buffer));
      else this.received.push(JSON.parse(String(data)));
    });
    ws.on('close', (code, reason) => (this.closed = { code, reason: String(reason) }));
    ws.on('error', () => {});
  }

  /** Opens and sends `connect`; resolves once its reply arrived. */
  static async connect(url: string): Promise<RawPlayer> {
    const raw = new RawPlayer(new WebSocket(url, 'fdx.v1'));
    await new Promise((resolve, reject) => {
      raw.ws.once('open', resolve);
      raw.ws.once('close', () => reject(new Error('closed before it opened')));
    });
    raw.send({ type: 'connect', id: 0 });
    await raw.until(() => raw.reply(0) !== undefined, 'the connect reply');
    return raw;
  }

  send(message: object | string | Uint8Array): void {
    this.ws.send(typeof message === 'object' && !(message instanceof Uint8Array) ? JSON.stringify(message) : message);
  }

  /** The reply to request `id`, if it came. */
  reply(id: number): Record<string, any> | undefined {
    return this.received.find((message) => message.type === 'reply' && message.id === id);
  }

  /** The codes of the `error` pushes received so far. */
  get errorCodes(): string[] {
    return this.received.filter((message) => message.type === 'error').map((message) => message.code as string);
  }

  until(check: () => boolean, what: string, ms = WAIT_MS): Promise<void> {
    return waitUntil(check, what, ms);
  }

  close(): void {
    this.ws.terminate();
  }
}
