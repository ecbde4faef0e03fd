// The node:net-compatible API: Socket, Server, connect, createServer, and the
// LocalEndpoint that lets one UDP port carry many connections both ways.
export { connect, createConnection } from './socket.js';
export { createServer } from './server.js';
// Socket and Server callable without `new`, as net's are.
export {
  Socket,
  Server,
  Stream,
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
  default,
} from './compat.js';
export type { ServerOptions, DropInfo } from './server.js';
export { LocalEndpoint, createEndpoint } from './local-endpoint.js';
export type { LocalEndpointOptions, CreateEndpointOptions } from './local-endpoint.js';
export type { SocketOptions, ConnectOptions, ListenOptions, TransportOptions } from './options.js';
export type { SocketStats } from './stats.js';
