/**
 * What a chat client may ask, read from one text message. Wire format (JSON objects):
 *   {"type": "join", "room": "general"}    enter a room (leaving the current one)
 *   {"type": "leave"}                      leave the current room
 *   {"type": "message", "text": "hi"}      say something in the current room
 * Anything else is refused with a stable code and a sentence for the person at the keyboard.
 * Must not: throw on any input, or echo more than a short excerpt of it back.
 */
export type ClientCommand = { type: 'join'; room: string } | { type: 'leave' } | { type: 'message'; text: string };

export type Refusal = { code: RefusalCode; text: string };

export type RefusalCode =
  | 'bad-json'
  | 'bad-type'
  | 'binary'
  | 'unknown-room'
  | 'empty'
  | 'too-long'
  | 'not-in-room'
  | 'already-in-room'
  | 'rate-limited'
  | 'broker-unavailable';

const FORMAT = 'expected JSON like {"type":"message","text":"..."}, {"type":"join","room":"..."} or {"type":"leave"}';

/** Longest excerpt of client input quoted in a refusal. */
const MAX_QUOTE = 32;

export function quote(value: string): string {
  return JSON.stringify(value.length > MAX_QUOTE ? `${value.slice(0, MAX_QUOTE)}…` : value);
}

/**
 * Reads one client message. `rooms` lists the rooms that exist. A message's text, once stripped
 * of control characters (newlines and tabs excepted) and trimmed, must be 1 to maxTextLength
 * characters (UTF-16 code units, as the page's maxlength counts).
 */
export function readCommand(raw: string, rooms: readonly string[], maxTextLength: number): ClientCommand | Refusal {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { code: 'bad-json', text: `not JSON: ${FORMAT}` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { code: 'bad-json', text: FORMAT };
  }
  const { type, room, text } = parsed as { type?: unknown; room?: unknown; text?: unknown };
  switch (type) {
    case 'join':
      if (typeof room !== 'string' || !rooms.includes(room)) {
        const which = typeof room === 'string' ? `no room named ${quote(room)}` : 'a join needs a "room"';
        return { code: 'unknown-room', text: `${which}; the rooms are ${rooms.join(', ')}` };
      }
      return { type: 'join', room };
    case 'leave':
      return { type: 'leave' };
    case 'message': {
      if (typeof text !== 'string') return { code: 'bad-json', text: 'a message needs a "text" string' };
      // eslint-disable-next-line no-control-regex
      const clean = text.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '').trim();
      if (clean.length === 0) return { code: 'empty', text: 'empty message' };
      if (clean.length > maxTextLength) return { code: 'too-long', text: `message longer than ${maxTextLength} characters` };
      return { type: 'message', text: clean };
    }
    default:
      return { code: 'bad-type', text: `unknown type ${typeof type === 'string' ? quote(type) : String(type)}: ${FORMAT}` };
  }
}
