// The fuzzer: random and mutated datagrams (bit flips, truncation, extension,
// option reordering and duplication, field tweaks, splices of captured real
// traffic) fed to `decode` and to a zoo endpoint with connections in every
// state. After every input: nothing threw, tables are within their bounds, no
// connection took an edge outside RFC 9293's diagram. After every zoo: the
// monitored connection's echo is complete and byte-exact.
// Shared by test/fuzz/fuzz.test.ts (bounded, CI) and scripts/fuzz.ts (npm run fuzz).

import { Prng } from '../../src/sim/prng.js';
import type { Address } from '../../src/endpoint/types.js';
import { ACK, FIN, HEADER_SIZE, OPT_PATH_CHALLENGE, OPT_PATH_RESPONSE, RST, SYN, VERSION, decode, encode, type Segment } from '../../src/wire/segment.js';
import { seqLe } from '../../src/wire/seq.js';
import { State } from '../../src/protocol/state.js';
import { TARGET_LIMITS, buildZoo, finishMonitor, zooStates, type Captured, type Zoo } from './zoo.js';

export interface FuzzOptions {
  seed: number;
  inputs: number;
  /** Inputs per zoo before it is rebuilt (states wear out under fuzz). */
  zooLife?: number;
  /** Called on a failure; the run goes on with a fresh zoo. */
  onCrash?: (c: Crash) => void;
  onProgress?: (done: number) => void;
}

export interface Crash {
  seed: number;
  zoo: number;
  index: number;
  kind: string;
  message: string;
  input?: Uint8Array;
  from?: Address;
}

export interface FuzzReport {
  inputs: number;
  zoos: number;
  crashes: Crash[];
  /** Inputs fed while each state was present on the target. */
  stateHits: Record<string, number>;
  decodeOk: number;
  maxConnections: number;
  maxTimeWait: number;
  monitoredBytes: number;
}

const MUTATORS = ['flip', 'truncate', 'extend', 'options', 'field', 'splice', 'flags', 'structured', 'random'] as const;
export type Mutator = (typeof MUTATORS)[number];

export class Mutate {
  constructor(private readonly r: Prng) {}

