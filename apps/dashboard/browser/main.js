// The dashboard page on fullduplex/client (see apps/dashboard/server.ts for the channels and
// events): the catalog comes with the welcome, each selected series is a subscription to its
// channel, one uPlot chart per series redrawn once per animation frame, and the "simulate slow
// client" toggle with the numbers that show the `latest` policy at work. Reconnecting,
// resubscribing and recovering the samples missed while offline are the client's; the page
// shows its state as it is.
// Bundled with uPlot by esbuild when the demo starts (apps/shared/browser-bundle.ts).
import uPlot from 'uplot';
import { createClient } from 'fullduplex/client';
import { decodeSample } from '../sample-codec.js';

const WINDOW_SECONDS = 10;
/** A well-formed channel name (docs/protocol.md). */
const CHANNEL = /^[A-Za-z0-9_\-:.@/=+,~]{1,200}$/;
const $ = (id) => document.getElementById(id);

const view = {
  node: '',
  catalog: new Map(), // id -> {id, label, unit, group, channel}
  order: [], // catalog ids in order
  selected: [], // ids asked for, in the page's order
  subs: new Map(), // id -> {channel, stop, confirmed, lastOffset}
  charts: new Map(), // id -> {plot, xs, ys, element, latest}
  maxSelected: 16,
  received: 0,
  missed: 0,
  recovered: 0,
  sampleTimes: [],
  dirty: false,
  started: false,
};

const url = new URL('rt', location.href);
url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
const client = createClient(url.href);
const wanted = new URLSearchParams(location.search).get('series');

const STATES = { connecting: 'connecting…', connected: 'live', disconnected: 'offline, reconnecting…', closed: 'offline' };
client.on('state', (state) => {
  $('connection').dataset.state = state;
  $('connection').textContent = STATES[state] ?? state;
});

client.on('online', (welcome) => {
  view.node = welcome.node;
  view.maxSelected = welcome.limits.maxSelected;
  $('compression').textContent = welcome.compression.includes('permessage-deflate') ? 'permessage-deflate on' : 'no compression';
  $('limit').textContent = `${(welcome.limits.maxBackpressure / 1024).toFixed(0)} KiB`;
  $('release').textContent = `${welcome.limits.slowReleaseMs} ms`;
  $('hz').textContent = `${welcome.hz} Hz`;
  applyCatalog(welcome.series);
  // Another process (or this one restarted) names its channels anew: follow the series there.
  for (const [id, sub] of view.subs) if (sub.channel !== channelOf(id)) unsubscribe(id);
  const first = !view.started;
  view.started = true;
  // After the client resubscribed what it still has (it does so right after this event).
  queueMicrotask(() => {
    if (first) select(wanted ? wanted.split(',').filter(Boolean) : welcome.defaults);
    else for (const id of view.selected) if (!view.subs.has(id)) subscribe(id);
  });
});

client.on('offline', () => {
  $('slow').checked = false;
  document.body.classList.remove('slow');
  for (const sub of view.subs.values()) sub.confirmed = false;
});

client.on('subscribed', (channel, recovered) => {
  for (const sub of view.subs.values()) {
    if (sub.channel !== channel) continue;
    if (sub.confirmed === false && sub.everConfirmed && recovered) view.recovered++;
    sub.confirmed = sub.everConfirmed = true;
  }
});

client.on('error', (error) => {
  showError(`${error.code}: ${error.message}`);
  if (!['CHANNEL_FORBIDDEN', 'CHANNEL_INVALID', 'TOO_MANY_CHANNELS'].includes(error.code)) return;
  // Which subscription was refused: CHANNEL_FORBIDDEN names its channel; CHANNEL_INVALID is
  // one with a malformed name; TOO_MANY_CHANNELS is the first one past the limit (the server
  // takes them in the order asked).
  const unconfirmed = [...view.subs].filter(([, sub]) => !sub.confirmed);
  let refused = unconfirmed.filter(([, sub]) => error.message.includes(`"${sub.channel}"`));
  if (error.code === 'CHANNEL_INVALID') refused = unconfirmed.filter(([, sub]) => !CHANNEL.test(sub.channel));
  if (error.code === 'TOO_MANY_CHANNELS') refused = [...view.subs].slice(view.maxSelected).filter(([, sub]) => !sub.confirmed).slice(0, 1);
  for (const [id] of refused) deselect(id);
});

client.handle('catalog', ({ series }) => applyCatalog(series));

client.handle('stats', (stats) => {
  $('buffered').textContent = formatBytes(stats.buffered);
  $('max-buffered').textContent = formatBytes(stats.maxBuffered);
});

function channelOf(id) {
  return view.catalog.get(id)?.channel ?? `series.${view.node}.${id}`;
}

function applyCatalog(series) {
  view.catalog = new Map(series.map((info) => [info.id, info]));
  view.order = series.map((info) => info.id);
  // Series that are gone (another process stopped) leave the selection.
  for (const id of view.selected) if (view.started && !view.catalog.has(id)) deselect(id);
  renderPicker();
}

function select(ids) {
  for (const id of [...view.selected]) if (!ids.includes(id)) deselect(id);
  for (const id of ids) if (!view.selected.includes(id)) {
    view.selected.push(id);
    subscribe(id);
  }
  renderPicker();
  renderCharts();
}

function deselect(id) {
  unsubscribe(id);
  view.selected = view.selected.filter((other) => other !== id);
  renderPicker();
  renderCharts();
}

