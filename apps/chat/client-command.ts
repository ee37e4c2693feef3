/**
 * What a chat page may ask of the server, read from the data of one fdx.v1 event:
 *   chat:history {room}              the room's recent messages
 *   chat:send    {room, text}        say `text` in `room`
 * Anything else is refused with a RealtimeError (INVALID_PAYLOAD) whose message is a sentence
 * for the person at the keyboard.
 * Must not: throw anything but RealtimeError, or echo more than a short excerpt of the input.
 */
import { RealtimeError } from 'fullduplex/realtime';

/** Longest excerpt of client input quoted in a refusal. */
const MAX_QUOTE = 32;

export function quote(value: string): string {
  return JSON.stringify(value.length > MAX_QUOTE ? `${value.slice(0, MAX_QUOTE)}…` : value);
}

const refuse = (text: string): RealtimeError => new RealtimeError('INVALID_PAYLOAD', text);

function fields(data: unknown): Record<string, unknown> {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw refuse('expected an object');
  return data as Record<string, unknown>;
}

/** The `room` of an event's data, which must be one of `rooms`. */
export function readRoom(data: unknown, rooms: readonly string[]): string {
  const { room } = fields(data);
  if (typeof room !== 'string' || !rooms.includes(room)) {
    const which = typeof room === 'string' ? `no room named ${quote(room)}` : 'a "room" is needed';
    throw refuse(`${which}; the rooms are ${rooms.join(', ')}`);
  }
  return room;
}

/**
 * The room and text of a chat:send. The text, once stripped of control characters (newlines
 * and tabs excepted) and trimmed, must be 1 to maxTextLength characters (UTF-16 code units, as
 * the page's maxlength counts).
 */
export function readMessage(data: unknown, rooms: readonly string[], maxTextLength: number): { room: string; text: string } {
  const room = readRoom(data, rooms);
  const { text } = fields(data);
  if (typeof text !== 'string') throw refuse('a message needs a "text" string');
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '').trim();
  if (clean.length === 0) throw refuse('empty message');
  if (clean.length > maxTextLength) throw refuse(`message longer than ${maxTextLength} characters`);
  return { room, text: clean };
}

/** A nickname from the connect data: printable text of at most maxNameLength, or '' (none asked). */
export function readName(data: unknown, maxNameLength: number): string {
  const name = typeof data === 'object' && data !== null ? (data as { name?: unknown }).name : undefined;
  if (typeof name !== 'string') return '';
  // eslint-disable-next-line no-control-regex
  return name.replace(/[\u0000-\u001f\u007f]/g, '').replace(/\s+/g, ' ').trim().slice(0, maxNameLength).trim();
}
