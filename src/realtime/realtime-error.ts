/**
 * The one error class of the real-time layer, server and client: a stable `code` from the
 * protocol's table (protocol.ts ERROR_CODES, docs/protocol.md section 6).
 * Must not: carry anything but the code and a message a person can read.
 */
import type { ErrorCode } from './protocol.js';

export class RealtimeError extends Error {
  readonly code: ErrorCode | (string & {});
  constructor(code: ErrorCode | (string & {}), message?: string) {
    super(message ?? code);
    this.name = 'RealtimeError';
    this.code = code;
  }
}
