// Generators for the property tests and the soak. A Scenario is plain JSON
// (printable, replayable): fault schedule, per-side app scripts, connection
// options, forged datagrams. harness.ts plays one on the simulator.

import { DEFAULT_OPTIONS } from '../../src/protocol/options.js';
import { DEFAULT_RTO } from '../../src/protocol/recovery/rtt.js';
import fc from 'fast-check';
import type { LinkOptions } from '../../src/sim/index.js';
import type { ConnectionOptions } from '../../src/protocol/options.js';
import { ACK, FIN, RST, SYN } from '../../src/wire/segment.js';

// ------------------------------------------------------------------ scenario types

export type LinkSpec = Omit<LinkOptions, 'blackhole'>;
/** up = client → server, down = server → client. */
export type Dir = 'up' | 'down' | 'both';
export type Episode = { kind: 'blackhole'; at: number; duration: number; dir: Dir } | { kind: 'link'; at: number; dir: Dir; link: LinkSpec };
export interface Faults {
  up: LinkSpec;
  down: LinkSpec;
  episodes: Episode[];
  /** From this time on every link drops everything (total loss). */
  blackholeForeverAt?: number;
  /** Blackhole a host's outgoing link for this long when one of its connections enters TIME_WAIT (forces FIN retransmission). */
  twBlackhole?: number;
}

export type AppOp =
  | { op: 'write'; after: number; size: number }
  /** Stop calling read() for `ms`, so the receive window closes. */
  | { op: 'stall'; after: number; ms: number }
  | { op: 'end'; after: number }
  | { op: 'destroy'; after: number };
export interface Script {
  ops: AppOp[];
  /** Largest read() (0 = everything available). */
  readChunk: number;
}
export interface PairSpec {
  client: Script;
  server: Script;
  /** Which client host opens this connection. */
  host: number;
}

/**
 * A forged datagram, made concrete from the live state at `at` and only aimed at a synchronized
 * connection. The attacker may know the ids and use the victim's SND.UNA/SND.NXT or its peer's
 * RCV.NXT for the ACK field, but either an id is wrong or the sequence number lies outside the
 * receive window (RFC 9293 §3.10.7.4; RFC 5961 covers in-window guesses).
 */
export interface Injection {
  at: number;
  pair: number;
  target: 'client' | 'server';
  from: 'peer' | 'other';
  /** right: both ids right (then the sequence number is out of window); wrong-dst / wrong-src / zero-dst. */
  ids: 'right' | 'wrong-dst' | 'wrong-src' | 'zero-dst';
  flags: number;
  seq: 'below' | 'above' | 'irs' | 'exact' | 'random';
  seqOff: number;
  ack: 'una' | 'nxt' | 'inflight' | 'peer-rcv' | 'random';
  ackOff: number;
  payload: number;
  ts: 'recent' | 'random';
  rnd: number;
}

/** The JSON-able subset of ConnectionOptions a scenario sets. */
export type ConnSpec = Pick<
  ConnectionOptions,
  'mss' | 'sndBuf' | 'rcvBuf' | 'maxSndBuf' | 'maxRcvBuf' | 'msl' | 'rto' | 'synRetries' | 'maxRetries' | 'delayedAck' | 'noDelay' | 'sack' | 'keepAlive'
> &
  Partial<Pick<ConnectionOptions, 'maxMss'>>;

export interface Scenario {
  seed: number;
  open: 'listen' | 'simultaneous';
  clientHosts: number;
  pairs: PairSpec[];
  conn: ConnSpec;
  faults: Faults;
  /** Forced initial sequence numbers (e.g. near 2^32) for the client and server endpoints. */
  iss?: { client: number; server: number };
  injections: Injection[];
}

// ------------------------------------------------------------------ generators

