// reliable-dgram/sim: the deterministic network simulator and the pieces to
// run endpoints on it.
export { SimNetwork, SimTransport, DEFAULT_LINK, formatAddress } from './network.js';
export type { LinkOptions, SimNetworkOptions, SimStats, TraceEvent, DatagramEvent, RecordedEvent, RunOptions } from './network.js';
export { VirtualClock } from './clock.js';
export { Prng, prngEnv } from './prng.js';
export { simHost } from './host.js';
