// The chat page: asks for a nickname, connects to /ws with the browser's WebSocket, lists the
// rooms with their counts, and shows what is said in the room it is in. Every piece of text from
// the network goes in with textContent, never innerHTML, so a message cannot inject markup.
// ?name=Ada skips the nickname prompt and ?room=tech picks the first room (handy for links and
// tests); after a reconnection the page goes back to the room it was in.

const $ = (id) => document.getElementById(id);
const messages = $('messages');
const roomList = $('rooms');
const roomTitle = $('room-title');
const online = $('online');
const total = $('total');
const leave = $('leave');
const connection = $('connection');
const me = $('me');
const composer = $('composer');
const input = $('text');
const send = $('send');
const dialog = $('nickname');
const nicknameInput = $('nickname-input');

const STORAGE_KEY = 'fullduplex-chat-name';
const MAX_RECONNECT_DELAY_MS = 10_000;

let socket = null;
let wantedName = '';
let myName = '';
/** The room to be in: asked for in the URL, then the last one joined; null after leaving, undefined: the first. */
let wantedRoom = new URLSearchParams(location.search).get('room') ?? undefined;
let currentRoom = null;
let rooms = [];
let reconnectDelayMs = 500;

function isOpen() {
  return socket !== null && socket.readyState === WebSocket.OPEN;
}

function request(command) {
  if (isOpen()) socket.send(JSON.stringify(command));
}

function setConnection(state, label) {
  connection.dataset.state = state;
  connection.textContent = label;
  updateControls();
}

function updateControls() {
  const inRoom = isOpen() && currentRoom !== null;
  input.disabled = !inRoom;
  send.disabled = !inRoom;
  leave.disabled = !inRoom;
  for (const button of roomList.querySelectorAll('button')) button.disabled = !isOpen();
}

function renderRooms() {
  roomList.replaceChildren(
    ...rooms.map(({ name, online: count }) => {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'room-button';
      button.dataset.room = name;
      if (name === currentRoom) button.setAttribute('aria-current', 'true');
      const label = document.createElement('span');
      label.className = 'room-name';
      label.textContent = `# ${name}`;
      const badge = document.createElement('span');
      badge.className = 'count';
      badge.textContent = String(count);
      button.append(label, badge);
      button.addEventListener('click', () => {
        if (name !== currentRoom) request({ type: 'join', room: name });
      });
      const item = document.createElement('li');
      item.append(button);
      return item;
    }),
  );
  const here = rooms.find((room) => room.name === currentRoom);
  online.textContent = here ? `${here.online} online` : '';
  online.dataset.count = here ? String(here.online) : '';
  updateControls();
}

function setTotal(count) {
  total.textContent = `${count} ${count === 1 ? 'person' : 'people'} online`;
}

function timeOf(ts) {
  return new Date(ts).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function atBottom() {
  return messages.scrollHeight - messages.scrollTop - messages.clientHeight < 40;
}

function append(element) {
  const stick = atBottom();
  messages.append(element);
  while (messages.childElementCount > 500) messages.firstElementChild.remove();
  if (stick) messages.scrollTop = messages.scrollHeight;
}

function showMessage(event) {
  const item = document.createElement('article');
  item.className = event.name === myName ? 'message mine' : 'message';
  const meta = document.createElement('header');
  const who = document.createElement('span');
  who.className = 'name';
  who.textContent = event.name;
  const when = document.createElement('time');
  when.dateTime = new Date(event.ts).toISOString();
  when.textContent = timeOf(event.ts);
  meta.append(who, when);
  const body = document.createElement('p');
  body.className = 'text';
  body.textContent = event.text;
  item.append(meta, body);
  append(item);
}

function showNotice(text, kind = 'notice') {
  const item = document.createElement('p');
  item.className = kind;
  item.textContent = text;
  append(item);
}

function enterRoom(event) {
  currentRoom = event.room;
  wantedRoom = event.room;
  roomTitle.textContent = `# ${event.room}`;
  messages.replaceChildren();
  for (const past of event.history ?? []) showMessage(past);
  showNotice(event.text);
  const others = (event.members ?? []).filter((name) => name !== myName);
  if (others.length > 0) showNotice(`Here: ${others.join(', ')}`);
  renderRooms();
  input.focus();
}

function onEvent(event) {
  switch (event.type) {
    case 'welcome':
      myName = event.name;
      me.textContent = myName;
      currentRoom = null;
      rooms = event.rooms ?? [];
      setTotal(event.online);
      messages.replaceChildren();
      showNotice(event.text);
      renderRooms();
      if (wantedRoom === undefined) wantedRoom = rooms[0]?.name ?? null;
      if (wantedRoom !== null) request({ type: 'join', room: wantedRoom });
      break;
    case 'rooms':
      rooms = event.rooms ?? [];
      setTotal(event.online);
      renderRooms();
      break;
    case 'joined':
      enterRoom(event);
      break;
    case 'left':
      currentRoom = null;
      wantedRoom = null;
      roomTitle.textContent = 'no room';
      messages.replaceChildren();
      showNotice(`${event.text}. Pick a room on the left.`);
      renderRooms();
      break;
    case 'message':
      if (event.room === currentRoom) showMessage(event);
      break;
    case 'join':
    case 'leave':
      if (event.room === currentRoom && event.name !== myName) showNotice(event.text, `notice ${event.type}`);
      break;
    case 'error':
      // A room from the URL that does not exist is not asked for again after a reconnection.
      if (event.code === 'unknown-room' && currentRoom === null) wantedRoom = null;
      showNotice(event.text, 'notice error');
      break;
  }
}

function connect() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const url = `${scheme}//${location.host}/ws?name=${encodeURIComponent(myName || wantedName)}`;
  setConnection('connecting', 'connecting…');
  socket = new WebSocket(url);
  socket.addEventListener('open', () => {
    reconnectDelayMs = 500;
    setConnection('open', 'connected');
  });
  socket.addEventListener('message', (message) => {
    let event;
    try {
      event = JSON.parse(message.data);
    } catch {
      return;
    }
    if (event && typeof event === 'object') onEvent(event);
  });
  socket.addEventListener('close', () => {
    socket = null;
    currentRoom = null;
    renderRooms();
    setConnection('closed', `offline, retrying in ${Math.round(reconnectDelayMs / 1000) || 1}s`);
    setTimeout(connect, reconnectDelayMs);
    reconnectDelayMs = Math.min(reconnectDelayMs * 2, MAX_RECONNECT_DELAY_MS);
  });
}

composer.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = input.value.trim();
  if (!text || !isOpen() || currentRoom === null) return;
  request({ type: 'message', text });
  input.value = '';
});

leave.addEventListener('click', () => request({ type: 'leave' }));

// Submitting the form or pressing Escape both close the dialog; either way, join.
dialog.addEventListener('close', () => {
  wantedName = nicknameInput.value.trim();
  try {
    if (wantedName) localStorage.setItem(STORAGE_KEY, wantedName);
  } catch {
    // Storage may be unavailable (private mode); the name just is not remembered.
  }
  connect();
});

const fromQuery = new URLSearchParams(location.search).get('name');
if (fromQuery !== null) {
  wantedName = fromQuery.trim();
  connect();
} else {
  try {
    nicknameInput.value = localStorage.getItem(STORAGE_KEY) ?? '';
  } catch {
    nicknameInput.value = '';
  }
  dialog.showModal();
}
