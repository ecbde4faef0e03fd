// The send-side scoreboard: the retransmission queue and what it implies about
// the network, kept consistent in one place. Each entry is SACKed, lost, or in
// the pipe (bytes in flight, RFC 6675 §2); loss is inferred by RACK (RFC 8985)
// and by DupThresh (RFC 6675 §5). Policy (recovery, cwnd, timers) is the caller's.

import { FIN, SYN, type SackBlock } from '../../wire/segment.js';
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt, seqSearch } from '../../wire/seq.js';
import { DeliveryRate, type DeliveryStamp } from '../cc/delivery.js';
import { Rack } from './rack.js';
import type { RttEstimator } from './rtt.js';

const entrySeq = (e: TxEntry): number => e.seq;

/** RFC 5681 §3.2 / RFC 6675: duplicate ACKs (or segments SACKed above) that signal loss. */
export const DUP_THRESH = 3;

/** A segment we sent that is not yet cumulatively acknowledged. */
export interface TxEntry extends DeliveryStamp {
  seq: number;
  /** Sequence space: payload plus SYN and FIN. */
  len: number;
  flags: number;
  /** Order of the latest transmission among all of this connection's (RACK, RFC 8985 §6.2). */
  order: number;
  retransmits: number;
  sacked: boolean;
  lost: boolean;
  /** Counted in the pipe (bytes in flight, RFC 6675 §2). */
  inPipe: boolean;
  /** A path MTU probe (RFC 8899): larger than the confirmed MSS. */
  probe?: boolean;
  /** Neighbours among the entries in the pipe, in transmission order (Linux's tsorted list). */
  tPrev: TxEntry | null;
  tNext: TxEntry | null;
}

/**
 * Entries acknowledged and dropped, for any connection's next sends: a bulk transfer then makes no
 * object per segment. Bounded, so a burst leaves at most this many behind.
 */
const spare: TxEntry[] = [];
const SPARE_MAX = 4096;

function newEntry(seq: number, len: number, flags: number, order: number, probe: boolean): TxEntry {
  const e = spare.pop();
  if (e === undefined) {
    return {
      seq,
      len,
      flags,
      order,
      sentAt: 0,
      dlv: 0,
      dlvTime: 0,
      firstSent: 0,
      appLimited: false,
      retransmits: 0,
      sacked: false,
      lost: false,
      inPipe: true,
      probe,
      tPrev: null,
      tNext: null,
    };
  }
  e.seq = seq;
  e.len = len;
  e.flags = flags;
  e.order = order;
  e.retransmits = 0;
  e.sacked = e.lost = false;
  e.inPipe = true;
  e.probe = probe;
  return e; // links were cleared when it was retired; `rate.stamp` sets the delivery fields
}

/** `e` is out of every list and nothing refers to it any more. */
function retire(e: TxEntry): void {
  e.tPrev = e.tNext = null;
  if (spare.length < SPARE_MAX) spare.push(e);
}

/** Where the fate of a path MTU probe goes (RFC 8899); sizes are payload bytes. */
export interface ProbeListener {
  probeAcked(size: number): void;
  probeLost(size: number): void;
}

