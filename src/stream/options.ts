// The options Socket, connect and listen take, in node:net's shapes, plus
// this library's own (transport, clock, shared endpoint, protocol settings).

import type { LookupFunction } from 'node:net';
import type { Clock, Env, Transport } from '../endpoint/types.js';
import type { ConnectionOptions } from '../protocol/options.js';
import type { LocalEndpoint } from './local-endpoint.js';

/** Run on a transport you provide (e.g. `SimNetwork.bind(addr)`) instead of a node:dgram socket. */
export interface TransportOptions {
  /** A bound datagram transport; the endpoint owns it and closes it when done. */
  transport?: Transport;
  /** The clock driving timers (required with `transport` for the simulator: `net.clock`). */
  clock?: Clock;
  /** Randomness (connection ids, ISNs); default crypto-backed. */
  env?: Env;
}

export interface SocketOptions extends TransportOptions {
  allowHalfOpen?: boolean;
  readable?: boolean;
  writable?: boolean;
  signal?: AbortSignal;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
  highWaterMark?: number;
  readableHighWaterMark?: number;
  writableHighWaterMark?: number;
  /** Dial from this shared local endpoint (one UDP port, many connections). */
  endpoint?: LocalEndpoint;
  /** Protocol settings for this connection (mss, sndBuf, rcvBuf, msl, rto, ...). */
  connection?: Partial<ConnectionOptions>;
  /** As net: reads go into `buffer` (or a buffer from `buffer()` per read) and to `callback`, not to 'data'. */
  onread?: { buffer: Uint8Array | (() => Uint8Array); callback: (bytesRead: number, buffer: Uint8Array) => boolean | void };
}

export interface ConnectOptions extends SocketOptions {
  port: number | string;
  /** Default 'localhost'. */
  host?: string;
  localAddress?: string;
  localPort?: number;
  family?: number | 'IPv4' | 'IPv6';
  hints?: number;
  lookup?: LookupFunction;
  /** Idle timeout in ms, as socket.setTimeout(timeout). */
  timeout?: number;
  /** As net: try each address of the name in turn (default net.getDefaultAutoSelectFamily()). */
  autoSelectFamily?: boolean;
  autoSelectFamilyAttemptTimeout?: number;
}

export interface ListenOptions {
  port?: number | string | null;
  host?: string;
  backlog?: number;
  exclusive?: boolean;
  ipv6Only?: boolean;
  /** SO_REUSEPORT, as net's on Node >= 22.12: processes share the port (see README, "More than one process on one port"). */
  reusePort?: boolean;
  signal?: AbortSignal;
}
