// The chat page, on fullduplex/client (reconnect, recovery and the outbox are the client's):
// subscribes to every room's channel, shows one room (the one in the URL's #hash, so a reload
// returns to it), counts unread messages in the others, and shows who is here and typing.
// Who is where is the real-time layer's presence on chat:people: this page is a member (user
// "<connection id>:<name>", named by the server) whose metadata it sets to {color, room, typing};
// the lists group the members by name per room. While offline it says so and shows no presence
// at all rather than a stale one.
// Text from the network goes in with textContent only, never as markup.
// ?name=Ada skips the nickname prompt; #tech (or ?room=tech) picks the room.
import { createClient } from './client.js';

const $ = (id) => document.getElementById(id);
const NAME_KEY = 'fullduplex-chat-name';
const ROOM_KEY = 'fullduplex-chat-room';
const PEOPLE = 'chat:people';
/** Typing ends by itself after this long without a keystroke (LIMITS.typingMs on the server). */
const TYPING_MS = 5000;

let client = null;
let me = null;
let rooms = [];
let current = null;
/** Room -> [{name, color, typing}] sorted by name, from the presence view; {} while offline. */
let presence = {};
/** The presence view of chat:people, and the metadata this page last set on it. */
let people = null;
let mine = { color: '', room: null, typing: false };
let typingTimer = 0;
const unread = new Map();
/** Ids of the messages shown, so a message recovered twice or loaded with history shows once. */
let shown = new Set();
/** Publications for the current room that arrived while its history was loading. */
let pending = null;

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

/** Tells the others what this page shows and whether its person types (kept across reconnects). */
function setMine(change) {
  const next = { ...mine, ...change };
  if (next.room === mine.room && next.typing === mine.typing && next.color === mine.color) return;
  mine = next;
  people?.set(mine).catch(() => undefined);
}

function setTyping(typing) {
  clearTimeout(typingTimer);
  if (typing) typingTimer = setTimeout(() => setMine({ typing: false }), TYPING_MS);
  setMine({ typing });
}

/** The members grouped per room and name: several tabs of one name count once, typing if any types. */
function roomsOfPeople() {
  const byRoom = Object.fromEntries(rooms.map((room) => [room, []]));
  for (const [user, { meta }] of people.members) {
    const list = typeof meta === 'object' && meta !== null ? byRoom[meta.room] : undefined;
    if (!Array.isArray(list)) continue;
    const name = user.slice(user.indexOf(':') + 1);
    const known = list.find((member) => member.name === name);
    if (known) known.typing ||= meta.typing === true;
    else list.push({ name, color: typeof meta.color === 'string' ? meta.color : '', typing: meta.typing === true });
  }
  for (const list of Object.values(byRoom)) list.sort((a, b) => a.name.localeCompare(b.name));
  return byRoom;
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
  setMine({ room });
  renderPresence();
  if (online() && switching) void load(room);
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
      people = client.presence(PEOPLE);
      people.on('sync', () => {
        presence = online() ? roomsOfPeople() : {};
        renderPresence();
      });
      setMine({ color: me.color });
      client.subscribe(PEOPLE);
      const wanted = location.hash.slice(1) || new URLSearchParams(location.search).get('room') || stored(ROOM_KEY);
      enter(rooms.includes(wanted) ? wanted : rooms[0]);
    }
  });
  // After a server restart the positions are gone (recovered: false): reload the room shown.
  client.on('subscribed', (channel, recovered) => {
    if (!recovered && channel === `chat:${current}`) void load(current);
  });
}

$('composer').addEventListener('submit', (event) => {
  event.preventDefault();
  const text = $('text').value.trim();
  if (!text || !online()) return;
  $('text').value = '';
  setTyping(false);
  client.request('chat:send', { room: current, text }, { timeoutMs: 5000, retries: 2 }).catch((error) => notice(`not sent: ${error.message}`));
});

$('text').addEventListener('input', () => {
  if (!online()) return;
  setTyping($('text').value.trim() !== '');
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
