/**
 * The WHATWG-style API with its typed events: MessageEvent.data, CloseEvent.code, reason and
 * wasClean, ErrorEvent.error and message, Event.type and target (type-checked only).
 */
import WebSocket, { type CloseEvent, type ErrorEvent, type Event, type MessageEvent } from 'ws';

export function attributes(ws: WebSocket): void {
  ws.onopen = (event: Event) => console.log(event.type, event.target.url);
  ws.onmessage = (event: MessageEvent) => {
    if (typeof event.data === 'string') console.log(event.data.toUpperCase());
    console.log(event.type, event.target.readyState);
  };
  ws.onclose = (event: CloseEvent) => console.log(event.code, event.reason.length, event.wasClean, event.target.url);
  ws.onerror = (event: ErrorEvent) => console.log(event.message, event.error, event.type);
  ws.onopen = null;
  ws.onmessage = null;
}

export function inferred(ws: WebSocket): void {
  ws.onmessage = (event) => console.log(event.data);
  ws.onclose = (event) => console.log(event.code, event.reason, event.wasClean);
  ws.onerror = (event) => console.log(event.error, event.message);
  ws.onopen = (event) => console.log(event.type);
}

export function listeners(ws: WebSocket): void {
  ws.addEventListener('message', (event) => console.log(event.data));
  ws.addEventListener('close', (event) => console.log(event.code, event.reason, event.wasClean));
  ws.addEventListener('error', (event) => console.log(event.error, event.message));
  ws.addEventListener('open', (event) => console.log(event.target.protocol), { once: true });
  const handler = { handleEvent: (event: MessageEvent) => console.log(event.data) };
  ws.addEventListener('message', handler);
  ws.removeEventListener('message', handler);
}
