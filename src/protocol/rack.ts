// RACK-TLP time-based loss detection (RFC 8985): a segment is lost once a
// segment sent after it has been delivered and a reordering window has passed.

import { seqLt } from '../wire/seq.js';

export interface RackEntry {
  seq: number;
  len: number;
  sentAt: number;
  retransmits: number;
  sacked: boolean;
  lost: boolean;
}

export class Rack {
  /** RACK.xmit_ts: send time of the most recently sent segment known delivered. */
  xmitTs = -Infinity;
  /** RACK.end_seq of that segment. */
  endSeq = 0;
  /** RACK.rtt: RTT of that segment. */
  rtt = 0;
  /** Multiplier of the reordering window, raised by each spurious retransmission (in place of DSACK, §6.2 step 4). */
  reoMult = 1;

  /** RFC 8985 §6.2 steps 1-2: a segment was cumulatively ACKed or SACKed at `now`. */
  onDelivered(e: RackEntry, now: number, minRtt: number): void {
    const rtt = now - e.sentAt;
    // An ACK sooner than min_rtt after a retransmission answers the original: the retransmission was spurious.
    if (e.retransmits > 0 && (minRtt === Infinity || rtt < minRtt)) {
      // Without an RTT sample we cannot tell which transmission this answers: skip, but learn nothing.
      if (minRtt === Infinity) return;
      this.reoMult = Math.min(this.reoMult + 1, 16);
      return;
    }
    const end = (e.seq + e.len) >>> 0;
    if (e.sentAt > this.xmitTs || (e.sentAt === this.xmitTs && seqLt(this.endSeq, end))) {
      this.xmitTs = e.sentAt;
      this.endSeq = end;
      this.rtt = rtt;
    }
  }

  /** RFC 8985 §6.2 step 4, without DSACK adaptation: a quarter of min_rtt. */
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
    const sentBefore = e.sentAt < this.xmitTs || (e.sentAt === this.xmitTs && seqLt((e.seq + e.len) >>> 0, this.endSeq));
    if (!sentBefore) return Infinity;
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
