/**
 * A dashboard page in Node, speaking the JSON messages directly: it keeps what the server sent
 * by type and waits, bounded, for conditions on them.
 */
import WebSocket from 'fullduplex';
import { until as waitUntil } from '../../support/clients.js';

export const WAIT_MS = 10_000;

export type Message = { type: string; [field: string]: any };

export class DashboardClient {
  readonly ws: WebSocket;
  readonly messages: Message[] = [];
  closed: { code: number; reason: string } | null = null;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data) => this.messages.push(JSON.parse(String(data)) as Message));
    ws.on('close', (code, reason) => (this.closed = { code, reason: String(reason) }));
    ws.on('error', () => {});
  }

  static async open(url: string): Promise<DashboardClient> {
    const client = new DashboardClient(new WebSocket(url));
    await client.until(() => client.last('selected') !== undefined, 'the first selection');
    return client;
  }

  of(type: string): Message[] {
    return this.messages.filter((message) => message.type === type);
  }

  last(type: string): Message | undefined {
    return this.of(type).at(-1);
  }

  send(message: object | string): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  until(check: () => boolean, what: string, ms = WAIT_MS): Promise<void> {
    return waitUntil(check, what, ms);
  }

  close(): void {
    this.ws.terminate();
  }
}
