// The send side's timers (RFC 6298 retransmission, RFC 9293 §3.8.6.1 persist,
// RFC 8985 loss probe and reordering, pacing, the user timeout) and the retry
// budget, over the send path (send-path.ts) and ACK processing (ack.ts). `Sender`
// is what the connection holds.

import { ACK, IMMEDIATE_ACK, SYN } from '../../wire/segment.js';
import { seqAdd, seqDiff } from '../../wire/seq.js';
import { probeTimeout } from '../recovery/rack.js';
import { AckPath } from './ack.js';

import { State } from '../state.js';

/** Floor of the tail-loss probe timeout, ms (Linux uses 10; timers here are ms-granular and probes are cheap). */
const PTO_MIN = 2;
/** Consecutive loss probes without an ACK before only the RTO is left (each doubles the probe timeout). */
const MAX_PTOS = 3;

export class Sender extends AckPath {
  // ---------------------------------------------------------------- timers

  /**
   * The sender's timers that are due, in order: loss probe, retransmission, RACK reordering, pacing.
   * Returns the reason when the retries are exhausted: the connection fails with ETIMEDOUT.
   */
  onTimeout(now: number): string | undefined {
    if (now >= this.ptoAt) {
      this.ptoAt = Infinity;
      this.onPto(now); // before the RTO: a probe due with it pre-empts it
    }
    if (now >= this.rtoAt) {
      this.rtoAt = Infinity;
      const exhausted = this.onRto(now);
      if (exhausted) return exhausted;
    }
    if (now >= this.reoAt) {
      this.reoAt = Infinity;
      this.detectLoss(now);
      this.output(now);
    }
    if (now >= this.paceAt) {
      this.paceAt = Infinity;
      this.output(now);
    }
    return undefined;
  }

  /** RFC 6298 §5.4-5.7 and RFC 5681 §3.1: the retransmission (or persist) timer fired. */
  private onRto(now: number): string | undefined {
    const s = this.host.state;
    if (s === State.SYN_SENT || s === State.SYN_RECEIVED) {
      // As the data budget: synRetries doublings from the initial RTO (Linux's tcp_syn_retries), in time.
      const o = this.opts;
      const giveUpAt = this.synAt + retryBudget(o.synRetries, o.rto.rtoMax, o.rto.rtoInitial);
      if (++this.retries > o.synRetries && now >= giveUpAt) return 'SYN retries exhausted';
      this.synTimedOut = true;
      this.rtt.onTimeout();
      this.stats.rtoTimeouts++;
      this.stats.retransmittedSegments++;
      this.retransmitSyn(now, s === State.SYN_SENT ? SYN : SYN | ACK);
      if (this.retries >= o.synRetries && giveUpAt > now) this.rtoAt = Math.min(this.rtoAt, giveUpAt); // fail on time
      return undefined;
    }
    if (this.sb.length === 0) {
      // Persist timer: probe a zero window with one byte (RFC 9293 §3.8.6.1).
      const offset = seqDiff(this.sndNxt, this.sendBase);
      if (this.sendQ.length - offset > 0 && this.sndWnd === 0) {
        this.rtt.onTimeout();
        const payload = this.sendQ.slice(offset, 1);
        this.sb.onSent(this.sndNxt, 1, ACK, now, false);
        if (this.stallSince === Infinity) this.stallSince = now; // it awaits an ACK too
        this.send(ACK, this.sndNxt, payload, now);
        this.sndNxt = seqAdd(this.sndNxt, 1);
        this.rtoAt = now + this.rtt.rto;
      } else {
        // The SWS override timeout (RFC 9293 §3.8.6.2.1): the window update we wait for may have been lost.
        this.swsOverride = true;
        this.output(now);
        this.swsOverride = false;
      }
      return undefined;
    }
    if (this.retriesExhausted(now)) return 'retransmission retries exhausted';
    if (this.sndWnd === 0) {
      // Persist timer (RFC 9293 §3.8.6.1): an unanswered probe of a zero window is no sign of
      // congestion; probe again, backed off, without touching cwnd.
      const e = this.sb.head!;
      this.rtt.onTimeout();
      this.sb.onResendAsIs(e, now);
      this.stats.retransmittedSegments++;
      this.sendEntry(e, now);
      this.rtoAt = now + this.rtt.rto;
      return undefined;
    }
    this.stats.rtoTimeouts++;
    this.ptoAt = this.reoAt = Infinity;
    // RFC 8899 §4.3: repeated timeouts of full-size segments after raising the MSS suggest a black hole.
    const head = this.sb.head!;
    if (this.pmtu && this.mss > this.pmtu.base && head.len > this.pmtu.base) {
      if (++this.blackHoleRtos >= 2) {
        this.pmtu.onBlackHole(this.mss);
        this.setMss(this.pmtu.base);
        this.blackHoleRtos = 0;
      }
    } else {
      this.blackHoleRtos = 0;
    }
    this.cc.onRto(now, this.flightSize);
    this.sb.onRecoveryEnd(); // an RTO episode counts as a recovery (RFC 8985 §6.2 step 4)
    this.undoRetrans = -1; // an RTO is not undone here
    this.rtt.onTimeout();
    // Everything outstanding is presumed lost; forget SACK state in case the receiver reneged (RFC 2018 §8).
    this.sb.onTimeout();
    this.inRecovery = false;
    this.recoverPoint = this.sndNxt;
    this.dupAcks = 0;
    // RFC 5681 §3.1: retransmit at least one segment whatever the windows say.
    this.retransmit(this.sb.head!, now);
    this.output(now);
    this.rtoAt = now + this.rtt.rto;
    return undefined;
  }