export interface GenOptions {
  maxPairs?: number;
  maxClientHosts?: number;
  /** Bytes per direction per connection at most. */
  maxBytes?: number;
  maxOps?: number;
  maxLoss?: number;
  corrupt?: boolean;
  episodes?: boolean;
  destroy?: boolean;
  /** Probability-ish weight that a side never calls end(); 0 = always ends. */
  noEnd?: boolean;
  simultaneous?: boolean;
  wrapIss?: boolean;
  injections?: boolean;
  blackholeForever?: boolean;
  twBlackhole?: boolean;
  /** Blackholes of 10-70 s mid-transfer, with the default RTO bounds and retry budget (issue 14 §4). */
  outages?: boolean;
  /** One direction loses 30-50 % of datagrams. */
  oneWayLoss?: boolean;
  /** Readers that stall for up to 70 s (a closed window for longer than any fixed timeout). */
  longStalls?: boolean;
  /**
   * Path MTU probing (RFC 8899): `maxMss` up to 9000 over links whose MTU (1300 to 64 KiB, changed
   * by episodes) drops the larger probes; base MSS ≤ 1200, so every link carries it.
   */
  pmtu?: boolean;
}

const pct = (max: number) => fc.integer({ min: 0, max: Math.round(max * 100) }).map((x) => x / 100);

export function linkArb(o: GenOptions = {}): fc.Arbitrary<LinkSpec> {
  return fc
    .record({
      loss: pct(o.maxLoss ?? 0.3),
      duplicate: pct(0.1),
      reorder: pct(0.3),
      reorderDelay: fc.integer({ min: 0, max: 40 }),
      delay: fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 40 })).map(([a, b]): [number, number] => [a, a + b]),
      corrupt: o.corrupt ? pct(0.05) : fc.constant(0),
      // Large enough for the biggest segment (mss ≤ 1400, header and options < 100 bytes); with
      // pmtu, for the base MSS only (≤ 1200).
      mtu: o.pmtu ? fc.constantFrom(65507, 9000, 1500, 1300) : fc.constantFrom(65507, 1500, 1500),
      bandwidth: fc.oneof(fc.constant(0), fc.integer({ min: 20_000, max: 2_000_000 })),
      queueBytes: fc.oneof(fc.constant(0), fc.integer({ min: 8_000, max: 100_000 })),
    })
    .map((l) => (l.bandwidth > 0 && l.queueBytes > l.bandwidth ? { ...l, queueBytes: Math.max(8_000, l.bandwidth) } : l)); // ≤ ~1 s of queue
}

const dirArb = fc.constantFrom<Dir>('up', 'down', 'both');

export function faultsArb(o: GenOptions = {}): fc.Arbitrary<Faults> {
  const episode: fc.Arbitrary<Episode> = fc.oneof(
    fc.record({
      kind: fc.constant('blackhole' as const),
      at: fc.integer({ min: 0, max: 4000 }),
      duration: o.outages ? fc.integer({ min: 10_000, max: 70_000 }) : fc.integer({ min: 50, max: 3000 }),
      dir: dirArb,
    }),
    fc.record({ kind: fc.constant('link' as const), at: fc.integer({ min: 0, max: 4000 }), dir: dirArb, link: linkArb(o) }),
  );
  const lossy = o.oneWayLoss ? linkArb(o).chain((l) => pct(0.2).map((x) => ({ ...l, loss: 0.3 + x }))) : linkArb(o);
  return fc.record({
    up: o.oneWayLoss ? fc.boolean().chain((upLossy) => (upLossy ? lossy : linkArb(o))) : linkArb(o),
    down: linkArb(o),
    episodes: o.episodes === false ? fc.constant([] as Episode[]) : fc.array(episode, { maxLength: 3 }),
    ...(o.blackholeForever ? { blackholeForeverAt: fc.integer({ min: 0, max: 3000 }) } : {}),
    ...(o.twBlackhole ? { twBlackhole: fc.integer({ min: 300, max: 3000 }) } : {}),
  });
}

