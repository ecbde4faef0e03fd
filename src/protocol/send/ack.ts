// ACK processing on the send side (RFC 9293 §3.10.7.4, fifth step): SND.UNA and
// the window, RTT samples (RFC 6298, RFC 7323), duplicate ACKs, SACK and RACK
// loss detection (RFC 6675, RFC 8985), recovery and its undo (RFC 6582, RFC 3708).
// One entry, `onAck`.

import { FIN, IMMEDIATE_ACK, type SackBlock, type Segment } from '../../wire/segment.js';
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt } from '../../wire/seq.js';
import { DUP_THRESH } from '../recovery/scoreboard.js';
import { SendPath } from './send-path.js';
import { State } from '../state.js';

export abstract class AckPath extends SendPath {
  /**
   * An acceptable ACK (RFC 9293 §3.10.7.4, fifth step) in a synchronized state: the send window, an RTT
   * sample, SND.UNA, duplicate-ACK counting, loss detection and recovery, in that order. `seq` is the
   * segment's sequence number (a SYN trimmed), for the window update. Returns whether SND.UNA moved.
   */
  onAck(seg: Segment, seq: number, payloadLen: number, now: number): boolean {
    if (this.sb.length === 0 && seg.ack === this.sndUna && seg.sack === undefined) {
      // Nothing in flight and nothing acknowledged (a receiver's every data segment): the window
      // only. No RTT sample, duplicate ACK, loss or rate sample can come of it (Linux's tcp_ack
      // takes its no_queue path for the same case).
      const oldWnd = this.sndWnd;
      this.updateWindow(seg, seq);
      this.windowUpdated(oldWnd, now);
      return false;
    }
    const oldWnd = this.beginAck(seg, now);
    const advanced = seqGt(seg.ack, this.sndUna);
    if (advanced) this.onAckAdvance(seg, now);
    else this.onOldAck(seg, payloadLen, oldWnd, now);
    this.endAck(seg, seq, oldWnd, now);
    return advanced;
  }

  /**
   * The RTT sample an ACK gives, if any (RFC 6298 §3, RFC 7323 §4.1). Only ACKs that echo a timestamp
   * count, and none from a segment the peer marked as a retransmission or probe: it may have held its
   * ACK since its own timer. From the newest first transmission the ACK delivers, exact to the clock,
   * unless it also delivers a retransmission (Karn). Failing that, a cumulative ACK's echoed timestamp,
   * if it echoes a transmission no older than anything it delivers (else it answers an earlier copy,
   * RFC 3522, or a later arrival it SACKs, RFC 7323 §4.3).
   */
  protected ackRttSample(seg: Segment, now: number, cumulative: boolean): void {
    const retransSentAt = this.sb.retransSentAt;
    const deliveredSentAt = this.sb.deliveredSentAt;
    const sample = this.sb.takeRttSample(now);
    if (seg.tsEcr === 0 || seg.flags & IMMEDIATE_ACK) return;
    if (sample >= 0) {
      this.rttSample(sample);
      return;
    }
    if (!cumulative || retransSentAt === -Infinity) return;
    // The echo must be of a segment sent no earlier than anything this ACK delivers: else the ACK
    // answers a later arrival (out-of-order data it SACKs, RFC 7323 §4.3 echoes the older TSval) and
    // the echo's age overstates the RTT. Under one tick it says only "< 1 ms": no sample, except while
    // the RTO is backed off, which only a sample ends (RFC 6298 §5.7) and which this is then the only
    // way to get on a sub-millisecond path (the send-time sample is Karn's): counted as 1 ms, as
    // Linux counts it. Without it, under heavy loss the backoff doubled on to a minute.
    const r = seqDiff(this.host.tsNow(now), seg.tsEcr);
    const usable = r >= 1 || (r === 0 && this.rtt.backoff > 0);
    if (usable && r < 120_000 && Math.floor(now) - r >= Math.floor(deliveredSentAt)) this.rttSample(Math.max(r, 1));
  }

  protected rttSample(r: number): void {
    this.rtt.sample(r);
    this.ackRtt = r;
  }