  /**
   * One more retransmission timeout of data: is it time to give up? With a user timeout set, that alone
   * decides (RFC 5482; the connection checks it). Else after `maxRetries` timeouts, and not before the
   * time those would take from a 200 ms RTO (RFC 1122 §4.2.3.5's R2, as Linux's tcp_retries2): a short
   * RTO must not shorten the budget, so an outage of a minute is survived with the defaults.
   */
  private retriesExhausted(now: number): boolean {
    this.retries++;
    const o = this.opts;
    if (o.userTimeout > 0) return false;
    // Counted from the last progress or, if later, the last word from the peer: a peer still heard from
    // (its probes, its data) is alive, and the path is lossy rather than gone.
    const stalled = Math.min(now - this.stallSince, this.host.silentFor(now));
    // An orphan (the app has closed the connection) has the smaller budget of the two.
    const limit = this.host.closedByApp ? Math.min(o.maxRetries, o.orphanRetries) : o.maxRetries;
    return this.retries > limit && stalled >= retryBudget(limit, o.rto.rtoMax);
  }

  /**
   * The peer was heard from while our retransmissions go unanswered (any segment the endpoint routed
   * here, even one dropped as old or acknowledging nothing new): the path works at least one way, so the backed-off timer is brought
   * back to one unbacked RTO from now. After an outage the first segment through restarts the transfer
   * within an RTO, not after the rest of a backoff of up to a minute (as RFC 6069 reverts the backoff on
   * signs of a connectivity disruption); at most one retransmission per RTO, so no burst.
   */
  onPeerHeard(now: number): void {
    if (this.rtt.backoff < 2 || this.sb.length === 0 || this.rtoAt === Infinity) return;
    const at = now + this.rtt.baseRto;
    if (at < this.rtoAt) {
      this.rtoAt = at;
      this.ptoAt = Infinity;
    }
  }

