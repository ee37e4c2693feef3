/**
 * Cleans up after tests that use a shared Redis: deletes every key under the given prefixes
 * (SCAN, then DEL in batches).
 */
import { createClient } from 'redis';

export async function deleteKeys(url: string, prefixes: string[]): Promise<void> {
  if (prefixes.length === 0) return;
  const client = createClient({ url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    for (const prefix of prefixes) {
      const match = prefix.replace(/[*?[\]\\]/g, '\\$&') + '*';
      let cursor = '0';
      do {
        const reply = (await client.sendCommand(['SCAN', cursor, 'MATCH', match, 'COUNT', '1000'])) as [string, string[]];
        cursor = String(reply[0]);
        if (reply[1].length > 0) await client.sendCommand(['DEL', ...reply[1]]);
      } while (cursor !== '0');
    }
  } finally {
    await client.close();
  }
}
