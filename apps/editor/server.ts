/**
 * The collaborative editor demo: Yjs documents edited in CodeMirror by any number of tabs, over
 * the y-websocket protocol spoken by our own server (doc-room.ts) on fullduplex's
 * WebSocketServer, so the stock `y-websocket` client works against it unchanged.
 *
 *   GET  <base>                  the page (?doc=NAME picks the document, ?name= the user's name)
 *   GET  <base>app.js            the page's script, bundled by esbuild in memory
 *   WS   <base>ws/<doc>          y-websocket for the document <doc> ([A-Za-z0-9_-]{1,64})
 *
 * Bad input: an upgrade for a bad document name gets HTTP 400; a text frame or an unknown
 * message type closes with 1003, a malformed message with 1007, a message over maxPayload with
 * 1009, a flood or a full document with 1008; the other editors of the document go on.
 * Persistence: without Redis, a file per document in DemoContext.dataDir (FileDocStore, written
 * debounced and when the document's last editor leaves or the demo closes). With --redis, every
 * change is shared with the other processes through fullduplex's RedisBroker (DocRelay) and kept
 * in a Redis list per document (RedisDocStore), so any process can serve any document.
 * Must not: import the library's src/ (public entry points only), or listen on a port.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { MemoryBroker, WebSocketServer, type Broker } from 'fullduplex';
import { RedisBroker } from 'fullduplex/redis';
import type { CreateDemo, Demo, DemoContext } from '../shared/demo.js';
import { PublicFolder } from '../shared/public-folder.js';
import { DocRelay } from './doc-relay.js';
import { DocRoom, type RoomLimits } from './doc-room.js';
import { DOC_NAME, type DocStore } from './doc-store.js';
import { FileDocStore } from './file-doc-store.js';
import { PageBundle } from './page-bundle.js';
import { RedisDocStore } from './redis-doc-store.js';
import { EDITOR_CLOSE } from './y-message.js';

export const EDITOR_LIMITS = {
  /** Largest WebSocket message (one update or awareness message); past it, 1009. */
  maxPayload: 1024 * 1024,
  /** Bytes waiting for a slow reader before it is closed with 1008. */
  maxBackpressure: 4 * 1024 * 1024,
  /** Messages a connection may send in one second (typing sends two or three a keystroke). */
  maxMessagesPerSecond: 200,
  /** Update bytes a document may take in while it is open (loaded ones included). */
  maxDocumentBytes: 16 * 1024 * 1024,
} as const;

export interface EditorOptions {
  /** Prefix of the Redis keys and channels of this editor. Default 'fdx-editor:'. */
  redisPrefix?: string;
  /** Quiet time before a changed document is written to its file. Default 500. */
  saveDelayMs?: number;
  /** Overrides of EDITOR_LIMITS' room limits (tests use small ones). */
  limits?: Partial<RoomLimits>;
}

export interface EditorDemo extends Demo {
  /** Connections open now, in this process. */
  readonly connections: number;
}

const PUBLIC = fileURLToPath(new URL('./public/', import.meta.url));