export class Scoreboard {
  /** In sequence order, without overlap, from SND.UNA on. */
  private q: TxEntry[] = [];
  /** Bytes in flight (RFC 6675 "pipe"). */
  pipe = 0;
  lostCount = 0;
  /** Entries SACKed: without any, DupThresh has nothing to count. */
  sackedCount = 0;
  private readonly rack = new Rack();
  /** Delivery-rate samples for model-based congestion control. */
  readonly rate = new DeliveryRate();
  /**
   * Send time of the most recently sent first transmission delivered since `takeRttSample`:
   * an RTT sample free of Karn's ambiguity and of the timestamp clock's granularity.
   */
  private sampleSentAt = -Infinity;
  /** The latest send time of a retransmitted entry delivered since `takeRttSample` (-Infinity if none: then a send-time sample may be taken). */
  retransSentAt = -Infinity;
  /** The latest send time of any entry delivered (cumulatively or SACKed) since `takeRttSample`. */
  deliveredSentAt = -Infinity;
  /** Whether entries delivered now may give the RTT sample (false for SACK blocks past the first). */
  private sampling = true;
  /** Transmissions so far: the next one's `order`. */
  private txCount = 0;
  /** When the RACK reordering timer should fire (RFC 8985 §6.3), set by `detectLoss`. */
  reorderAt = Infinity;
  /** SACK blocks already applied: start → end. A block reported again is skipped, a grown one resumes where it ended. */
  private sackSeen: Map<number, number> | null = null;
  /**
   * The entries in the pipe, oldest transmission first: their send times rise along it, so
   * RACK stops at the first one not yet lost instead of walking the window on every ACK.
   */
  private tsHead: TxEntry | null = null;
  private tsTail: TxEntry | null = null;
  /** Where the last path MTU probe marked lost began, until its data is acknowledged (-1: none). */
  lostProbeSeq = -1;
  /** End of the highest SACKed entry; meaningful while `sackedCount` > 0. */
  private highSacked = 0;
  /** DupThresh has judged every entry below this sequence number (none below can become eligible). */
  private dupFrom = 0;
  /** No lost entry starts below this; meaningful while `lostCount` > 0. */
  private lostFrom = 0;

  constructor(
    private readonly rtt: RttEstimator,
    private readonly probes: ProbeListener,
  ) {}

  /** The queue, for the sender's walk over lost entries; it may grow (`splitOversized`) during the walk. */
  get entries(): readonly TxEntry[] {
    return this.q;
  }

  get length(): number {
    return this.q.length;
  }

  /** Empty: let go of the queue's memory (V8 keeps an array's capacity after it drains). */
  release(): void {
    if (this.q.length === 0) this.q = [];
  }

  get head(): TxEntry | undefined {
    return this.q[0];
  }

  /** A new transmission enters the queue and the pipe. */
  onSent(seq: number, len: number, flags: number, now: number, probe: boolean): void {
    const e = newEntry(seq, len, flags, ++this.txCount, probe);
    this.rate.stamp(e, now, this.pipe);
    if (this.q.length === 0) this.dupFrom = seq;
    this.q.push(e);
    this.pipe += len;
    this.tsAppend(e);
  }

  /** Cumulative ACK up to `ack`: drop fully acknowledged entries, trim a partly acknowledged one. */
  ackTo(ack: number, now: number): void {
    const q = this.q;
    while (q.length > 0) {
      const e = q[0]!;
      const end = seqAdd(e.seq, e.len);
      if (seqLe(end, ack)) {
        if (!e.sacked) this.onDelivered(e, now, ack);
        this.removePipe(e, e.len);
        if (e.lost) this.lostCount--;
        if (e.sacked) this.sackedCount--;
        if (e.seq === this.lostProbeSeq) this.lostProbeSeq = -1; // its data has arrived
        q.shift();
        retire(e);
      } else {
        if (seqGt(ack, e.seq)) {
          const n = seqDiff(ack, e.seq);
          if (e.inPipe) this.pipe -= n;
          e.seq = ack;
          e.len -= n;
          e.flags &= ~SYN;
        }
        break;
      }
    }
    // Keep the hints within the window, where sequence comparisons hold.
    if (seqLt(this.dupFrom, ack)) this.dupFrom = ack;
    if (seqLt(this.lostFrom, ack)) this.lostFrom = ack;
  }

