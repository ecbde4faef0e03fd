// Path validation and NAT rebinding, after QUIC (RFC 9000 §8.2, §9). A segment
// for a known connection from an address other than its peer's is never taken
// as data. If it carries the right ids, acceptable numbers and a timestamp newer
// than any seen, the endpoint sends a PATH_CHALLENGE (8 unpredictable bytes) to
// the new address; a PATH_RESPONSE echoing them from that address moves the
// connection there. Replays (old timestamps) and blind guesses never start one.
// A fresh segment from the current address cancels a pending validation: the
// peer is alive where it was (the old-path probing of RFC 9000 §9.3.3).

import { GrowingLru } from '../util/growing-lru.js';
import type { Connection } from '../protocol/connection.js';
import { ACK, PATH_DATA_SIZE, RST, SYN, encodedSize, type Segment } from '../wire/segment.js';
import { addressKey, type Address, type Env } from './types.js';

/** RFC 9000 §8: at most this many times the bytes received go to an unvalidated address. */
export const AMPLIFICATION_FACTOR = 3;

export interface PathStats {
  /** Segments from an address other than the connection's peer (never taken as data). */
  unvalidatedPath: number;
  pathChallenges: number;
  /** Challenges not sent: rate limit, amplification limit, or another validation in progress. */
  pathChallengesLimited: number;
  pathResponses: number;
  pathMigrations: number;
}

interface Pending {
  to: Address;
  key: string;
  data: Uint8Array;
  sentAt: number;
  /** TSval of the segment that started it: a segment as fresh from the old path cancels. */
  tsVal: number;
  /** Bytes from and to the candidate address (RFC 9000 §8.1). */
  rx: number;
  tx: number;
}

export class PathValidator {
  /** One pending validation per connection, and at most `max` in all. */
  private readonly pending: GrowingLru<number, Pending>;

  constructor(
    private readonly env: Env,
    private readonly stats: PathStats,
    private readonly send: (seg: Segment, to: Address) => void,
    max = 1024,
  ) {
    this.pending = new GrowingLru<number, Pending>(max);
  }

  get size(): number {
    return this.pending.size;
  }

  /**
   * `seg` for `conn` arrived from `from`, not the connection's peer address. It is
   * dropped; the result is the address to move the connection to once validated.
   */
  fromOtherAddress(conn: Connection, seg: Segment, from: Address, size: number, now: number): Address | undefined {
    this.stats.unvalidatedPath++;
    if (seg.flags & (SYN | RST) || conn.remoteId === 0 || seg.srcId !== conn.remoteId) return undefined;
    const key = addressKey(from);
    let p = this.pending.get(conn.localId);
    if (p && p.key === key) {
      p.rx += size;
      if (seg.pathResponse && equal(seg.pathResponse, p.data)) {
        this.pending.delete(conn.localId);
        this.stats.pathMigrations++;
        conn.heardTsVal(seg.tsVal); // what the old path still delivers is older: it starts no validation
        return from;
      }
    }
    if (seg.pathResponse || !conn.acceptsFresh(seg)) return undefined;
    // Rate limit: one challenge per RTO per connection, whatever the address.
    if (p && now - p.sentAt < conn.rtt.rto) {
      this.stats.pathChallengesLimited++;
      return undefined;
    }
    if (!p || p.key !== key) {
      p = { to: { ...from }, key, data: new Uint8Array(PATH_DATA_SIZE), sentAt: now, tsVal: seg.tsVal, rx: size, tx: 0 };
    }
    const dv = new DataView(p.data.buffer);
    dv.setUint32(0, this.env.random32());
    dv.setUint32(4, this.env.random32());
    const probe = conn.probeSegment(now);
    probe.pathChallenge = p.data.slice();
    const n = encodedSize(probe);
    if (p.tx + n > AMPLIFICATION_FACTOR * p.rx) {
      this.stats.pathChallengesLimited++;
      return undefined;
    }
    p.tx += n;
    p.sentAt = now;
    p.tsVal = seg.tsVal;
    this.pending.set(conn.localId, p);
    this.stats.pathChallenges++;
    this.send(probe, p.to);
    return undefined;
  }

  /**
   * `seg` for `conn` from its peer's address: answer a challenge on the path it
   * came from, cancel a validation the peer's own fresh traffic contradicts.
   * True if the segment was a probe only and the connection need not see it.
   */
  fromPeer(conn: Connection, seg: Segment, from: Address, now: number): boolean {
    const control = seg.flags & (SYN | RST);
    if (seg.pathChallenge && !control && conn.remoteId !== 0) {
      const r = conn.probeSegment(now);
      r.pathResponse = seg.pathChallenge;
      this.stats.pathResponses++;
      this.send(r, from);
    }
    const p = this.pending.get(conn.localId);
    if (p && conn.acceptsFresh(seg, p.tsVal)) this.pending.delete(conn.localId);
    return seg.flags === ACK && seg.payload.length === 0 && (seg.pathChallenge !== undefined || seg.pathResponse !== undefined);
  }

  forget(localId: number): void {
    this.pending.delete(localId);
  }
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
