import { Connection } from 'fullduplex/protocol';
import { randomFillSync } from 'node:crypto';

// The Sans-I/O core: bytes in, events and bytes out. Here a client and a server talk through
// plain arrays instead of sockets; any transport (a socket, a worker port, a test) does.
const server = new Connection({ side: 'server' });
const client = new Connection({ side: 'client', generateMask: (key) => randomFillSync(key) });

client.send(new TextEncoder().encode('hello'), { binary: false });
for (const bytes of client.takeOutput()) server.receiveData(bytes); // takes ownership: unmasks in place

for (const event of server.takeEvents()) {
  if (event.type === 'message') {
    console.log(new TextDecoder().decode(event.data)); // hello
    server.send(event.data, { binary: event.binary }); // echo it back
  }
}
server.sendClose(1000);
for (const bytes of server.takeOutput()) client.receiveData(bytes);
for (const event of client.takeEvents()) console.log(event.type); // message, then close
