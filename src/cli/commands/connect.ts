/**
 * `fdx connect URL`: a WebSocket client for people and scripts. On a terminal it is interactive
 * (readline's line editing and history, received and sent lines marked and coloured); with
 * stdin from a pipe or a file it sends one message per line and exits once the input has ended
 * and the close handshake is done. `--realtime` speaks fdx.v1 through fullduplex/client
 * (realtime-session.ts); everything else is one plain WebSocket (plain-session.ts).
 * Must not: import past the public entry points, or call process.exit.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { ClientOptions } from '../../index.js';
import { ExitCode, UsageMistake, parseChoice, parseHeaders, parseInteger, stringValue, stringValues, type Command } from '../args.js';
import { PlainSession } from '../plain-session.js';
import type { ConnectSettings, Session } from '../session.js';
import { RealtimeSession } from '../realtime-session.js';
import { Terminal } from '../terminal.js';

export const connectCommand: Command = {
  summary: 'Talk to a WebSocket server from a terminal or a script (fdx.v1 with --realtime)',
  usage: [
    'Usage: fdx connect URL [options]',
    '',
    'Opens a WebSocket to URL (ws://, wss://, http(s)://, or ws+unix:///path/to.sock:/request/path).',
    'On a terminal: type a line to send it; received messages are marked "<", status "*",',
    'errors "!" (coloured unless NO_COLOR is set or the output is not a terminal); Ctrl-D or',
    'Ctrl-C closes. From a pipe or a file: each input line is sent as one message, received',
    'messages are printed one per line on stdout (status and errors on stderr), and fdx exits',
    'once the input has ended and the close handshake is done.',
    '',
    'Commands (a line that starts with "/"; "//" sends a line starting with "/"):',
    '  /ping [DATA]            Send a ping; prints the round-trip time when the pong arrives',
    '  /close [CODE [REASON]]  Start the close handshake (default 1000)',
    '  /help                   List the commands',
    '  With --realtime:',
    '  /sub CHANNEL            Subscribe; publications print as "pub CHANNEL DATA"',
    '  /unsub CHANNEL          Unsubscribe',
    '  /pub CHANNEL JSON       Publish; the reply prints as "reply pub CHANNEL RESULT"',
    '  /req EVENT JSON         Request; the reply prints as "reply EVENT RESULT"',
    '  /emit EVENT JSON        Push an event (no reply)',
    '',
    'Options:',
    '  -H, --header "Name: value"  Add a request header (repeatable)',
    '  --origin ORIGIN             Send this Origin header',
    '  -s, --subprotocol NAME      Offer a subprotocol (repeatable)',
    '  --no-deflate                Do not offer permessage-deflate (offered by default)',
    '  --binary hex|base64         Send each line as a binary message decoded from hex or',
    '                              base64; print binary messages in that encoding',
    '                              (default: binary messages are printed as hex)',
    '  --json                      Pretty-print received JSON messages',
    '  --exit-after N              Close after N received messages (the end of input then',
    '                              does not close; the Nth message or --wait does)',
    '  --wait MS                   After the input ends, keep the connection open MS ms',
    '                              before closing (default 0)',
    '  --reconnect                 Reconnect (with backoff) when the server closes or the',
    '                              connection drops; lines typed meanwhile are sent after',
    '  --connect-timeout MS        Give up the opening handshake after MS ms (default 10000)',
    '  -k, --insecure              Accept any TLS certificate (wss://)',
    '  --ca FILE                   Trust the CA certificate(s) in this PEM file (wss://)',
    '  --realtime                  Speak fdx.v1 (fullduplex/realtime) through fullduplex/client',
    '  --token TOKEN               With --realtime: the token sent in connect',
    '  -h, --help                  Show this help',
    '',
    'Exit codes:',
    '  0  closed cleanly: the close handshake completed, started by fdx, or by the server',
    '     with 1000, 1001, 1005 (no code) or 1012',
    '  1  the connection could not be made (refused, bad answer, TLS, timeout)',
    '  2  usage mistake',
    '  3  closed abnormally: no close handshake (1006) or another close code from the server',
  ].join('\n'),
  options: {
    header: { type: 'string', short: 'H', multiple: true },
    origin: { type: 'string' },
    subprotocol: { type: 'string', short: 's', multiple: true },
    'no-deflate': { type: 'boolean' },
    binary: { type: 'string' },
    json: { type: 'boolean' },
    'exit-after': { type: 'string' },
    wait: { type: 'string' },
    reconnect: { type: 'boolean' },
    'connect-timeout': { type: 'string' },
    insecure: { type: 'boolean', short: 'k' },
    ca: { type: 'string' },
    realtime: { type: 'boolean' },
    token: { type: 'string' },
  },
  positionals: true,
  async run({ values, positionals }) {
    const settings = readSettings(values, positionals);
    return connect(settings, values.realtime === true);
  },
};

function readSettings(values: Parameters<Command['run']>[0]['values'], positionals: string[]): ConnectSettings {
  if (positionals.length === 0) throw new UsageMistake('missing URL');
  if (positionals.length > 1) throw new UsageMistake(`unexpected argument '${positionals[1]}'`);
  const url = positionals[0]!;
  if (!/^(wss?|https?|ws\+unix):\/\//i.test(url)) {
    throw new UsageMistake(`the URL must start with ws://, wss://, http://, https:// or ws+unix://, got '${url}'`);
  }
  const realtime = values.realtime === true;
  const binary = parseChoice('--binary', stringValue(values, 'binary'), ['hex', 'base64'] as const);
  const subprotocols = stringValues(values, 'subprotocol');
  if (realtime && binary) throw new UsageMistake('--binary does not go with --realtime (fdx.v1 is JSON text)');
  if (realtime && subprotocols.length > 0) throw new UsageMistake('-s does not go with --realtime (it offers fdx.v1)');
  if (!realtime && values.token !== undefined) throw new UsageMistake('--token needs --realtime');
  for (const name of subprotocols) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new UsageMistake(`-s wants a subprotocol name (a token), got '${name}'`);
  }
  const clientOptions: ClientOptions = {
    headers: parseHeaders(stringValues(values, 'header')),
    perMessageDeflate: values['no-deflate'] !== true,
    handshakeTimeout: parseInteger('--connect-timeout', stringValue(values, 'connect-timeout'), 1, 2 ** 31 - 1) ?? 10_000,
    closeTimeoutMs: 5000,
  };
  const origin = stringValue(values, 'origin');
  if (origin !== undefined) clientOptions.origin = origin;
  if (values.insecure === true) clientOptions.rejectUnauthorized = false;
  const ca = stringValue(values, 'ca');
  if (ca !== undefined) {
    try {
      clientOptions.ca = readFileSync(ca);
    } catch (error) {
      throw new UsageMistake(`cannot read --ca ${ca}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
  }
  return {
    url,
    clientOptions,
    subprotocols,
    binary,
    json: values.json === true,
    exitAfter: parseInteger('--exit-after', stringValue(values, 'exit-after'), 1, Number.MAX_SAFE_INTEGER),
    waitMs: parseInteger('--wait', stringValue(values, 'wait'), 0, 2 ** 31 - 1) ?? 0,
    reconnect: values.reconnect === true,
    token: stringValue(values, 'token'),
  };
}

/** Wires stdin (a readline interface, with a prompt on a terminal) and signals to a session. */
async function connect(settings: ConnectSettings, realtime: boolean): Promise<ExitCode> {
  const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true;
  const terminal = new Terminal(interactive);
  // Check the URL the way the client will, so that a bad one is a usage mistake (exit 2).
  try {
    new URL(settings.url);
  } catch {
    throw new UsageMistake(`invalid URL '${settings.url}'`);
  }
  const session: Session = realtime ? new RealtimeSession(settings, terminal) : new PlainSession(settings, terminal);

  const input = createInterface({
    input: process.stdin,
    output: interactive ? process.stdout : undefined,
    terminal: interactive,
    historySize: interactive ? 500 : 0,
    prompt: '> ',
  });
  let inputOpen = true;
  const stopInput = (): void => {
    if (!inputOpen) return;
    inputOpen = false;
    terminal.attach(null);
    input.close();
  };
  session.onStopInput = stopInput;
  input.on('line', (line) => {
    if (!inputOpen) return;
    session.line(line);
    if (interactive && inputOpen) input.prompt();
  });
  input.on('close', () => {
    if (!inputOpen) return;
    inputOpen = false;
    terminal.attach(null);
    if (interactive) process.stdout.write('\n');
    session.endOfInput();
  });
  // On a terminal, readline turns Ctrl-C into 'SIGINT' on the interface.
  input.on('SIGINT', () => session.interrupt());
  const onSignal = (): void => session.interrupt();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A reader that went away (`fdx connect ... | head -1`): close the connection, quietly.
  let outputGone = false;
  const onOutputError = (error: NodeJS.ErrnoException): void => {
    if (outputGone) return;
    outputGone = true;
    if (error.code !== 'EPIPE') process.stderr.write(`fdx: cannot write the output: ${error.message}\n`);
    stopInput();
    session.interrupt('the output was closed; closing');
  };
  process.stdout.on('error', onOutputError);
  if (interactive) {
    terminal.attach(input);
    input.prompt();
  }
  try {
    return await session.done;
  } finally {
    stopInput();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    // Later writes to a closed stdout must not throw either.
    if (!outputGone) process.stdout.removeListener('error', onOutputError);
    // stdin may still hold a reference (a pipe nobody closes); the answer is known.
    process.stdin.unref?.();
    process.stdin.destroy();
  }
}