  pick<T>(xs: readonly T[]): T {
    return xs[this.r.int(0, xs.length - 1)]!;
  }

  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.r.u32() & 255;
    return b;
  }

  /** A u32 near `v` or anywhere. */
  tweak(v: number): number {
    switch (this.r.int(0, 5)) {
      case 0:
        return this.r.u32();
      case 1:
        return (v + this.r.int(-3, 3)) >>> 0;
      case 2:
        return (v + this.r.int(-70000, 70000)) >>> 0;
      case 3:
        return (v ^ (1 << this.r.int(0, 31))) >>> 0;
      case 4:
        return this.pick([0, 1, 0x7fffffff, 0x80000000, 0xffffffff]);
      default:
        return (v + 0x80000000) >>> 0;
    }
  }

  apply(kind: Mutator, src: Uint8Array, other: Uint8Array): Uint8Array {
    const r = this.r;
    switch (kind) {
      case 'flip': {
        const b = src.slice();
        if (b.length === 0) return b;
        for (let n = r.int(1, 8); n > 0; n--) b[r.int(0, b.length - 1)]! ^= 1 << r.int(0, 7);
        return b;
      }
      case 'truncate':
        return src.slice(0, r.int(0, src.length));
      case 'extend': {
        const extra = this.bytes(r.int(1, 64));
        const b = new Uint8Array(src.length + extra.length);
        b.set(src);
        b.set(extra, src.length);
        if (b.length >= 4 && r.chance(0.5)) new DataView(b.buffer).setUint16(2, r.int(0, extra.length + 40));
        return b;
      }
      case 'options':
        return this.options(src);
      case 'field': {
        const b = src.slice();
        if (b.length < HEADER_SIZE) return b;
        const dv = new DataView(b.buffer);
        for (let n = r.int(1, 3); n > 0; n--) {
          const off = this.pick([4, 8, 12, 16, 20, 24, 28]);
          dv.setUint32(off, this.tweak(dv.getUint32(off)));
        }
        if (r.chance(0.1)) dv.setUint16(2, r.int(0, 80));
        if (r.chance(0.05)) dv.setUint8(0, r.chance(0.5) ? VERSION : r.int(0, 255));
        return b;
      }
      case 'flags': {
        const b = src.slice();
        if (b.length < 2) return b;
        b[1] = r.chance(0.8) ? this.pick([SYN, SYN | ACK, ACK, ACK | FIN, RST, RST | ACK, ACK | FIN | RST, FIN]) : r.int(0, 255);
        return b;
      }
      case 'splice': {
        const cut = r.int(0, src.length);
        const from = r.int(0, other.length);
        const b = new Uint8Array(cut + other.length - from);
        b.set(src.subarray(0, cut));
        b.set(other.subarray(from), cut);
        return b;
      }
      case 'structured':
        return this.structured(src);
      case 'random':
        return this.bytes(r.chance(0.5) ? r.int(0, 48) : r.int(0, 1500));
    }
  }

  /** Reorder, duplicate, drop or insert option TLVs (kinds 1-5 and unknown), keeping or breaking the length. */
  private options(src: Uint8Array): Uint8Array {
    const r = this.r;
    if (src.length < HEADER_SIZE) return src.slice();
    const dv = new DataView(src.buffer, src.byteOffset, src.length);
    const optLen = Math.min(dv.getUint16(2), src.length - HEADER_SIZE);
    const tlvs: Uint8Array[] = [];
    for (let p = HEADER_SIZE; p + 2 <= HEADER_SIZE + optLen; ) {
      const len = src[p + 1]!;
      tlvs.push(src.slice(p, Math.min(p + 2 + len, HEADER_SIZE + optLen)));
      p += 2 + len;
    }
    for (let n = r.int(1, 3); n > 0; n--) {
      const op = r.int(0, 3);
      if (op === 0 && tlvs.length > 1) tlvs.push(tlvs.splice(r.int(0, tlvs.length - 1), 1)[0]!);
      else if (op === 1 && tlvs.length > 0) tlvs.push(tlvs[r.int(0, tlvs.length - 1)]!);
      else if (op === 2 && tlvs.length > 0) tlvs.splice(r.int(0, tlvs.length - 1), 1);
      else {
        const kind = this.pick([1, 2, 3, OPT_PATH_CHALLENGE, OPT_PATH_RESPONSE, 0, 99, 255]);
        const len = r.chance(0.7) ? this.pick([0, 2, 8, 16, 32, 40]) : r.int(0, 255);
        const t = new Uint8Array(2 + Math.min(len, 64));
        t[0] = kind;
        t[1] = len;
        t.set(this.bytes(t.length - 2), 2);
        tlvs.splice(r.int(0, tlvs.length), 0, t);
      }
    }
    const opts = tlvs.reduce((n, t) => n + t.length, 0);
    const payload = src.subarray(HEADER_SIZE + optLen);
    const b = new Uint8Array(HEADER_SIZE + opts + payload.length);
    b.set(src.subarray(0, HEADER_SIZE));
    let p = HEADER_SIZE;
    for (const t of tlvs) {
      b.set(t, p);
      p += t.length;
    }
    b.set(payload, p);
    new DataView(b.buffer).setUint16(2, r.chance(0.9) ? opts : r.int(0, 0xffff));
    return b;
  }

  /** Decode, change fields the way an attacker would, encode again. */
  private structured(src: Uint8Array): Uint8Array {
    const r = this.r;
    const d = decode(src);
    const s: Segment = d.ok
      ? { ...d.segment }
      : { flags: ACK, dstId: r.u32(), srcId: r.u32(), seq: r.u32(), ack: r.u32(), window: r.u32(), tsVal: r.u32(), tsEcr: r.u32(), payload: new Uint8Array(0) };
    for (let n = r.int(1, 4); n > 0; n--) {
      switch (r.int(0, 9)) {
        case 0:
          s.seq = this.tweak(s.seq);
          break;
        case 1:
          s.ack = this.tweak(s.ack);
          break;
        case 2:
          s.window = this.tweak(s.window);
          break;
        case 3:
          s.tsVal = this.tweak(s.tsVal);
          break;
        case 4:
          s.flags = this.pick([ACK, ACK | FIN, RST, RST | ACK, SYN, SYN | ACK]);
          break;
        case 5:
          s.sack = Array.from({ length: r.int(1, 4) }, () => ({ start: this.tweak(s.ack), end: this.tweak(s.ack) }));
          break;
        case 6:
          s.payload = this.bytes(r.chance(0.8) ? r.int(1, 1400) : r.int(1, 9000));
          break;
        case 7:
          s.pathChallenge = this.bytes(8);
          break;
        case 8:
          s.pathResponse = this.bytes(8);
          break;
        default:
          s.srcId = this.tweak(s.srcId);
      }
    }
    if (s.flags & SYN) {
      s.pathChallenge = s.pathResponse = undefined;
      if (!(s.flags & ACK)) s.dstId = 0;
      if (r.chance(0.5)) s.mss = r.int(0, 0xffff);
      if (r.chance(0.5)) s.sackPermitted = true;
    } else {
      s.mss = undefined;
      s.sackPermitted = undefined;
    }
    if (s.flags & RST) s.payload = new Uint8Array(0);
    return encode(s);
  }
}

