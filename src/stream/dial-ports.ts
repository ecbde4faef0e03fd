// Ports the app names for its connects (connect's `localPort`), each held by the one dial
// endpoint bound to it. node:net binds such a client socket with SO_REUSEADDR: another connect
// from the same port works while the first is open (to another peer: another 4-tuple) and right
// after it closed, TIME_WAIT included; only the same 4-tuple while in use fails (EADDRNOTAVAIL).
// Here a UDP port is one endpoint, so a later connect from the port joins the endpoint holding it.

import type { LocalEndpoint } from './local-endpoint.js';

/** Endpoints by `portKey`, from their bind until their 'close'. */
const held = new Map<string, LocalEndpoint>();
/** Binds in progress by `portKey`: a second connect from the port waits for the first's endpoint. */
const binding = new Map<string, Promise<void>>();

/** The local address as the app asked for it (or the wildcard of the peer's family), and the port. */
export function portKey(address: string, port: number): string {
  return `${address}|${port}`;
}

/** The endpoint holding the port, if one does. */
export function heldPort(key: string): LocalEndpoint | undefined {
  return held.get(key);
}

/**
 * One of these endpoints on `port`, at any address, that is closing: its socket still holds the
 * port for a moment ('::' covers IPv4 too), as an abandoned autoSelectFamily attempt's does.
 */
export function closingOnPort(port: number): LocalEndpoint | undefined {
  const suffix = `|${port}`;
  for (const [key, ep] of held) if (ep.closed && key.endsWith(suffix)) return ep;
  return undefined;
}

/** A bind of the port in progress, if one is. */
export function bindingPort(key: string): Promise<void> | undefined {
  return binding.get(key);
}

/** `ep` holds the port until it closes. */
export function holdPort(key: string, ep: LocalEndpoint): void {
  held.set(key, ep);
  ep.once('close', () => {
    if (held.get(key) === ep) held.delete(key);
  });
}

/** Mark the port as being bound until `done` settles. */
export function bindPort(key: string, done: Promise<unknown>): void {
  const p = done.then(
    () => {},
    () => {},
  );
  binding.set(key, p);
  void p.then(() => {
    if (binding.get(key) === p) binding.delete(key);
  });
}
