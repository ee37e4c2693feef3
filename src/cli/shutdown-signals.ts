/**
 * The servers' shared handling of SIGINT and SIGTERM: the first signal starts a graceful stop,
 * a second one exits at once (128 + the signal's number, as shells report it); and the printed
 * form of a bound address.
 * Must not: decide how a server stops (its caller does).
 */
import type { AddressInfo } from 'node:net';

/**
 * Calls `stop` on the first SIGINT or SIGTERM (after printing `fdx: SIGNAL, <doing>`), exits
 * the process on a second. Returns the function that stops listening for them.
 */
export function onShutdownSignal(doing: string, stop: (signal: NodeJS.Signals) => void): () => void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      // A second signal: the user does not want to wait for the close handshakes.
      process.stderr.write(`fdx: ${signal} again, exiting now\n`);
      process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
    }
    stopping = true;
    process.stderr.write(`fdx: ${signal}, ${doing}\n`);
    stop(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  };
}

/** `HOST:PORT`, with an IPv6 host in brackets. */
export function formatAddress(address: AddressInfo): string {
  const host = address.family === 'IPv6' || address.address.includes(':') ? `[${address.address}]` : address.address;
  return `${host}:${address.port}`;
}
