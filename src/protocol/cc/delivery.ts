// Delivery rate estimation (draft-cheng-iccrg-delivery-rate-estimation-02):
// each transmission remembers how much had been delivered when it left; when
// it is acknowledged, the bytes delivered since, over the time they took, is a
// sample of the path's delivery rate. Times in ms, sizes in bytes.

/** Per-transmission state (draft §3.2, "P.delivered" and friends). */
export interface DeliveryStamp {
  sentAt: number;
  /** C.delivered when this transmission left. */
  dlv: number;
  /** C.delivered_time when it left. */
  dlvTime: number;
  /** C.first_sent_time when it left. */
  firstSent: number;
  /** Sent while the connection was application-limited. */
  appLimited: boolean;
}

/** What an ACK tells about the delivery rate (draft §3.3, "rs"). */
export interface RateSample {
  /** Bytes delivered over the interval (0 when there is no valid sample). */
  delivered: number;
  /** Length of the interval, ms. */
  interval: number;
  /** delivered / interval, bytes per ms (0 when there is no valid sample). */
  rate: number;
  /** C.delivered when the newest acknowledged transmission left: starts of rounds are told by it. */
  priorDelivered: number;
  /** The sample was taken while the sender was application-limited: it may understate the path. */
  appLimited: boolean;
  /** Bytes newly acknowledged (cumulatively or by SACK) by this ACK. */
  newlyAcked: number;
  /** Bytes newly declared lost by this ACK. */
  newlyLost: number;
  /** RTT measured on this ACK, or -1. */
  rtt: number;
}

export class DeliveryRate {
  /** C.delivered: bytes acknowledged so far. */
  delivered = 0;
  private deliveredTime = 0;
  private firstSentTime = 0;
  /** C.app_limited: the delivered count at which the current app-limited phase ends, 0 if none. */
  private appLimitedUntil = 0;
  // The sample under construction: from the most recently sent transmission acknowledged.
  private priorDelivered = -1;
  private sendElapsed = 0;
  private ackElapsed = 0;
  private sampleAppLimited = false;
  private newlyAcked = 0;
  newlyLost = 0;

  /** Draft §3.2: stamp a transmission (new or retransmitted); `inFlight` before it is added. */
  stamp(p: DeliveryStamp, now: number, inFlight: number): void {
    if (inFlight === 0) this.firstSentTime = this.deliveredTime = now;
    p.sentAt = now;
    p.dlv = this.delivered;
    p.dlvTime = this.deliveredTime;
    p.firstSent = this.firstSentTime;
    p.appLimited = this.appLimitedUntil !== 0;
  }

  /** Draft §3.3 UpdateRateSample: `p` (of `len` bytes) was acknowledged at `now`. */
  onDelivered(p: DeliveryStamp, len: number, now: number): void {
    this.delivered += len;
    this.newlyAcked += len;
    this.deliveredTime = now;
    if (p.dlv >= this.priorDelivered) {
      this.priorDelivered = p.dlv;
      this.sampleAppLimited = p.appLimited;
      this.sendElapsed = p.sentAt - p.firstSent;
      this.ackElapsed = now - p.dlvTime;
      this.firstSentTime = p.sentAt;
    }
  }

  /** Draft §3.4: the sender has nothing more to send and the window is not full. */
  markAppLimited(inFlight: number): void {
    this.appLimitedUntil = this.delivered + inFlight || 1;
  }

  /** Draft §3.3 GenerateRateSample, once per ACK; resets the sample under construction. */
  take(minRtt: number, rtt: number): RateSample {
    if (this.appLimitedUntil !== 0 && this.delivered > this.appLimitedUntil) this.appLimitedUntil = 0;
    const rs: RateSample = {
      delivered: 0,
      interval: 0,
      rate: 0,
      priorDelivered: this.priorDelivered,
      appLimited: this.sampleAppLimited,
      newlyAcked: this.newlyAcked,
      newlyLost: this.newlyLost,
      rtt,
    };
    if (this.priorDelivered >= 0) {
      // The longer of the send and ACK intervals: neither ACK compression nor a send burst inflates it.
      const interval = Math.max(this.sendElapsed, this.ackElapsed);
      const delivered = this.delivered - this.priorDelivered;
      // An interval shorter than min_rtt is most likely compressed: no sample (draft §3.3).
      if (interval > 0 && !(interval < minRtt)) {
        rs.delivered = delivered;
        rs.interval = interval;
        rs.rate = delivered / interval;
      }
    }
    this.priorDelivered = -1;
    this.newlyAcked = 0;
    this.newlyLost = 0;
    return rs;
  }
}
