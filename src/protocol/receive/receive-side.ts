// The receive half of one connection, above the buffers of receive-buffer.ts: RCV.NXT,
// the acceptability of arriving segments (RFC 9293 §3.10.7.4, RFC 5961, PAWS),
// their text and the peer's FIN, timestamps (RFC 7323), and what we answer: when
// to ACK (delayed, at once, batched: RFC 9293 §3.8.6.3, RFC 5681 §4.2), challenge
// ACKs, keepalive probes to a peer not heard from (RFC 9293 §3.8.4), and the
// receive side's fields of every segment we send. State changes stay with the
// connection: it acts on the verdicts returned here.

import { ACK, FIN, IMMEDIATE_ACK, MAX_SACK_BLOCKS, MAX_SACK_BLOCKS_ON_DATA, RST, SYN, clearOptions, type SackBlock, type Segment } from '../../wire/segment.js';
import { seqAdd, seqDiff, seqGe, seqLe, seqLt, seqMin } from '../../wire/seq.js';
import { READABLE, type ConnEvent, type ConnectionOptions, type ConnectionStats } from '../options.js';
import { ReceiveBuffer } from './receive-buffer.js';
import { isSynchronized, State } from '../state.js';

const EMPTY = new Uint8Array(0);

/** What the receive side needs of its connection (read through it, not copied: every field costs per connection). */
export interface ReceiveHost {
  readonly state: State;
  readonly sndNxt: number;
  /** Segments awaiting an ACK. */
  readonly retransmitQueueLength: number;
  readonly opts: ConnectionOptions;
  readonly stats: ConnectionStats;
  /** Our timestamp clock (RFC 7323): TSval at `now`. */
  tsNow(now: number): number;
  /** Queue a segment; its header (ids, ACK, window, timestamps) is built from the state when it is polled. */
  queueSegment(flags: number, seq: number, payload: Uint8Array): void;
  /** Queue an event for the app. */
  emit(ev: ConnEvent): void;
}

export class ReceiveSide {
  rcvNxt = 0;
  /** Readable bytes, reassembly, the offered window. */
  readonly rcvBuf: ReceiveBuffer;
  private peerFinSeq: number | undefined;
  /** The peer's FIN arrived and every byte before it is readable. */
  peerFinReceived = false;
  private ackOwed = 0;
  /** A 'readable' went out and the app has not called `read` since: more data needs no other. */
  private readableSignalled = false;
  /** A bare ACK is owed without delay (see `ackHeld`). */
  private ackDue = false;
  /** The delayed-ACK timer: absolute ms, Infinity when off. */
  delAckAt = Infinity;

  // Timestamps (RFC 7323).
  tsRecent = 0;
  /** The newest TSval of any acceptable segment (TS.Recent follows only the left edge, RFC 7323 §4.3). */
  tsNewest = 0;
  private lastAckSent = 0;
  /** A duplicate segment's range, for the next ACK's first SACK block (RFC 2883). */
  private dsack: SackBlock | undefined;

  // RFC 5961 §7 challenge ACK budget.
  private challengeWindow = -Infinity;
  private challengeCount = 0;
  /** Last ACK sent in answer to an out-of-window bare ACK. */
  private lastOowAckAt = -Infinity;

  // Keepalive (RFC 9293 §3.8.4): its timer, the last time a segment arrived, probes unanswered since.
  keepAliveAt = Infinity;
  /** On or off, and the idle time before the first probe: the options' values until `setKeepAlive`. */
  private keepAlive: boolean;
  private keepAliveIdle: number;
  private lastRecvAt = 0;
  private probesSent = 0;

  constructor(
    private readonly host: ReceiveHost,
    alloc?: (size: number) => Uint8Array,
  ) {
    this.rcvBuf = new ReceiveBuffer(host.opts, alloc);
    this.keepAlive = host.opts.keepAlive;
    this.keepAliveIdle = host.opts.keepAliveIdle;
  }

  private get opts(): ConnectionOptions {
    return this.host.opts;
  }
  private get stats(): ConnectionStats {
    return this.host.stats;
  }

