// The node:net-compatible API: Socket, Server, connect, createServer, and the
// LocalEndpoint that lets one UDP port carry many connections both ways.
export { Socket, connect, createConnection } from './socket.js';
export { Server, createServer } from './server.js';
export type { ServerOptions, DropInfo } from './server.js';
export { LocalEndpoint, createEndpoint } from './endpoint.js';
export type { LocalEndpointOptions, CreateEndpointOptions } from './endpoint.js';
export type { SocketOptions, ConnectOptions, ListenOptions, TransportOptions } from './args.js';
export type { SocketStats } from './stats.js';
