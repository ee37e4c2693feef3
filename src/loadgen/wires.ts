/**
 * The protocols the load generator speaks above WebSocket when it publishes and counts
 * deliveries, written from their specifications: fdx.v1 (docs/protocol.md), socket.io 5 over
 * engine.io 4, and plain topics (a message sent is published as is, e.g. `fdx serve --topics`
 * and the bench servers' channel mode). A wire says:
 *   upgrade             the default request path and the offered subprotocol
 *   open(session, o)    how a connection opens its session and, unless it is the publisher,
 *                       subscribes to o.channel (messages read whole, before the load starts)
 *   heartbeat(text, send)  whether a message is the server's keep-alive (answered through send)
 *   delivery(channel, data)  the first bytes of a delivered publication, so that the counter
 *                       counts deliveries without reading them (frames.ts, MessageCounter.match)
 *   publish(channel, data, seq)  the masked frame that publishes `data` (a JSON text)
 *   payloadOf(text, channel)  the published data inside a delivery, or null if it is none
 *   other(text, channel, send)  any other message during the load: 'delivery', 'reply' (the
 *                       publisher's reply or ack), 'keepalive', or why it was not expected
 * Must not: read anything on the counted delivery path, or hold state across connections.
 */
import { messageFrame } from './frames.js';

export interface Session {
  send(text: string): void;
  next(): Promise<string>;
}

export type OtherKind = 'delivery' | 'reply' | 'keepalive' | (string & {});

export interface Wire {
  upgrade: { path: string; subprotocol: string | null };
  open(session: Session, options: { channel: string; subscribe: boolean }): Promise<void>;
  heartbeat(text: string, send: (text: string) => void): boolean;
  delivery(channel: string, data: Buffer): Buffer;
  publish(channel: string, data: Buffer | string, seq: number): Buffer;
  payloadOf(text: string, channel: string): string | null;
  other(text: string, channel: string, send?: (text: string) => void): OtherKind;
}

const textFrame = (text: string): Buffer => messageFrame(Buffer.from(text));
const clip = (text: string): string => (text.length > 120 ? `${text.slice(0, 120)}...` : text);

/** Request ids of publications start above the ids the session opening used. */
const FIRST_PUBLISH_ID = 10;

interface FdxMessage {
  type?: string;
  id?: number;
  channel?: string;
  data?: unknown;
  error?: { code?: string; message?: string };
}

function parseJson(text: string): FdxMessage | null {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' ? (value as FdxMessage) : null;
  } catch {
    return null;
  }
}

/** fdx.v1, docs/protocol.md: JSON objects, one correlation rule (`id` echoed in the `reply`). */
const fdx: Wire = {
  upgrade: { path: '/', subprotocol: 'fdx.v1' },

  async open(session, { channel, subscribe }) {
    // Section 4: a client may send requests right after `connect`, without waiting for its reply.
    session.send('{"type":"connect","id":1}');
    if (subscribe) session.send(JSON.stringify({ type: 'subscribe', id: 2, channel }));
    for (let replies = subscribe ? 2 : 1; replies > 0; replies -= 1) {
      const text = await session.next();
      const message = parseJson(text);
      if (message?.type !== 'reply' || (message.id !== 1 && message.id !== 2)) throw new Error(`fdx.v1: expected a reply, got ${clip(text)}`);
      if (message.error) throw new Error(`fdx.v1: ${message.id === 1 ? 'connect' : 'subscribe'} refused: ${message.error.code}`);
    }
  },

  // The server finds dead clients with WebSocket pings (control frames); it sends no fdx.v1 ping.
  heartbeat: () => false,

  // The server's serializer writes `type` and `channel` first; other orders reach other().
  delivery: (channel) => Buffer.from(`{"type":"pub","channel":${JSON.stringify(channel)},`),

  publish: (channel, data, seq) =>
    textFrame(`{"type":"publish","id":${FIRST_PUBLISH_ID + seq},"channel":${JSON.stringify(channel)},"data":${String(data)}}`),

  payloadOf(text, channel) {
    const message = parseJson(text);
    return message?.type === 'pub' && message.channel === channel ? JSON.stringify(message.data) : null;
  },

  other(text, channel) {
    const message = parseJson(text);
    if (message === null) return `fdx.v1: not JSON: ${clip(text)}`;
    if (message.type === 'pub' && message.channel === channel) return 'delivery';
    if (message.type === 'reply' && message.error) return `fdx.v1: publish refused: ${message.error.code} ${message.error.message ?? ''}`.trim();
    if (message.type === 'reply') return 'reply';
    return `fdx.v1: unexpected ${clip(text)}`;
  },
};