  /** RCV.WND: what is left of the window last advertised. */
  get window(): number {
    return this.rcvBuf.window(this.rcvNxt);
  }

  /** The peer's SYN: RCV.NXT, the window's edge, TS.Recent. */
  onSyn(seg: Segment): void {
    this.rcvNxt = seqAdd(seg.seq, 1);
    this.rcvBuf.advEdge = this.rcvNxt;
    this.tsRecent = this.tsNewest = seg.tsVal;
  }

  // ---------------------------------------------------------------- segment arrival

  /** Time since the peer was last heard from. */
  silentFor(now: number): number {
    return now - this.lastRecvAt;
  }

  /** A keepalive probe is out, unanswered. */
  get probing(): boolean {
    return this.probesSent > 0;
  }

  /** A segment arrived: the peer is alive. */
  heard(now: number): void {
    this.lastRecvAt = now;
    this.probesSent = 0;
  }

  /**
   * RFC 9293 §3.10.7.4, first to fourth steps, with PAWS (RFC 7323 §5.3) and RFC 5961's challenge
   * ACKs: 'ok' when the segment goes on to its ACK field, 'reset' for an RST exactly at RCV.NXT,
   * 'drop' otherwise (answered with the ACK the RFCs call for). `wnd` = RCV.WND.
   */
  check(flags: number, seq: number, tsVal: number, segLen: number, wnd: number, now: number): 'ok' | 'reset' | 'drop' {
    const rst = (flags & RST) !== 0;
    // RFC 5961 §4.2: any SYN, in window or not, earns a (rate-limited) challenge ACK.
    if (flags & SYN && !rst) {
      this.challengeAck(now);
      return 'drop';
    }
    // PAWS: an old timestamp marks an old duplicate (answered as an unacceptable segment, below).
    if (!rst && seqLt(tsVal, this.tsRecent)) {
      this.stats.duplicateSegments++;
      this.oowAck(segLen, now);
      return 'drop';
    }
    // First: sequence acceptability (the four cases).
    if (!this.rcvBuf.acceptable(seq, segLen, this.rcvNxt, wnd)) {
      if (!rst) {
        this.stats.duplicateSegments++;
        // RFC 2883: report the duplicate's range (below RCV.NXT) as the first SACK block.
        if (segLen > 0 && seqLt(seq, this.rcvNxt)) this.dsack = { start: seq, end: seqMin(seqAdd(seq, segLen), this.rcvNxt) };
        this.oowAck(segLen, now);
      }
      return 'drop';
    }
    // Second: RST (RFC 5961 §3.2): exact match resets, in-window earns a challenge ACK.
    if (rst) {
      if (seq === this.rcvNxt) return 'reset';
      this.challengeAck(now);
      return 'drop';
    }
    // Fourth: a SYN in a synchronized state earns a challenge ACK (RFC 5961 §4.2).
    if (flags & SYN) {
      this.challengeAck(now);
      return 'drop';
    }
    return 'ok';
  }

  /**
   * The ACK an unacceptable segment earns (RFC 9293 §3.10.7.4, RFC 7323 §5.3 R1). A bare ACK gets one at
   * most every 500 ms (Linux's tcp_invalid_ratelimit): two ends that each find the other's segments
   * unacceptable (zero-window probes both ways, timestamps that went back) would otherwise trade ACKs forever.
   */
  private oowAck(segLen: number, now: number): void {
    if (segLen === 0 && now - this.lastOowAckAt < 500) return;
    if (segLen === 0) this.lastOowAckAt = now;
    this.sendAck();
  }

  /** Data echoing our timestamp `tsEcr`: an RTT sample for receive-buffer right-sizing. */
  dataEcho(tsEcr: number, now: number): void {
    if (tsEcr === 0) return;
    const r = seqDiff(this.host.tsNow(now), tsEcr);
    if (r >= 0 && r < 60_000) this.rcvBuf.rttSample(r, now);
  }

