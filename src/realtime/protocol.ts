/**
 * The fdx.v1 wire protocol (docs/protocol.md is its specification): the typed messages, the one
 * parser that turns any input into a message or a stable error code, and the one serializer.
 * Messages are plain JSON objects in WebSocket text frames, correlated by an `id` echoed in the
 * `reply`; a message without `id` is a push. A binary publication (`pub`, `publish`) goes in a
 * binary frame: a 2-byte big-endian header length, the JSON header, then the bytes (its `data`).
 * Must not: throw from parseMessage, know about sockets, timers or engines. Shared by the server
 * and the browser client, so it stays small.
 */

/** The WebSocket subprotocol (Sec-WebSocket-Protocol) naming this version. */
export const SUBPROTOCOL = 'fdx.v1';

/** Error codes carried by `reply.error.code` and `error` messages; docs/protocol.md lists each. */
export const ERROR_CODES = [
  'BAD_JSON',
  'BAD_MESSAGE',
  'MESSAGE_TOO_LARGE',
  'ALREADY_CONNECTED',
  'UNAUTHORIZED',
  'CHANNEL_INVALID',
  'CHANNEL_FORBIDDEN',
  'NOT_SUBSCRIBED',
  'TOO_MANY_CHANNELS',
  'RATE_LIMITED',
  'TOO_MANY_PENDING',
  'UNKNOWN_EVENT',
  'INVALID_PAYLOAD',
  'HANDLER_ERROR',
  'TIMEOUT',
  'UNAVAILABLE',
  'SHUTTING_DOWN',
  'DISCONNECTED',
  'OUTBOX_FULL',
  'DEADLINE_EXCEEDED',
  'CLOSED',
  'PRESENCE_DISABLED',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Close codes the server uses beyond RFC 6455's; 4000-4499 say "reconnect", 4500-4999 "do not". */
export const CLOSE_CODES = {
  /** RFC 6455: the server is draining; reconnect now (to another process, if any). */
  SERVICE_RESTART: 1012,
  /** No `connect` message within the server's connect timeout. Reconnect. */
  CONNECT_TIMEOUT: 4000,
  /** Too many messages that broke the rate or pending-request limits in a row. Reconnect later. */
  FLOOD: 4001,
  /** The credentials were refused. Do not reconnect with the same credentials. */
  UNAUTHORIZED: 4500,
  /** The subprotocol was not fdx.v1 or the first message was not `connect`. Do not reconnect. */
  PROTOCOL: 4501,
  /** The server ended this client's session on purpose. Do not reconnect. */
  KICKED: 4502,
} as const;

/** Whether a client should reconnect after the server closed with `code`. */
export function shouldReconnect(code: number): boolean {
  return code < 4500 || code > 4999;
}

export type Id = number | string;
export interface Position {
  offset: string;
  epoch: string;
}
export interface ErrorBody {
  code: string;
  message?: string;
}
/** A publication in a JSON context: binary publications carry `bytes` (base64) instead of `data`. */
export interface PublicationBody {
  offset: string;
  data?: unknown;
  bytes?: string;
}
/** One member of a channel's presence: a user, however many connections (tabs) it has. */
export interface PresenceMember {
  meta: unknown;
  connections: number;
}

export interface ConnectMessage {
  type: 'connect';
  id: Id;
  token?: string;
  data?: unknown;
  /** A session from an earlier `connect` reply, to resume. */
  session?: string;
}
export interface SubscribeMessage { type: 'subscribe'; id: Id; channel: string; since?: Position }
export interface UnsubscribeMessage { type: 'unsubscribe'; id: Id; channel: string }
export interface PublishMessage { type: 'publish'; id: Id; channel: string; data: unknown; key?: string }
export interface EventMessage { type: 'event'; event: string; data: unknown; id?: Id; key?: string }
export interface ReplyMessage { type: 'reply'; id: Id; result?: unknown; error?: ErrorBody }
export interface PingMessage { type: 'ping' }
export interface PongMessage { type: 'pong' }
export interface PubMessage { type: 'pub'; channel: string; offset: string; epoch: string; data: unknown }
export interface JoinMessage { type: 'join'; channel: string; position: Position; recovered?: false }
export interface LeaveMessage { type: 'leave'; channel: string; reason?: string }
export interface DrainMessage { type: 'drain' }
export interface ErrorMessage { type: 'error'; code: string; message?: string }
export interface SetPresenceMessage { type: 'set-presence'; id: Id; channel: string; meta: unknown }
/**
 * A channel's presence: a snapshot (`members`) or a diff (`join`, `update`, `leave`), with the
 * member count after it; count-only channels send `count` alone.
 */
export interface PresenceMessage {
  type: 'presence';
  channel: string;
  count: number;
  members?: Record<string, PresenceMember>;
  join?: Record<string, PresenceMember>;
  update?: Record<string, PresenceMember>;
  leave?: string[];
}

/** Results carried by replies, per request type. */
export interface ConnectResult {
  client: string;
  pingIntervalMs: number;
  data?: unknown;
  /** This client's session (servers with a session store): sent back in the next `connect`. */
  session?: string;
  /** The session named in `connect` was taken over: its channels need no new authorization. */
  resumed?: true;
}
export interface SubscribeResult { recovered: boolean; position: Position; publications: PublicationBody[] }
export interface PublishResult { offset: string; epoch: string; duplicate?: boolean }

export type ClientMessage =
  | ConnectMessage
  | SubscribeMessage
  | UnsubscribeMessage
  | PublishMessage
  | EventMessage
  | ReplyMessage
  | PingMessage
  | PongMessage
  | SetPresenceMessage;
export type ServerMessage =
  | ReplyMessage
  | EventMessage
  | PubMessage
  | JoinMessage
  | LeaveMessage
  | DrainMessage
  | ErrorMessage
  | PresenceMessage
  | PingMessage
  | PongMessage;
export type Message = ClientMessage | ServerMessage;

export type ParseResult =
  | { ok: true; message: Message }
  | { ok: false; code: 'BAD_JSON' | 'BAD_MESSAGE' | 'CHANNEL_INVALID'; reason: string; id?: Id };

/** docs/protocol.md "Channels": 1 to 200 characters from this set. */
const CHANNEL = /^[A-Za-z0-9_\-:.@/=+,~]{1,200}$/;
const MAX_TOKEN = 256;

/** Why `name` is not a valid channel name, or '' when it is. */
export function channelProblem(name: unknown): string {
  return typeof name === 'string' && CHANNEL.test(name)
    ? ''
    : 'channel names are 1 to 200 characters of A-Z a-z 0-9 _ - : . @ / = + , ~';
}

function isId(v: unknown): v is Id {
  return (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) || (typeof v === 'string' && v.length > 0 && v.length <= 64);
}
function isText(v: unknown, max: number): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= max;
}
function isPosition(v: any): v is Position {
  return v !== null && typeof v === 'object' && isText(v.offset, 64) && isText(v.epoch, 64);
}

