// The chat page, on fullduplex/client (reconnect, recovery and the outbox are the client's):
// subscribes to every room's channel, shows one room (the one in the URL's #hash, so a reload
// returns to it), counts unread messages in the others, and shows who is here and typing.
// While offline it says so and shows no presence at all rather than a stale one.
// Text from the network goes in with textContent only, never as markup.
// ?name=Ada skips the nickname prompt; #tech (or ?room=tech) picks the room.
import { createClient } from './client.js';

const $ = (id) => document.getElementById(id);
const NAME_KEY = 'fullduplex-chat-name';
const ROOM_KEY = 'fullduplex-chat-room';
const TYPING_RENEW_MS = 2000;

let client = null;
let me = null;
let rooms = [];
let current = null;
let presence = {};
const unread = new Map();
/** Ids of the messages shown, so a message recovered twice or loaded with history shows once. */
let shown = new Set();
/** Publications for the current room that arrived while its history was loading. */
let pending = null;
let typingSentAt = 0;

function store(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch {
    // Storage may be unavailable (private mode): nothing is remembered, nothing breaks.
  }
}
function stored(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function online() {
  return client !== null && client.state === 'connected';
}

function setConnection(state) {
  const labels = { connecting: 'connecting…', connected: 'online', disconnected: 'offline, reconnecting…', closed: 'offline' };
  $('connection').dataset.state = state;
  $('connection').textContent = labels[state] ?? state;
  const can = state === 'connected' && current !== null;
  $('text').disabled = !can;
  $('send').disabled = !can;
  if (state !== 'connected') {
    // What this page knew about who is here is no longer true: show that it does not know.
    presence = {};
    renderPresence();
  }
}

function renderRooms() {
  $('rooms').replaceChildren(
    ...rooms.map((name) => {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'room-button';
      button.dataset.room = name;
      if (name === current) button.setAttribute('aria-current', 'true');
      const label = document.createElement('span');
      label.className = 'room-name';
      label.textContent = `# ${name}`;
      const count = document.createElement('span');
      count.className = 'count';
      count.textContent = online() && presence[name] ? String(presence[name].length) : '–';
      const badge = document.createElement('span');
      badge.className = 'unread';
      const n = unread.get(name) ?? 0;
      badge.textContent = n > 0 ? String(n) : '';
      badge.hidden = n === 0;
      button.append(label, count, badge);
      button.addEventListener('click', () => enter(name));
      const item = document.createElement('li');
      item.append(button);
      return item;
    }),
  );
}

function renderPresence() {
  const members = online() ? presence[current] : undefined;
  $('online').textContent = members ? `${members.length} here` : online() ? '' : 'offline: presence unknown';
  $('people').replaceChildren(
    ...(members ?? []).map((member) => {
      const item = document.createElement('li');
      item.className = member.typing ? 'person typing' : 'person';
      item.style.color = member.color;
      item.textContent = member.name === me?.name ? `${member.name} (you)` : member.name;
      return item;
    }),
  );
  const typists = (members ?? []).filter((member) => member.typing && member.name !== me?.name).map((member) => member.name);
  $('typing').textContent = typists.length === 0 ? '' : `${typists.join(', ')} ${typists.length === 1 ? 'is' : 'are'} typing…`;
  renderRooms();
}

function atBottom() {
  const list = $('messages');
  return list.scrollHeight - list.scrollTop - list.clientHeight < 40;
}

function showLine(line) {
  if (shown.has(line.id)) return;
  shown.add(line.id);
  const list = $('messages');
  const stick = atBottom();
  const item = document.createElement('article');
  item.className = line.name === me?.name ? 'message mine' : 'message';
  item.dataset.id = line.id;
  const meta = document.createElement('header');
  const who = document.createElement('span');
  who.className = 'name';
  who.style.color = line.color;
  who.textContent = line.name;
  const when = document.createElement('time');
  when.dateTime = new Date(line.ts).toISOString();
  when.textContent = new Date(line.ts).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  meta.append(who, when);
  const body = document.createElement('p');
  body.className = 'text';
  body.textContent = line.text;
  item.append(meta, body);
  list.append(item);
  if (stick) list.scrollTop = list.scrollHeight;
}

function notice(text) {
  const item = document.createElement('p');
  item.className = 'notice';
  item.textContent = text;
  $('messages').append(item);
}

/** Shows `room`: its history from the server, then what arrived meanwhile. */
async function load(room) {
  pending = [];
  try {
    const { history } = await client.request('chat:history', { room }, { timeoutMs: 5000, retries: 1 });
    if (room !== current) return;
    $('messages').replaceChildren();
    shown = new Set();
    for (const line of history) showLine(line);
    for (const line of pending) showLine(line);
  } catch (error) {
    if (room === current) notice(`could not load #${room}: ${error.message}`);
  } finally {
    if (room === current) pending = null;
  }
}

function enter(room) {
  if (!rooms.includes(room)) room = rooms[0];
  const switching = room !== current;
  current = room;
  unread.delete(room);
  store(ROOM_KEY, room);
  if (location.hash !== `#${room}`) history.replaceState(null, '', `${location.pathname}${location.search}#${room}`);
  $('room-title').textContent = `# ${room}`;
  if (switching) {
    $('messages').replaceChildren();
    shown = new Set();
  }
  setConnection(client.state);
  renderPresence();
  if (online()) {
    client.request('chat:enter', { room }).catch(() => undefined);
    if (switching) void load(room);
  }
}

function onLine(room, line) {
  if (room === current) {
    if (pending) pending.push(line);
    else showLine(line);
  } else if (!shown.has(line.id)) {
    unread.set(room, (unread.get(room) ?? 0) + 1);
    renderRooms();
  }
}

function start(name) {
  client = createClient(`${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}${location.pathname.replace(/[^/]*$/, '')}rt`, {
    data: { name },
    persist: true,
    minDelayMs: 300,
    maxDelayMs: 5000,
  });
  window.chat = client;
  client.on('state', (state) => setConnection(state));
  client.on('online', (welcome) => {
    me = welcome;
    rooms = welcome.rooms;
    $('me').textContent = me.name;
    $('me').style.color = me.color;
    if (current === null) {
      for (const room of rooms) client.subscribe(`chat:${room}`, (line) => onLine(room, line));
      const wanted = location.hash.slice(1) || new URLSearchParams(location.search).get('room') || stored(ROOM_KEY);
      enter(rooms.includes(wanted) ? wanted : rooms[0]);
    } else {
      client.request('chat:enter', { room: current }).catch(() => undefined);
    }
  });
  // After a server restart the positions are gone (recovered: false): reload the room shown.
  client.on('subscribed', (channel, recovered) => {
    if (!recovered && channel === `chat:${current}`) void load(current);
  });
  client.handle('chat:presence', ({ rooms: snapshot }) => {
    presence = snapshot;
    renderPresence();
  });
}

$('composer').addEventListener('submit', (event) => {
  event.preventDefault();
  const text = $('text').value.trim();
  if (!text || !online()) return;
  $('text').value = '';
  typingSentAt = 0;
  client.request('chat:send', { room: current, text }, { timeoutMs: 5000, retries: 2 }).catch((error) => notice(`not sent: ${error.message}`));
});

$('text').addEventListener('input', () => {
  if (!online()) return;
  const typing = $('text').value.trim() !== '';
  const now = Date.now();
  if (typing && now - typingSentAt < TYPING_RENEW_MS) return;
  typingSentAt = typing ? now : 0;
  client.emit('chat:typing', { typing });
});

window.addEventListener('hashchange', () => {
  const room = location.hash.slice(1);
  if (client && rooms.includes(room) && room !== current) enter(room);
});

$('nickname').addEventListener('close', () => {
  const name = $('nickname-input').value.trim();
  if (name) store(NAME_KEY, name);
  start(name);
});

const fromQuery = new URLSearchParams(location.search).get('name');
if (fromQuery !== null) {
  start(fromQuery.trim());
} else {
  $('nickname-input').value = stored(NAME_KEY) ?? '';
  $('nickname').showModal();
}
