// A packetdrill-style harness over ONE Connection. The test plays the peer:
// it injects segments, expects the segments the connection transmits, and moves
// a virtual clock whose due timers run in order.
//
// Sequence numbers are relative, as in packetdrill: in an injected segment `seq`
// counts from the peer's ISS and `ack` from ours; in an expected segment `seq`
// counts from our ISS and `ack` from the peer's. Timestamps are in each side's
// own ms (our TSval = now + tsOffset; the peer's = its time + peerTsOffset).
//
//   const s = script({ iss: 0xfffffff0 });
//   s.connect().expect({ flags: 'S', seq: 0 });
//   s.at(50).inject({ flags: 'SA', seq: 0, ack: 1 }).expect({ flags: 'A', seq: 1, ack: 1 });

import { expect } from 'vitest';
import { Connection } from '../../src/protocol/connection.js';
import { newReno } from '../../src/protocol/cc/congestion.js';
import { DEFAULT_RTO } from '../../src/protocol/recovery/rtt.js';
import type { ConnEvent, ConnectionOptions } from '../../src/protocol/options.js';
import type { State } from '../../src/protocol/state.js';
import { ACK, FIN, RST, SYN, type Segment } from '../../src/wire/segment.js';
import { seqAdd, seqDiff, seqGt } from '../../src/wire/seq.js';

export interface ScriptInit {
  /** Our ISS (default 1000). */
  iss?: number;
  /** The peer's ISS (default 5000). */
  peerIss?: number;
  tsOffset?: number;
  peerTsOffset?: number;
  localId?: number;
  remoteId?: number;
  options?: Partial<ConnectionOptions>;
  /** Window in injected segments unless given (default 65535). */
  peerWin?: number;
  /** Drain once per batch of injected segments, as the endpoint does (`coalesceAcks`); `endBatch()` ends a batch. */
  batchAcks?: boolean;
}

/** A segment as a script writes it. Flags are letters: S, A (or .), F, R. */
export interface SegSpec {
  flags: string;
  seq?: number;
  ack?: number;
  win?: number;
  /** Inject: the peer's time; expect: our time. */
  tsVal?: number;
  /** Inject: our time being echoed (default: echo the last TSval we sent; 'none' sends 0); expect: the peer's time. */
  tsEcr?: number | 'none';
  mss?: number;
  sackPermitted?: boolean;
  /** [start, end) pairs, relative like `seq` of the data they cover. */
  sack?: Array<[number, number]>;
  /** Payload as text (latin1) or bytes. */
  data?: string | Uint8Array;
  /** Payload length; injected payloads are filled with `pattern(seq, len)`. */
  len?: number;
  dstId?: number;
  srcId?: number;
}

/** The byte the peer sends at relative sequence number `k` when a script gives only `len`. */
export function patternByte(k: number): number {
  return (k * 31 + 7) & 0xff;
}

export function pattern(start: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = patternByte(start + i);
  return out;
}

export function parseFlags(f: string): number {
  let n = 0;
  for (const ch of f) {
    if (ch === 'S') n |= SYN;
    else if (ch === 'A' || ch === '.') n |= ACK;
    else if (ch === 'F') n |= FIN;
    else if (ch === 'R') n |= RST;
    else throw new Error(`bad flag letter '${ch}' in '${f}'`);
  }
  return n;
}

export function formatFlags(n: number): string {
  return (n & SYN ? 'S' : '') + (n & FIN ? 'F' : '') + (n & RST ? 'R' : '') + (n & ACK ? 'A' : '');
}

const bytes = (d: string | Uint8Array): Uint8Array => (typeof d === 'string' ? new Uint8Array(Buffer.from(d, 'latin1')) : d);
const text = (d: Uint8Array): string => Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('latin1');

/** Scripts pin what makes timing exact: MSS 1000, no path MTU probing, no pacing. */
// NewReno: the scripted loss tests check RFC 5681/6582 arithmetic; CUBIC has its own tests.
// RTO exactly as RFC 6298 computes it, with Linux's 200 ms floor; the ACK-delay allowance has its own tests.
const SCRIPT_DEFAULTS = (mss: number): Partial<ConnectionOptions> => ({
  mss,
  maxMss: mss,
  pacing: false,
  congestion: newReno,
  rto: { ...DEFAULT_RTO, rtoMin: 200, maxAckDelay: 0 },
});

