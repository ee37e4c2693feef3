/**
 * Socket plumbing shared by the two loopback runners: writing a case's bytes the way its delivery
 * says, and collecting what comes back until the other end closes. The transport is a TCP socket
 * or an HTTP/2 stream (RFC 8441); both are Duplex streams. Every wait is bounded.
 */
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Case } from './cases.js';
import { deliver } from './wire.js';

/** Upper bound for one case's conversation; a conforming endpoint needs a tiny fraction of it. */
export const CASE_TIMEOUT_MS = 5000;

/** Writes the pieces of a delivery in order, waiting for each write; stops once the socket can no longer be written. */
export async function writeDelivery(socket: Duplex, c: Case, frames: Uint8Array[]): Promise<void> {
  const delivery = c.delivery ?? { split: 'whole' };
  const pieces = deliver(frames, delivery.split);
  for (let i = 0; i < pieces.length; i++) {
    if (socket.destroyed || !socket.writable) return;
    const ok = await new Promise<boolean>((resolve) => {
      socket.write(pieces[i]!, (error) => resolve(!error));
    });
    if (!ok) return;
    if (delivery.delayMs && i < pieces.length - 1) await sleep(delivery.delayMs);
  }
}

export interface Collected {
  bytes: Buffer;
  /** The other end half-closed first (we never end our side before it does). */
  endReceived: boolean;
  /** The socket closed before the time limit. */
  closed: boolean;
  /** A socket error seen (a reset, or a write after the other end left). */
  error: Error | null;
}

/**
 * Collects what `socket` receives until it closes (a socket made with allowHalfOpen false ends
 * its side when the other end does). Never rejects; after `timeoutMs` the socket is destroyed.
 */
export function collectUntilClose(socket: Duplex, initial: Buffer, timeoutMs = CASE_TIMEOUT_MS, onData?: (all: Buffer) => void): Promise<Collected> {
  const chunks: Buffer[] = [initial];
  const result: Collected = { bytes: initial, endReceived: false, closed: false, error: null };
  return new Promise((resolve) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      socket.destroy();
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (onData) onData(Buffer.concat(chunks));
    });
    socket.on('end', () => {
      result.endReceived = true;
    });
    socket.on('error', (error) => {
      result.error ??= error;
    });
    socket.once('close', () => {
      clearTimeout(timer);
      result.bytes = Buffer.concat(chunks);
      result.closed = !timedOut;
      resolve(result);
    });
    socket.resume();
  });
}