  /**
   * The sender's part of an acceptable ACK (RFC 9293 §3.10.7.4, fifth step), in three calls:
   * `beginAck` (SACK blocks), then `onAckAdvance` or `onOldAck`, then `endAck`.
   * Returns SND.WND before this ACK.
   */
  protected beginAck(seg: Segment, now: number): number {
    const oldWnd = this.sndWnd;
    this.ackPriorFlight = this.flightSize;
    this.ackSacksNew = true;
    if (seg.sack && this.peerSack) {
      if (isDsack(seg.sack, seg.ack)) {
        this.stats.dsacksReceived++;
        this.sb.onDsack(this.sndUna, this.sndNxt);
        if (this.undoRetrans > 0 && --this.undoRetrans === 0) this.undoRecovery(now);
      }
      this.ackSacksNew = this.sb.onSack(seg.sack, this.sndUna, this.sndNxt, now) > 0;
    }
    return oldWnd;
  }

  /** An ACK that leaves SND.UNA where it is. */
  protected onOldAck(seg: Segment, payloadLen: number, oldWnd: number, now: number): void {
    // SACKed, not cumulatively ACKed: still an RTT sample (as QUIC takes one from any newly acknowledged packet).
    this.ackRttSample(seg, now, false);
    if (
      seg.ack === this.sndUna &&
      payloadLen === 0 &&
      !(seg.flags & FIN) &&
      seg.window === oldWnd &&
      seg.window > 0 && // answers to zero-window probes are not a loss signal
      this.sb.length > 0 &&
      this.ackSacksNew // RFC 6675 §2: with SACK blocks, only an ACK that SACKs new data (not a D-SACK alone)
    ) {
      // Duplicate ACK (RFC 5681 §2).
      this.dupAcks++;
      if (this.dupAcks === DUP_THRESH && !this.inRecovery) {
        // RFC 8899 §4.1: a lost path MTU probe goes out again, cut to size, with no congestion
        // response; the hole it left draws these duplicate ACKs until that copy arrives.
        const head = this.sb.firstUnsacked();
        if (head?.probe) this.sb.markLost(head);
        else if (head?.seq !== this.sb.lostProbeSeq) this.enterRecovery(now, true);
      }
    }
  }

  /** After either: the peer's window, loss detection, the delivery-rate sample. */
  protected endAck(seg: Segment, seq: number, oldWnd: number, now: number): void {
    this.updateWindow(seg, seq);
    this.windowUpdated(oldWnd, now);
    this.detectLoss(now);
    // The window grows after loss detection: an ACK that starts recovery does not first grow the
    // window it then reduces (Linux's tcp_may_raise_cwnd).
    if (this.ackGrowth > 0 && !this.inRecovery) {
      this.cc.onAck(this.ackGrowth, now, this.rtt.latest, this.sb.pipe, this.cwndLimited(seg.ack));
    }
    this.ackGrowth = 0;
    if (this.cc.onRateSample) {
      this.cc.onRateSample(this.sb.rate.take(this.rtt.minRtt, this.ackRtt), now, this.sb.pipe);
    }
    this.ackRtt = -1;
    this.ackPriorFlight = -1;
  }

  private windowUpdated(oldWnd: number, now: number): void {
    if (this.sndWnd > 0 && oldWnd === 0) this.retries = 0;
    if (this.sndWnd === 0) {
      // The peer answers our probes: a closed window is flow control, not a dead peer (nor a user timeout).
      this.retries = 0;
      if (this.sb.length > 0) this.stallSince = now;
    }
  }

  /** SND.WND from `seg` (RFC 9293 §3.10.7.4): only from newer segments, by SND.WL1 and SND.WL2. */
  updateWindow(seg: Segment, seq = seg.seq): void {
    if (seqLt(this.sndWl1, seq) || (this.sndWl1 === seq && seqLe(this.sndWl2, seg.ack))) {
      this.sndWnd = seg.window;
      this.sndWl1 = seq;
      this.sndWl2 = seg.ack;
      if (seg.window > this.maxSndWnd) this.maxSndWnd = seg.window;
    }
  }

