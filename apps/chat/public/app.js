// The chat page: asks for a nickname, connects to /ws with the browser's WebSocket, and shows
// what the server broadcasts. Every piece of text from the network goes in with textContent,
// never innerHTML, so a message cannot inject markup.

const $ = (id) => document.getElementById(id);
const messages = $('messages');
const online = $('online');
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
let reconnectDelayMs = 500;

function setConnection(state, label) {
  connection.dataset.state = state;
  connection.textContent = label;
  const open = state === 'open';
  input.disabled = !open;
  send.disabled = !open;
}

function setOnline(count) {
  online.textContent = `${count} online`;
  online.dataset.count = String(count);
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

function onEvent(event) {
  switch (event.type) {
    case 'welcome':
      myName = event.name;
      me.textContent = myName;
      setOnline(event.online);
      messages.replaceChildren();
      for (const past of event.history ?? []) showMessage(past);
      showNotice(event.text);
      break;
    case 'message':
      showMessage(event);
      break;
    case 'join':
    case 'leave':
      setOnline(event.online);
      if (event.name !== myName) showNotice(event.text, `notice ${event.type}`);
      break;
    case 'error':
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
    input.focus();
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
    setConnection('closed', `offline, retrying in ${Math.round(reconnectDelayMs / 1000) || 1}s`);
    setTimeout(connect, reconnectDelayMs);
    reconnectDelayMs = Math.min(reconnectDelayMs * 2, MAX_RECONNECT_DELAY_MS);
  });
}

composer.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = input.value.trim();
  if (!text || !socket || socket.readyState !== WebSocket.OPEN) return;
  socket.send(JSON.stringify({ type: 'message', text }));
  input.value = '';
});

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

// ?name=Ada skips the prompt (handy for links and tests).
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
