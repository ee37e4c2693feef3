// The dashboard page: one WebSocket to <base>ws (see apps/dashboard/server.ts for the messages),
// a series picker, one uPlot chart per selected series redrawn once per animation frame, and the
// "simulate slow client" toggle with the numbers that show the `latest` policy at work.
// Bundled with uPlot by esbuild when the demo starts (apps/shared/browser-bundle.ts).
import uPlot from 'uplot';
import { liveSocket } from '../../shared/browser/live-socket.js';

const WINDOW_SECONDS = 10;
const $ = (id) => document.getElementById(id);

const view = {
  catalog: new Map(), // id -> {id,label,unit,group}
  order: [], // catalog ids in order
  selected: [], // ids streamed now
  version: -1,
  charts: new Map(), // id -> {plot, xs, ys, element, latest}
  maxSelected: 16,
  lastSeq: 0,
  received: 0,
  missed: 0,
  frameTimes: [],
  dirty: false,
};
const wanted = new URLSearchParams(location.search).get('series');
const socket = liveSocket('ws', {
  onopen(ws) {
    $('compression').textContent = ws.extensions.includes('permessage-deflate') ? 'permessage-deflate on' : 'no compression';
    if (wanted) send({ type: 'select', series: wanted.split(',').filter(Boolean) });
  },
  onmessage: (event) => receive(JSON.parse(event.data)),
  onclose() {
    $('slow').checked = false;
    document.body.classList.remove('slow');
  },
});

function send(message) {
  socket.send(JSON.stringify(message));
}

function receive(message) {
  switch (message.type) {
    case 'catalog':
      view.catalog = new Map(message.series.map((info) => [info.id, info]));
      view.order = message.series.map((info) => info.id);
      view.maxSelected = message.limits.maxSelected;
      $('limit').textContent = `${(message.limits.maxBackpressure / 1024).toFixed(0)} KiB`;
      $('release').textContent = `${message.limits.slowReleaseMs} ms`;
      $('hz').textContent = `${message.hz} Hz`;
      renderPicker();
      break;
    case 'selected':
      view.selected = message.series;
      view.version = message.version;
      view.lastSeq = 0;
      renderPicker();
      renderCharts();
      break;
    case 'samples':
      onSamples(message);
      break;
    case 'stats':
      $('sent').textContent = String(message.sent);
      $('replaced').textContent = String(message.replaced);
      $('dropped').textContent = String(message.dropped);
      $('buffered').textContent = formatBytes(message.buffered);
      $('max-buffered').textContent = formatBytes(message.maxBuffered);
      break;
    case 'slow':
      $('slow').checked = message.on;
      document.body.classList.toggle('slow', message.on);
      break;
    case 'error':
      showError(`${message.code}: ${message.text}`);
      break;
  }
}

function onSamples({ seq, version, t, values }) {
  if (version !== view.version) return; // a frame from before the last selection
  if (view.lastSeq > 0 && seq > view.lastSeq + 1) view.missed += seq - view.lastSeq - 1;
  view.lastSeq = seq;
  view.received++;
  const now = performance.now();
  view.frameTimes.push(now);
  while (view.frameTimes[0] < now - 1000) view.frameTimes.shift();
  const x = t / 1000;
  view.selected.forEach((id, i) => {
    const chart = view.charts.get(id);
    if (!chart || values[i] === null) return;
    chart.xs.push(x);
    chart.ys.push(values[i]);
    while (chart.xs.length > 0 && chart.xs[0] < x - WINDOW_SECONDS) {
      chart.xs.shift();
      chart.ys.shift();
    }
  });
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
    $('received').textContent = String(view.received);
    $('missed').textContent = String(view.missed);
    $('rate').textContent = `${view.frameTimes.length} frames/s`;
  }
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
      box.onchange = () => {
        const next = box.checked ? [...view.selected, info.id] : view.selected.filter((id) => id !== info.id);
        send({ type: 'select', series: next });
      };
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

$('slow').onchange = (event) => send({ type: 'slow', on: event.target.checked });
requestAnimationFrame(draw);
