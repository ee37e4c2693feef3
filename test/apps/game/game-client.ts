/**
 * A player of the arena in Node, speaking the binary frames directly: it keeps what the server
 * sent (its welcome, every state, pongs) and waits, bounded, for conditions on them.
 */
import WebSocket from 'fullduplex';
import { until as waitUntil } from '../../support/clients.js';
import { decodeServerFrame, encodeInput, type State, type Welcome } from '../../../apps/game/game-frames.js';

export const WAIT_MS = 10_000;

export class GameClient {
  readonly ws: WebSocket;
  welcome: Welcome | null = null;
  states: State[] = [];
  pongs: Array<{ time: number; tick: number }> = [];
  closed: { code: number; reason: string } | null = null;
  #seq = 0;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data, isBinary) => {
      if (!isBinary) return;
      const frame = decodeServerFrame(new Uint8Array(data as Buffer));
      if (frame?.type === 'welcome') this.welcome = frame;
      else if (frame?.type === 'state') this.states.push(frame);
      else if (frame?.type === 'pong') this.pongs.push(frame);
    });
    ws.on('close', (code, reason) => (this.closed = { code, reason: String(reason) }));
    ws.on('error', () => {});
  }

  static async join(url: string): Promise<GameClient> {
    const client = new GameClient(new WebSocket(url));
    await client.until(() => client.welcome !== null && client.states.length > 0, 'a welcome and a state');
    return client;
  }

  get id(): number {
    return this.welcome!.id;
  }

  /** This player (or `id`) in the newest state. */
  position(id = this.id) {
    return this.states.at(-1)?.players.find((player) => player.id === id);
  }

  /** Sends `count` numbered inputs of `keys`, one per `everyMs` (0: all at once). */
  async move(keys: number, count: number, everyMs = 1000 / 30): Promise<number> {
    for (let i = 0; i < count; i++) {
      this.ws.send(encodeInput({ seq: ++this.#seq, keys }));
      if (everyMs > 0) await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
    return this.#seq;
  }

  until(check: () => boolean, what: string, ms = WAIT_MS): Promise<void> {
    return waitUntil(check, what, ms);
  }

  close(): void {
    this.ws.terminate();
  }
}