/**
 * socket.io 5 over engine.io 4, WebSocket transport from the start. An engine.io packet is one
 * frame: a type digit (0 open, 1 close, 2 ping, 3 pong, 4 message) and its data. A socket.io
 * packet rides in a message: a type digit (0 CONNECT, 1 DISCONNECT, 2 EVENT, 3 ACK, 4
 * CONNECT_ERROR), the namespace when it is not "/", an ack id, then a JSON array of arguments:
 * `40` connects to "/", `421["subscribe","room"]` is an event asking for ack 1, `431[]` acks it.
 */
const socketio: Wire = {
  upgrade: { path: '/socket.io/?EIO=4&transport=websocket', subprotocol: null },

  async open(session, { channel, subscribe }) {
    const handshake = await session.next();
    if (!handshake.startsWith('0{')) throw new Error(`engine.io: expected the open packet, got ${clip(handshake)}`);
    session.send('40');
    const connected = await session.next();
    if (!connected.startsWith('40')) throw new Error(`socket.io: expected CONNECT to "/", got ${clip(connected)}`);
    if (!subscribe) return;
    session.send(`421${JSON.stringify(['subscribe', channel])}`);
    const ack = await session.next();
    if (!/^431\[/.test(ack)) throw new Error(`socket.io: expected ack 1 of subscribe, got ${clip(ack)}`);
  },

  // Engine.io 4: the server pings, the client answers within pingTimeout or is dropped.
  heartbeat(text, send) {
    if (text !== '2') return false;
    send('3');
    return true;
  },

  // io.to(room).emit('pub', room, data) on the server: 42["pub","room",data]
  delivery: (channel) => Buffer.from(`42${JSON.stringify(['pub', channel]).slice(0, -1)},`),

  publish: (channel, data, seq) => textFrame(`42${FIRST_PUBLISH_ID + seq}["publish",${JSON.stringify(channel)},${String(data)}]`),

  payloadOf(text, channel) {
    if (!text.startsWith('42')) return null;
    try {
      const args = JSON.parse(text.slice(2)) as unknown[];
      return args[0] === 'pub' && args[1] === channel ? JSON.stringify(args[2]) : null;
    } catch {
      return null;
    }
  },

  other(text, channel, send = () => {}) {
    if (socketio.heartbeat(text, send)) return 'keepalive';
    if (/^43\d/.test(text)) return 'reply';
    if (socketio.payloadOf(text, channel) !== null) return 'delivery';
    return `socket.io: unexpected ${clip(text)}`;
  },
};

/**
 * Plain topics, the least protocol that does the job: a connection is on its topic once
 * connected (its URL names it, as with `fdx serve --topics`), or once the server answered
 * `subscribe` with `subscribed` (the bench servers' channel mode, `subscribeMessage`); any other
 * message is published to the topic as is.
 */
function topicsWire(subscribeMessage: boolean): Wire {
  return {
    upgrade: { path: '/', subprotocol: null },

    async open(session, { subscribe }) {
      if (!subscribe || !subscribeMessage) return;
      session.send('subscribe');
      const answer = await session.next();
      if (answer !== 'subscribed') throw new Error(`topics: expected "subscribed", got ${clip(answer)}`);
    },

    heartbeat: () => false,

    // A delivery is the published data itself.
    delivery: (_channel, data) => data,

    publish: (_channel, data) => messageFrame(Buffer.from(data)),

    payloadOf: (text) => text,

    other: (text) => `topics: unexpected ${clip(text)}`,
  };
}

export const WIRES = { fdx, socketio, topics: topicsWire(true), plain: topicsWire(false) } as const satisfies Record<string, Wire>;
export type WireName = keyof typeof WIRES;
