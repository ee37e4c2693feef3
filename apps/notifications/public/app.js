// The notifications page, on fullduplex/client: subscribes to the user's own channel with its
// position kept in localStorage, so a tab opened after a while gets everything it missed, once
// (the layer's recovery). A notification it has not shown before becomes a toast and an unread
// entry; read markers on the channel keep every tab of the user in step. When recovery is not
// possible (history expired, server restarted alone) it reloads the list from the server.
// ?user=ada skips the prompt. Network text goes in with textContent only.
import { createClient } from './client.js';

const $ = (id) => document.getElementById(id);
const USER_KEY = 'fullduplex-notifications-user';
const TOAST_MS = 6000;

/** id -> {id, title, body, ts, read}, newest first when rendered. */
const items = new Map();
let client = null;
let token = '';
/** Ids this browser has toasted already (kept, so a toast is shown once whichever way it came). */
let seen = new Set();
let seenKey = '';

function see(item) {
  if (seen.has(item.id)) return;
  seen.add(item.id);
  if (!item.read) toast(item);
  try {
    localStorage.setItem(seenKey, JSON.stringify([...seen].slice(-500)));
  } catch {
    // Not remembered: a reload may toast again, nothing else.
  }
}

function setConnection(state) {
  const labels = { connecting: 'connecting…', connected: 'online', disconnected: 'offline, reconnecting…', closed: 'offline' };
  $('connection').dataset.state = state;
  $('connection').textContent = labels[state] ?? state;
}

function render() {
  const sorted = [...items.values()].sort((a, b) => b.ts - a.ts);
  $('items').replaceChildren(
    ...sorted.map((item) => {
      const li = document.createElement('li');
      li.className = item.read ? 'item read' : 'item unread';
      li.dataset.id = item.id;
      const title = document.createElement('strong');
      title.className = 'title';
      title.textContent = item.title;
      const body = document.createElement('p');
      body.className = 'body';
      body.textContent = item.body;
      const when = document.createElement('time');
      when.textContent = new Date(item.ts).toLocaleTimeString();
      li.append(title, when, body);
      li.addEventListener('click', () => markRead([item.id]));
      return li;
    }),
  );
  const unread = sorted.filter((item) => !item.read).length;
  $('unread').textContent = String(unread);
  $('unread').dataset.count = String(unread);
  $('empty').hidden = sorted.length > 0;
  document.title = unread > 0 ? `(${unread}) fullduplex notifications` : 'fullduplex notifications';
}

function toast(item) {
  const box = document.createElement('div');
  box.className = 'toast';
  box.dataset.id = item.id;
  const title = document.createElement('strong');
  title.textContent = item.title;
  const body = document.createElement('p');
  body.textContent = item.body;
  box.append(title, body);
  box.addEventListener('click', () => box.remove());
  $('toasts').append(box);
  setTimeout(() => box.remove(), TOAST_MS);
}

function markRead(ids) {
  client.request('notify:read', { ids }).catch(() => undefined);
}

async function reload() {
  try {
    const { items: list } = await client.request('notify:list', {}, { timeoutMs: 5000, retries: 1 });
    items.clear();
    for (const item of list) items.set(item.id, item);
    for (const item of [...list].reverse()) see(item);
    render();
  } catch {
    // Offline again: the next connection reloads.
  }
}

function onEvent(event) {
  if (event.kind === 'notification') {
    if (items.has(event.id)) return;
    const item = { id: event.id, title: event.title, body: event.body, ts: event.ts, read: false };
    items.set(item.id, item);
    see(item);
  } else if (event.kind === 'read') {
    for (const id of event.ids) {
      const item = items.get(id);
      if (item) item.read = true;
    }
  }
  render();
}

function start(user) {
  $('user').textContent = user;
  seenKey = `fullduplex-notifications-seen:${user}`;
  try {
    seen = new Set(JSON.parse(localStorage.getItem(seenKey) ?? '[]'));
  } catch {
    seen = new Set();
  }
  $('send-user').value = user;
  const base = location.pathname.replace(/[^/]*$/, '');
  client = createClient(`${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}${base}rt`, {
    data: { user },
    persist: localStorage,
    minDelayMs: 300,
    maxDelayMs: 5000,
  });
  window.notifications = client;
  client.on('state', setConnection);
  let first = true;
  client.on('online', (welcome) => {
    token = welcome.token;
    $('curl').textContent = `curl -X POST ${location.origin}${base}api/notify \\\n  -H 'Authorization: Bearer ${token}' \\\n  -d '{"user":"${user}","title":"Hello","body":"from curl"}'`;
    if (first) void reload();
    first = false;
  });
  client.subscribe(`notify:${user}`, onEvent);
  client.on('subscribed', (_channel, recovered) => {
    if (!recovered && !first) void reload();
  });
}

$('read-all').addEventListener('click', () => markRead('all'));

$('send-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const response = await fetch('api/notify', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ user: $('send-user').value, title: $('send-title').value, body: $('send-body').value }),
  }).catch((error) => ({ status: 0, json: async () => ({ message: error.message }) }));
  const answer = await response.json().catch(() => ({}));
  $('send-result').textContent = response.status === 202 ? `sent (${answer.id})` : `${response.status}: ${answer.message ?? 'failed'}`;
});

$('who').addEventListener('close', () => {
  const user = $('who-input').value.trim();
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(user)) return $('who').showModal();
  try {
    localStorage.setItem(USER_KEY, user);
  } catch {
    // Not remembered; nothing breaks.
  }
  start(user);
});

const fromQuery = new URLSearchParams(location.search).get('user');
if (fromQuery !== null && /^[A-Za-z0-9_-]{1,32}$/.test(fromQuery)) start(fromQuery);
else {
  try {
    $('who-input').value = localStorage.getItem(USER_KEY) ?? '';
  } catch {
    // Storage unavailable.
  }
  $('who').showModal();
}
