/**
 * What a runner saw of the endpoint under test, in one shape for all runners, and the single
 * assertion that compares it with a case's expectation. The frames the endpoint sent are checked
 * against the invariants every case shares (RFC 6455 §5.1 masking by side, §5.5 control frames
 * whole and short, §5.5.1 exactly one close frame and nothing after it).
 */
import assert from 'node:assert/strict';
import type { Case, Message } from './cases.js';
import type { ParsedFrame } from './wire.js';

export interface Observed {
  /** Messages the endpoint delivered to its application, in order. */
  messages: Message[];
  /** Payloads of the pongs the endpoint sent, in order. */
  pongs: Uint8Array[];
  /** Close frames the endpoint sent: code null when the frame had no payload. */
  closeFrames: Array<{ code: number | null; reason: Uint8Array }>;
  /** Close code of the error the endpoint reported when it failed the connection, or null. */
  failedWith: number | null;
  /** Breaches of the invariants every frame the endpoint sends must keep. */
  problems: string[];
}

export interface FrameSummary {
  /** Data messages the endpoint sent (reassembled): the echo, on the server runner. */
  dataMessages: Message[];
  pongs: Uint8Array[];
  closeFrames: Array<{ code: number | null; reason: Uint8Array }>;
  problems: string[];
}

/** Reads the frames an endpoint of `side` sent: sorts them and notes every invariant they break. */
export function summarizeFrames(frames: ParsedFrame[], side: 'server' | 'client', leftover: number): FrameSummary {
  const summary: FrameSummary = { dataMessages: [], pongs: [], closeFrames: [], problems: [] };
  if (leftover > 0) summary.problems.push(`${leftover} bytes of an incomplete frame`);
  let open: { binary: boolean; parts: Uint8Array[] } | null = null;
  frames.forEach((f, i) => {
    const what = `frame ${i} (opcode ${f.opcode})`;
    // RFC 6455 §5.1: a client masks every frame, a server none.
    if (f.masked !== (side === 'client')) summary.problems.push(`${what} is ${f.masked ? 'masked' : 'unmasked'} from a ${side}`);
    if (f.rsv !== 0) summary.problems.push(`${what} has RSV bits ${f.rsv}`);
    if (summary.closeFrames.length > 0) summary.problems.push(`${what} sent after the close frame`);
    if (f.opcode >= 0x8) {
      if (!f.fin) summary.problems.push(`${what}: fragmented control frame`);
      if (f.payload.length > 125) summary.problems.push(`${what}: control payload of ${f.payload.length} bytes`);
    }
    switch (f.opcode) {
      case 0x1:
      case 0x2:
        if (open) summary.problems.push(`${what} starts a message inside another`);
        open = { binary: f.opcode === 0x2, parts: [f.payload] };
        break;
      case 0x0:
        if (!open) summary.problems.push(`${what}: continuation without a message`);
        else open.parts.push(f.payload);
        break;
      case 0x8:
        summary.closeFrames.push(
          f.payload.length === 0
            ? { code: null, reason: new Uint8Array(0) }
            : { code: (f.payload[0]! << 8) | (f.payload[1] ?? 0), reason: f.payload.subarray(2) },
        );
        if (f.payload.length === 1) summary.problems.push(`${what}: close payload of 1 byte`);
        return;
      case 0x9:
        summary.problems.push(`${what}: the endpoint sent a ping no case asks for`);
        return;
      case 0xa:
        summary.pongs.push(f.payload);
        return;
      default:
        summary.problems.push(`${what}: reserved opcode`);
        return;
    }
    if (f.fin && open) {
      summary.dataMessages.push({ binary: open.binary, data: joinParts(open.parts) });
      open = null;
    }
  });
  if (open) summary.problems.push('a data message left unfinished');
  return summary;
}

function joinParts(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  return new Uint8Array(Buffer.concat(parts));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

/** A short, readable picture of bytes for failure messages (large payloads are not printed whole). */
export function describeBytes(b: Uint8Array): string {
  const head = Buffer.from(b.subarray(0, 24)).toString('hex').replace(/(..)/g, '$1 ').trim();
  return `${b.length} bytes [${head}${b.length > 24 ? ' …' : ''}]`;
}

const describeMessage = (m: Message): string => `${m.binary ? 'binary' : 'text'} ${describeBytes(m.data)}`;

/** Asserts that `seen` is what case `c` expects; `label` names the runner (and delivery) in failures. */
export function assertOutcome(c: Case, seen: Observed, label: string): void {
  const where = `${c.id} [${label}]`;
  assert.deepEqual(seen.problems, [], `${where}: the endpoint broke a framing invariant`);

  const expected = c.expect.messages ?? [];
  assert.equal(
    seen.messages.length,
    expected.length,
    `${where}: delivered ${seen.messages.length} messages (${seen.messages.map(describeMessage).join('; ')}), expected ${expected.length}`,
  );
  expected.forEach((m, i) => {
    const got = seen.messages[i]!;
    assert.ok(
      got.binary === m.binary && sameBytes(got.data, m.data),
      `${where}: message ${i} is ${describeMessage(got)}, expected ${describeMessage(m)}`,
    );
  });

  const pongs = c.expect.pongs ?? [];
  assert.equal(seen.pongs.length, pongs.length, `${where}: sent ${seen.pongs.length} pongs, expected ${pongs.length}`);
  pongs.forEach((p, i) => {
    assert.ok(sameBytes(seen.pongs[i]!, p), `${where}: pong ${i} is ${describeBytes(seen.pongs[i]!)}, expected ${describeBytes(p)}`);
  });

  // RFC 6455 §5.5.1: at most one close frame, whatever the peer does.
  assert.equal(seen.closeFrames.length, 1, `${where}: sent ${seen.closeFrames.length} close frames, expected exactly one`);
  const closeFrame = seen.closeFrames[0]!;
  const close = c.expect.close;
  if ('fail' in close) {
    assert.equal(seen.failedWith, close.fail, `${where}: expected the endpoint to fail the connection with ${close.fail}`);
    assert.equal(closeFrame.code, close.fail, `${where}: close frame code`);
  } else {
    assert.equal(seen.failedWith, null, `${where}: the endpoint failed the connection (close code ${seen.failedWith}) but should have answered the close`);
    assert.equal(closeFrame.code, close.code, `${where}: the answering close frame's code`);
    if (close.reason) {
      assert.ok(
        sameBytes(closeFrame.reason, close.reason),
        `${where}: the answering close reason is ${describeBytes(closeFrame.reason)}, expected ${describeBytes(close.reason)}`,
      );
    }
  }
}