export function connSpecArb(o: GenOptions = {}): fc.Arbitrary<ConnSpec> {
  const spec = fc
    .record({
      mss: o.pmtu
        ? fc.oneof(fc.constantFrom(536, 1200), fc.integer({ min: 100, max: 1200 }))
        : fc.oneof(fc.constantFrom(536, 1200), fc.integer({ min: 100, max: 1400 })),
      sndBuf: fc.integer({ min: 2048, max: 65536 }),
      rcvBuf: fc.integer({ min: 2048, max: 65536 }),
      // Buffer growth: a ceiling below the buffer (about a third of runs) turns it off.
      maxSndBuf: fc.integer({ min: 0, max: 196_608 }),
      maxRcvBuf: fc.integer({ min: 0, max: 196_608 }),
      msl: fc.integer({ min: 0, max: 1000 }),
      rto: fc.record({
        rtoMin: fc.integer({ min: 50, max: 300 }),
        rtoMax: fc.integer({ min: 1000, max: 3000 }),
        rtoInitial: fc.integer({ min: 200, max: 1000 }),
        granularity: fc.constant(1),
      }),
      // Retry budgets large enough that ≤ 30% loss practically never exhausts them (0.51^26 ≈ 3e-8 per stalled segment).
      synRetries: fc.constant(25),
      maxRetries: fc.constant(25),
      delayedAck: fc.integer({ min: 0, max: 200 }),
      noDelay: fc.boolean(),
      sack: fc.boolean(),
      // Off, so a schedule whose connections stay open goes quiet (the harness runs until nothing is
      // left to happen); the outage profile turns it on, as the default is (test/lifecycle covers it).
      keepAlive: fc.constant(false),
    })
    .map((c) => ({ ...c, msl: 10 * c.rto.rtoMax + c.msl })); // 2·MSL outlasts ~20 FIN retransmissions by the peer (RFC 9293 §3.6.1)
  if (!o.pmtu) return spec;
  const ceiling = fc.oneof(fc.constantFrom(1420, 9000), fc.integer({ min: 1200, max: 9000 }));
  return spec.chain((c) => ceiling.map((maxMss): ConnSpec => ({ ...c, maxMss: Math.max(c.mss, maxMss) })));
}

/** One side's script: writes (0 bytes, small, larger than the send buffer), read stalls, then maybe end/destroy. */
export function scriptArb(o: GenOptions = {}): fc.Arbitrary<Script> {
  const maxBytes = o.maxBytes ?? 48 * 1024;
  const write = fc.record({
    op: fc.constant('write' as const),
    after: fc.integer({ min: 0, max: 300 }),
    size: fc.oneof(
      { weight: 1, arbitrary: fc.constant(0) },
      { weight: 3, arbitrary: fc.integer({ min: 1, max: 1500 }) },
      { weight: 3, arbitrary: fc.integer({ min: 1, max: maxBytes }) },
    ),
  });
  const stall = fc.record({
    op: fc.constant('stall' as const),
    after: fc.integer({ min: 0, max: 300 }),
    ms: fc.integer({ min: 50, max: o.longStalls ? 70_000 : 3000 }),
  });
  const ops = fc.array(fc.oneof({ weight: 4, arbitrary: write }, { weight: 1, arbitrary: stall }), { maxLength: o.maxOps ?? 6 });
  const tail = fc.record({
    end: o.noEnd ? fc.boolean() : fc.constant(true),
    endAt: fc.nat(),
    destroy: o.destroy ? fc.boolean() : fc.constant(false),
    destroyAt: fc.nat(),
    after: fc.integer({ min: 0, max: 300 }),
  });
  return fc.record({ ops, tail, readChunk: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3000 })) }).map(({ ops, tail, readChunk }) => {
    // Keep the total under maxBytes.
    let total = 0;
    const out: AppOp[] = [];
    for (const op of ops) {
      if (op.op === 'write') {
        const size = Math.min(op.size, maxBytes - total);
        total += size;
        out.push({ ...op, size });
      } else out.push(op);
    }
    // end() at a random point (later writes are never made), destroy() at a random point.
    if (tail.end) out.splice(tail.endAt % (out.length + 1), 0, { op: 'end', after: tail.after });
    if (tail.destroy) out.splice(tail.destroyAt % (out.length + 1), 0, { op: 'destroy', after: tail.after });
    return { ops: out, readChunk };
  });
}

