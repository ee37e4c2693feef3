/**
 * The editor page: a CodeMirror 6 editor bound to a Yjs text (y-codemirror.next), synced by the
 * stock y-websocket provider with the demo's server, awareness shown as the others' cursors and a
 * "Here now" list. The document comes from ?doc= (default 'welcome'), the user's name from
 * ?name= or the one remembered in this browser. "Go offline" stops syncing so that edits made
 * meanwhile can be seen merging when the page goes online again. Bundled by esbuild
 * (page-bundle.ts); the provider does its own reconnecting.
 * Must not: talk to the server other than through the provider, or insert remote text as HTML.
 */
import { EditorView, basicSetup } from 'codemirror';
import { EditorState } from '@codemirror/state';
import * as Y from 'yjs';
import { yCollab } from 'y-codemirror.next';
import { WebsocketProvider } from 'y-websocket';

const DOC_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const DOCUMENTS = ['welcome', 'notes', 'ideas'];
const COLOURS = ['#e03131', '#2f9e44', '#1971c2', '#9c36b5', '#0c8599', '#f08c00', '#5c940d', '#c2255c'];
const ADJECTIVES = ['Brave', 'Calm', 'Clever', 'Eager', 'Gentle', 'Happy', 'Jolly', 'Lucky', 'Quick', 'Witty'];
const ANIMALS = ['Otter', 'Falcon', 'Badger', 'Heron', 'Lynx', 'Panda', 'Koala', 'Fox', 'Owl', 'Wren'];

const params = new URLSearchParams(location.search);
const docName = DOC_NAME.test(params.get('doc') ?? '') ? params.get('doc') : 'welcome';
const pick = (list) => list[Math.floor(Math.random() * list.length)];
const userName = (params.get('name') || localStorage.getItem('fdx-editor-name') || `${pick(ADJECTIVES)} ${pick(ANIMALS)}`).slice(0, 24);
localStorage.setItem('fdx-editor-name', userName);
const colour = COLOURS[[...userName].reduce((sum, c) => sum + c.charCodeAt(0), 0) % COLOURS.length];

const $ = (id) => document.getElementById(id);
$('doc-name').textContent = docName;
document.title = `${docName} · fullduplex editor`;

const wsUrl = new URL('ws', location.href);
wsUrl.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
wsUrl.search = '';
const ydoc = new Y.Doc();
// disableBc: tabs of one browser sync through the server too, as tabs of two machines would.
const provider = new WebsocketProvider(wsUrl.href, docName, ydoc, { disableBc: true });
provider.awareness.setLocalStateField('user', { name: userName, color: colour, colorLight: `${colour}33` });

const ytext = ydoc.getText('codemirror');
const undoManager = new Y.UndoManager(ytext);
new EditorView({
  state: EditorState.create({
    doc: ytext.toString(),
    extensions: [basicSetup, EditorView.lineWrapping, yCollab(ytext, provider.awareness, { undoManager })],
  }),
  parent: $('editor'),
});

const STATUS_TEXT = { connected: 'online', connecting: 'connecting…', disconnected: 'reconnecting…', offline: 'offline' };
function showStatus(state) {
  const status = $('status');
  status.dataset.state = state;
  status.textContent = STATUS_TEXT[state] ?? state;
}
provider.on('status', ({ status }) => showStatus(provider.shouldConnect ? status : 'offline'));
provider.on('sync', (synced) => {
  $('status').dataset.synced = String(synced);
});
provider.on('connection-close', (event) => {
  if (event && event.code !== 1000 && event.code !== 1005 && event.code !== 1006) {
    $('notice').textContent = `The server closed the connection (${event.code}${event.reason ? `: ${event.reason}` : ''}); reconnecting.`;
  }
});

$('offline').addEventListener('click', () => {
  if (provider.shouldConnect) {
    provider.disconnect();
    showStatus('offline');
    $('offline').textContent = 'Go online';
    $('notice').textContent = 'Offline: your edits stay here and merge when you go online.';
  } else {
    provider.connect();
    $('offline').textContent = 'Go offline';
    $('notice').textContent = '';
  }
});

function renderPeers() {
  const list = $('peers');
  list.replaceChildren();
  for (const [clientId, state] of provider.awareness.getStates()) {
    if (!state.user) continue;
    const item = document.createElement('li');
    item.className = 'peer';
    item.dataset.self = String(clientId === ydoc.clientID);
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    swatch.style.background = String(state.user.color ?? '#888');
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = String(state.user.name ?? '?') + (clientId === ydoc.clientID ? ' (you)' : '');
    item.append(swatch, name);
    list.append(item);
  }
}
provider.awareness.on('change', renderPeers);
renderPeers();

for (const name of new Set([...DOCUMENTS, docName])) {
  const item = document.createElement('li');
  const link = document.createElement('a');
  link.href = `?doc=${encodeURIComponent(name)}`;
  link.textContent = name;
  if (name === docName) link.setAttribute('aria-current', 'page');
  item.append(link);
  $('docs').append(item);
}
$('open-doc').addEventListener('submit', (event) => {
  event.preventDefault();
  const name = $('new-doc').value.trim();
  if (DOC_NAME.test(name)) location.search = `?doc=${encodeURIComponent(name)}`;
});
