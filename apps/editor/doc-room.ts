/**
 * One open document: its Y.Doc and awareness, the connections editing it in this process, and
 * the y-websocket conversation with each (sync step 1 and 2, updates, awareness). An accepted
 * update is applied once, sent to the room's other connections, shared with the other processes
 * (DocRelay) and handed to the DocStore. A connection that sends bad input is closed with the
 * code EDITOR_CLOSE gives, before its message touches the document: the others go on editing.
 * Must not: read files or Redis itself, or parse anything but through y-message.ts.
 */
import type { PreparedMessage, RawData, WebSocket } from 'fullduplex';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as Y from 'yjs';
import type { DocRelay } from './doc-relay.js';
import type { DocStore } from './doc-store.js';
import { FloodGuard } from './flood-guard.js';
import { EDITOR_CLOSE, MESSAGE, SYNC, awarenessMessage, isRefusal, readClientMessage, syncMessage, type Refusal } from './y-message.js';

export interface RoomLimits {
  /** Messages a connection may send in one second; past it the connection is closed with 1008. */
  maxMessagesPerSecond: number;
  /** Update bytes a document may take in (since it was opened, counting what it loaded). */
  maxDocumentBytes: number;
}

export interface RoomPorts {
  store: DocStore;
  relay: DocRelay;
  limits: RoomLimits;
  log: (line: string) => void;
  /** Frames a binary message once for all the room's connections (wss.prepare). */
  prepare: (message: Uint8Array) => PreparedMessage;
  /** Called once the room has no connection and none is expected. */
  onEmpty: (room: DocRoom) => void;
}

/** Origins of changes that did not come from a connection of this process. */
const FROM_STORE = Symbol('store');
const FROM_RELAY = Symbol('relay');

interface Editor {
  guard: FloodGuard;
  /** The awareness client ids this connection announced, removed when it goes. */
  clientIds: Set<number>;
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}

export class DocRoom {
  readonly name: string;
  readonly doc = new Y.Doc();
  readonly awareness = new awarenessProtocol.Awareness(this.doc);
  readonly #ports: RoomPorts;
  readonly #editors = new Map<WebSocket, Editor>();
  /** Upgrades under way for this room: it stays open for them. */
  #expected = 0;
  #bytes = 0;
  #closed = false;

