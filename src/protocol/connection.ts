// One connection as a pure, poll-driven state machine (docs/ARCHITECTURE.md):
// the events of RFC 9293 §3.10 — the app's calls (OPEN, SEND, RECEIVE, CLOSE,
// ABORT), SEGMENT ARRIVES per state, and the timeouts — over its transmission
// control block (tcb.ts). Inputs change state only; the owner then pulls the
// output: `pollTransmit`, `pollEvent`, `pollTimeout`. Nothing here reads a clock,
// draws randomness or arms a timer.

import { ACK, FIN, RST, SYN, type Segment } from '../wire/segment.js';
import { seqAdd, seqGt, seqInRange, seqLe, seqLt, seqMax } from '../wire/seq.js';
import { isSynchronized, State } from './state.js';
import { timeWaitInput } from './timewait.js';

import { Tcb, UNREACHABLE_SILENCE } from './tcb.js';

const EMPTY = new Uint8Array(0);

export class Connection extends Tcb {
  /** @internal Header prediction on (`predicted`); off only to compare it with the general path. */
  static prediction = true;
  /**
   * The last segment took header prediction, raised no event and queued no segment: what it left for
   * the next drain is an ACK owed, a delayed-ACK timer, and `outputDue` (the peer's window may have
   * opened). An owner that drains this connection at its batch's end anyway (Endpoint's
   * `coalesceAcks`) may skip draining it now.
   */
  quietInput = false;

  // ---------------------------------------------------------------- app calls

  /** Active open (RFC 9293 §3.10.1): send SYN. */
  connect(now: number): void {
    if (this.state !== State.CLOSED && this.state !== State.LISTEN) throw new Error(`connect in ${this.state}`);
    this.active = true;
    this.transition(State.SYN_SENT, 'connect');
    this.tx.queueSyn(SYN, now);
    this.outputDue = true;
  }

  /** Passive open: wait for a SYN (the endpoint feeds it right away). */
  listen(): void {
    if (this.state !== State.CLOSED) throw new Error(`listen in ${this.state}`);
    this.transition(State.LISTEN, 'listen');
  }

  /** Queue bytes to send. Returns how many were accepted (the send buffer is bounded). */
  write(data: Uint8Array): number {
    if (this.tx.finQueued || this.state === State.CLOSED || this.state === State.TIME_WAIT) return 0;
    const n = this.tx.write(data);
    if (n < 0) return 0;
    this.outputDue = true;
    return n;
  }

  /** Half-close (RFC 9293 §3.10.4): FIN after everything written so far. */
  shutdown(): void {
    const tx = this.tx;
    if (tx.finQueued) return;
    switch (this.state) {
      case State.LISTEN:
      case State.SYN_SENT:
        // Nothing sent yet that the peer knows of: queue the FIN for after the handshake.
        tx.finQueued = true;
        return;
      case State.SYN_RECEIVED:
        tx.finQueued = true;
        if (tx.bufferedAmount === 0) this.transition(State.FIN_WAIT_1, 'close');
        break;
      case State.ESTABLISHED:
        tx.finQueued = true;
        this.transition(State.FIN_WAIT_1, 'close');
        break;
      case State.CLOSE_WAIT:
        tx.finQueued = true;
        this.transition(State.LAST_ACK, 'close');
        break;
      default:
        return;
    }
    this.outputDue = true;
  }

  /**
   * Close: in LISTEN or SYN_SENT there is nothing to tell the peer (RFC 9293 §3.10.4). Otherwise a FIN
   * after what is queued; once it is acknowledged, FIN_WAIT_2 lasts at most `finTimeout`.
   */
  close(now: number): void {
    if (this.state === State.LISTEN || this.state === State.SYN_SENT) {
      this.enterClosed('close', undefined);
      return;
    }
    this.closedByApp = true;
    if (this.state === State.FIN_WAIT_2) this.finWait2At = now + this.opts.finTimeout;
    this.shutdown();
  }

  /** Abort (RFC 9293 §3.10.5): RST in synchronized states, then CLOSED. */
  abort(now: number): void {
    if (this.state === State.CLOSED) return;
    if (isSynchronized(this.state) && this.state !== State.TIME_WAIT) {
      // What was written before goes out first, as net's data handed to the kernel before destroy() does.
      if (this.outputDue) {
        this.outputDue = false;
        this.tx.output(now);
      }
      // An ACK still held (the handshake's last, kept for data written on 'connect') goes first, as
      // the kernel's was sent at once: else the RST meets the peer in SYN_RECEIVED, which drops the
      // connection unseen (RFC 9293 §3.10.7.3), where net's server sees it, then ECONNRESET.
      if (this.rx.ackHeld) this.queueSegment(ACK, this.sndNxt, EMPTY);
      this.queueSegment(RST | ACK, this.sndNxt, EMPTY);
    }
    this.enterClosed('abort', undefined);
  }