  /** RFC 2018: mark SACKed entries; they leave the pipe. Blocks outside (una, nxt] are ignored. Returns the bytes newly SACKed. */
  onSack(blocks: readonly SackBlock[], una: number, nxt: number, now: number): number {
    let fresh = 0;
    const q = this.q;
    const seen = (this.sackSeen ??= new Map());
    if (seen.size > 4 * 16) seen.clear(); // old blocks (cumulatively ACKed since) go now and then
    let firstBlock = true;
    for (const b of blocks) {
      if (!seqLt(b.start, b.end) || seqLe(b.start, una) || seqGt(b.end, nxt)) continue;
      // RFC 2018 §4: the first block holds the segment that triggered this ACK. The others repeat
      // what earlier (maybe lost) ACKs reported: an RTT sample from them would span that delay.
      this.sampling = firstBlock;
      firstBlock = false;
      const done = seen.get(b.start);
      if (done !== undefined && seqGe(done, b.end)) continue; // every entry inside is SACKed already
      seen.set(b.start, b.end);
      // From the entry holding the old end (one that straddled it may fit the grown block).
      const first = this.firstAtOrAfter(b.start);
      const from = done === undefined ? first : Math.max(first, this.firstAtOrAfter(done) - 1);
      for (let i = from; i < q.length; i++) {
        const e = q[i]!;
        if (seqGe(e.seq, b.end)) break;
        if (e.sacked || seqGt(seqAdd(e.seq, e.len), b.end)) continue;
        e.sacked = true;
        fresh += e.len;
        const end = seqAdd(e.seq, e.len);
        if (this.sackedCount++ === 0 || seqGt(end, this.highSacked)) this.highSacked = end;
        this.onDelivered(e, now, una);
        this.removePipe(e, e.len);
        if (e.lost) {
          e.lost = false;
          this.lostCount--;
        }
      }
    }
    this.sampling = true;
    return fresh;
  }

  /** Index of the first entry starting at or after `seq` (the queue is in sequence order): a binary search, not a walk per SACK block. */
  private firstAtOrAfter(seq: number): number {
    const q = this.q;
    return q.length === 0 ? 0 : seqSearch(q, entrySeq, q[0]!.seq, seq, true);
  }

  /**
   * RACK (RFC 8985 §6.2) and, with SACK, RFC 6675 §5 IsLost: mark newly lost entries.
   * Returns whether any were other than path MTU probes (see `markLost`); `reorderAt` becomes
   * the next RACK deadline.
   */
  detectLoss(now: number, mss: number, sack: boolean): boolean {
    let lostAny = false;
    // RACK: lost once a later-sent segment is delivered and the reordering window passed. Along
    // the pipe in transmission order send times rise, so the first entry not lost yet ends the walk.
    const rack = this.rack;
    if (rack.xmitTs > -Infinity) {
      const reo = rack.reoWnd(this.rtt.minRtt, this.rtt.srtt);
      let next = Infinity;
      for (let e = this.tsHead; e !== null; ) {
        const d = rack.lossDeadline(e, now, reo);
        if (d !== 0) {
          next = d;
          break;
        }
        const after: TxEntry | null = e.tNext;
        if (this.markLost(e)) lostAny = true;
        e = after;
      }
      this.reorderAt = next;
    }
    // DupThresh counts segments, so it assumes no reordering: once a spurious retransmission
    // showed some, time alone decides (RACK, RFC 8985 §6.2), as Linux adapts its dupthresh.
    if (!sack || rack.reoMult > 1 || this.sackedCount === 0) return lostAny;
    // DupThresh: an entry with DupThresh segments' worth SACKed above it is lost. Find the highest
    // such position, walking down from the highest SACKed entry...
    const q = this.q;
    let sackedAbove = 0;
    let top = this.firstAtOrAfter(this.highSacked) - 1;
    for (; top >= 0; top--) {
      const e = q[top]!;
      if (e.sacked) sackedAbove += e.len;
      else if (sackedAbove >= DUP_THRESH * mss) break;
    }
    if (top < 0) return lostAny;
    // ...then judge the entries below it not judged before: SACK marks only accumulate, so one
    // that was not eligible then (SACKed, lost, or retransmitted) never becomes so.
    for (let i = this.firstAtOrAfter(this.dupFrom); i <= top; i++) {
      const e = q[i]!;
      // A retransmission went out after the SACKed data above it: only RACK, which knows
      // when it was sent, can tell it lost.
      if (e.sacked || e.lost || !e.inPipe || e.retransmits > 0) continue;
      if (this.markLost(e)) lostAny = true;
    }
    const last = q[top]!;
    this.dupFrom = seqAdd(last.seq, last.len);
    return lostAny;
  }