function subscribe(id) {
  const channel = channelOf(id);
  const sub = { channel, confirmed: false, everConfirmed: false, lastOffset: 0, stop: null };
  view.subs.set(id, sub);
  sub.stop = client.subscribe(channel, (sample, info) => onSample(id, sub, sample, info));
}

function unsubscribe(id) {
  view.subs.get(id)?.stop();
  view.subs.delete(id);
}

function onSample(id, sub, bytes, { offset }) {
  const sample = decodeSample(bytes);
  if (sample === null) return;
  const { t, v } = sample;
  const number = Number(offset);
  // Offsets are consecutive: a gap is samples this page never got (replaced while it lagged).
  if (sub.lastOffset > 0 && number > sub.lastOffset + 1) view.missed += number - sub.lastOffset - 1;
  sub.lastOffset = number;
  view.received++;
  const now = performance.now();
  view.sampleTimes.push(now);
  while (view.sampleTimes[0] < now - 1000) view.sampleTimes.shift();
  const chart = view.charts.get(id);
  if (!chart) return;
  const x = t / 1000;
  chart.xs.push(x);
  chart.ys.push(v);
  while (chart.xs.length > 0 && chart.xs[0] < x - WINDOW_SECONDS) {
    chart.xs.shift();
    chart.ys.shift();
  }
  view.dirty = true;
}

function draw() {
  if (view.dirty) {
    view.dirty = false;
    for (const [id, chart] of view.charts) {
      chart.plot.setData([chart.xs, chart.ys]);
      chart.element.dataset.points = String(chart.xs.length);
      const last = chart.ys[chart.ys.length - 1];
      chart.latest.textContent = last === undefined ? '–' : `${formatValue(last)} ${view.catalog.get(id)?.unit ?? ''}`;
    }
  }
  $('received').textContent = String(view.received);
  $('missed').textContent = String(view.missed);
  $('recovered').textContent = String(view.recovered);
  $('rate').textContent = `${view.sampleTimes.filter((at) => at >= performance.now() - 1000).length} samples/s`;
  requestAnimationFrame(draw);
}

function renderPicker() {
  const picker = $('picker');
  picker.replaceChildren();
  const groups = new Map();
  for (const id of view.order) {
    const info = view.catalog.get(id);
    if (!groups.has(info.group)) groups.set(info.group, []);
    groups.get(info.group).push(info);
  }
  for (const [group, infos] of groups) {
    const fieldset = document.createElement('fieldset');
    const legend = document.createElement('legend');
    legend.textContent = group;
    fieldset.append(legend);
    for (const info of infos) {
      const label = document.createElement('label');
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.value = info.id;
      box.checked = view.selected.includes(info.id);
      box.onchange = () => (box.checked ? select([...view.selected, info.id]) : deselect(info.id));
      label.append(box, ` ${info.label}`);
      fieldset.append(label);
    }
    picker.append(fieldset);
  }
  $('selected-count').textContent = `${view.selected.length} / ${view.maxSelected}`;
}

function renderCharts() {
  const grid = $('charts');
  for (const [id, chart] of view.charts) {
    if (!view.selected.includes(id)) {
      chart.plot.destroy();
      chart.element.remove();
      view.charts.delete(id);
    }
  }
  for (const id of view.selected) {
    if (view.charts.has(id)) continue;
    const info = view.catalog.get(id) ?? { label: id, unit: '' };
    const element = document.createElement('figure');
    element.className = 'chart';
    element.dataset.series = id;
    element.dataset.points = '0';
    const caption = document.createElement('figcaption');
    const title = document.createElement('span');
    title.textContent = info.label;
    const latest = document.createElement('span');
    latest.className = 'latest';
    caption.append(title, latest);
    element.append(caption);
    grid.append(element);
    const plot = new uPlot(
      {
        width: Math.max(260, element.clientWidth - 14),
        height: 150,
        legend: { show: false },
        cursor: { show: false },
        scales: { x: { time: true } },
        axes: [{ stroke: '#8aa', grid: { stroke: '#223' } }, { stroke: '#8aa', grid: { stroke: '#223' }, size: 48 }],
        series: [{}, { stroke: colour(id, 1), width: 1.5, fill: colour(id, 0.12) }],
      },
      [[], []],
      element,
    );
    view.charts.set(id, { plot, xs: [], ys: [], element, latest });
  }
  for (const id of view.selected) grid.append(view.charts.get(id).element); // the page's order
}

function colour(id, alpha) {
  let hash = 0;
  for (const char of id) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return `hsla(${hash % 360}, 70%, 60%, ${alpha})`;
}

function formatValue(value) {
  const size = Math.abs(value);
  return size >= 100 ? value.toFixed(0) : size >= 10 ? value.toFixed(1) : value.toFixed(2);
}

function formatBytes(bytes) {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KiB`;
}

let errorTimer = 0;
function showError(text) {
  const element = $('error');
  element.textContent = text;
  element.hidden = false;
  clearTimeout(errorTimer);
  errorTimer = setTimeout(() => (element.hidden = true), 4000);
}

$('slow').onchange = (event) => {
  const on = event.target.checked;
  client.request('slow', { on }).then(
    (reply) => {
      $('slow').checked = reply.on;
      document.body.classList.toggle('slow', reply.on);
    },
    (error) => {
      $('slow').checked = !on;
      showError(`${error.code}: ${error.message}`);
    },
  );
};
requestAnimationFrame(draw);
