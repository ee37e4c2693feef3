/**
 * `fdx bench URL`: load-tests any WebSocket server with the package's load generator
 * (src/loadgen/): reads the options into a plan, runs it on --workers processes, shows a live
 * progress line on a terminal, then prints the report (a table, or JSON with --json) and
 * writes an HTML report with --html FILE. Exit codes: 0 the run completed without errors, 1 it
 * could not connect or counted errors (the report is still printed), 2 usage mistake.
 * Must not: measure anything itself (the workers do), or import past the public entry points
 * and loadgen/.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { progressLine, resultTable } from '../../loadgen/bench-report.js';
import type { LoadTls } from '../../loadgen/client.js';
import { SCENARIOS, runBench, type BenchPlan, type BenchResult, type Scenario } from '../../loadgen/bench-run.js';
import { htmlReport } from '../../loadgen/html-report.js';
import { ExitCode, UsageMistake, parseChoice, parseHeaders, parseInteger, stringValue, stringValues, type Command, type ParsedValues } from '../args.js';

const DEFAULT_RATE: Record<Scenario, number> = { echo: 0, rate: 1000, connect: 0, hold: 0, fanout: 100, publish: 40 };
const DEFAULT_CONNECTIONS: Record<Scenario, number> = { echo: 10, rate: 10, connect: 10, hold: 1000, fanout: 100, publish: 40 };

export const benchCommand: Command = {
  summary: 'Load-test a WebSocket server: echo, open-loop rate, connects, idle, fan-out, fdx.v1',
  usage: [
    'Usage: fdx bench URL [--scenario NAME] [--connections N] [--rate MSGS_PER_S] [--size BYTES]',
    '                 [--duration SECONDS] [--warmup SECONDS] [--workers N]',
    '                 [--source-addresses LIST|COUNT] [--json] [--html FILE] [options]',
    '',
    'Scenarios (--scenario, default echo):',
    '  echo     closed loop: each connection keeps --inflight messages outstanding; latency',
    '           from each send to its reply. Needs a server that echoes.',
    '  rate     open loop: --rate messages/s in total, round-robin over the connections, each',
    '           with at most --inflight outstanding; latency from the intended send time',
    '           (coordinated omission corrected), shown beside the latency from the actual send.',
    '  connect  --connections loops that open a connection (handshake), close it, and open the',
    '           next: connections/s and handshake latency.',
    '  hold     opens --connections connections, holds them idle for --duration, then pings',
    '           each: how many are still held, and the ping round trip.',
    '  fanout   one connection publishes --rate messages/s carrying their publish time; every',
    '           connection that receives one counts a delivery and its latency from that',
    '           time (plain topics: fdx serve --topics PATH, the URL naming the topic).',
    '  publish  the same through fdx.v1 channels (fdx serve\'s /rt, fullduplex/realtime):',
    '           subscribers join --channel, one connection publishes to it. A real-time',
    '           server limits each connection\'s messages (fullduplex/realtime: 50/s by',
    '           default); a refused publication counts as an error.',
    '',
    'Options:',
    '  -s, --scenario NAME        echo, rate, connect, hold, fanout or publish',
    '  -c, --connections N        Connections (default 10; hold 1000, fanout and publish 100)',
    '  -r, --rate MSGS_PER_S      Messages/s in total (rate, default 1000) or publications/s',
    '                             (fanout, default 100; publish, default 40)',
    '  --size BYTES               Message size (default 32; fanout and publish: at least the',
    '                             publish time\'s ~40 bytes)',
    '  --binary                   Binary messages (default text)',
    '  --inflight N               echo: messages outstanding per connection (default 1);',
    '                             rate: most outstanding per connection (default 1000)',
    '  -d, --duration SECONDS     Measured time (default 10; decimals allowed)',
    '  --warmup SECONDS           Load before measuring, not counted (default 1)',
    '  -w, --workers N            Generator processes (default 1); their histograms merge',
    '                             exactly. Each process may hold ~20,000 connections.',
    '  --source-addresses LIST|COUNT  Source IPs, used in turn (e.g. 127.0.0.2,127.0.0.3), or',
    '                             a COUNT of loopback ones (127.0.0.2 and up): each gives its',
    '                             own range of ~28,000 ephemeral ports',
    '  --concurrency N            Handshakes in progress at once per worker (default 64)',
    '  --channel NAME             Channel of the publish scenario (default bench)',
    '  -H, --header "Name: value" Extra request header (repeatable)',
    '  --subprotocol NAME         Offer this subprotocol (publish offers fdx.v1)',
    '  --timeout-ms MS            Limit of each opening handshake (default 10000)',
    '  -k, --insecure             Accept any TLS certificate (wss://)',
    '  --ca FILE                  Trust the CA certificate(s) in this PEM file (wss://)',
    '  --json                     Print the result as JSON (schema 1) instead of the table',
    '  --html FILE                Also write a self-contained HTML report with plots',
    '  -h, --help                 Show this help',
    '',
    'On a terminal a progress line shows the rate, p50/p99, errors and the time left. The',
    'report gives HDR percentiles (p50, p90, p99, p99.9, p99.99, max), errors by kind and each',
    'worker\'s CPU: a worker near 100% means the generator was the limit (add --workers).',
    '',
    'Exit codes: 0 the run completed without errors, 1 no connection could be made or errors',
    'were counted (the report is still printed), 2 usage mistake.',
  ].join('\n'),
  options: {
    scenario: { type: 'string', short: 's' },
    connections: { type: 'string', short: 'c' },
    rate: { type: 'string', short: 'r' },
    size: { type: 'string' },
    binary: { type: 'boolean' },
    inflight: { type: 'string' },
    duration: { type: 'string', short: 'd' },
    warmup: { type: 'string' },
    workers: { type: 'string', short: 'w' },
    'source-addresses': { type: 'string' },
    concurrency: { type: 'string' },
    channel: { type: 'string' },
    header: { type: 'string', short: 'H', multiple: true },
    subprotocol: { type: 'string' },
    'timeout-ms': { type: 'string' },
    insecure: { type: 'boolean', short: 'k' },
    ca: { type: 'string' },
    json: { type: 'boolean' },
    html: { type: 'string' },
  },
  positionals: true,
  async run({ values, positionals }) {
    const plan = planOf(values, positionals);
    const json = values.json === true;
    const html = stringValue(values, 'html');
    const live = process.stderr.isTTY === true;
    const result = await runBench(plan, (progress) => {
      if (live) process.stderr.write(`\r\x1b[2K${progressLine(plan.scenario, progress)}`);
    });
    if (live) process.stderr.write('\r\x1b[2K');
    process.stdout.write(json ? `${JSON.stringify(result, null, 2)}\n` : `${resultTable(result)}\n`);
    if (html !== undefined) writeFileSync(html, htmlReport(result));
    return exitCodeOf(result);
  },
};

function exitCodeOf(result: BenchResult): ExitCode {
  if (result.scenario !== 'connect' && result.connections.opened === 0) return ExitCode.FAILURE;
  if (result.scenario === 'connect' && result.latency.samples === 0) return ExitCode.FAILURE;
  return result.errors.total === 0 ? ExitCode.OK : ExitCode.FAILURE;
}

/** Seconds as a decimal number in [min, max]. */
function parseSeconds(flag: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!/^[0-9]+(\.[0-9]+)?$/.test(value)) throw new UsageMistake(`${flag} must be a number of seconds, got '${value}'`);
  const seconds = Number(value);
  if (seconds < min || seconds > 86_400) throw new UsageMistake(`${flag} must be between ${min} and 86400 seconds, got '${value}'`);
  return seconds;
}