  /** SND.UNA moves forward. */
  onAckAdvance(seg: Segment, now: number): void {
    const ack = seg.ack;
    const acked = seqDiff(ack, this.sndUna);
    this.sb.ackTo(ack, now);
    const dataAcked = Math.min(this.sendQ.length, Math.max(0, seqDiff(ack, this.sendBase)));
    if (dataAcked > 0) {
      this.sendQ.consume(dataAcked);
      this.sendBase = seqAdd(this.sendBase, dataAcked);
    }
    this.sndUna = ack;
    this.retries = 0;
    this.ptoCount = 0;
    this.ackRttSample(seg, now, true);
    if (this.inRecovery) {
      if (seqGe(ack, this.recoverPoint)) {
        this.inRecovery = false;
        this.dupAcks = 0;
        this.cc.onRecoveryEnd(now);
        this.sb.onRecoveryEnd();
      } else if (!this.peerSack) {
        // NewReno partial ACK (RFC 6582 §3.2 step 5): the next hole is lost too; resend it now.
        const head = this.sb.head;
        this.sb.markLost(head);
        if (head?.lost) this.retransmit(head, now);
      }
    } else {
      this.dupAcks = 0;
      if (this.host.state !== State.SYN_SENT) this.ackGrowth = acked;
    }
    // RFC 6298 §5.2-5.3: restart or stop the timer.
    this.rtoAt = this.sb.length > 0 ? now + this.rtt.rto : Infinity;
    this.stallSince = this.sb.length > 0 ? now : Infinity;
    this.armPto(now);
    if (this.notifyAcked && this.sb.length === 0 && this.sendQ.length === 0) {
      this.notifyAcked = false;
      this.host.emit({ type: 'acked' });
    }
    if (this.writeBlocked && this.sendQ.length < this.sndBufLimit) {
      this.writeBlocked = false;
      this.host.emit({ type: 'writable' });
    }
  }

  /**
   * Whether the window limited sending lately (RFC 7661 §4.3). In slow start, while the most in
   * flight in this round or the last is over half the window (Linux's rule: pacing and ACK
   * batching keep the pipe below a window that is in use); after it, while the window filled
   * with data waiting. A new round starts when `ack` passes the end of the last.
   */
  protected cwndLimited(ack: number): boolean {
    const u = this.use;
    if (u === null) return false; // no data was ever in flight
    if (seqGe(ack, u.roundEnd)) {
      u.lastMaxPipe = u.maxPipe;
      u.lastFull = u.full;
      u.maxPipe = this.sb.pipe;
      u.full = false;
      u.roundEnd = this.sndNxt;
    }
    const cwnd = this.cc.cwnd;
    if (cwnd < this.cc.ssthresh) return cwnd < 2 * Math.max(u.maxPipe, u.lastMaxPipe);
    return u.full || u.lastFull;
  }

  /** RFC 8985 §6.2 and RFC 6675 §5: mark what is lost, re-arm the reordering timer, start recovery. */
  protected detectLoss(now: number): void {
    const lost = this.sb.detectLoss(now, this.mss, this.peerSack);
    this.reoAt = this.sb.reorderAt;
    if (lost && !this.inRecovery) this.enterRecovery(now, false);
  }

  protected enterRecovery(now: number, markFirst: boolean): void {
    this.inRecovery = true;
    this.recoverPoint = this.sndNxt;
    this.stats.fastRetransmits++;
    // RFC 5681 eq. 4's FlightSize as it stood before this ACK: the ACK that reveals a loss may also
    // acknowledge much of the window (ACKs are coalesced), which says nothing about the path's capacity.
    this.cc.onLoss(now, this.ackPriorFlight >= 0 ? this.ackPriorFlight : this.flightSize);
    this.undoRetrans = 0;
    if (markFirst) {
      // The segment above the cumulative ACK, unless it is a retransmission still in flight: with
      // SACK, RACK judges those by when they were sent (re-marking one sends a needless copy, and
      // the ACK of the earlier copy is then taken for the latest, misleading RACK).
      const head = this.sb.firstUnsacked();
      if (!(this.peerSack && head && head.retransmits > 0 && head.inPipe)) this.sb.markLost(head);
    }
    // RFC 5681 §3.2 step 3 / RFC 6675 §5 (4.3): the first lost segment goes out now, whatever cwnd says.
    const first = this.sb.firstLost();
    if (first) this.retransmit(first, now);
  }

  protected undoRecovery(now: number): void {
    this.undoRetrans = -1;
    if (!this.cc.onSpuriousLoss) return;
    this.cc.onSpuriousLoss(now);
    this.inRecovery = false;
    this.stats.spuriousRecoveries++;
  }
}

/** RFC 2883 §4: the first block reports a duplicate when it lies below the ACK or inside the second block. */
function isDsack(sack: readonly SackBlock[], ack: number): boolean {
  const b0 = sack[0];
  if (!b0) return false;
  if (seqLe(b0.end, ack)) return true;
  const b1 = sack[1];
  return b1 !== undefined && seqGe(b0.start, b1.start) && seqLe(b0.end, b1.end);
}