export function injectionArb(maxPairs: number): fc.Arbitrary<Injection> {
  return fc.record({
    at: fc.integer({ min: 0, max: 5000 }),
    pair: fc.nat(maxPairs - 1),
    target: fc.constantFrom<'client' | 'server'>('client', 'server'),
    from: fc.constantFrom<'peer' | 'other'>('peer', 'peer', 'other'),
    ids: fc.constantFrom<Injection['ids']>('right', 'right', 'wrong-dst', 'wrong-src', 'zero-dst'),
    flags: fc.constantFrom(RST, RST | ACK, SYN, SYN | ACK, ACK, ACK | FIN),
    seq: fc.constantFrom<Injection['seq']>('below', 'above', 'irs', 'exact', 'random'),
    seqOff: fc.oneof(fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: 2 ** 30 })),
    ack: fc.constantFrom<Injection['ack']>('una', 'nxt', 'inflight', 'peer-rcv', 'random'),
    ackOff: fc.integer({ min: -3, max: 3 }),
    payload: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 200 })),
    ts: fc.constantFrom<'recent' | 'random'>('recent', 'random'),
    rnd: fc.nat(),
  });
}

export function scenarioArb(o: GenOptions = {}): fc.Arbitrary<Scenario> {
  const maxPairs = o.maxPairs ?? 1;
  return fc
    .record({
      seed: fc.integer({ min: 1, max: 0x7fffffff }),
      simultaneous: o.simultaneous ? fc.boolean() : fc.constant(false),
      clientHosts: fc.integer({ min: 1, max: o.maxClientHosts ?? 1 }),
      pairs: fc.array(fc.record({ client: scriptArb(o), server: scriptArb(o), host: fc.nat() }), { minLength: 1, maxLength: maxPairs }),
      // Long outages with the default RTO bounds and retry budget: what a user gets.
      // TIME_WAIT outlasts outages plus backed-off RTOs under loss, or the last FIN's ACK may find no record left.
      conn: o.outages
        ? connSpecArb(o).map((c) => ({ ...c, rto: { ...DEFAULT_RTO }, maxRetries: DEFAULT_OPTIONS.maxRetries, keepAlive: true, msl: 300_000 }))
        : connSpecArb(o),
      faults: faultsArb(o),
      iss: o.wrapIss
        ? fc.record({ client: fc.integer({ min: 2 ** 32 - 70_000, max: 2 ** 32 - 1 }), server: fc.integer({ min: 2 ** 32 - 70_000, max: 2 ** 32 - 1 }) })
        : fc.constant(undefined),
      injections: o.injections ? fc.array(injectionArb(maxPairs), { minLength: 1, maxLength: 12 }) : fc.constant([] as Injection[]),
    })
    .map((r) => {
      const sc: Scenario = {
        seed: r.seed,
        open: r.simultaneous ? 'simultaneous' : 'listen',
        clientHosts: r.clientHosts,
        pairs: (r.simultaneous ? r.pairs.slice(0, 1) : r.pairs).map((p) => ({ ...p, host: p.host % r.clientHosts })),
        conn: r.conn,
        faults: r.faults,
        injections: r.injections.filter((i) => i.pair < r.pairs.length),
      };
      if (r.iss) sc.iss = r.iss;
      return sc;
    });
}

/** numRuns for a property, scaled like the global default by FC_RUNS_SCALE (test/setup.ts). */
export function runs(n: number): number {
  return Math.max(1, Math.round(n * Number(process.env.FC_RUNS_SCALE ?? 1)));
}

/** Whether any link in the scenario loses, duplicates or reorders (so a pass says something). */
export function lossy(sc: Scenario): boolean {
  const l = [sc.faults.up, sc.faults.down, ...sc.faults.episodes.flatMap((e) => (e.kind === 'link' ? [e.link] : []))];
  return l.some((x) => x.loss > 0) || sc.faults.episodes.some((e) => e.kind === 'blackhole');
}