function sourceAddresses(text: string | undefined, hostname: string): string[] {
  if (text === undefined) return [];
  if (/^[0-9]+$/.test(text)) {
    const n = parseInteger('--source-addresses', text, 1, 250)!;
    if (!/^127\./.test(hostname) && hostname !== 'localhost') {
      throw new UsageMistake('--source-addresses COUNT picks loopback addresses: the URL must name 127.x.x.x or localhost');
    }
    return Array.from({ length: n }, (_, i) => `127.0.0.${i + 2}`);
  }
  const list = text.split(',').map((a) => a.trim());
  for (const address of list) if (isIP(address) === 0) throw new UsageMistake(`--source-addresses wants IP addresses or a count, got '${address}'`);
  return list;
}

/** The command line as a plan; every mistake is a UsageMistake. */
export function planOf(values: ParsedValues, positionals: readonly string[]): BenchPlan {
  if (positionals.length === 0) throw new UsageMistake('missing URL (e.g. ws://127.0.0.1:8080/)');
  if (positionals.length > 1) throw new UsageMistake(`unexpected argument '${positionals[1]}'`);
  let url: URL;
  try {
    url = new URL(positionals[0]!);
  } catch {
    throw new UsageMistake(`not a URL: '${positionals[0]}'`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new UsageMistake(`the URL must start with ws:// or wss://, got '${url.protocol}'`);
  const secure = url.protocol === 'wss:';
  const scenario = parseChoice('--scenario', stringValue(values, 'scenario'), SCENARIOS) ?? 'echo';
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = sourceAddresses(stringValue(values, 'source-addresses'), hostname);
  const rate = parseInteger('--rate', stringValue(values, 'rate'), 1, 10_000_000) ?? DEFAULT_RATE[scenario];
  const workers = parseInteger('--workers', stringValue(values, 'workers'), 1, 64) ?? 1;
  if (scenario === 'rate' && rate < workers) {
    throw new UsageMistake(`--rate ${rate} is below one message per second per worker (--workers ${workers})`);
  }
  const subprotocol = stringValue(values, 'subprotocol') ?? null;
  if (subprotocol !== null && scenario === 'publish') throw new UsageMistake('the publish scenario offers fdx.v1 itself; drop --subprotocol');
  return {
    scenario,
    url: url.href,
    // `localhost` may resolve to ::1; loopback source addresses are IPv4.
    host: hostname === 'localhost' && addresses.length > 0 ? '127.0.0.1' : hostname,
    port: url.port !== '' ? Number(url.port) : secure ? 443 : 80,
    hostHeader: url.host,
    path: `${url.pathname}${url.search}`,
    connections: parseInteger('--connections', stringValue(values, 'connections'), 1, 1_000_000) ?? DEFAULT_CONNECTIONS[scenario],
    rate,
    size: parseInteger('--size', stringValue(values, 'size'), 1, 64 * 1024 * 1024) ?? 32,
    binary: values.binary === true,
    inflight: parseInteger('--inflight', stringValue(values, 'inflight'), 1, 100_000) ?? (scenario === 'rate' ? 1000 : 1),
    durationS: parseSeconds('--duration', stringValue(values, 'duration'), 10, 0.1),
    warmupS: parseSeconds('--warmup', stringValue(values, 'warmup'), 1, 0),
    workers,
    sourceAddresses: addresses,
    concurrency: parseInteger('--concurrency', stringValue(values, 'concurrency'), 1, 10_000) ?? 64,
    channel: stringValue(values, 'channel') ?? 'bench',
    headers: Object.entries(parseHeaders(stringValues(values, 'header'))).map(([name, value]) => `${name}: ${value}`),
    subprotocol,
    timeoutMs: parseInteger('--timeout-ms', stringValue(values, 'timeout-ms'), 1, 600_000) ?? 10_000,
    tls: secure ? tlsOf(values, hostname) : null,
  };
}

/** wss://: certificates checked unless --insecure, against --ca's PEM when given. */
function tlsOf(values: ParsedValues, hostname: string): LoadTls {
  const tls: LoadTls = { rejectUnauthorized: values.insecure !== true };
  // SNI names a host, never an address.
  if (isIP(hostname) === 0) tls.servername = hostname;
  const ca = stringValue(values, 'ca');
  if (ca !== undefined) {
    try {
      tls.ca = readFileSync(ca, 'utf8');
    } catch (error) {
      throw new UsageMistake(`cannot read --ca ${ca}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
  }
  return tls;
}


