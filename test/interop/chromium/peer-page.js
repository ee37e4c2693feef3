// The browser end of the Chromium interop tests: window.peer drives one native WebSocket at a
// time. Payloads cross to Node as base64; large ones are generated here with the same
// deterministic generators as test/interop/message-cases.ts.
(() => {
  const TEXT_UNIT = 'fdx-é✓🚀abc';

  function patternBytes(length) {
    const out = new Uint8Array(length);
    let x = 0x9e3779b9;
    for (let i = 0; i < length; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      out[i] = x >>> 24;
    }
    return out;
  }

  function toBase64(bytes) {
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000) {
      binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return btoa(binary);
  }

  function fromBase64(b64) {
    const binary = atob(b64);
    const out = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out;
  }

  let current = null;

  window.peer = {
    open(url, protocols) {
      const ws = new WebSocket(url, protocols);
      ws.binaryType = 'arraybuffer';
      const state = { ws, messages: [], waiters: [], closed: null };
      current = state;
      state.closed = new Promise((resolve) => {
        ws.addEventListener('close', (event) => {
          resolve({ code: event.code, reason: event.reason, wasClean: event.wasClean });
          for (const waiter of state.waiters.splice(0)) waiter.reject(new Error(`closed (${event.code}) while waiting for a message`));
        });
      });
      ws.addEventListener('message', (event) => {
        const item =
          typeof event.data === 'string'
            ? { binary: false, b64: toBase64(new TextEncoder().encode(event.data)) }
            : { binary: true, b64: toBase64(new Uint8Array(event.data)) };
        const waiter = state.waiters.shift();
        if (waiter) waiter.resolve(item);
        else state.messages.push(item);
      });
      return new Promise((resolve, reject) => {
        ws.addEventListener('open', () => resolve(ws.protocol));
        ws.addEventListener('error', () => reject(new Error(`WebSocket error while opening ${url}`)));
      });
    },

    send(message) {
      const ws = current.ws;
      if (message.pattern) {
        if (message.pattern.kind === 'bytes') ws.send(patternBytes(message.pattern.length));
        else ws.send(TEXT_UNIT.repeat(message.pattern.length / 16));
        return;
      }
      const bytes = fromBase64(message.b64);
      if (message.binary) ws.send(bytes.buffer);
      else ws.send(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    },

    next(timeoutMs) {
      const state = current;
      if (state.messages.length > 0) return Promise.resolve(state.messages.shift());
      return new Promise((resolve, reject) => {
        const waiter = {
          resolve: (item) => {
            clearTimeout(timer);
            resolve(item);
          },
          reject,
        };
        const timer = setTimeout(() => {
          state.waiters.splice(state.waiters.indexOf(waiter), 1);
          reject(new Error(`no message within ${timeoutMs} ms`));
        }, timeoutMs);
        state.waiters.push(waiter);
      });
    },

    close(code, reason) {
      if (code === undefined) current.ws.close();
      else current.ws.close(code, reason);
    },

    closed() {
      return current.closed;
    },

    readyState() {
      return current ? current.ws.readyState : 3;
    },
  };
})();
