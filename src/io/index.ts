// The OS edge: the only place that touches sockets, timers, time and randomness.
export { UdpTransport, processOwnerId, reusePortSupported, type UdpTransportOptions, type UdpTransportStats } from './udp-transport.js';
export { BunUdpTransport } from './bun-udp-transport.js';
export { bindUdp, type BindUdpOptions } from './bind.js';
export { NodeClock, type NodeClockOptions } from './node-clock.js';
export { nodeEnv } from './node-env.js';
