// An endpoint on the simulated network, its state changes recorded in the trace.

import { Host } from '../endpoint/host.js';
import type { EndpointOptions } from '../endpoint/endpoint.js';
import type { Address } from '../endpoint/types.js';
import type { SimNetwork } from './network.js';
import { prngEnv } from './prng.js';

/** Bind an endpoint at `addr` on `net`, with randomness forked from the network's seed. */
export function simHost(net: SimNetwork, addr: Address, opts?: EndpointOptions): Host {
  const host = new Host(net.bind(addr), net.clock, prngEnv(net.prng.fork()), opts);
  host.observers.push((ev) => {
    if (ev.type === 'conn' && ev.ev.type === 'state') {
      net.record({ kind: 'state', host: `${addr.address}:${addr.port}`, id: ev.conn.localId, from: ev.ev.from, to: ev.ev.to, reason: ev.ev.reason });
    }
  });
  return host;
}