  /** Take the next chunk of in-order received bytes (at most `max`), or null. */
  read(now: number, max = Infinity): Uint8Array | null {
    const chunk = this.rx.read(max, now);
    return chunk;
  }

  /**
   * ICMP port unreachable for the peer's address. In SYN_SENT a hard error (RFC 1122 §4.2.3.9):
   * ECONNREFUSED. Once synchronized it is a soft error (RFC 5927 §4.1), believed only when the peer has
   * been silent for `UNREACHABLE_SILENCE` and a keepalive probe or a retransmission to it is unanswered:
   * over UDP no kernel answers for a process that died, so this is how a killed peer on a live host is
   * told apart from a slow one; it fails with ETIMEDOUT, as the probes would have.
   */
  unreachable(now: number): void {
    if (this.state === State.SYN_SENT) {
      this.enterClosed('port unreachable', 'ECONNREFUSED');
    } else if (this.established && this.silentFor(now) >= UNREACHABLE_SILENCE && (this.rx.probing || this.tx.rtt.backoff > 0)) {
      this.enterClosed('port unreachable', 'ETIMEDOUT');
    } else {
      return;
    }
  }

  setNoDelay(noDelay: boolean): void {
    this.noDelay = noDelay;
    if (noDelay) this.outputDue = true;
  }

  // ---------------------------------------------------------------- endpoint hooks (docs/SECURITY.md)

  /**
   * SYN cookie completion (RFC 4987 §3.6): replay the SYN the cookie encodes and
   * the final ACK through the normal transitions, LISTEN → SYN_RECEIVED → ESTABLISHED.
   * The endpoint built the SYN-ACK statelessly with this connection's iss and tsOffset.
   */
  openFromCookie(syn: Segment, ack: Segment, now: number): void {
    this.listen();
    this.remoteId = syn.srcId;
    this.acceptSyn(syn);
    this.transition(State.SYN_RECEIVED, 'rcv SYN (cookie)');
    this.tx.sndNxt = seqAdd(this.iss, 1);
    this.rx.rcvBuf.advertise(this.rcvNxt); // the window the SYN-ACK offered
    this.handleSegment(ack, now);
  }

  /**
   * Side-effect free: is `seg` plausibly the peer's newest segment? Sequence number within a
   * receive buffer of RCV.NXT (a retransmission counts), ACK acceptable (RFC 5961 §5), timestamp
   * newer than any seen (RFC 7323). What may start a path validation (RFC 9000 §9): replays and
   * blind guesses fail it.
   */
  acceptsFresh(seg: Segment, minTsVal = seqAdd(seqMax(this.rx.tsRecent, this.rx.tsNewest), 1)): boolean {
    const s = this.state;
    if (!isSynchronized(s) || s === State.SYN_RECEIVED || s === State.TIME_WAIT) return false;
    if (seg.flags & (SYN | RST) || !(seg.flags & ACK) || seqLt(seg.tsVal, minTsVal)) return false;
    const wnd = this.rx.window;
    if (!seqInRange(seg.seq, seqAdd(this.rcvNxt, -this.opts.rcvBuf), seqAdd(this.rcvNxt, wnd + 1))) return false;
    return this.tx.ackAcceptable(seg.ack);
  }

  // ---------------------------------------------------------------- timers

  /** Turn keepalive on or off; `idleMs` > 0 replaces the idle time (node:net's initialDelay). */
  setKeepAlive(enable: boolean, idleMs: number, now: number): void {
    this.rx.setKeepAlive(enable, idleMs, now);
  }

