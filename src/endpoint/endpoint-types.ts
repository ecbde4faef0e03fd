// What the Endpoint takes and gives: its options, the datagrams and events it
// hands out, its counters.

import type { DecodeError } from '../wire/segment.js';
import type { Connection } from '../protocol/connection.js';
import type { ConnEvent, ConnectionOptions } from '../protocol/options.js';
import type { PathStats } from './path.js';
import type { Address } from './types.js';

export interface EndpointOptions {
  /** Defaults for every connection on this endpoint. */
  connection?: Partial<ConnectionOptions>;
  /** Half-open (SYN_RECEIVED) connections a listener holds at most. */
  backlog?: number;
  /** Connections in the table at most (all states but TIME_WAIT). */
  maxConnections?: number;
  /** TIME_WAIT records at most; the oldest is dropped past it. */
  maxTimeWait?: number;
  /**
   * Drain the connections a datagram reached once per batch of datagrams (`endBatch()`), not after
   * each: one ACK then covers the batch, and the sender decides what to send once, after all its ACKs.
   */
  coalesceAcks?: boolean;
  /**
   * This endpoint is one of several sharing a UDP port (SO_REUSEPORT): every local connection id
   * carries `id` in its top `bits` bits (as QUIC-LB's server id), and a datagram for an unknown id
   * with another owner's bits is a sibling's and is dropped (counted in `siblingIds`), not reset.
   */
  owner?: { bits: number; id: number };
}

export interface Datagram {
  data: Uint8Array;
  /** Destination. */
  to: Address;
}

export type EndpointEvent =
  | { type: 'accept'; conn: Connection; remote: Address }
  | { type: 'conn'; conn: Connection; ev: ConnEvent }
  /** A TIME_WAIT record expired: the connection's last edge, TIME_WAIT → CLOSED. */
  | { type: 'timewait-end'; localId: number };

export interface EndpointStats extends PathStats {
  datagramsIn: number;
  datagramsOut: number;
  decodeErrors: Partial<Record<DecodeError, number>>;
  noConnection: number;
  rstSent: number;
  wrongPeer: number;
  backlogFull: number;
  tableFull: number;
  timeWaitSegments: number;
  synCookiesSent: number;
  synCookiesAccepted: number;
  /** Segments not sent to an unvalidated address: over 3× the bytes it sent (RFC 9000 §8). */
  amplificationLimited: number;
  /** Datagrams for another owner's connection ids (`owner`): dropped, never answered. */
  siblingIds: number;
}
