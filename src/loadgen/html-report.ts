/**
 * `fdx bench --html FILE`: the result as one self-contained HTML page, readable offline: the
 * text report, and three plots drawn as inline SVG (no script, no network): the latency
 * percentile distribution (HdrHistogram's plot: percentiles on a 1/(1-p) log axis), throughput
 * over time and latency (p50, p99, max) over time.
 * Must not: load anything from elsewhere, or compute results (it draws a BenchResult).
 */
import type { BenchResult } from './bench-run.js';
import { resultTable } from './bench-report.js';

interface Series {
  name: string;
  color: string;
  points: Array<[number, number]>;
}

interface Axis {
  label: string;
  ticks: Array<[number, string]>;
  min: number;
  max: number;
}

const WIDTH = 720;
const HEIGHT = 300;
const PAD = { left: 70, right: 20, top: 20, bottom: 50 };

const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Round steps (1, 2, 5 × 10^k) covering [0, max]. */
function linearTicks(max: number, format: (v: number) => string): Array<[number, string]> {
  if (!(max > 0)) return [[0, format(0)]];
  const rough = max / 5;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough)!;
  const ticks: Array<[number, string]> = [];
  for (let v = 0; v <= max * 1.0001 + step; v += step) {
    ticks.push([v, format(v)]);
    if (v >= max) break;
  }
  return ticks;
}

function lineChart(id: string, title: string, x: Axis, y: Axis, series: Series[]): string {
  const w = WIDTH - PAD.left - PAD.right;
  const h = HEIGHT - PAD.top - PAD.bottom;
  const sx = (v: number): number => PAD.left + ((v - x.min) / (x.max - x.min || 1)) * w;
  const sy = (v: number): number => PAD.top + h - ((v - y.min) / (y.max - y.min || 1)) * h;
  const parts = [
    `<svg id="${id}" xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escape(title)}">`,
    `<rect x="${PAD.left}" y="${PAD.top}" width="${w}" height="${h}" fill="#fafafa" stroke="#999"/>`,
  ];
  for (const [v, label] of x.ticks) {
    parts.push(`<line x1="${sx(v)}" y1="${PAD.top}" x2="${sx(v)}" y2="${PAD.top + h}" stroke="#e3e3e3"/>`);
    parts.push(`<text x="${sx(v)}" y="${PAD.top + h + 16}" font-size="11" text-anchor="middle">${escape(label)}</text>`);
  }
  for (const [v, label] of y.ticks) {
    parts.push(`<line x1="${PAD.left}" y1="${sy(v)}" x2="${PAD.left + w}" y2="${sy(v)}" stroke="#e3e3e3"/>`);
    parts.push(`<text x="${PAD.left - 6}" y="${sy(v) + 4}" font-size="11" text-anchor="end">${escape(label)}</text>`);
  }
  parts.push(`<text x="${PAD.left + w / 2}" y="${HEIGHT - 10}" font-size="12" text-anchor="middle">${escape(x.label)}</text>`);
  parts.push(`<text x="14" y="${PAD.top + h / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 14 ${PAD.top + h / 2})">${escape(y.label)}</text>`);
  series.forEach((s, i) => {
    if (s.points.length === 0) return;
    const path = s.points.map(([a, b], k) => `${k === 0 ? 'M' : 'L'}${sx(a).toFixed(1)},${sy(b).toFixed(1)}`).join(' ');
    parts.push(`<path d="${path}" fill="none" stroke="${s.color}" stroke-width="2"><title>${escape(s.name)}</title></path>`);
    parts.push(`<text x="${PAD.left + 8}" y="${PAD.top + 14 + i * 14}" font-size="11" fill="${s.color}">${escape(s.name)}</text>`);
  });
  parts.push('</svg>');
  return `<figure><figcaption>${escape(title)}</figcaption>${parts.join('')}</figure>`;
}