  /** The timers due at `now` (see `pollTimeout`). */
  handleTimeout(now: number): void {
    const tx = this.tx;
    const probes = this.stats.keepAliveProbes + this.stats.rtoTimeouts;
    if (now >= this.timeWaitAt) {
      this.timeWaitAt = Infinity;
      this.enterClosed('2msl', undefined);
    }
    if (now >= this.finWait2At) {
      this.finWait2At = Infinity;
      this.abort(now); // the peer never sent its FIN: RST, as Linux does past tcp_fin_timeout
      return;
    }
    if (now >= this.rx.delAckAt) this.rx.onDelayedAck();
    if (this.opts.userTimeout > 0 && now >= tx.stallSince + this.opts.userTimeout && this.state !== State.CLOSED) {
      this.enterClosed('user timeout', 'ETIMEDOUT');
    }
    // Probe, retransmission, reordering and pacing timers; an exhausted retransmission closes,
    // which turns the later ones off.
    const exhausted = tx.onTimeout(now);
    if (exhausted) this.enterClosed(exhausted, 'ETIMEDOUT');
    if (now >= this.rx.keepAliveAt && !this.rx.onKeepAlive(now)) {
      this.enterClosed('keepalive probes unanswered', 'ETIMEDOUT');
    }
    // A probe or a retransmission went out on a timer: the peer is quiet. The I/O layer may ask the
    // OS whether its port is still open (see `unreachable`).
    // (Not for a SYN-ACK: a flood of spoofed SYNs must not make us probe their sources.)
    if (this.stats.keepAliveProbes + this.stats.rtoTimeouts > probes && (this.established || this.state === State.SYN_SENT)) {
      this.emit({ type: 'unanswered' });
    }
    this.releaseIdle();
  }

  // ---------------------------------------------------------------- network

  /** A segment addressed to this connection (RFC 9293 §3.10.7). */
  handleSegment(seg: Segment, now: number): void {
    this.stats.segmentsReceived++;
    this.rx.heard(now);
    this.quietInput = false;
    if (this.state === State.ESTABLISHED && seg.flags === ACK && Connection.prediction && this.predicted(seg, now)) return;
    switch (this.state) {
      case State.CLOSED:
        this.stats.dropped++;
        break;
      case State.LISTEN:
        this.inputListen(seg, now);
        break;
      case State.SYN_SENT:
        this.inputSynSent(seg, now);
        break;
      case State.TIME_WAIT:
        this.inputTimeWait(seg, now);
        break;
      default:
        this.inputSynchronized(seg, now);
        if ((this.state as State) !== State.CLOSED && (this.state as State) !== State.TIME_WAIT) this.tx.onPeerHeard(now);
    }
  }

  /**
   * Header prediction (Jacobson's; Linux's tcp_rcv_established fast path): the next data segment of
   * a one-way transfer (in order, or under loss the next above a hole), acknowledging nothing new
   * while nothing of ours is in flight, can only add its bytes to the receive buffer or to those held
   * (and update the peer's window). That is done here without the general steps, with the same
   * outcome as `inputSynchronized` (a test runs both on the same segments). `quietInput` then says
   * whether it raised an event or queued a segment.
   */
  private predicted(seg: Segment, now: number): boolean {
    const tx = this.tx;
    if (seg.ack !== tx.sndUna || seg.sack !== undefined || tx.sb.length !== 0) return false;
    const events = this.evTail;
    const queued = this.qTail;
    if (!this.rx.predictData(seg, now)) return false;
    this.heardTsVal(seg.tsVal);
    tx.onAck(seg, seg.seq, seg.payload.length, now); // its no-queue path: the peer's window only
    this.outputDue = true; // as after any acceptable segment; the next drain runs it
    this.stats.predictedSegments++;
    this.quietInput = this.evTail === events && this.qTail === queued; // an ACK sent now must go now
    return true;
  }

  /** RFC 9293 §3.10.7.2. */
  private inputListen(seg: Segment, now: number): void {
    if (seg.flags & RST) return;
    if (seg.flags & ACK || !(seg.flags & SYN)) {
      // The endpoint answers these with RST; a LISTEN connection just drops them.
      this.stats.dropped++;
      return;
    }
    this.remoteId = seg.srcId;
    this.acceptSyn(seg);
    this.transition(State.SYN_RECEIVED, 'rcv SYN');
    this.tx.queueSyn(SYN | ACK, now);
    this.outputDue = true;
  }

  private acceptSyn(seg: Segment): void {
    this.irs = seg.seq;
    this.rx.onSyn(seg);
    this.tx.onSyn(seg);
  }