/** The invariants checked after every input. Returns a message when one fails. */
export function checkZoo(zoo: Zoo): string | undefined {
  const ep = zoo.target.endpoint;
  if (ep.connectionCount > TARGET_LIMITS.maxConnections) return `connection table ${ep.connectionCount} > ${TARGET_LIMITS.maxConnections}`;
  if (ep.timeWaitCount > TARGET_LIMITS.maxTimeWait) return `TIME_WAIT table ${ep.timeWaitCount} > ${TARGET_LIMITS.maxTimeWait}`;
  for (const c of ep.connections()) {
    if (c.stats.invalidTransitions !== 0) return `connection ${c.localId} took an edge outside Figure 5`;
    if (c.state === State.LISTEN || c.state === State.CLOSED) return `connection ${c.localId} left in the table in ${c.state}`;
    if (!seqLe(c.sndUna, c.sndNxt)) return `connection ${c.localId}: SND.UNA > SND.NXT`;
  }
  if (zoo.monitor.corrupt) return 'monitored connection received wrong bytes';
  if (zoo.monitor.error) return `monitored connection failed: ${zoo.monitor.error}`;
  return undefined;
}

/** Feed one datagram to the zoo's target, as if it arrived from `from`. */
export function feed(zoo: Zoo, data: Uint8Array, from: Address): void {
  zoo.target.transport.onMessage!(data, from);
}

export function runFuzz(o: FuzzOptions): FuzzReport {
  const r = new Prng(o.seed);
  const m = new Mutate(r);
  const life = o.zooLife ?? 2500;
  const report: FuzzReport = { inputs: 0, zoos: 0, crashes: [], stateHits: {}, decodeOk: 0, maxConnections: 0, maxTimeWait: 0, monitoredBytes: 0 };
  const crash = (c: Crash): void => {
    report.crashes.push(c);
    o.onCrash?.(c);
  };
  while (report.inputs < o.inputs) {
    const zooSeed = r.u32();
    const zooIndex = report.zoos++;
    let zoo: Zoo;
    try {
      zoo = buildZoo(zooSeed);
    } catch (e) {
      crash({ seed: o.seed, zoo: zooIndex, index: report.inputs, kind: 'build', message: String((e as Error)?.stack ?? e) });
      continue;
    }
    const pool: Captured[] = zoo.captured;
    const n = Math.min(life, o.inputs - report.inputs);
    let failed = false;
    for (let i = 0; i < n && !failed; i++) {
      const base = m.pick(pool);
      const kind = m.pick(MUTATORS);
      let data = m.apply(kind, base.data, m.pick(pool).data);
      if (r.chance(0.3)) data = m.apply(m.pick(MUTATORS), data, m.pick(pool).data);
      const from = r.chance(0.7)
        ? base.from
        : r.chance(0.7)
          ? m.pick(zoo.addresses)
          : { address: `10.${r.int(0, 255)}.${r.int(0, 255)}.${r.int(1, 254)}`, port: r.int(1, 65535) };
      report.inputs++;
      try {
        if (decode(data).ok) report.decodeOk++;
        feed(zoo, data, from);
        if ((i & 63) === 63) zoo.net.runFor(r.int(0, 100));
        if ((i & 15) === 0) for (const s of zooStates(zoo)) report.stateHits[s] = (report.stateHits[s] ?? 0) + 16;
        const bad = checkZoo(zoo);
        if (bad) throw new Error(bad);
      } catch (e) {
        crash({ seed: o.seed, zoo: zooIndex, index: report.inputs - 1, kind, message: String((e as Error)?.stack ?? e), input: data, from });
        failed = true;
      }
      report.maxConnections = Math.max(report.maxConnections, zoo.target.endpoint.connectionCount);
      report.maxTimeWait = Math.max(report.maxTimeWait, zoo.target.endpoint.timeWaitCount);
      if ((report.inputs & 8191) === 0) o.onProgress?.(report.inputs);
    }
    if (failed) continue;
    try {
      finishMonitor(zoo);
      const bad = checkZoo(zoo) ?? (zoo.monitor.done ? undefined : `monitored echo incomplete: ${zoo.monitor.got}/${zoo.monitor.sent}`);
      if (bad) throw new Error(bad);
      report.monitoredBytes += zoo.monitor.got;
    } catch (e) {
      crash({ seed: o.seed, zoo: zooIndex, index: report.inputs, kind: 'finish', message: String((e as Error)?.stack ?? e) });
    }
  }
  return report;
}
