// The byte-echo floor: node:net writing back every byte it reads. After the upgrade
// (raw-upgrade.mjs) each read goes, unparsed, to one socket write, so the client gets its own
// masked frames back. No framing, no unmasking: what is left is the cost of Node's sockets
// themselves, which no WebSocket server in Node can go below. The load generator is told that
// masked frames are expected from it. Echo scenarios only: it cannot fan out.
import { serve } from './control.mjs';
import { listenRaw } from './raw-upgrade.mjs';

serve(({ port, host }) =>
  listenRaw(port, host, (socket, rest) => {
    socket.on('data', (chunk) => socket.write(chunk));
    if (rest.length > 0) socket.write(rest);
  }),
);
