/**
 * The chaos runs' TCP proxy: one listening port; each new connection goes to the upstream port
 * `targetPort()` names (a fixed server, or the next live one of several, round robin); each
 * connection is cut after a random lifetime, inside a chunk when data flows (so a peer gets part
 * of a frame). It may block new connections for a while. It must not read or change what flows.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';

/** A TCP proxy that cuts each connection after a random lifetime, mid-chunk when data flows. */
export class ChaosProxy {
  readonly server: net.Server;
  cutting = true;
  blocked = false;
  cuts = 0;
  midFrame = 0;
  readonly #sockets = new Set<net.Socket>();

  constructor(
    targetPort: () => number,
    random: () => number,
    lifeMs: [number, number],
  ) {
    this.server = net.createServer((client) => {
      this.#sockets.add(client);
      client.on('close', () => this.#sockets.delete(client));
      client.on('error', () => {});
      if (this.blocked) return void client.destroy();
      const upstream = net.connect(targetPort(), '127.0.0.1');
      this.#sockets.add(upstream);
      upstream.on('close', () => {
        this.#sockets.delete(upstream);
        client.destroy();
      });
      upstream.on('error', () => {});
      client.on('close', () => upstream.destroy());
      let dying = false;
      const kill = () => {
        client.destroy();
        upstream.destroy();
      };
      const forward = (from: net.Socket, to: net.Socket) =>
        from.on('data', (chunk: Buffer) => {
          if (!dying) return void to.write(chunk);
          if (chunk.length < 2 || to.destroyed) return kill();
          // Cut inside this chunk: the peer gets part of a frame, then the connection ends.
          dying = false;
          this.midFrame++;
          to.write(chunk.subarray(0, 1 + Math.floor(random() * (chunk.length - 1))), kill);
        });
      forward(client, upstream);
      forward(upstream, client);
      if (!this.cutting) return;
      const life = lifeMs[0] + random() * (lifeMs[1] - lifeMs[0]);
      setTimeout(() => {
        if (client.destroyed || !this.cutting) return;
        this.cuts++;
        dying = true;
        setTimeout(kill, 30); // no data flowed: cut between frames
      }, life);
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }

  /** Cuts every connection now. */
  cutAll(): void {
    for (const socket of this.#sockets) socket.destroy();
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