  /** RFC 7323 §4.3: remember the peer's timestamp for echoing. */
  updateTsRecent(seq: number, tsVal: number): void {
    if (seqLe(seq, this.lastAckSent) && seqGe(tsVal, this.tsRecent)) this.tsRecent = tsVal;
  }

  /** Seventh and eighth steps: the segment's text, and where the peer's FIN lies. `wnd` = RCV.WND on arrival. */
  onText(seq: number, payload: Uint8Array, flags: number, wnd: number, now: number): void {
    if (seqLt(seq, this.rcvNxt)) {
      // Trim the part we already have (the acceptability test kept some of it).
      const skip = seqDiff(this.rcvNxt, seq);
      payload = payload.subarray(Math.min(skip, payload.length));
      seq = this.rcvNxt;
    }
    // Keep only what fits below RCV.NXT + RCV.WND, in order or not.
    const room = Math.max(0, seqDiff(seqAdd(this.rcvNxt, wnd), seq));
    if (payload.length > room) {
      payload = payload.subarray(0, room);
      flags &= ~FIN; // the FIN lies beyond the window
    }
    if (payload.length > 0) this.receiveData(seq, payload, now, (flags & IMMEDIATE_ACK) !== 0);

    if (flags & FIN) {
      const fin = seqAdd(seq, payload.length);
      if (this.peerFinSeq === undefined) this.peerFinSeq = fin;
      // A FIN above a hole: ACK at once, as for any out-of-order segment.
      if (fin !== this.rcvNxt && payload.length === 0) this.sendAck();
    }
  }

  /**
   * Header prediction's receive half (see `Connection.predicted`): `seg` is a bare-ACK-flagged segment
   * in ESTABLISHED, at RCV.NXT with no hole it could fill, or (under loss) just past the highest
   * bytes held above a hole. When its text is all there is to it (a fresh timestamp, data that fits
   * the window, no FIN known), it does what `check`, `updateTsRecent`, `dataEcho` and `onText` would,
   * and returns true; else it changes nothing and returns false.
   */
  predictData(seg: Segment, now: number): boolean {
    const payload = seg.payload;
    const n = payload.length;
    const seq = seg.seq;
    if (n === 0 || seqLt(seg.tsVal, this.tsRecent) || this.peerFinSeq !== undefined) return false;
    const inOrder = seq === this.rcvNxt;
    const held = this.rcvBuf.hasHoles;
    if (inOrder ? held : !held || seq !== this.rcvBuf.heldEnd) return false;
    if (seqDiff(seqAdd(seq, n), this.rcvNxt) > this.window) return false;
    this.updateTsRecent(seq, seg.tsVal);
    this.dataEcho(seg.tsEcr, now);
    this.stats.bytesReceived += n;
    if (inOrder) {
      this.acceptInOrder(payload, now, false);
      return true;
    }
    // receiveData's out-of-order case, for data that only extends the highest block.
    this.stats.outOfOrderSegments++;
    this.rcvBuf.hold(seq, payload);
    this.ackOutOfOrder();
    return true;
  }

  private receiveData(seq: number, payload: Uint8Array, now: number, immediate: boolean): void {
    const s = this.host.state;
    if (!(s === State.ESTABLISHED || s === State.FIN_WAIT_1 || s === State.FIN_WAIT_2)) {
      return; // RFC 9293: text after the peer's FIN is ignored
    }
    if (this.peerFinSeq !== undefined && seqGe(seq, this.peerFinSeq)) return;
    this.stats.bytesReceived += payload.length;
    if (seq === this.rcvNxt) {
      // At once when a hole is filled, or when the sender asks (a probe or retransmission).
      this.acceptInOrder(payload, now, this.rcvBuf.hasHoles || immediate);
    } else {
      // Out of order: keep it, ACK at once (a duplicate ACK, with SACK blocks).
      this.stats.outOfOrderSegments++;
      if (this.rcvBuf.hold(seq, payload) === 0) {
        // All of it was already held: a duplicate, reported as D-SACK (RFC 2883 §4).
        this.stats.duplicateSegments++;
        this.dsack = { start: seq, end: seqAdd(seq, payload.length) };
      }
      this.ackOutOfOrder();
    }
  }

