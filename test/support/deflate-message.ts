/**
 * Compressed message payloads as a permessage-deflate peer sends them (RFC 7692 §7.2.1): raw
 * DEFLATE, flushed with a sync flush, the final 00 00 ff ff removed. Made with node:zlib alone,
 * never with src/'s codec, so a test that feeds them checks that codec against zlib itself.
 */
import zlib from 'node:zlib';

/** One message compressed with a fresh context. */
export function deflateMessage(data: Uint8Array | string): Buffer {
  const raw = zlib.deflateRawSync(typeof data === 'string' ? Buffer.from(data) : data, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  return stripTail(raw);
}

/**
 * `size` bytes of `fill`, compressed as deflateMessage does, fed to zlib in pieces so that the
 * plaintext of a bomb never exists in memory here.
 */
export async function deflateFilled(size: number, fill = 0): Promise<Buffer> {
  const deflate = zlib.createDeflateRaw({ level: 9 });
  const out: Buffer[] = [];
  deflate.on('data', (chunk: Buffer) => out.push(chunk));
  const piece = Buffer.alloc(Math.min(size, 1 << 20), fill);
  for (let left = size; left > 0; left -= piece.length) {
    const part = left >= piece.length ? piece : piece.subarray(0, left);
    if (!deflate.write(part)) await new Promise((resolve) => deflate.once('drain', resolve));
  }
  await new Promise<void>((resolve) => deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve()));
  deflate.destroy();
  return stripTail(Buffer.concat(out));
}

function stripTail(raw: Buffer): Buffer {
  const n = raw.length;
  const tail = n >= 4 && raw[n - 4] === 0 && raw[n - 3] === 0 && raw[n - 2] === 0xff && raw[n - 1] === 0xff;
  return tail ? raw.subarray(0, n - 4) : raw;
}
