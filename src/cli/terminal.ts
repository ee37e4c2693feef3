/**
 * Where `fdx connect` writes. Interactive (a terminal on both ends): everything goes to stdout,
 * each line marked (`<` received, `>` sent, `*` status, `!` error) and coloured unless NO_COLOR
 * is set, printed above the prompt without breaking the line being typed. Scripted: received
 * messages alone go to stdout, one per line, unmarked; status and errors go to stderr.
 * Must not: read input or know about WebSockets.
 */
import { clearLine, cursorTo, type Interface } from 'node:readline';

const COLOURS = { received: '\x1b[32m', sent: '\x1b[36m', status: '\x1b[2m', error: '\x1b[31m' } as const;
const MARKS = { received: '<', sent: '>', status: '*', error: '!' } as const;
const RESET = '\x1b[0m';

type Kind = keyof typeof MARKS;

export class Terminal {
  readonly interactive: boolean;
  readonly #colour: boolean;
  #prompt: Interface | null = null;

  constructor(interactive: boolean, env: NodeJS.ProcessEnv = process.env) {
    this.interactive = interactive;
    // https://no-color.org: any non-empty NO_COLOR turns colour off.
    this.#colour = interactive && !env.NO_COLOR && env.TERM !== 'dumb';
  }

  /** The readline interface whose prompt is redrawn after each printed line. */
  attach(prompt: Interface | null): void {
    this.#prompt = prompt;
  }

  received(text: string): void {
    if (this.interactive) this.#print('received', text);
    else process.stdout.write(`${text}\n`);
  }

  /** Something this end sent that the prompt line does not already show. */
  sent(text: string): void {
    if (this.interactive) this.#print('sent', text);
  }

  status(text: string): void {
    if (this.interactive) this.#print('status', text);
    else process.stderr.write(`fdx: ${text}\n`);
  }

  error(text: string): void {
    if (this.interactive) this.#print('error', text);
    else process.stderr.write(`fdx: ${text}\n`);
  }

  #print(kind: Kind, text: string): void {
    const mark = MARKS[kind];
    const lines = text.split('\n').map((line, i) => `${i === 0 ? mark : ' '} ${line}`);
    const body = this.#colour ? `${COLOURS[kind]}${lines.join('\n')}${RESET}` : lines.join('\n');
    const prompt = this.#prompt;
    if (prompt) {
      clearLine(process.stdout, 0);
      cursorTo(process.stdout, 0);
    }
    process.stdout.write(`${body}\n`);
    if (prompt) prompt.prompt(true);
  }
}