export class Script {
  readonly conn: Connection;
  readonly iss: number;
  readonly peerIss: number;
  readonly tsOffset: number;
  readonly peerTsOffset: number;
  readonly remoteId: number;
  readonly peerWin: number;
  now = 0;
  /** Transmitted, not yet matched by expect(). */
  private readonly unmatched: Segment[] = [];
  /** Every segment the connection transmitted. */
  private readonly sentLog: Segment[] = [];
  private readonly eventLog: ConnEvent[] = [];
  /** Every state change, in order. */
  private readonly transitionLog: Array<[State, State]> = [];
  /** Next relative sequence number of the peer (advanced by inject). */
  peerNxt = 0;
  /** With `batchAcks`: segments were injected since the last `endBatch` (the connection is not drained until then). */
  private batchOpen = false;
  private readonly batchAcks: boolean;
  private expected = 0;

  constructor(init: ScriptInit = {}) {
    this.iss = (init.iss ?? 1000) >>> 0;
    this.peerIss = (init.peerIss ?? 5000) >>> 0;
    this.tsOffset = (init.tsOffset ?? 100_000) >>> 0;
    this.peerTsOffset = (init.peerTsOffset ?? 7_000_000) >>> 0;
    this.remoteId = init.remoteId ?? 0xbeef;
    this.peerWin = init.peerWin ?? 65535;
    this.batchAcks = init.batchAcks === true;
    this.conn = new Connection({
      localId: init.localId ?? 0xc0de,
      iss: this.iss,
      tsOffset: this.tsOffset,
      options: { ...SCRIPT_DEFAULTS(init.options?.mss ?? 1000), ...init.options },
    });
  }

  /**
   * Take the connection's output, as an endpoint does after each call: its events, then its segments
   * (with `batchAcks`, a bare ACK owed waits while a batch of injected segments is open: `endBatch` ends it).
   */
  drain(): this {
    for (let ev = this.conn.pollEvent(); ev; ev = this.conn.pollEvent()) {
      this.eventLog.push(ev);
      if (ev.type === 'state') this.transitionLog.push([ev.from, ev.to]);
    }
    for (let out = this.conn.pollSegment(this.now, this.batchOpen); out; out = this.conn.pollSegment(this.now, this.batchOpen)) {
      const seg = { ...out }; // the connection reuses `out` for its next segment
      this.unmatched.push(seg);
      this.sentLog.push(seg);
    }
    for (let ev = this.conn.pollEvent(); ev; ev = this.conn.pollEvent()) {
      this.eventLog.push(ev);
      if (ev.type === 'state') this.transitionLog.push([ev.from, ev.to]);
    }
    return this;
  }

  /** Transmitted, not yet matched by expect(). */
  get pending(): Segment[] {
    this.drain();
    return this.unmatched;
  }
  /** Every segment the connection transmitted. */
  get sent(): Segment[] {
    this.drain();
    return this.sentLog;
  }
  get events(): ConnEvent[] {
    this.drain();
    return this.eventLog;
  }
  /** Every state change, in order. */
  get transitions(): Array<[State, State]> {
    this.drain();
    return this.transitionLog;
  }

  get state(): State {
    return this.conn.state;
  }

  // ------------------------------------------------------------- time

  /** Run every due timer up to `t` in order, then stand at `t`. */
  advance(t: number): this {
    if (t < this.now) throw new Error(`time goes backwards: ${t} < ${this.now}`);
    this.endBatch();
    for (let i = 0; ; i++) {
      if (i > 100_000) throw new Error('timers do not settle');
      this.drain(); // sending arms timers: poll the timeout after the segments
      const due = this.conn.pollTimeout();
      if (due > t) break;
      this.now = Math.max(this.now, due);
      this.conn.handleTimeout(this.now);
    }
    this.now = t;
    return this;
  }

  at(t: number): this {
    return this.advance(t);
  }

  /** End of a datagram batch: the connection sends what it has, a held ACK included. */
  endBatch(): this {
    this.batchOpen = false;
    return this.drain();
  }

  wait(ms: number): this {
    return this.advance(this.now + ms);
  }

  // ------------------------------------------------------------- peer side