  /**
   * Text at RCV.NXT: into the receive buffer, READABLE once, and the ACK it earns (RFC 9293 §3.8.6.3,
   * RFC 5681 §4.2): at once with `ackNow`, else at least every second full segment (`ackHeld`, sent
   * when the connection is next drained) or when the delayed-ACK timer fires.
   */
  private acceptInOrder(payload: Uint8Array, now: number, ackNow: boolean): void {
    this.rcvNxt = this.rcvBuf.deliver(payload, this.rcvNxt);
    if (!this.readableSignalled) {
      this.readableSignalled = true;
      this.host.emit(READABLE);
    }
    this.ackOwed += payload.length;
    if (ackNow) this.ackAtOnce();
    else if (this.ackOwed < 2 * this.opts.mss && this.delAckAt === Infinity) this.delAckAt = now + this.opts.delayedAck;
  }

  /** Out-of-order data was held: a duplicate ACK is owed; when so many blocks changed that the batch's one ACK could not carry them all, it goes now. */
  private ackOutOfOrder(): void {
    if (this.rcvBuf.unreportedBlocks >= MAX_SACK_BLOCKS / 2) this.sendAck();
    else this.ackAtOnce();
  }

  /** The peer's FIN is next in sequence (true once): it takes RCV.NXT one further. */
  finReached(): boolean {
    if (this.peerFinReceived || this.peerFinSeq === undefined || this.peerFinSeq !== this.rcvNxt) return false;
    this.peerFinReceived = true;
    this.rcvNxt = seqAdd(this.rcvNxt, 1);
    return true;
  }

  // ---------------------------------------------------------------- acknowledgment

  /** Take the next chunk of in-order bytes for the app; a window update follows if it opened the window usefully. */
  read(max: number, now: number): Uint8Array | null {
    this.readableSignalled = false;
    const chunk = this.rcvBuf.read(max);
    if (chunk) this.rcvBuf.onRead(chunk.length, now);
    if (chunk && isSynchronized(this.host.state) && !this.peerFinReceived && this.rcvBuf.windowUpdateDue(this.rcvNxt)) {
      this.sendAck();
    }
    return chunk;
  }

  /** The delayed-ACK and keepalive timers off (TIME_WAIT, CLOSED). */
  stopTimers(): void {
    this.delAckAt = Infinity;
    this.keepAliveAt = Infinity;
  }

  /** The delayed-ACK timer fired. */
  onDelayedAck(): void {
    this.delAckAt = Infinity;
    if (this.ackOwed > 0) this.sendAck();
  }

  /**
   * A bare ACK is owed without delay (RFC 5681 §4.2: every second full segment, out-of-order data, a
   * filled hole; a SYN-ACK, a FIN). The connection sends it when it is drained, after what else is to go
   * (which carries it instead): when the owner drains once per batch of datagrams, a burst of
   * out-of-order segments draws one ACK with the latest SACK blocks, and what the app sends in answer
   * meanwhile (data after 'connect', its FIN after 'end') carries it.
   */
  get ackHeld(): boolean {
    return this.ackDue || this.ackOwed >= 2 * this.opts.mss;
  }

  /** Owe an ACK without delay (see `ackHeld`). */
  ackAtOnce(): void {
    this.ackDue = true;
  }

  /** An ACK of its own, whatever else goes (the header is built when it is polled). */
  sendAck(): void {
    this.host.queueSegment(ACK, this.host.sndNxt, EMPTY);
  }

  /** RFC 5961 §7: a challenge ACK, at most `challengeAckLimit` a second. */
  challengeAck(now: number): void {
    if (now - this.challengeWindow >= 1000) {
      this.challengeWindow = now;
      this.challengeCount = 0;
    }
    if (this.challengeCount >= this.opts.challengeAckLimit) return;
    this.challengeCount++;
    this.stats.challengeAcks++;
    this.sendAck();
  }

  // ---------------------------------------------------------------- keepalive