  /** RFC 9293 §3.10.7.3. */
  private inputSynSent(seg: Segment, now: number): void {
    const hasAck = (seg.flags & ACK) !== 0;
    if (hasAck && (seqLe(seg.ack, this.iss) || seqGt(seg.ack, this.sndNxt))) {
      if (!(seg.flags & RST)) this.sendRstFor(seg, now);
      this.stats.dropped++;
      return;
    }
    if (seg.flags & RST) {
      if (hasAck) this.enterClosed('rcv RST', 'ECONNREFUSED');
      return;
    }
    if (!(seg.flags & SYN)) {
      this.stats.dropped++;
      return;
    }
    this.remoteId = seg.srcId;
    this.acceptSyn(seg);
    if (hasAck) {
      this.completeActiveOpen(seg, now);
    } else {
      // Simultaneous open (RFC 9293 §3.5, Figure 8).
      this.transition(State.SYN_RECEIVED, 'rcv SYN (simultaneous open)');
      this.tx.retransmitSyn(now, SYN | ACK, false);
    }
  }

  private completeActiveOpen(seg: Segment, now: number): void {
    this.tx.onHandshakeDone(seg, now);
    this.tx.onAckAdvance(seg, now);
    this.transition(State.ESTABLISHED, 'rcv SYN,ACK');
    this.onEstablished(now);
    this.tx.updateWindow(seg);
    this.rx.ackAtOnce(); // at the batch's end: data written on 'connect' carries it
    if (this.tx.finQueued) this.startFinAfterOpen();
    this.outputDue = true;
  }

  private onEstablished(now: number): void {
    if (this.announced) return;
    this.announced = true;
    this.rx.startKeepAlive(now);
    this.emit({ type: 'established' });
  }

  private startFinAfterOpen(): void {
    if (this.state === State.ESTABLISHED) this.transition(State.FIN_WAIT_1, 'close');
    this.outputDue = true;
  }

  private inputTimeWait(seg: Segment, now: number): void {
    const tw = this.tw!;
    tw.tsRecent = this.rx.tsRecent;
    const v = timeWaitInput(tw, seg, now, 2 * this.opts.msl);
    if (v.restarted) this.timeWaitAt = tw.expiresAt;
    if (v.reply) this.queueRaw({ ...v.reply });
  }

  /** RFC 9293 §3.10.7.4: SYN_RECEIVED and every later state. */
  private inputSynchronized(seg: Segment, now: number): void {
    const rx = this.rx;
    let flags = seg.flags;
    let seq = seg.seq;
    const payload = seg.payload;

    // A simultaneous-open SYN can be forged blind (it needs no secret); a SYN-ACK that
    // acknowledges our SYN cannot. It replaces that SYN and completes the open (RFC 5961 spirit).
    if (this.active && this.state === State.SYN_RECEIVED && (flags & (SYN | ACK | RST)) === (SYN | ACK) && seq !== this.irs && seg.ack === this.sndNxt) {
      this.remoteId = seg.srcId;
      this.acceptSyn(seg);
      this.completeActiveOpen(seg, now);
      return;
    }

    // A retransmitted SYN from the peer (our SYN-ACK or ACK was lost).
    if (flags & SYN && seq === this.irs) {
      if (this.state === State.SYN_RECEIVED && !(flags & ACK)) {
        // Echo this copy's timestamp: the peer times its RTT from the SYN our SYN-ACK answers.
        if (seqGt(seg.tsVal, rx.tsRecent)) rx.tsRecent = seg.tsVal;
        this.tx.retransmitSyn(now, SYN | ACK, true, true);
        return;
      }
      if (this.state !== State.SYN_RECEIVED) {
        // A duplicate SYN-ACK once synchronized lies below the window: re-ACK it and drop it
        // (RFC 9293 §3.10.7.4), never read its ACK field or payload.
        rx.sendAck();
        return;
      }
      // The simultaneous-open SYN-ACK: trim the SYN and go on.
      flags &= ~SYN;
      seq = seqAdd(seq, 1);
    }

    // First to fourth steps: acceptability, RST, SYN (RFC 5961), PAWS (RFC 7323).
    const segLen = payload.length + (flags & SYN ? 1 : 0) + (flags & FIN ? 1 : 0);
    const wnd = rx.window;
    const verdict = rx.check(flags, seq, seg.tsVal, segLen, wnd, now);
    if (verdict === 'reset') {
      if (this.state === State.SYN_RECEIVED && !this.active) {
        // RFC 9293: a passive open goes back to LISTEN; the listener lives on in the endpoint.
        this.transition(State.LISTEN, 'rcv RST');
        this.enterClosed('rcv RST', undefined);
      } else if (this.state === State.SYN_RECEIVED) {
        this.enterClosed('rcv RST', 'ECONNREFUSED');
      } else if (this.state === State.CLOSING || this.state === State.LAST_ACK) {
        this.enterClosed('rcv RST', undefined);
      } else {
        this.enterClosed('rcv RST', 'ECONNRESET');
      }
    }
    if (verdict !== 'ok') return;
    this.heardTsVal(seg.tsVal);

    // Fifth: the ACK field.
    if (!(flags & ACK)) {
      this.stats.dropped++;
      return;
    }
    if (this.state === State.SYN_RECEIVED) {
      if (seqGt(seg.ack, this.sndUna) && seqLe(seg.ack, this.sndNxt)) {
        this.transition(State.ESTABLISHED, 'rcv ACK of SYN');
        this.onEstablished(now);
        this.tx.onHandshakeDone(seg, now);
        this.tx.onSynAcked(seg, seq);
        // A close issued before the handshake completed (RFC 9293 §3.10.4): the FIN goes out now.
        if (this.tx.finQueued) this.transition(State.FIN_WAIT_1, 'close');
      } else {
        this.sendRstFor(seg, now);
        return;
      }
    }
    if (!this.processAck(seg, seq, payload.length, now)) return;

    // Seventh and eighth: segment text, FIN.
    if (payload.length > 0) rx.dataEcho(seg.tsEcr, now);
    rx.onText(seq, payload, flags, wnd, now);
    this.maybeProcessFin(now);
    if (this.state === State.FIN_WAIT_1 && this.tx.finAcked) this.enterFinWait2(now); // the one way to FIN_WAIT_2
    // Only now what the ACK allows goes out: each segment carries the RCV.NXT this one moved.
    this.outputDue = true;
  }