/**
 * Turns a text frame (or an already decoded value) into a message, or into a stable error code
 * with the reason and, when it could be read, the `id` to answer. Never throws. Unknown fields
 * are ignored (docs/protocol.md: "forward compatibility").
 */
export function parseMessage(input: unknown): ParseResult {
  let m: any = input;
  if (typeof input === 'string') {
    try {
      m = JSON.parse(input);
    } catch {
      return { ok: false, code: 'BAD_JSON', reason: 'not a JSON text' };
    }
  }
  if (m === null || typeof m !== 'object' || Array.isArray(m)) return bad('a message is a JSON object');
  const id = isId(m.id) ? m.id : undefined;
  const fail = (reason: string, code: 'BAD_MESSAGE' | 'CHANNEL_INVALID' = 'BAD_MESSAGE'): ParseResult =>
    id === undefined ? { ok: false, code, reason } : { ok: false, code, reason, id };
  if (m.id !== undefined && id === undefined) return fail('"id" must be a non-negative integer or a string of 1-64 characters');
  const needsId = (): boolean => id !== undefined;
  switch (m.type) {
    case 'connect':
      if (!needsId()) return fail('"connect" needs an "id"');
      if (m.token !== undefined && !isText(m.token, MAX_TOKEN * 16)) return fail('"token" must be a non-empty string');
      if (m.session !== undefined && !isText(m.session, MAX_TOKEN)) return fail(`"session" must be a string of 1-${MAX_TOKEN} characters`);
      return ok(m.session === undefined ? { type: 'connect', id: id!, token: m.token, data: m.data } : { type: 'connect', id: id!, token: m.token, data: m.data, session: m.session });
    case 'subscribe':
    case 'unsubscribe':
    case 'publish': {
      if (!needsId()) return fail(`"${m.type}" needs an "id"`);
      const problem = channelProblem(m.channel);
      if (problem) return fail(problem, 'CHANNEL_INVALID');
      if (m.type === 'unsubscribe') return ok({ type: 'unsubscribe', id: id!, channel: m.channel });
      if (m.type === 'subscribe') {
        if (m.since !== undefined && !isPosition(m.since)) return fail('"since" must be {"offset": string, "epoch": string}');
        return ok(m.since ? { type: 'subscribe', id: id!, channel: m.channel, since: { offset: m.since.offset, epoch: m.since.epoch } } : { type: 'subscribe', id: id!, channel: m.channel });
      }
      if (m.key !== undefined && !isText(m.key, 128)) return fail('"key" must be a string of 1-128 characters');
      return ok({ type: 'publish', id: id!, channel: m.channel, data: m.data ?? null, key: m.key });
    }
    case 'event':
      if (!isText(m.event, 200)) return fail('"event" must be a string of 1-200 characters');
      if (m.key !== undefined && !isText(m.key, 128)) return fail('"key" must be a string of 1-128 characters');
      return ok({ type: 'event', event: m.event, data: m.data ?? null, id, key: m.key });
    case 'reply':
      if (!needsId()) return fail('"reply" needs the "id" it answers');
      if (m.error !== undefined) {
        if (m.error === null || typeof m.error !== 'object' || !isText(m.error.code, 64)) return fail('"error" must be {"code": string, "message"?: string}');
        return ok({ type: 'reply', id: id!, error: { code: m.error.code, message: typeof m.error.message === 'string' ? m.error.message : undefined } });
      }
      return ok({ type: 'reply', id: id!, result: m.result ?? null });
    case 'ping':
    case 'pong':
    case 'drain':
      return ok({ type: m.type });
    case 'pub':
      if (channelProblem(m.channel) || !isText(m.offset, 64) || !isText(m.epoch, 64)) return fail('"pub" needs "channel", "offset" and "epoch"');
      return ok({ type: 'pub', channel: m.channel, offset: m.offset, epoch: m.epoch, data: m.data ?? null });
    case 'join':
      if (channelProblem(m.channel) || !isPosition(m.position)) return fail('"join" needs "channel" and "position"');
      return ok(m.recovered === false ? { type: 'join', channel: m.channel, position: m.position, recovered: false } : { type: 'join', channel: m.channel, position: m.position });
    case 'leave':
      if (channelProblem(m.channel)) return fail('"leave" needs "channel"');
      return ok({ type: 'leave', channel: m.channel, reason: typeof m.reason === 'string' ? m.reason : undefined });
    case 'set-presence':
      if (!needsId()) return fail('"set-presence" needs an "id"');
      if (channelProblem(m.channel)) return fail(channelProblem(m.channel), 'CHANNEL_INVALID');
      return ok({ type: 'set-presence', id: id!, channel: m.channel, meta: m.meta ?? null });
    case 'presence':
      if (channelProblem(m.channel) || !(Number.isSafeInteger(m.count) && m.count >= 0)) return fail('"presence" needs "channel" and "count"');
      for (const field of ['members', 'join', 'update']) if (m[field] !== undefined && !isMembers(m[field])) return fail(`"${field}" must map users to {"meta", "connections"}`);
      if (m.leave !== undefined && !(Array.isArray(m.leave) && m.leave.every((user: unknown) => typeof user === 'string'))) return fail('"leave" must be a list of users');
      return ok({ type: 'presence', channel: m.channel, count: m.count, members: m.members, join: m.join, update: m.update, leave: m.leave });
    case 'error':
      if (!isText(m.code, 64)) return fail('"error" needs "code"');
      return ok({ type: 'error', code: m.code, message: typeof m.message === 'string' ? m.message : undefined });
    default:
      return fail(typeof m.type === 'string' ? `unknown message type "${m.type.slice(0, 40)}"` : '"type" must be a string');
  }
}

