// Per-connection settings and the events a connection reports.

import { DEFAULT_RTO, type RtoOptions } from './recovery/rtt.js';
import type { CongestionFactory } from './cc/congestion.js';
import { cubicLt } from './cc/cubic-lt.js';
import type { CongestionName } from './cc/registry.js';
import type { State } from './state.js';

export interface ConnectionOptions {
  /** Payload size in bytes that every path carries (the base for sending). */
  mss: number;
  /** Probe the path upward to this payload size (RFC 8899); equal to `mss` turns probing off. Also what our SYN advertises. */
  maxMss: number;
  /** Send buffer: bytes written but not yet acknowledged. Grows to twice the usable window, up to `maxSndBuf`. */
  sndBuf: number;
  /** Receive buffer: the window we offer is what of it the app has not read. Grows to twice what the app reads per RTT, up to `maxRcvBuf`. */
  rcvBuf: number;
  /** Ceiling for send-buffer growth; equal to `sndBuf` (or below) turns growth off. */
  maxSndBuf: number;
  /** Ceiling for receive-buffer growth (dynamic right-sizing); equal to `rcvBuf` (or below) turns it off. */
  maxRcvBuf: number;
  /** Maximum segment lifetime in ms; TIME_WAIT lasts 2·MSL (RFC 9293 §3.4.2). */
  msl: number;
  rto: RtoOptions;
  /**
   * SYN (and SYN-ACK) retransmissions before ETIMEDOUT, counted as the time that many doublings from
   * the initial RTO take (6: 127 s); retransmissions are at most 8 s apart, so more may fit.
   */
  synRetries: number;
  /**
   * Consecutive retransmission timeouts of data before ETIMEDOUT, and at least the time that many
   * doublings of a 200 ms RTO take (up to rtoMax), counted from the last progress or word from the peer.
   */
  maxRetries: number;
  /**
   * The same budget once the app has closed the connection and it finishes in the background (an
   * orphan), if lower: Linux's tcp_orphan_retries (8: 102 s). It bounds how long an orphan retransmits
   * to a peer that is gone, and so how long it keeps the process alive.
   */
  orphanRetries: number;
  /** Delayed-ACK timeout in ms (RFC 9293 §3.8.6.3: under 500 ms). */
  delayedAck: number;
  /** Disable Nagle's algorithm (RFC 9293 §3.7.4). */
  noDelay: boolean;
  /** Offer and use SACK (RFC 2018). */
  sack: boolean;
  /** Challenge ACKs per second at most (RFC 5961 §7). */
  challengeAckLimit: number;
  /** A factory, or a name: 'cubic-lt' (the default), 'cubic', 'newreno', 'bbr' (`cc/registry.ts`). */
  congestion: CongestionFactory | CongestionName;
  /** Tail-loss probes (RFC 8985 §7). */
  tlp: boolean;
  /** Pace transmissions over the RTT. */
  pacing: boolean;
  /** Keepalive probes when idle (RFC 9293 §3.8.4, RFC 1122 §4.2.3.6). */
  keepAlive: boolean;
  /** Idle time before the first keepalive probe, ms. */
  keepAliveIdle: number;
  /** Time between unanswered keepalive probes, ms. */
  keepAliveInterval: number;
  /** Unanswered probes before ETIMEDOUT. */
  keepAliveProbes: number;
  /** Fail with ETIMEDOUT when sent data stays unacknowledged this long, ms (RFC 5482); 0 = off. */
  userTimeout: number;
  /**
   * A connection the app has closed (not merely shut down) waits this long in FIN_WAIT_2 for the
   * peer's FIN, then resets, ms (Linux's tcp_fin_timeout). It starts only once all it sent is acknowledged.
   */
  finTimeout: number;
}

export const DEFAULT_OPTIONS: ConnectionOptions = {
  mss: 1200,
  maxMss: 1200,
  sndBuf: 1 << 20,
  rcvBuf: 1 << 20,
  maxSndBuf: 8 << 20,
  maxRcvBuf: 8 << 20,
  msl: 30_000,
  rto: DEFAULT_RTO,
  synRetries: 6, // as Linux's tcp_syn_retries: 127 s
  maxRetries: 15, // as Linux's tcp_retries2: 522 s with a 60 s rtoMax (RFC 1122 §4.2.3.5 asks at least 100 s)
  orphanRetries: 8, // as Linux's tcp_orphan_retries (0 there means 8): 102 s
  delayedAck: 25, // as QUIC's default max_ack_delay (RFC 9000 §18.2)
  noDelay: false,
  sack: true,
  challengeAckLimit: 10,
  congestion: cubicLt, // CUBIC (RFC 9438) that tells random loss from congestion: see cc/cubic-lt.ts
  pacing: true,
  tlp: true,
  // On by default, unlike TCP's (see docs/PROTOCOL.md, "Liveness"): over UDP a peer whose process dies
  // sends nothing, and NAT bindings for UDP expire after 30-120 s of silence. A probe after 15 s idle
  // keeps both in view; 25 unanswered, 3 s apart, end the connection 90 s after the peer was last heard
  // (many short probes rather than a few long ones: a path losing most datagrams still gets one through).
  keepAlive: true,
  keepAliveIdle: 15_000,
  keepAliveInterval: 3_000,
  keepAliveProbes: 25,
  userTimeout: 0,
  finTimeout: 60_000,
};

