// A demo page's WebSocket to a path relative to the page (ws: or wss: as the page), reopened
// with exponential backoff after every close, its state shown in the element #connection
// (data-state idle | connecting | open | closed). Bundled into each demo's page by esbuild.
// Must not: queue sends while closed (a live stream has nothing worth sending late).

const MIN_RETRY_MS = 500;
const MAX_RETRY_MS = 8000;

/**
 * Opens `path` and keeps it open. `handlers`: onopen(socket), onmessage(event), onclose(event);
 * `openText` is shown while connected. Returns { send(data) }, which drops data while closed.
 */
export function liveSocket(path, { binaryType = 'blob', openText = 'live', onopen, onmessage, onclose }) {
  const url = new URL(path, location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const status = document.getElementById('connection');
  const show = (state, text) => {
    status.dataset.state = state;
    status.textContent = text;
  };
  let socket = null;
  let retryMs = MIN_RETRY_MS;
  const open = () => {
    show('connecting', 'connecting…');
    socket = new WebSocket(url);
    socket.binaryType = binaryType;
    socket.onopen = () => {
      retryMs = MIN_RETRY_MS;
      show('open', openText);
      onopen?.(socket);
    };
    socket.onmessage = onmessage;
    socket.onclose = (event) => {
      show('closed', `offline (${event.code}), retrying…`);
      onclose?.(event);
      setTimeout(open, retryMs);
      retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
    };
  };
  open();
  return {
    send(data) {
      if (socket?.readyState === WebSocket.OPEN) socket.send(data);
    },
  };
}