function isMembers(v: any): boolean {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  for (const user of Object.keys(v)) {
    const member = v[user];
    if (member === null || typeof member !== 'object' || !(Number.isSafeInteger(member.connections) && member.connections > 0)) return false;
  }
  return true;
}

function ok(message: Message): ParseResult {
  return { ok: true, message };
}
function bad(reason: string): ParseResult {
  return { ok: false, code: 'BAD_MESSAGE', reason };
}

/** The one serializer: a message as the text of one frame. Undefined fields are left out. */
export function serialize(message: Message): string {
  return JSON.stringify(message);
}

/** The messages that may travel in a binary frame (docs/protocol.md section 1), and their direction. */
export const BINARY_TYPES = { pub: 'server to client', publish: 'client to server' } as const;

/**
 * A message whose `data` is bytes as one binary frame: the header (the message without `data`,
 * as JSON) after its 2-byte big-endian UTF-8 length, then the bytes. docs/protocol.md section 1.
 */
export function frameBinary(header: object, data: Uint8Array): Uint8Array {
  const head = new TextEncoder().encode(JSON.stringify(header));
  const frame = new Uint8Array(2 + head.length + data.length);
  frame[0] = head.length >> 8;
  frame[1] = head.length;
  frame.set(head, 2);
  frame.set(data, 2 + head.length);
  return frame;
}

/**
 * A binary frame as the message it carries (the header's fields with `data` the bytes after it),
 * parsed as parseMessage does. A frame cut short or a header that is not a UTF-8 JSON object is
 * BAD_MESSAGE.
 */
export function parseBinary(frame: Uint8Array): ParseResult {
  const length = (frame[0]! << 8) | frame[1]!;
  let header: any;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(frame.subarray(2, 2 + length)));
  } catch {}
  if (frame.length < 2 + length || header === null || typeof header !== 'object') return bad('malformed binary frame');
  return parseMessage({ ...header, data: frame.subarray(2 + length) });
}

/**
 * A binary frame as the message it carries, when BINARY_TYPES allows that message in a binary
 * frame (else BAD_MESSAGE, with the `id` to answer). The browser client, which gets only what
 * the server sends, uses parseBinary alone.
 */
export function parseBinaryMessage(frame: Uint8Array): ParseResult {
  const parsed = parseBinary(frame);
  if (!parsed.ok || parsed.message.type in BINARY_TYPES) return parsed;
  const { type, id } = parsed.message as { type: string; id?: Id };
  return { ok: false, code: 'BAD_MESSAGE', reason: `"${type}" is not sent in a binary frame`, id };
}