  /** Build the raw segment for `spec` (relative numbers to absolute). */
  build(spec: SegSpec): Segment {
    const flags = parseFlags(spec.flags);
    const seq = spec.seq ?? this.peerNxt;
    let payload = spec.data !== undefined ? bytes(spec.data) : new Uint8Array(0);
    if (spec.data === undefined && spec.len !== undefined) payload = pattern(seq, spec.len);
    const last = this.sent[this.sent.length - 1];
    const seg: Segment = {
      flags,
      dstId: spec.dstId ?? (flags & SYN && !(flags & ACK) ? 0 : this.conn.localId),
      srcId: spec.srcId ?? this.remoteId,
      seq: seqAdd(this.peerIss, seq),
      ack: flags & ACK ? seqAdd(this.iss, spec.ack ?? seqDiff(this.conn.sndNxt, this.iss)) : 0,
      window: spec.win ?? this.peerWin,
      tsVal: seqAdd(spec.tsVal ?? this.now, this.peerTsOffset),
      tsEcr: spec.tsEcr === 'none' ? 0 : spec.tsEcr !== undefined ? seqAdd(spec.tsEcr, this.tsOffset) : (last?.tsVal ?? 0),
      payload,
    };
    if (spec.mss !== undefined) seg.mss = spec.mss;
    if (spec.sackPermitted) seg.sackPermitted = true;
    if (spec.sack) seg.sack = spec.sack.map(([a, b]) => ({ start: seqAdd(this.iss, a), end: seqAdd(this.iss, b) }));
    return seg;
  }

  /** The peer sends `spec` now. */
  inject(spec: SegSpec): this {
    const seg = this.build(spec);
    const end = seqDiff(seg.seq, this.peerIss) + seg.payload.length + (seg.flags & SYN ? 1 : 0) + (seg.flags & FIN ? 1 : 0);
    if (!(seg.flags & RST) && seqGt(seqAdd(this.peerIss, end), seqAdd(this.peerIss, this.peerNxt))) this.peerNxt = end;
    this.conn.handleSegment(seg, this.now);
    if (this.batchAcks) this.batchOpen = true;
    return this.drain();
  }

  // ------------------------------------------------------------- our side

  /** Describe a transmitted segment in the script's relative terms. */
  describe(seg: Segment): Required<Omit<SegSpec, 'data' | 'dstId' | 'srcId' | 'tsEcr'>> & { tsEcr: number; data: string; dstId: number; srcId: number } {
    return {
      flags: formatFlags(seg.flags),
      seq: seqDiff(seg.seq, this.iss),
      ack: seg.flags & ACK ? seqDiff(seg.ack, this.peerIss) : 0,
      win: seg.window,
      tsVal: seqDiff(seg.tsVal, this.tsOffset),
      tsEcr: seqDiff(seg.tsEcr, this.peerTsOffset),
      mss: seg.mss ?? 0,
      sackPermitted: seg.sackPermitted ?? false,
      sack: (seg.sack ?? []).map((b) => [seqDiff(b.start, this.peerIss), seqDiff(b.end, this.peerIss)] as [number, number]),
      len: seg.payload.length,
      data: seg.payload.length <= 64 ? text(seg.payload) : `<${seg.payload.length} bytes>`,
      dstId: seg.dstId,
      srcId: seg.srcId,
    };
  }

  /** The next transmitted segment matches `spec` in every field `spec` gives. Returns it. */
  expect(spec: SegSpec): Segment {
    const seg = this.pending.shift();
    const n = this.expected++;
    if (!seg) throw new Error(`t=${this.now}: expected ${JSON.stringify(spec)}, nothing was sent`);
    const d = this.describe(seg);
    const want: Record<string, unknown> = { flags: formatFlags(parseFlags(spec.flags)) };
    const got: Record<string, unknown> = { flags: d.flags };
    for (const k of ['seq', 'ack', 'win', 'tsVal', 'tsEcr', 'mss', 'sackPermitted', 'sack', 'len', 'dstId', 'srcId'] as const) {
      if (spec[k] !== undefined) {
        want[k] = spec[k];
        got[k] = d[k];
      }
    }
    if (spec.data !== undefined) {
      want.data = text(bytes(spec.data));
      got.data = text(seg.payload);
    }
    expect(got, `t=${this.now} segment #${n}: ${JSON.stringify(d)}`).toEqual(want);
    return seg;
  }

