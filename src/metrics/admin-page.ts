/**
 * The admin page's HTML: one self-contained document (inline CSS, inline JS, charts drawn as
 * inline SVG), which polls BASE/api/stats every second and keeps the last two minutes for its
 * charts; and the login form. Nothing is loaded from the network but the page's own API.
 * Must not: embed anything a request sent (the base path is the server's own option), or
 * write text into the page as HTML (everything shown goes through textContent).
 */

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d232b}
header{background:#1d232b;color:#fff;padding:10px 18px;display:flex;justify-content:space-between;align-items:center}
header h1{font-size:16px;margin:0}
main{padding:14px 18px;display:grid;gap:14px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:10px}
.card{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:8px 10px}
.card .label{color:#5b6570;font-size:12px}.card .value{font-size:22px;font-variant-numeric:tabular-nums}
.card svg{width:100%;height:36px;display:block}
section{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:10px}
section h2{font-size:14px;margin:0 0 8px}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:3px 6px;border-bottom:1px solid #eef0f2}
.cols{display:grid;grid-template-columns:1fr 1fr;gap:14px}
input,select,button{font:inherit;padding:3px 6px}
#status{font-size:12px;color:#5b6570}
`;

const SCRIPT = `
const base = document.body.dataset.base;
const CARDS = [
  ['connections', 'Connections', (s) => s.connections],
  ['messages-in', 'Messages in /s', (s, p) => rate(s, p, 'messagesIn')],
  ['messages-out', 'Messages out /s', (s, p) => rate(s, p, 'messagesOut')],
  ['bytes-in', 'Bytes in /s', (s, p) => rate(s, p, 'bytesIn')],
  ['send-buffer', 'Send buffer (bytes)', (s) => s.sendBufferBytes],
  ['realtime-connections', 'Real-time connections', (s) => s.realtimeConnections],
  ['realtime-subscriptions', 'Channel subscriptions', (s) => s.realtimeSubscriptions],
  ['topics', 'Topics', (s) => s.topics],
  ['presence', 'Presence members', (s) => s.presenceMembers],
  ['handshake-failures', 'Failed handshakes', (s) => s.handshakeFailures],
  ['lag', 'Event-loop lag p99 (ms)', (s) => Math.round(s.eventLoopLagP99Ms * 10) / 10],
  ['messages-in-total', 'Messages in (total)', (s) => s.messagesIn],
];
const history = new Map(CARDS.map(([id]) => [id, []]));
let previous = null;
function rate(s, p, key) { return p ? Math.max(0, Math.round((s[key] - p[key]) * 1000 / Math.max(1, s.at - p.at))) : 0; }
function el(tag, text) { const e = document.createElement(tag); if (text !== undefined) e.textContent = String(text); return e; }
const cards = document.getElementById('cards');
for (const [id, label] of CARDS) {
  const card = el('div'); card.className = 'card';
  const l = el('div', label); l.className = 'label';
  const v = el('div', '-'); v.className = 'value'; v.id = id;
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 120 36'); svg.setAttribute('preserveAspectRatio', 'none');
  const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
  line.setAttribute('fill', 'none'); line.setAttribute('stroke', '#2f6fdf'); line.setAttribute('stroke-width', '1.5');
  line.id = id + '-chart'; svg.appendChild(line);
  card.append(l, v, svg); cards.appendChild(card);
}
function draw(id, values) {
  const max = Math.max(1, ...values);
  const step = 120 / 119;
  const points = values.map((v, i) => (120 - (values.length - 1 - i) * step).toFixed(1) + ',' + (34 - (v / max) * 32).toFixed(1));
  document.getElementById(id + '-chart').setAttribute('points', points.join(' '));
}
function fill(tbody, rows) {
  tbody.replaceChildren(...rows.map((cells) => { const tr = el('tr'); for (const c of cells) tr.appendChild(c instanceof Node ? c : el('td', c)); return tr; }));
}
async function call(path, body) {
  const r = await fetch(base + '/api/' + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), credentials: 'same-origin' });
  const answer = await r.json().catch(() => ({}));
  return r.ok ? 'ok: ' + JSON.stringify(answer) : 'error ' + r.status + ': ' + (answer.error ? answer.error.code + ' ' + answer.error.message : '');
}
async function tick() {
  try {
    const r = await fetch(base + '/api/stats', { credentials: 'same-origin' });
    if (r.status === 401) { location.reload(); return; }
    const s = await r.json();
    for (const [id, , value] of CARDS) {
      const v = value(s, previous);
      document.getElementById(id).textContent = String(v);
      const h = history.get(id); h.push(v); if (h.length > 120) h.shift();
      draw(id, h);
    }
    fill(document.getElementById('channels'), s.busiestChannels.map((c) => [c.channel, c.subscribers, c.publications]));
    fill(document.getElementById('topic-list'), s.busiestTopics.map((t) => [t.topic, t.publications]));
    fill(document.getElementById('connection-list'), s.list.map((c) => {
      const td = el('td'); const b = el('button', 'Disconnect'); b.dataset.id = c.id;
      b.onclick = async () => { document.getElementById('status').textContent = await call('disconnect', { id: c.id }); };
      td.appendChild(b); return [c.id, c.kind, c.detail, td];
    }));
    previous = s;
    document.getElementById('status').dataset.ticks = String(Number(document.getElementById('status').dataset.ticks || 0) + 1);
  } catch (e) { document.getElementById('status').textContent = 'stats unavailable: ' + e.message; }
}
document.getElementById('publish-form').onsubmit = async (event) => {
  event.preventDefault();
  const f = event.target;
  let data = f.data.value;
  try { data = JSON.parse(data); } catch {}
  document.getElementById('status').textContent = await call('publish', { channel: f.channel.value, data, target: f.target.value });
};
tick(); setInterval(tick, 1000);
`;

/** The page shown to an authenticated operator. */
export function adminPage(base: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>fullduplex admin</title><meta name="viewport" content="width=device-width">
<style>${STYLE}</style></head>
<body data-base="${base}">
<header><h1>fullduplex admin</h1><form method="post" action="${base}/logout"><button>Log out</button></form></header>
<main>
<div class="cards" id="cards"></div>
<div class="cols">
<section><h2>Busiest channels</h2><table><thead><tr><th>Channel</th><th>Subscribers</th><th>Publications</th></tr></thead><tbody id="channels"></tbody></table></section>
<section><h2>Busiest topics</h2><table><thead><tr><th>Topic</th><th>Publications</th></tr></thead><tbody id="topic-list"></tbody></table></section>
</div>
<section><h2>Publish</h2>
<form id="publish-form"><select name="target"><option value="realtime">channel (fdx.v1)</option><option value="topic">topic (plain)</option></select>
<input name="channel" placeholder="channel or topic" required> <input name="data" placeholder='data (JSON or text)' size="40" required> <button>Publish</button></form>
<div id="status"></div></section>
<section><h2>Connections</h2><table><thead><tr><th>Id</th><th>Kind</th><th></th><th></th></tr></thead><tbody id="connection-list"></tbody></table></section>
</main>
<script>${SCRIPT}</script>
</body></html>`;
}

/** The login form; `message` is one of ours ('' or 'Wrong token.'). */
export function loginPage(base: string, message: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>fullduplex admin: log in</title>
<style>${STYLE} form.login{max-width:320px;margin:80px auto;display:grid;gap:8px}</style></head>
<body><form class="login" method="post" action="${base}/login">
<h1>fullduplex admin</h1>
<label>Token <input type="password" name="token" id="token" autocomplete="current-password" required></label>
<button id="login">Log in</button>
<div id="message">${message}</div>
</form></body></html>`;
}
