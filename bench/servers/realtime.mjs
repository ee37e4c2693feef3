// fullduplex/realtime, as built (../../dist/realtime.js), for the channel scenario and the
// presence storms: a RealtimeServer with its own MemoryEngine mounted on its own port. In mode
// 'presence' every channel has presence with its members (library defaults: a 150 ms tick), in
// 'presence-count' every channel is count-only. Clients connect, subscribe
// and publish with fdx.v1 (docs/protocol.md); every publication is positioned, kept in the
// channel's history and pushed to each subscriber as a `pub` message, and the publisher gets
// its reply. Library defaults, except the publish rate per connection (50/s by default): the
// scenario's one publisher goes as fast as the subscribers take it, and the limit would be
// measured instead of the layer.
import { RealtimeServer, mountRealtime } from '../../dist/realtime.js';
import { serve } from './control.mjs';

serve(({ port, host, mode, deflate }) => {
  if (mode !== 'channel' && mode !== 'presence' && mode !== 'presence-count') {
    throw new Error(`servers/realtime.mjs runs the channel and presence scenarios only (--mode channel|presence|presence-count), not ${mode}`);
  }
  const presence = mode === 'presence' ? () => true : mode === 'presence-count' ? () => ({ countOnly: true }) : undefined;
  const realtime = new RealtimeServer({ publishRatePerSecond: 1e9, publishBurst: 1e9, presence });
  const wss = mountRealtime(realtime, { port, host, perMessageDeflate: deflate });
  return new Promise((resolve, reject) => {
    wss.once('error', reject);
    wss.once('listening', () => resolve({ port: wss.address().port, connections: () => realtime.connections.size }));
  });
});