/** Ends an upgrade that is refused with a plain-text HTTP answer. */
function refuseUpgrade(socket: Duplex, status: string, text: string): void {
  const body = `${text}\n`;
  socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

export async function createEditor(context: DemoContext, options: EditorOptions = {}): Promise<EditorDemo> {
  const prefix = options.redisPrefix ?? 'fdx-editor:';
  const limits: RoomLimits = {
    maxMessagesPerSecond: options.limits?.maxMessagesPerSecond ?? EDITOR_LIMITS.maxMessagesPerSecond,
    maxDocumentBytes: options.limits?.maxDocumentBytes ?? EDITOR_LIMITS.maxDocumentBytes,
  };
  let broker: Broker;
  let store: DocStore;
  if (context.redisUrl) {
    store = await RedisDocStore.open({ url: context.redisUrl, keyPrefix: prefix, log: context.log });
    broker = new RedisBroker({ url: context.redisUrl, keyPrefix: prefix });
  } else {
    store = new FileDocStore(context.dataDir, { saveDelayMs: options.saveDelayMs, log: context.log });
    broker = new MemoryBroker();
  }
  const relay = new DocRelay(broker, 'doc:', context.log);
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: EDITOR_LIMITS.maxPayload,
    maxBackpressure: EDITOR_LIMITS.maxBackpressure,
    backpressurePolicy: 'close',
  });
  const prepare = (message: Uint8Array) => wss.prepare(message, { binary: true });
  const folder = new PublicFolder(PUBLIC);
  const bundle = new PageBundle();
  /** Open documents; a room is removed when its last editor left, then closed (and flushed). */
  const rooms = new Map<string, Promise<DocRoom>>();
  const closing = new Map<string, Promise<void>>();
  let closed = false;

  const onEmpty = (room: DocRoom): void => {
    if (closed) return;
    rooms.delete(room.name);
    const done = room.close().finally(() => {
      if (closing.get(room.name) === done) closing.delete(room.name);
    });
    closing.set(room.name, done);
  };

  /** The open room of `name`, expecting one more connection. */
  async function roomFor(name: string): Promise<DocRoom> {
    for (;;) {
      let opening = rooms.get(name);
      if (!opening) {
        const previous = closing.get(name) ?? Promise.resolve();
        opening = previous.then(() => DocRoom.open(name, { store, relay, limits, log: context.log, onEmpty, prepare }));
        rooms.set(name, opening);
        opening.catch(() => rooms.get(name) === opening && rooms.delete(name));
      }
      const room = await opening;
      if (!room.closed) {
        room.expect();
        return room;
      }
      if (rooms.get(name) === opening) rooms.delete(name);
    }
  }

  async function upgrade(name: string, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    let room: DocRoom;
    try {
      room = await roomFor(name);
    } catch (error) {
      context.log(`editor: could not open ${name}: ${(error as Error).message}`);
      refuseUpgrade(socket, '503 Service Unavailable', 'the document could not be opened');
      return;
    }
    if (closed || socket.destroyed) {
      room.abandon();
      if (!socket.destroyed) refuseUpgrade(socket, '503 Service Unavailable', 'the editor is closing');
      return;
    }
    let joined = false;
    socket.once('close', () => !joined && room.abandon());
    wss.handleUpgrade(req, socket, head, (ws) => {
      joined = true;
      room.join(ws);
    });
  }

  const pathBelow = (url: string | undefined): string | null => {
    const path = (url ?? '/').split('?')[0]!;
    return path.startsWith(context.basePath) ? path.slice(context.basePath.length) : null;
  };

  return {
    name: 'editor',
    title: 'Collaborative editor',
    summary:
      'A shared document in a code editor: every tab types into the same Yjs document over the y-websocket protocol, ' +
      "served by fullduplex. You see the others' cursors and names, edits made offline merge when you reconnect, " +
      'documents survive a restart (a file each, or Redis), and the stock y-websocket client in Node joins in unchanged.',
    get connections() {
      return wss.clients.size;
    },

    async handleRequest(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
      const below = pathBelow(req.url);
      if (below === null) return false;
      if (below === 'app.js') {
        await bundle.serve(req, res);
        return true;
      }
      if (below.startsWith('ws/')) {
        res.writeHead(426, { upgrade: 'websocket', 'content-type': 'text/plain; charset=utf-8' }).end('this path takes WebSocket connections\n');
        return true;
      }
      return folder.serve(req, res, below);
    },

    handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
      const below = pathBelow(req.url);
      if (below === null || !below.startsWith('ws/')) return false;
      const name = below.slice('ws/'.length);
      if (closed) refuseUpgrade(socket, '503 Service Unavailable', 'the editor is closing');
      else if (!DOC_NAME.test(name)) refuseUpgrade(socket, '400 Bad Request', 'a document name is 1 to 64 of A-Z a-z 0-9 _ -');
      else void upgrade(name, req, socket, head);
      return true;
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      const open = await Promise.allSettled(rooms.values());
      rooms.clear();
      for (const result of open) if (result.status === 'fulfilled') await result.value.close(EDITOR_CLOSE.goingAway);
      await Promise.all(closing.values());
      await store.close();
      await broker.close();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

export const createDemo: CreateDemo = (context) => createEditor(context);