/** `ConnectionOptions` as the APIs take them: any subset. */
export type ConnectionOptionsInput = Partial<ConnectionOptions>;

/**
 * `o` over the defaults; `rto` merges field by field, so a partial object from a user keeps the other
 * defaults. The result is never changed afterwards: connections with the same settings share one.
 */
export function resolveOptions(o?: Partial<ConnectionOptions>): Readonly<ConnectionOptions> {
  const opts: ConnectionOptions = { ...DEFAULT_OPTIONS, ...o, rto: { ...DEFAULT_OPTIONS.rto, ...o?.rto } };
  // As setting SO_SNDBUF / SO_RCVBUF locks Linux's autotuning: a buffer size given without a ceiling stays put.
  if (o?.sndBuf !== undefined && o.maxSndBuf === undefined) opts.maxSndBuf = o.sndBuf;
  if (o?.rcvBuf !== undefined && o.maxRcvBuf === undefined) opts.maxRcvBuf = o.rcvBuf;
  return opts;
}

export type ConnErrorCode = 'ECONNRESET' | 'ECONNREFUSED' | 'ETIMEDOUT';

/** The 'readable' event, one frozen object: new in-order bytes arrived, the first since the app last called `read`. */
export const READABLE: ConnEvent = Object.freeze({ type: 'readable' });

export type ConnEvent =
  | { type: 'state'; from: State; to: State; reason: string }
  | { type: 'established' }
  /** New in-order bytes can be read. Once until the next `read` call: further arrivals before it say nothing more. */
  | { type: 'readable' }
  /** The peer's FIN arrived in order: after the readable bytes, nothing more. */
  | { type: 'end' }
  /** The send buffer has room again after a write was refused. */
  | { type: 'writable' }
  /** Everything we wrote, FIN included, is acknowledged. */
  | { type: 'finished' }
  /** Everything written so far is acknowledged (once, after `notifyWhenAcked`). */
  | { type: 'acked' }
  | { type: 'error'; code: ConnErrorCode }
  /** A keepalive probe or a retransmission went out on a timer: the peer has been quiet. */
  | { type: 'unanswered' }
  | { type: 'closed' };

export interface ConnectionStats {
  segmentsSent: number;
  segmentsReceived: number;
  retransmittedSegments: number;
  duplicateSegments: number;
  outOfOrderSegments: number;
  /** Segments taken by header prediction (a one-way transfer's data in order, or just above a hole; Linux's TCPHPHits). */
  predictedSegments: number;
  bytesSent: number;
  bytesReceived: number;
  challengeAcks: number;
  rtoTimeouts: number;
  keepAliveProbes: number;
  fastRetransmits: number;
  tailLossProbes: number;
  /** ACKs whose first SACK block reported a duplicate (D-SACK, RFC 2883). */
  dsacksReceived: number;
  /** Fast recoveries undone because D-SACK showed every retransmission in them spurious. */
  spuriousRecoveries: number;
  /** Handshakes after which sending started from one segment: our SYN or SYN-ACK was lost (RFC 5681 §3.1). */
  handshakeLossRestarts: number;
  dropped: number;
  invalidTransitions: number;
}

export function newStats(): ConnectionStats {
  return {
    segmentsSent: 0,
    segmentsReceived: 0,
    retransmittedSegments: 0,
    duplicateSegments: 0,
    outOfOrderSegments: 0,
    predictedSegments: 0,
    bytesSent: 0,
    bytesReceived: 0,
    challengeAcks: 0,
    rtoTimeouts: 0,
    keepAliveProbes: 0,
    fastRetransmits: 0,
    tailLossProbes: 0,
    dsacksReceived: 0,
    spuriousRecoveries: 0,
    handshakeLossRestarts: 0,
    dropped: 0,
    invalidTransitions: 0,
  };
}
