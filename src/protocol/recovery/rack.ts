// RACK-TLP time-based loss detection (RFC 8985): a segment is lost once a
// segment sent after it has been delivered and a reordering window has passed.

import { seqGe } from '../../wire/seq.js';

export interface RackEntry {
  /** Transmission order: raised by every send of the entry, new or again. */
  order: number;
  sentAt: number;
  retransmits: number;
  sacked: boolean;
  lost: boolean;
}

export class Rack {
  /** RACK.xmit_ts: send time of the most recently sent segment known delivered. */
  xmitTs = -Infinity;
  /**
   * Its transmission order. RFC 8985 breaks ties of xmit_ts by end_seq, which misorders a
   * retransmission sent in the same clock tick as new data after it; a counter does not.
   */
  order = 0;
  /** RACK.rtt: RTT of that segment. */
  rtt = 0;
  /** RACK.reo_wnd_mult: quarters of min_RTT in the reordering window (§6.2 step 4). */
  reoMult = 1;
  /** RACK.dsack_round: SND.NXT when the window last widened; it widens at most once per round trip. */
  private dsackRound: number | null = null;
  /** RACK.reo_wnd_persist: recoveries left before the window narrows back. */
  private persist = 0;

  /**
   * RFC 8985 §6.2 steps 1-2: a segment was cumulatively ACKed or SACKed at `now`. Returns true when
   * the ACK came sooner than min_RTT after a retransmission: it answers the original, which makes
   * the retransmission spurious (the caller widens the window).
   */
  onDelivered(e: RackEntry, now: number, minRtt: number): boolean {
    const rtt = now - e.sentAt;
    if (e.retransmits > 0 && (minRtt === Infinity || rtt < minRtt)) {
      // Without an RTT sample we cannot tell which transmission this answers: skip, but learn nothing.
      return minRtt !== Infinity;
    }
    if (e.order > this.order) {
      this.order = e.order;
      this.xmitTs = e.sentAt;
      this.rtt = rtt;
    }
    return false;
  }

  /**
   * §6.2 step 4: a retransmission was spurious (D-SACK, or an ACK too early to answer it): widen the
   * window by a quarter min_RTT, once per round trip (ending when SND.UNA passes `nxt`, SND.NXT now).
   */
  onSpurious(una: number, nxt: number): void {
    if (this.dsackRound !== null && seqGe(una, this.dsackRound)) this.dsackRound = null;
    if (this.dsackRound !== null) return;
    this.dsackRound = nxt;
    this.reoMult = Math.min(this.reoMult + 1, 255); // SRTT bounds the window; 255 as Linux's reo_wnd_steps
    this.persist = 16;
  }

  /** §6.2 step 4: after 16 recoveries with no spurious retransmission, the window narrows back. */
  onRecoveryEnd(): void {
    if (this.reoMult > 1 && --this.persist <= 0) this.reoMult = 1;
  }

  /** RFC 8985 §6.2 step 4: reo_wnd_mult quarters of min_rtt, at most SRTT. */
  reoWnd(minRtt: number, srtt: number): number {
    if (minRtt === Infinity) return 0;
    return Math.min((this.reoMult * minRtt) / 4, srtt);
  }

  /**
   * RFC 8985 §6.2 step 5: 0 if `e` is lost now; otherwise when it would be
   * (Infinity if no later-sent segment has been delivered).
   */
  lossDeadline(e: RackEntry, now: number, reoWnd: number): number {
    if (e.sacked || e.lost) return Infinity;
    if (e.order >= this.order) return Infinity; // not sent before the newest delivered
    const at = e.sentAt + this.rtt + reoWnd;
    return at <= now ? 0 : at;
  }
}

/** RFC 8985 §7.2: the probe timeout. */
export function probeTimeout(srtt: number, flightSegments: number, maxAckDelay: number, minPto = 10): number {
  let pto = 2 * srtt;
  if (flightSegments === 1) pto += maxAckDelay;
  return Math.max(pto, minPto);
}