/** Percentile p (0..100) on HdrHistogram's axis: log10(1 / (1 - p)), capped past p99.9999. */
const nines = (p: number): number => Math.min(6, Math.log10(1 / Math.max(1e-6, 1 - p / 100)));

const msOf = (us: number): number => us / 1000;

function distributionChart(result: BenchResult): string {
  const toPoints = (d: Array<[number, number]>): Array<[number, number]> => d.map(([p, us]) => [nines(p), msOf(us)]);
  const series: Series[] = [{ name: 'latency', color: '#1f6feb', points: toPoints(result.latency.distribution) }];
  if (result.uncorrectedLatency) series.push({ name: 'from actual send (uncorrected)', color: '#d29922', points: toPoints(result.uncorrectedLatency.distribution) });
  const xMax = Math.max(2, Math.ceil(Math.max(0, ...series.flatMap((s) => s.points.map(([x]) => x)))));
  const labels = ['0%', '90%', '99%', '99.9%', '99.99%', '99.999%', '99.9999%'];
  const yMax = Math.max(0.001, ...series.flatMap((s) => s.points.map(([, y]) => y)));
  return lineChart(
    'latency-distribution',
    'Latency by percentile',
    { label: 'percentile', min: 0, max: xMax, ticks: labels.slice(0, xMax + 1).map((label, i) => [i, label]) },
    { label: 'latency (ms)', min: 0, max: yMax * 1.05, ticks: linearTicks(yMax, (v) => String(Number(v.toPrecision(3)))) },
    series,
  );
}

function overTime(result: BenchResult): string[] {
  const points = result.timeline;
  const tMax = Math.max(1, ...points.map((p) => p.t));
  const xAxis = { label: 'time (s)', min: 0, max: tMax, ticks: linearTicks(tMax, (v) => String(Number(v.toPrecision(3)))) };
  const rate = points.map((p): [number, number] => [p.t, p.messagesPerSec]);
  const rMax = Math.max(1, ...rate.map(([, v]) => v));
  const throughput = lineChart(
    'throughput-over-time',
    'Throughput over time',
    xAxis,
    { label: 'messages/s received', min: 0, max: rMax * 1.05, ticks: linearTicks(rMax, (v) => Math.round(v).toLocaleString('en-US')) },
    [{ name: 'received/s', color: '#1a7f37', points: rate }],
  );
  const line = (pick: (p: (typeof points)[number]) => number | null): Array<[number, number]> =>
    points.flatMap((p): Array<[number, number]> => {
      const v = pick(p);
      return v === null ? [] : [[p.t, msOf(v)]];
    });
  const lat = [
    { name: 'p50', color: '#1f6feb', points: line((p) => p.p50Us) },
    { name: 'p99', color: '#d29922', points: line((p) => p.p99Us) },
    { name: 'max', color: '#cf222e', points: line((p) => p.maxUs) },
  ];
  const lMax = Math.max(0.001, ...lat.flatMap((s) => s.points.map(([, v]) => v)));
  const latency = lineChart(
    'latency-over-time',
    'Latency over time (each second)',
    xAxis,
    { label: 'latency (ms)', min: 0, max: lMax * 1.05, ticks: linearTicks(lMax, (v) => String(Number(v.toPrecision(3)))) },
    lat,
  );
  return [throughput, latency];
}

/** The whole page. */
export function htmlReport(result: BenchResult): string {
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>fdx bench ${escape(result.scenario)} ${escape(result.url)}</title>`,
    '<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:780px}pre{background:#f6f8fa;padding:1em;overflow:auto}figure{margin:1.5em 0}figcaption{font-weight:600;margin-bottom:.3em}</style>',
    '</head><body>',
    `<h1>fdx bench ${escape(result.scenario)}</h1>`,
    `<p>${escape(result.url)}, started ${escape(result.startedAt)}</p>`,
    `<pre>${escape(resultTable(result))}</pre>`,
    distributionChart(result),
    ...overTime(result),
    '</body></html>',
    '',
  ].join('\n');
}
