// RACK-TLP time-based loss detection (RFC 8985): a segment is lost once a
// segment sent after it has been delivered and a reordering window has passed.

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
  /** Multiplier of the reordering window, raised by each spurious retransmission (§6.2 step 4). */
  reoMult = 1;

  /** RFC 8985 §6.2 steps 1-2: a segment was cumulatively ACKed or SACKed at `now`. */
  onDelivered(e: RackEntry, now: number, minRtt: number): void {
    const rtt = now - e.sentAt;
    // An ACK sooner than min_rtt after a retransmission answers the original: the retransmission was spurious.
    if (e.retransmits > 0 && (minRtt === Infinity || rtt < minRtt)) {
      // Without an RTT sample we cannot tell which transmission this answers: skip, but learn nothing.
      if (minRtt === Infinity) return;
      this.onSpurious();
      return;
    }
    if (e.order > this.order) {
      this.order = e.order;
      this.xmitTs = e.sentAt;
      this.rtt = rtt;
    }
  }

  /** A retransmission was spurious (D-SACK, or an ACK too early to answer it): widen the reordering window. */
  onSpurious(): void {
    this.reoMult = Math.min(this.reoMult + 1, 255); // SRTT bounds the window; 255 as Linux's reo_wnd_steps
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
