// The protocols the load generator speaks above WebSocket in the channel scenario, written from
// their specifications: fdx.v1 (docs/protocol.md), socket.io 5 over engine.io 4, and the plain
// text messages of servers/fullduplex.mjs in channel mode (fullduplex's topics). A wire says:
//   upgrade             the request's path and offered subprotocol
//   open(session, o)    how a connection opens its session and, unless it is the publisher,
//                       subscribes to o.channel (messages read whole, before the load starts)
//   heartbeat(text, send)  whether a message is the server's keep-alive (answered through send)
//   delivery(channel, data)  the first bytes of a delivered publication, so that the counter
//                       counts deliveries without reading them (frames.mjs, MessageCounter.match)
//   publish(channel, data, seq)  the masked frame that publishes `data` (a JSON text, a Buffer)
//   other(text, channel, send)  any other message during the load: 'delivery' (a publication
//                       after all), 'reply' (the publisher's reply or ack), 'keepalive', or the
//                       reason it was not expected
// No wire reads anything on the delivery path; everything else happens once per connection or
// once per publication.
import { messageFrame } from './frames.mjs';

const textFrame = (text) => messageFrame(Buffer.from(text));
const clip = (text) => (text.length > 120 ? `${text.slice(0, 120)}...` : text);

/** Request ids of publications start above the ids the session opening used. */
const FIRST_PUBLISH_ID = 10;

/** fdx.v1, docs/protocol.md: JSON objects, one correlation rule (`id` echoed in the `reply`). */
const fdx = {
  upgrade: { path: '/', subprotocol: 'fdx.v1' },

  async open(session, { channel, subscribe }) {
    // Section 4: a client may send requests right after `connect`, without waiting for its reply.
    session.send('{"type":"connect","id":1}');
    if (subscribe) session.send(JSON.stringify({ type: 'subscribe', id: 2, channel }));
    for (let replies = subscribe ? 2 : 1; replies > 0; replies -= 1) {
      const text = await session.next();
      const message = JSON.parse(text);
      if (message.type !== 'reply' || (message.id !== 1 && message.id !== 2)) throw new Error(`fdx.v1: expected a reply, got ${clip(text)}`);
      if (message.error) throw new Error(`fdx.v1: ${message.id === 1 ? 'connect' : 'subscribe'} refused: ${message.error.code}`);
    }
  },

  // The server finds dead clients with WebSocket pings (control frames); it sends no fdx.v1 ping.
  heartbeat: () => false,

  // The server's serializer writes `type` and `channel` first; other orders reach other().
  delivery: (channel) => Buffer.from(`{"type":"pub","channel":${JSON.stringify(channel)},`),

  publish: (channel, data, seq) =>
    textFrame(`{"type":"publish","id":${FIRST_PUBLISH_ID + seq},"channel":${JSON.stringify(channel)},"data":${data}}`),

  other(text, channel) {
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      return `fdx.v1: not JSON: ${clip(text)}`;
    }
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
const socketio = {
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

  publish: (channel, data, seq) => textFrame(`42${FIRST_PUBLISH_ID + seq}["publish",${JSON.stringify(channel)},${data}]`),

  other(text, channel, send) {
    if (socketio.heartbeat(text, send)) return 'keepalive';
    if (/^43\d/.test(text)) return 'reply';
    if (text.startsWith('42')) {
      try {
        const args = JSON.parse(text.slice(2));
        if (args[0] === 'pub' && args[1] === channel) return 'delivery';
      } catch {}
    }
    return `socket.io: unexpected ${clip(text)}`;
  },
};

/**
 * fullduplex's topics with the least protocol that does the same job: `subscribe` is answered
 * `subscribed` once the connection is on the topic; any other message is published to it as is.
 */
const topics = {
  upgrade: { path: '/', subprotocol: null },

  async open(session, { subscribe }) {
    if (!subscribe) return;
    session.send('subscribe');
    const answer = await session.next();
    if (answer !== 'subscribed') throw new Error(`topics: expected "subscribed", got ${clip(answer)}`);
  },

  heartbeat: () => false,

  // A delivery is the published data itself.
  delivery: (channel, data) => data,

  publish: (channel, data) => messageFrame(data),

  other: (text) => `topics: unexpected ${clip(text)}`,
};

export const WIRES = { fdx, socketio, topics };
