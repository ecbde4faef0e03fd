// SYN cookies (RFC 4987 §3.6): past the backlog, a listener answers a SYN with
// a SYN-ACK whose numbers encode everything it would have stored, and keeps
// nothing. The final ACK proves the peer saw the SYN-ACK: its ACK field returns
// the cookie (our ISS + 1), its destination id returns our derived id.
//
// ISS layout (bits):  31..29 time counter mod 8 · 28..26 MSS index · 25 SACK-permitted
//                     24..0  MAC(peer address, peer id, peer ISN, counter, MSS index, SACK)
// Local id:           MAC(peer address, peer id, counter), never 0.
// Together 57 bits the peer must echo, keyed by a secret only this endpoint holds.
// The id alone (no ISN in it) recognises the peer's later segments when they
// overtake its final ACK: those are dropped, not reset (its ACK or a
// retransmission starting at ISN+1 opens the connection).

import { ACK, SYN, type Segment } from '../wire/segment.js';
import { seqAdd } from '../wire/seq.js';
import { addressKey, type Address } from './types.js';

/** The keyed MAC the endpoint's ISN generator provides. */
export interface Mac {
  mac(data: string): number;
}

/** MSS values a cookie can carry (3 bits); the largest not above the peer's is chosen. */
export const COOKIE_MSS = [64, 536, 1000, 1200, 1280, 1400, 1460, 8960] as const;

/** One counter tick, ms; a cookie is valid for the current and the previous tick (64-128 s, as Linux). */
export const COOKIE_PERIOD = 64_000;

const MAC_MASK = 0x1ffffff;

export interface CookieIds {
  localId: number;
  iss: number;
  tsOffset: number;
}

export interface CookieOpen extends CookieIds {
  /** The SYN the cookie stands for, rebuilt. */
  syn: Segment;
}

/** What the listener's connections would put in their SYN-ACK. */
export interface SynAckParams {
  mss: number;
  sack: boolean;
  window: number;
}

const EMPTY = new Uint8Array(0);

export class SynCookies {
  sent = 0;
  accepted = 0;
  rejected = 0;
  private lastSentAt = -Infinity;

  /** `ownId` makes a derived id one of the endpoint's (its owner bits, never 0). */
  constructor(
    private readonly key: Mac,
    private readonly ownId: (bits: number) => number = (bits) => bits >>> 0 || 1,
  ) {}

  /** The stateless SYN-ACK for `syn` from `from`. */
  synAck(syn: Segment, from: Address, now: number, p: SynAckParams): { seg: Segment; ids: CookieIds } {
    const counter = Math.floor(now / COOKIE_PERIOD);
    const peerMss = syn.mss !== undefined && syn.mss > 0 ? syn.mss : p.mss;
    let idx = 0;
    while (idx < COOKIE_MSS.length - 1 && COOKIE_MSS[idx + 1]! <= peerMss) idx++;
    const ids = this.derive(from, syn.srcId, syn.seq, counter, idx, syn.sackPermitted === true);
    this.sent++;
    this.lastSentAt = now;
    const seg: Segment = {
      flags: SYN | ACK,
      dstId: syn.srcId,
      srcId: ids.localId,
      seq: ids.iss,
      ack: seqAdd(syn.seq, 1),
      window: p.window,
      tsVal: seqAdd(Math.floor(now), ids.tsOffset),
      tsEcr: syn.tsVal,
      mss: p.mss,
      payload: EMPTY,
    };
    if (p.sack) seg.sackPermitted = true;
    return { seg, ids };
  }

  /**
   * The final ACK of a handshake we answered with a cookie: the ids to open the
   * connection with; 'early' for a later segment of such a handshake (drop it
   * quietly); undefined for anything else. Only while cookies were sent recently.
   */
  check(ack: Segment, from: Address, now: number): CookieOpen | 'early' | undefined {
    if (now - this.lastSentAt > 2 * COOKIE_PERIOD) return undefined;
    const iss = seqAdd(ack.ack, -1);
    const peerIsn = seqAdd(ack.seq, -1);
    const idx = (iss >>> 26) & 7;
    const sack = ((iss >>> 25) & 1) === 1;
    const cur = Math.floor(now / COOKIE_PERIOD);
    let early = false;
    for (const counter of [cur, cur - 1]) {
      if (this.id(from, ack.srcId, counter) !== ack.dstId) continue;
      early = true;
      if ((counter & 7) !== iss >>> 29) continue;
      const ids = this.derive(from, ack.srcId, peerIsn, counter, idx, sack);
      if (ids.iss !== iss) continue;
      this.accepted++;
      const syn: Segment = {
        flags: SYN,
        dstId: 0,
        srcId: ack.srcId,
        seq: peerIsn,
        ack: 0,
        window: ack.window,
        tsVal: ack.tsVal,
        tsEcr: 0,
        mss: COOKIE_MSS[idx],
        sackPermitted: sack || undefined,
        payload: EMPTY,
      };
      return { ...ids, syn };
    }
    this.rejected++;
    return early ? 'early' : undefined;
  }

  private id(from: Address, peerId: number, counter: number): number {
    return this.ownId(this.key.mac(`cookie-id|${addressKey(from)}|${peerId >>> 0}|${counter}`));
  }

  private derive(from: Address, peerId: number, peerIsn: number, counter: number, idx: number, sack: boolean): CookieIds {
    const localId = this.id(from, peerId, counter);
    const m = this.key.mac(`cookie-iss|${addressKey(from)}|${peerId >>> 0}|${peerIsn >>> 0}|${counter}|${idx}|${sack ? 1 : 0}`);
    const iss = (((counter & 7) << 29) | (idx << 26) | (sack ? 1 << 25 : 0) | (m & MAC_MASK)) >>> 0;
    // RFC 7323 §5.4: a per-connection timestamp offset; derived so the final ACK can rebuild it.
    const tsOffset = Math.imul(localId ^ m, 0x9e3779b1) >>> 0;
    return { localId, iss, tsOffset };
  }
}
