// reliable-dgram: TCP's guarantees over UDP, with the node:net API.
export * from './wire/index.js';
export { Connection } from './protocol/connection.js';
export type { ConnectionInit } from './protocol/tcb.js';
export { DEFAULT_OPTIONS } from './protocol/options.js';
export type { ConnectionOptions, ConnectionOptionsInput, ConnEvent, ConnErrorCode, ConnectionStats } from './protocol/options.js';
export { State, isEdge, allEdges } from './protocol/state.js';
export { NewReno, newReno } from './protocol/cc/congestion.js';
export { Cubic, cubic } from './protocol/cc/cubic.js';
export { Bbr, bbr } from './protocol/cc/bbr.js';
export { CubicLt, cubicLt } from './protocol/cc/cubic-lt.js';
export { CONGESTION_CONTROLLERS, congestionFactory, type CongestionName } from './protocol/cc/registry.js';
export type { CongestionController, CongestionFactory, RateSample } from './protocol/cc/congestion.js';
export { RttEstimator, DEFAULT_RTO } from './protocol/recovery/rtt.js';
export type { RtoOptions } from './protocol/recovery/rtt.js';
export { Endpoint } from './endpoint/endpoint.js';
export type { EndpointOptions, EndpointEvent, EndpointStats, Datagram } from './endpoint/endpoint.js';
export { Host } from './endpoint/host.js';
export type { Address, Clock, Env, TimerHandle, Transport } from './endpoint/types.js';
export { UdpTransport, BunUdpTransport, bindUdp, NodeClock, nodeEnv } from './io/index.js';
export {
  Socket,
  Server,
  Stream,
  LocalEndpoint,
  connect,
  createConnection,
  createServer,
  createEndpoint,
  isIP,
  isIPv4,
  isIPv6,
  SocketAddress,
  BlockList,
  _setSimultaneousAccepts,
  getDefaultAutoSelectFamily,
  setDefaultAutoSelectFamily,
  getDefaultAutoSelectFamilyAttemptTimeout,
  setDefaultAutoSelectFamilyAttemptTimeout,
} from './stream/index.js';
// `import net from 'reliable-dgram'`, as `import net from 'node:net'`.
export { default } from './stream/index.js';
export type {
  SocketOptions,
  ConnectOptions,
  ListenOptions,
  ServerOptions,
  TransportOptions,
  DropInfo,
  LocalEndpointOptions,
  CreateEndpointOptions,
  SocketStats,
} from './stream/index.js';