  /**
   * Mark `e` lost (it goes out again). Returns whether that is a sign of congestion: not for a path
   * MTU probe, which RFC 8899 §4.1 says is lost for its size, not the path's load.
   */
  markLost(e: TxEntry | undefined): boolean {
    if (!e || e.lost || e.sacked) return false;
    const probe = e.probe === true;
    if (probe) {
      e.probe = false;
      this.lostProbeSeq = e.seq;
      this.probes.probeLost(e.len - (e.flags & FIN ? 1 : 0));
    }
    e.lost = true;
    if (this.lostCount++ === 0 || seqLt(e.seq, this.lostFrom)) this.lostFrom = e.seq;
    if (e.inPipe && !probe) this.rate.newlyLost += e.len;
    this.removePipe(e, e.len);
    return !probe;
  }

  /** The peer reported a duplicate (D-SACK, RFC 2883): a retransmission was spurious. */
  onDsack(una: number, nxt: number): void {
    this.rack.onSpurious(una, nxt);
  }

  /** A fast recovery ended, or an RTO fired (RFC 8985 §6.2 step 4). */
  onRecoveryEnd(): void {
    this.rack.onRecoveryEnd();
  }

  /** RFC 6298 §5.4: after a timeout everything is presumed lost; SACK marks are forgotten, the receiver may renege (RFC 2018 §8). */
  onTimeout(): void {
    this.sackSeen?.clear(); // SACK marks are forgotten: a block reported again applies again
    for (const e of this.q) {
      e.sacked = false;
      this.markLost(e);
    }
    this.sackedCount = 0;
    this.pipe = 0;
    this.tsHead = this.tsTail = null; // every entry left the pipe in markLost
  }

  /** Accounting for a retransmission of `e` (cut to `mss` first): it is no longer lost and is back in the pipe. */
  onRetransmit(e: TxEntry, now: number, mss: number): void {
    this.splitOversized(e, mss);
    if (e.lost) {
      e.lost = false;
      this.lostCount--;
    }
    e.retransmits++;
    e.order = ++this.txCount;
    this.rate.stamp(e, now, this.pipe);
    if (e.inPipe) this.tsUnlink(e);
    e.inPipe = true;
    this.pipe += e.len;
    this.tsAppend(e);
  }

  /** A resend of an entry still counted in the pipe (a tail-loss probe, RFC 8985 §7.3). */
  onResend(e: TxEntry, now: number): void {
    e.retransmits++;
    e.order = ++this.txCount;
    this.rate.stamp(e, now, this.pipe - e.len);
    this.tsMoveToTail(e);
  }

  /**
   * Sent again as it was, staying in the pipe: a zero-window probe (persist timer) or a SYN.
   * Its ACK then gives no RTT sample from the send time (Karn, RFC 6298 §3).
   */
  onResendAsIs(e: TxEntry, now: number): void {
    e.retransmits++;
    e.order = ++this.txCount;
    e.sentAt = now;
    this.tsMoveToTail(e);
  }

  /** A segment larger than `mss` (a failed probe, or sent before a fallback) is cut to size. */
  splitOversized(e: TxEntry, mss: number): void {
    const dataLen = e.len - (e.flags & FIN ? 1 : 0) - (e.flags & SYN ? 1 : 0);
    if (dataLen <= mss || e.flags & SYN) return;
    this.sackSeen?.clear(); // entries changed under the applied SACK blocks
    const i = this.q.indexOf(e);
    const rest: TxEntry = { ...e, seq: seqAdd(e.seq, mss), len: e.len - mss, probe: false, tPrev: null, tNext: null };
    e.len = mss;
    e.flags &= ~FIN;
    e.probe = false;
    this.q.splice(i + 1, 0, rest);
    if (rest.inPipe) {
      // Sent with `e`: it goes next to it in transmission order.
      rest.tPrev = e;
      rest.tNext = e.tNext;
      if (e.tNext) e.tNext.tPrev = rest;
      else this.tsTail = rest;
      e.tNext = rest;
    }
    if (rest.lost) this.lostCount++; // the pipe already counts the whole, split between the two
    if (rest.sacked) this.sackedCount++;
    this.splitOversized(rest, mss);
  }