  /** ACK processing for synchronized states. Returns false if the segment is to be dropped. */
  private processAck(seg: Segment, seq: number, payloadLen: number, now: number): boolean {
    const tx = this.tx;
    const ack = seg.ack;
    if (!tx.ackAcceptable(ack)) {
      // Acknowledges something not yet sent, or too old (RFC 9293; RFC 5961 §5.2).
      this.rx.challengeAck(now);
      return false;
    }
    this.rx.updateTsRecent(seq, seg.tsVal);

    if (tx.onAck(seg, seq, payloadLen, now) && !this.announced && seqGt(tx.sndUna, this.iss)) {
      this.onEstablished(now); // SYN ACKed after an early close
    }
    this.checkFinAcked(now);
    return this.state !== State.CLOSED && this.state !== State.TIME_WAIT;
  }

  /**
   * Our FIN is acknowledged (RFC 9293 §3.10.7.4, fifth step). CLOSING and LAST_ACK end here; FIN_WAIT_1
   * moves on after the segment's text and FIN (`inputSynchronized`): a FIN on the same segment takes it
   * straight to TIME_WAIT.
   */
  private checkFinAcked(now: number): void {
    if (!this.tx.takeFinAcked()) return;
    this.emit({ type: 'finished' });
    switch (this.state) {
      case State.CLOSING:
        this.enterTimeWait(now, 'rcv ACK of FIN');
        break;
      case State.LAST_ACK:
        this.enterClosed('rcv ACK of FIN', undefined);
        break;
    }
  }

  /** The peer's FIN, once every byte before it has arrived (RFC 9293 §3.10.7.4, eighth step). */
  private maybeProcessFin(now: number): void {
    if (!this.rx.finReached()) return;
    // From ESTABLISHED (to CLOSE_WAIT) the ACK waits for the batch's end, so a FIN the app sends on
    // 'end' carries it. Elsewhere the connection may become a TIME_WAIT record first: ACK now.
    if (this.state === State.ESTABLISHED) this.rx.ackAtOnce();
    else this.rx.sendAck();
    this.emit({ type: 'end' });
    switch (this.state) {
      case State.SYN_RECEIVED:
      case State.ESTABLISHED:
        this.transition(State.CLOSE_WAIT, 'rcv FIN');
        break;
      case State.FIN_WAIT_1:
        if (this.tx.finAcked) this.enterTimeWait(now, 'rcv FIN');
        else this.transition(State.CLOSING, 'rcv FIN');
        break;
      case State.FIN_WAIT_2:
        this.enterTimeWait(now, 'rcv FIN');
        break;
    }
  }
}