  /** Nothing was transmitted that has not been matched. */
  expectNothing(): this {
    const rest = this.pending.map((s) => this.describe(s));
    expect(rest, `t=${this.now}: unexpected segments`).toEqual([]);
    return this;
  }

  /** Drop whatever is pending without checking it. */
  discard(): Segment[] {
    return this.pending.splice(0);
  }

  // ------------------------------------------------------------- app calls

  connect(): this {
    this.conn.connect(this.now);
    return this.drain();
  }

  listen(): this {
    this.conn.listen();
    return this.drain();
  }

  /** Write text, bytes, or `n` bytes of a fixed pattern. Returns the bytes accepted. */
  write(data: string | Uint8Array | number): number {
    const d = typeof data === 'number' ? new Uint8Array(data).fill(0x61) : bytes(data);
    const n = this.conn.write(d);
    this.drain();
    return n;
  }

  /** Read up to `max` bytes (everything readable by default). */
  read(max = Infinity): Uint8Array {
    const parts: Uint8Array[] = [];
    let left = max;
    while (left > 0) {
      const c = this.conn.read(this.now, left);
      if (!c) break;
      parts.push(c);
      left -= c.length;
    }
    this.drain();
    return new Uint8Array(Buffer.concat(parts));
  }

  shutdown(): this {
    this.conn.shutdown();
    return this.drain();
  }

  close(): this {
    this.conn.close(this.now);
    return this.drain();
  }

  abort(): this {
    this.conn.abort(this.now);
    return this.drain();
  }

  // ------------------------------------------------------------- events

  /** Events of `type` so far. */
  eventsOf<T extends ConnEvent['type']>(type: T): Array<Extract<ConnEvent, { type: T }>> {
    return this.events.filter((e): e is Extract<ConnEvent, { type: T }> => e.type === type);
  }

  has(type: ConnEvent['type']): boolean {
    return this.events.some((e) => e.type === type);
  }

  /** States visited, starting with the initial CLOSED. */
  get path(): State[] {
    return ['CLOSED', ...this.transitions.map(([, to]) => to)];
  }
}

export function script(init?: ScriptInit): Script {
  return new Script(init);
}

export interface PeerInit {
  mss?: number;
  /** The peer's window, in the handshake and (unless a segment says otherwise) after it. */
  win?: number;
  sack?: boolean;
  /** Time the handshake takes (default 10 ms). */
  rtt?: number;
  /** Echo no timestamp, so the handshake gives no RTT sample. */
  noSample?: boolean;
}

/** Active open: SYN out, SYN-ACK in (at `rtt`), ACK out. The peer offers `peer.mss` and SACK. */
export function activeOpen(init: ScriptInit = {}, peer: PeerInit = {}): Script {
  const s = script(peer.win !== undefined ? { peerWin: peer.win, ...init } : init);
  s.connect().expect({ flags: 'S', seq: 0 });
  s.at(s.now + (peer.rtt ?? 10));
  const syn: SegSpec = { flags: 'SA', seq: 0, ack: 1, mss: peer.mss ?? 1000, sackPermitted: peer.sack ?? true };
  if (peer.noSample) syn.tsEcr = 'none';
  if (peer.win !== undefined) syn.win = peer.win;
  s.inject(syn);
  if (init.batchAcks) s.endBatch(); // the ACK waits for the batch's end (data written meanwhile would carry it)
  s.expect({ flags: 'A', seq: 1, ack: 1 });
  return s;
}

/** Passive open: listen, SYN in, SYN-ACK out, ACK in (at `rtt`). */
export function passiveOpen(init: ScriptInit = {}, peer: PeerInit = {}): Script {
  const s = script(peer.win !== undefined ? { peerWin: peer.win, ...init } : init);
  s.listen().inject({ flags: 'S', seq: 0, mss: peer.mss ?? 1000, sackPermitted: peer.sack ?? true });
  s.expect({ flags: 'SA', seq: 0, ack: 1 });
  s.at(s.now + (peer.rtt ?? 10));
  const ack: SegSpec = { flags: 'A', seq: 1, ack: 1 };
  if (peer.win !== undefined) ack.win = peer.win;
  if (peer.noSample) ack.tsEcr = 'none';
  s.inject(ack);
  return s;
}