  /** Turn keepalive on or off; `idleMs` > 0 replaces the idle time (node:net's initialDelay). */
  setKeepAlive(enable: boolean, idleMs: number, now: number): void {
    this.keepAlive = enable;
    if (idleMs > 0) this.keepAliveIdle = idleMs;
    this.lastRecvAt = Math.max(this.lastRecvAt, now);
    this.probesSent = 0;
    this.keepAliveAt = enable && isSynchronized(this.host.state) ? now + this.keepAliveIdle : Infinity;
  }

  /** The connection is established: the idle time starts. */
  startKeepAlive(now: number): void {
    if (this.keepAlive) this.keepAliveAt = now + this.keepAliveIdle;
  }

  /**
   * The keepalive timer fired: after an idle period, probe with SEG.SEQ = SND.NXT-1 so the peer
   * must ACK. Returns false when too many probes went unanswered: the peer is presumed dead.
   */
  onKeepAlive(now: number): boolean {
    this.keepAliveAt = Infinity;
    const s = this.host.state;
    if (!this.keepAlive || !isSynchronized(s) || s === State.TIME_WAIT) return true;
    const idleEnd = this.lastRecvAt + this.keepAliveIdle;
    if (this.probesSent === 0 && now < idleEnd) {
      this.keepAliveAt = idleEnd; // something arrived since the timer was set
      return true;
    }
    if (this.probesSent >= this.opts.keepAliveProbes) return false;
    if (this.host.retransmitQueueLength === 0) {
      this.probesSent++;
      this.stats.keepAliveProbes++;
      this.host.queueSegment(ACK, seqAdd(this.host.sndNxt, -1), EMPTY);
    }
    this.keepAliveAt = now + this.opts.keepAliveInterval;
    return true;
  }

  // ---------------------------------------------------------------- segments we send

  /**
   * Fill `seg` (every field: one object serves every segment we build) for a segment with the receive side's
   * numbers (ACK, window, timestamps, SACK blocks); an ACK cancels any owed.
   */
  segment(seg: Segment, flags: number, seq: number, payload: Uint8Array, syn: boolean, dstId: number, srcId: number, peerSack: boolean, now: number): Segment {
    const hasAck = (flags & ACK) !== 0;
    seg.flags = flags;
    seg.dstId = dstId;
    seg.srcId = srcId;
    seg.seq = seq;
    seg.ack = hasAck ? this.rcvNxt : 0;
    seg.window = this.rcvBuf.advertise(this.rcvNxt);
    seg.tsVal = this.host.tsNow(now);
    // Echo only on a segment that brings news of what arrived (an ACK owed, a D-SACK, RCV.NXT moved):
    // one that repeats an ACK already sent (a later data segment, a window update) may be read by the
    // peer long after that ACK was lost, and an RTT sample from it would span the wait (invariant 14).
    // No echo (0) tells the peer to take none; PAWS looks only at TSval.
    const news = syn || this.ackOwed > 0 || this.ackDue || this.dsack !== undefined || this.rcvNxt !== this.lastAckSent;
    seg.tsEcr = hasAck && !news ? 0 : this.tsRecent;
    seg.payload = payload;
    clearOptions(seg);
    if (syn) {
      seg.mss = Math.max(this.opts.mss, this.opts.maxMss);
      if (this.opts.sack) seg.sackPermitted = true;
    } else if (hasAck && peerSack && (this.rcvBuf.hasHoles || this.dsack)) {
      const max = (payload.length > 0 ? MAX_SACK_BLOCKS_ON_DATA : MAX_SACK_BLOCKS) - (this.dsack ? 1 : 0);
      const blocks = this.rcvBuf.hasHoles ? this.rcvBuf.sackBlocks(max) : [];
      if (this.dsack) blocks.unshift(this.dsack); // RFC 2883 §4: once, first
      this.dsack = undefined;
      seg.sack = blocks;
    }
    if (hasAck) {
      this.lastAckSent = this.rcvNxt;
      this.ackOwed = 0;
      this.ackDue = false;
      this.delAckAt = Infinity;
    }
    return seg;
  }
}