  /** RFC 8985 §7.2: arm the tail-loss probe when it would fire before the RTO. */
  protected armPto(now: number): void {
    this.ptoAt = Infinity;
    if (!this.opts.tlp || this.sb.length === 0 || this.sndWnd === 0) return;
    // After a timeout, until an ACK brings an RTT sample, only the backed-off RTO runs (RFC 8985 §7.2:
    // no probe in RTO recovery): probes in between would stretch the chain past maxRetries RTOs.
    if (this.rtt.backoff > 0) return;
    // Armed in recovery too, as QUIC's PTO (RFC 9002 §6.2): a lost retransmission at the tail
    // otherwise waits for the RTO. Each unanswered probe doubles the timeout (§6.2.1).
    if (this.ptoCount >= MAX_PTOS) return;
    // The peer's delayed-ACK timer is taken to be ours (WCDelAckT, RFC 8985 §7.2). With no RTT
    // sample yet, the initial RTO (as Linux's TCP_TIMEOUT_INIT): after a timeout in the handshake the
    // RTO is 3 s (RFC 6298 §5.7), and a probe at 1 s may bring the first sample sooner.
    const pto = this.rtt.hasSample ? probeTimeout(this.rtt.srtt, this.sb.length, this.opts.delayedAck, PTO_MIN) : this.opts.rto.rtoInitial;
    if (!this.rtt.hasSample && now + pto >= this.rtoAt) return; // no sample: only a probe that comes before the RTO
    const at = now + pto * 2 ** this.ptoCount;
    // Only the first probe may stand in for a coinciding RTO (RFC 8985 §7.2); later ones must come sooner.
    if (this.ptoCount > 0 && at >= this.rtoAt) return;
    // RFC 8985 §7.2: never later than the RTO; when both are due the probe goes first and re-arms the RTO.
    this.ptoAt = Math.min(at, this.rtoAt);
  }

  /**
   * RFC 8985 §7.3: send a probe that draws an immediate ACK (with SACK blocks exposing tail loss):
   * one new segment if the peer's window allows, else the highest outstanding segment again.
   */
  private onPto(now: number): void {
    if (this.sb.length === 0) return;
    const last = this.sb.lastUnsacked();
    if (!last) return;
    this.stats.tailLossProbes++;
    this.ptoCount++;
    if (this.sendNewProbe(now)) {
      // new data went out (sendNew re-armed the timers)
    } else if (last.probe) {
      // A path MTU probe at the tail: presume it too big, resend its data at the confirmed size.
      this.sb.markLost(last);
      this.retransmit(last, now);
    } else if (last.inPipe) {
      // Already counted in flight: resend without adding to the pipe.
      if (this.undoRetrans >= 0) this.undoRetrans++;
      this.sb.onResend(last, now);
      this.stats.retransmittedSegments++;
      this.sendEntry(last, now);
    } else {
      this.retransmit(last, now);
    }
    this.rtoAt = now + this.rtt.rto;
    this.armPto(now);
  }

  /** A probe of new data, outside cwnd and pacing (RFC 8985 §7.3, RFC 9002 §7.5). False if none can go. */
  private sendNewProbe(now: number): boolean {
    const s = this.host.state;
    if (!(s === State.ESTABLISHED || s === State.CLOSE_WAIT)) return false;
    const offset = seqDiff(this.sndNxt, this.sendBase);
    const unsent = this.sendQ.length - offset;
    const wndLeft = seqDiff(seqAdd(this.sndUna, this.sndWnd), this.sndNxt);
    const n = Math.min(this.mss, unsent, wndLeft);
    if (n <= 0 || (n < this.mss && n < unsent)) return false;
    if (this.sb.pipe + n > this.cc.cwnd) return false; // the window is full: resend instead
    this.sendNew(now, offset, n, false, IMMEDIATE_ACK);
    return true;
  }
}

/** Linux's tcp_model_timeout: how long `retries` timeouts take from a `base` RTO (200 ms) doubling up to `rtoMax`, ms. */
export function retryBudget(retries: number, rtoMax: number, base = 200): number {
  const linear = Math.max(0, Math.floor(Math.log2(rtoMax / base)));
  if (retries <= linear) return (2 ** (retries + 1) - 1) * base;
  return (2 ** (linear + 1) - 1) * base + (retries - linear) * rtoMax;
}
