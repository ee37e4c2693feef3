/**
 * RFC 6455 §5.3: fresh, unpredictable masking keys for a client's frames, drawn 4 bytes at a
 * time from one CSPRNG buffer shared by every connection (one randomFillSync per 2048 keys).
 * Must not: hand out the same bytes twice.
 */
import { randomFillSync } from 'node:crypto';

const POOL_SIZE = 8192;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let poolOffset = POOL_SIZE;

export function generateMask(key: Uint8Array): void {
  if (poolOffset + 4 > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  key[0] = pool[poolOffset]!;
  key[1] = pool[poolOffset + 1]!;
  key[2] = pool[poolOffset + 2]!;
  key[3] = pool[poolOffset + 3]!;
  poolOffset += 4;
}