  private constructor(name: string, ports: RoomPorts) {
    this.name = name;
    this.#ports = ports;
    this.awareness.setLocalState(null);
    this.doc.on('update', (update: Uint8Array, origin: unknown) => this.#onUpdate(update, origin));
    this.awareness.on('update', (change: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) =>
      this.#onAwareness(change, origin),
    );
  }

  /** Opens `name`: listens to the other processes first, then loads what was stored. */
  static async open(name: string, ports: RoomPorts): Promise<DocRoom> {
    const room = new DocRoom(name, ports);
    try {
      await ports.relay.join(name, (message) => room.#fromRelay(message));
      // Awareness is only repeated every 15 s: ask the other processes for theirs now.
      ports.relay.publish(name, Uint8Array.of(MESSAGE.queryAwareness));
      for (const update of await ports.store.load(name)) {
        room.#bytes += update.length;
        Y.applyUpdate(room.doc, update, FROM_STORE);
      }
    } catch (error) {
      await room.close();
      throw error;
    }
    return room;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get connections(): number {
    return this.#editors.size;
  }

  /** Keeps the room open for a connection being upgraded; join() or abandon() must follow. */
  expect(): void {
    this.#expected++;
  }

  abandon(): void {
    this.#expected--;
    this.#checkEmpty();
  }

  /** Starts the y-websocket conversation with `ws` (expected before). */
  join(ws: WebSocket): void {
    this.#expected--;
    const editor: Editor = { guard: new FloodGuard(this.#ports.limits.maxMessagesPerSecond), clientIds: new Set() };
    this.#editors.set(ws, editor);
    ws.on('message', (data, isBinary) => this.#onMessage(ws, editor, toBytes(data), isBinary));
    ws.on('close', () => this.#leave(ws, editor));
    ws.on('error', () => {});
    ws.send(syncMessage(SYNC.step1, Y.encodeStateVector(this.doc)));
    const states = [...this.awareness.getStates().keys()];
    if (states.length > 0) ws.send(awarenessMessage(awarenessProtocol.encodeAwarenessUpdate(this.awareness, states)));
  }

  #leave(ws: WebSocket, editor: Editor): void {
    if (!this.#editors.delete(ws)) return;
    if (editor.clientIds.size > 0) awarenessProtocol.removeAwarenessStates(this.awareness, [...editor.clientIds], null);
    this.#checkEmpty();
  }

  #checkEmpty(): void {
    if (this.#editors.size === 0 && this.#expected === 0 && !this.#closed) this.#ports.onEmpty(this);
  }

  #onMessage(ws: WebSocket, editor: Editor, data: Uint8Array, isBinary: boolean): void {
    if (!this.#editors.has(ws)) return;
    if (!editor.guard.admit()) return this.#refuse(ws, { closeCode: EDITOR_CLOSE.policy, reason: 'too many messages' });
    if (!isBinary) return this.#refuse(ws, { closeCode: EDITOR_CLOSE.unsupported, reason: 'y-websocket messages are binary' });
    const message = readClientMessage(data);
    if (isRefusal(message)) return this.#refuse(ws, message);
    try {
      switch (message.type) {
        case 'syncStep1':
          ws.send(syncMessage(SYNC.step2, Y.encodeStateAsUpdate(this.doc, message.stateVector)));
          return;
        case 'update':
          if (this.#bytes + message.update.length > this.#ports.limits.maxDocumentBytes) {
            return this.#refuse(ws, { closeCode: EDITOR_CLOSE.policy, reason: 'document is full' });
          }
          Y.applyUpdate(this.doc, message.update, ws);
          return;
        case 'awareness':
          awarenessProtocol.applyAwarenessUpdate(this.awareness, message.update, ws);
          return;
        case 'queryAwareness':
          ws.send(awarenessMessage(awarenessProtocol.encodeAwarenessUpdate(this.awareness, [...this.awareness.getStates().keys()])));
          return;
      }
    } catch {
      this.#refuse(ws, { closeCode: EDITOR_CLOSE.malformed, reason: `malformed ${message.type} message` });
    }
  }

  #refuse(ws: WebSocket, refusal: Refusal): void {
    this.#ports.log(`editor: closed a connection to ${this.name} with ${refusal.closeCode}: ${refusal.reason}`);
    ws.close(refusal.closeCode, refusal.reason);
    const editor = this.#editors.get(ws);
    if (editor) this.#leave(ws, editor);
  }

  #fromRelay(data: Uint8Array): void {
    if (this.#closed) return;
    const message = readClientMessage(data);
    try {
      if (!isRefusal(message) && message.type === 'update') Y.applyUpdate(this.doc, message.update, FROM_RELAY);
      else if (!isRefusal(message) && message.type === 'awareness') awarenessProtocol.applyAwarenessUpdate(this.awareness, message.update, FROM_RELAY);
      else if (!isRefusal(message) && message.type === 'queryAwareness') this.#announceLocalAwareness();
    } catch {
      this.#ports.log(`editor: ignored a broken message about ${this.name} from another process`);
    }
  }

  /** Tells the other processes the awareness states of this process's editors. */
  #announceLocalAwareness(): void {
    const ids = [...this.#editors.values()].flatMap((editor) => [...editor.clientIds]);
    if (ids.length > 0) this.#ports.relay.publish(this.name, awarenessMessage(awarenessProtocol.encodeAwarenessUpdate(this.awareness, ids)));
  }

  #onUpdate(update: Uint8Array, origin: unknown): void {
    this.#bytes += update.length;
    const message = syncMessage(SYNC.update, update);
    this.#sendToOthers(message, origin);
    if (origin === FROM_STORE || origin === FROM_RELAY) return;
    this.#ports.relay.publish(this.name, message);
    this.#ports.store.record(this.name, update, () => Y.encodeStateAsUpdate(this.doc));
  }

  #onAwareness(change: { added: number[]; updated: number[]; removed: number[] }, origin: unknown): void {
    const editor = this.#editors.get(origin as WebSocket);
    if (editor) {
      for (const id of change.added) editor.clientIds.add(id);
      for (const id of change.removed) editor.clientIds.delete(id);
    }
    const changed = [...change.added, ...change.updated, ...change.removed];
    const message = awarenessMessage(awarenessProtocol.encodeAwarenessUpdate(this.awareness, changed));
    this.#sendToOthers(message, origin);
    if (origin !== FROM_RELAY) this.#ports.relay.publish(this.name, message);
  }

  /** Sends `message` to the room's connections but `origin`, framed once for all of them. */
  #sendToOthers(message: Uint8Array, origin: unknown): void {
    let prepared: PreparedMessage | undefined;
    for (const ws of this.#editors.keys()) {
      if (ws === origin || ws.readyState !== ws.OPEN) continue;
      prepared ??= this.#ports.prepare(message);
      ws.sendPrepared(prepared);
    }
  }

  /** Closes the room's connections with `closeCode` (if any are left), writes what is pending, lets go. */
  async close(closeCode: number = EDITOR_CLOSE.goingAway): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const ws of this.#editors.keys()) ws.close(closeCode, 'the editor is closing');
    this.#editors.clear();
    await this.#ports.relay.leave(this.name).catch(() => {});
    await this.#ports.store.flush(this.name);
    this.awareness.destroy();
    this.doc.destroy();
  }
}