  firstUnsacked(): TxEntry | undefined {
    for (const e of this.q) if (!e.sacked) return e;
    return undefined;
  }

  /** Index of the first lost entry (the queue's length if none), searched from a hint kept by `markLost`. */
  firstLostIndex(): number {
    const q = this.q;
    if (this.lostCount === 0) return q.length;
    let i = this.firstAtOrAfter(this.lostFrom);
    while (i < q.length && !q[i]!.lost) i++;
    if (i < q.length) this.lostFrom = q[i]!.seq;
    return i;
  }

  firstLost(): TxEntry | undefined {
    return this.q[this.firstLostIndex()];
  }

  /** The highest entry not SACKed: what a tail-loss probe resends (RFC 8985 §7.3). */
  lastUnsacked(): TxEntry | undefined {
    for (let i = this.q.length - 1; i >= 0; i--) if (!this.q[i]!.sacked) return this.q[i];
    return undefined;
  }

  clear(): void {
    this.q.length = 0;
    this.tsHead = this.tsTail = null;
    this.pipe = 0;
    this.lostCount = this.sackedCount = 0;
  }

  /** The RTT of the newest first transmission delivered since the last call, or -1 (RFC 6298 §3, Karn). */
  takeRttSample(now: number): number {
    const at = this.sampleSentAt;
    const spansRetransmission = this.retransSentAt !== -Infinity;
    this.sampleSentAt = -Infinity;
    this.retransSentAt = -Infinity;
    this.deliveredSentAt = -Infinity;
    // Karn (RFC 6298 §3), as Linux's FLAG_RETRANS_DATA_ACKED: an ACK that also delivers a retransmission
    // may have been sent only when that filled a hole, long after the first transmissions it covers arrived.
    return at === -Infinity || spansRetransmission ? -1 : now - at;
  }

  /** `una`: SND.UNA as of this ACK. */
  private onDelivered(e: TxEntry, now: number, una: number): void {
    if (e.sentAt > this.deliveredSentAt) this.deliveredSentAt = e.sentAt;
    if (e.retransmits > 0) {
      if (e.sentAt > this.retransSentAt) this.retransSentAt = e.sentAt;
    } else if (this.sampling && e.sentAt > this.sampleSentAt) this.sampleSentAt = e.sentAt;
    this.rate.onDelivered(e, e.len, now);
    if (this.rack.onDelivered(e, now, this.rtt.minRtt)) {
      const last = this.q[this.q.length - 1]!; // SND.NXT is where the queue ends
      this.rack.onSpurious(una, seqAdd(last.seq, last.len));
    }
    if (e.probe) {
      e.probe = false;
      this.probes.probeAcked(e.len - (e.flags & FIN ? 1 : 0));
    }
  }

  private removePipe(e: TxEntry, n: number): void {
    if (e.inPipe) {
      this.pipe -= n;
      e.inPipe = false;
      this.tsUnlink(e);
    }
  }

  private tsAppend(e: TxEntry): void {
    e.tPrev = this.tsTail;
    e.tNext = null;
    if (this.tsTail) this.tsTail.tNext = e;
    else this.tsHead = e;
    this.tsTail = e;
  }

  private tsUnlink(e: TxEntry): void {
    if (e.tPrev) e.tPrev.tNext = e.tNext;
    else this.tsHead = e.tNext;
    if (e.tNext) e.tNext.tPrev = e.tPrev;
    else this.tsTail = e.tPrev;
    e.tPrev = e.tNext = null;
  }

  /** Sent again while in the pipe: it is now the newest transmission. */
  private tsMoveToTail(e: TxEntry): void {
    if (!e.inPipe || e === this.tsTail) return;
    this.tsUnlink(e);
    this.tsAppend(e);
  }
}
