/**
 * What a dashboard page may ask, read from one text message: which series to stream, and the
 * "simulate slow client" toggle. Every input becomes a command or a refusal with a stable code.
 *   {"type":"select","series":["process.cpu.user","synthetic.sine"]}
 *   {"type":"slow","on":true}
 * Must not: throw on any input, or know what the series are beyond the ids it is given.
 */

export type ViewerCommand = { type: 'select'; series: string[] } | { type: 'slow'; on: boolean };

export type RefusalCode = 'bad-json' | 'unknown-type' | 'bad-series' | 'unknown-series' | 'too-many-series' | 'bad-toggle' | 'binary-not-accepted' | 'rate-limited';

export interface Refusal {
  code: RefusalCode;
  text: string;
}

export interface CommandLimits {
  /** Series one page may stream at once. */
  maxSelected: number;
}

/** Reads one message against the known series ids; a refusal says what was wrong. */
export function readViewerCommand(text: string, known: ReadonlySet<string>, limits: CommandLimits): ViewerCommand | Refusal {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { code: 'bad-json', text: 'a message must be a JSON object' };
  }
  if (typeof value !== 'object' || value === null) return { code: 'bad-json', text: 'a message must be a JSON object' };
  const message = value as Record<string, unknown>;
  if (message.type === 'slow') {
    if (typeof message.on !== 'boolean') return { code: 'bad-toggle', text: '"on" must be true or false' };
    return { type: 'slow', on: message.on };
  }
  if (message.type !== 'select') return { code: 'unknown-type', text: 'type must be "select" or "slow"' };
  const ids = message.series;
  if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string')) {
    return { code: 'bad-series', text: '"series" must be a list of series ids' };
  }
  const unique = [...new Set(ids as string[])];
  if (unique.length > limits.maxSelected) {
    return { code: 'too-many-series', text: `at most ${limits.maxSelected} series at once` };
  }
  const unknown = unique.find((id) => !known.has(id));
  if (unknown !== undefined) return { code: 'unknown-series', text: `no series ${JSON.stringify(unknown.slice(0, 80))}` };
  return { type: 'select', series: unique };
}
