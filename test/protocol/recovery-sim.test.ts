// Loss recovery and congestion control on the simulator: controller trajectories,
// scripted loss patterns, pacing, path MTU probing, and properties from issue 4.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newReno, type CongestionFactory } from '../../src/protocol/cc/congestion.js';
import { Cubic, cubic } from '../../src/protocol/cc/cubic.js';
import { Pacer } from '../../src/protocol/cc/pacer.js';
import { PmtuSearch } from '../../src/protocol/send/pmtu.js';
import type { ConnectionOptions } from '../../src/protocol/options.js';
import type { LinkOptions, SimNetwork } from '../../src/sim/index.js';
import { decode } from '../../src/wire/segment.js';
import { simTransfer, type SimTransfer } from '../helpers/sim-transfer.js';

const A = { address: '127.0.0.1', port: 1000 };
const B = { address: '127.0.0.2', port: 2000 };
const MSS = 1200;

interface Run extends SimTransfer {
  /** [virtual time, cwnd] at each datagram the client sent. */
  cwnd: Array<[number, number]>;
  /** Sizes of the datagrams the client sent, by send index. */
  sent: Array<{ t: number; size: number }>;
}

/** A bulk transfer A → B; `drop(i)` drops the client's i-th datagram (a scripted loss pattern). */
function transfer(
  size: number,
  opts: {
    link?: Partial<LinkOptions>;
    conn?: Partial<ConnectionOptions>;
    drop?: (i: number, data: Uint8Array) => boolean;
    seed?: number;
    until?: number;
    onStart?: (net: SimNetwork) => void;
  },
): Run {
  const cwnd: Run['cwnd'] = [];
  const sent: Run['sent'] = [];
  const r = simTransfer(size, {
    link: opts.link,
    // Controller state is read after the transfer: idle keepalive probes would move it (restart after idle, ProbeRTT).
    conn: { keepAlive: false, ...opts.conn },
    seed: opts.seed,
    until: opts.until,
    from: A,
    to: B,
    onStart: opts.onStart,
    onSend: (d, i, net, client) => {
      sent.push({ t: net.now, size: d.length });
      if (client) cwnd.push([net.now, client.cwnd]);
      return opts.drop?.(i, d);
    },
  });
  return { ...r, cwnd, sent };
}

describe('CUBIC (RFC 9438)', () => {
  it('RFC 9438 §4.6: a loss multiplies cwnd by β = 0.7; an RTO leaves one segment', () => {
    const c = new Cubic(MSS);
    c.onAck(0, 0, 10); // nothing
    (c as unknown as { cwnd: number }).cwnd = 100 * MSS;
    c.onLoss();
    expect(c.cwnd).toBeCloseTo(70 * MSS, 6);
    expect(c.ssthresh).toBeCloseTo(70 * MSS, 6);
    c.onRto();
    expect(c.cwnd).toBe(MSS);
  });

  /** One ACK per segment, a window per RTT, from t = 0; cwnd in segments after each RTT. */
  function trajectory(c: Cubic, rtt: number, until: number): Array<[number, number]> {
    const samples: Array<[number, number]> = [];
    for (let t = 0; t <= until; t += rtt) {
      const segs = Math.floor(c.cwnd / MSS);
      for (let k = 0; k < segs; k++) c.onAck(MSS, t, rtt);
      samples.push([t, c.cwnd / MSS]);
    }
    return samples;
  }

  it('RFC 9438 §4.2: after a loss the window grows concave up to W_max near t = K, then convex', () => {
    const c = new Cubic(MSS);
    (c as unknown as { cwnd: number }).cwnd = 1000 * MSS;
    c.onLoss(); // W_max = 1000 segments, cwnd = 700
    const rtt = 100; // long enough that the cubic curve, not the Reno-friendly estimate, leads
    const K = Math.cbrt((1000 * (1 - 0.7)) / 0.4) * 1000; // ms
    const samples = trajectory(c, rtt, 2 * K + rtt);
    const at = (t: number) => samples.find(([x]) => x >= t)![1];
    expect(at(K)).toBeGreaterThan(980);
    expect(at(K)).toBeLessThan(1030);
    const growth = (t0: number, t1: number) => at(t1) - at(t0);
    // Concave: growth slows approaching K; convex: it speeds up after.
    expect(growth(0, K / 4)).toBeGreaterThan(growth((3 * K) / 4, K));
    expect(growth(K + K / 2, 2 * K)).toBeGreaterThan(growth(K, K + K / 4));
  });

  it('RFC 9438 §4.3: at short RTTs the Reno-friendly estimate leads (α = 3(1-β)/(1+β) segments per RTT, 1 once past the last congestion window)', () => {
    const c = new Cubic(MSS);
    (c as unknown as { cwnd: number }).cwnd = 100 * MSS;
    c.onLoss(); // W_max = cwnd_prior = 100, cwnd 70
    const samples = trajectory(c, 20, 2000); // 100 RTTs of 20 ms
    const slope = (from: number, to: number): number => (samples[to]![1] - samples[from]![1]) / (to - from);
    expect(slope(0, 40)).toBeCloseTo((3 * 0.3) / 1.7, 1); // 70 → ~91 segments
    const past = samples.findIndex(([, w]) => w >= 101);
    expect(past).toBeGreaterThan(40);
    expect(slope(past, samples.length - 1)).toBeCloseTo(1, 1);
  });

  it('RFC 9438 §4.7: fast convergence lowers W_max when losses come at a smaller window', () => {
    const c = new Cubic(MSS);
    (c as unknown as { cwnd: number }).cwnd = 100 * MSS;
    c.onLoss(); // W_max 100, cwnd 70
    c.onLoss(); // at 70 < 100: W_max = 70·(1+β)/2 = 59.5, cwnd = 49
    expect(c.cwnd / MSS).toBeCloseTo(49, 6);
    // The plateau it now climbs to is the lowered W_max, not 70.
    expect(c.wMax).toBeCloseTo(59.5, 6);
  });
});

describe('controllers under a scripted loss pattern (simulator, 20 ms RTT)', () => {
  // Datagrams 300 and 600 of the client are dropped: two isolated losses.
  const pattern = (i: number) => i === 300 || i === 600;

  for (const [name, factory, beta] of [
    ['newreno', newReno, 0.5],
    ['cubic', cubic, 0.7],
  ] as Array<[string, CongestionFactory, number]>) {
    it(`${name}: each isolated loss is repaired by fast retransmit and cuts cwnd by ${beta}`, () => {
      const r = transfer(4 << 20, { conn: { congestion: factory, pacing: false }, drop: pattern });
      expect(r.received).toBe(4 << 20);
      expect(r.client.stats.rtoTimeouts).toBe(0);
      expect(r.client.stats.fastRetransmits).toBe(2);
      // Find the reductions in the cwnd trajectory.
      const cuts: number[] = [];
      for (let k = 1; k < r.cwnd.length; k++) {
        const prev = r.cwnd[k - 1]![1];
        const cur = r.cwnd[k]![1];
        if (cur < prev) cuts.push(cur / prev);
      }
      expect(cuts.length).toBe(2);
      for (const f of cuts) expect(f).toBeCloseTo(beta, 1);
    });
  }

  /** 1 MiB where every datagram sent in [60 ms, 600 ms) is lost (the tail and the loss probes too, so only the RTO recovers); the least cwnd after the first loss. */
  const blackout = (conn: Partial<ConnectionOptions>) => {
    let firstLoss = -1;
    let rNet: SimNetwork | undefined;
    const r = transfer(1 << 20, {
      conn: { pacing: false, ...conn },
      drop: () => {
        const t = rNet!.now;
        if (t >= 60 && t < 600) {
          if (firstLoss < 0) firstLoss = t;
          return true;
        }
        return false;
      },
      onStart: (net) => (rNet = net),
    });
    expect(r.received).toBe(1 << 20);
    expect(firstLoss).toBeGreaterThan(0);
    expect(r.client.stats.rtoTimeouts).toBeGreaterThanOrEqual(1);
    return Math.min(...r.cwnd.filter(([t]) => t > firstLoss).map(([, w]) => w));
  };

  it('RFC 5681 §3.1: cwnd after an RTO is one segment (a whole window lost; CUBIC, the RFC controller)', () => {
    expect(blackout({ congestion: 'cubic' })).toBe(MSS);
  });

  it('the default cubic-lt, with no queue before the blackout: 4 segments after the RTO, not 1, and the transfer completes', () => {
    expect(blackout({})).toBe(4 * MSS);
  });
});

describe('RACK-TLP (RFC 8985)', () => {
  it('RFC 8985 §6: a lost retransmission is detected by time, without waiting for the RTO', () => {
    let victim = -1;
    let copies = 0;
    const r = transfer(2 << 20, {
      conn: { pacing: false },
      // Drop the 300th datagram and the first retransmission of the same segment.
      drop: (i, data) => {
        const d = decode(data);
        if (!d.ok || d.segment.payload.length === 0) return false;
        if (i === 300) victim = d.segment.seq;
        if (d.segment.seq !== victim) return false;
        return ++copies <= 2;
      },
    });
    expect(copies).toBeGreaterThanOrEqual(3); // original, lost retransmission, the one that got through
    expect(r.received).toBe(2 << 20);
    expect(r.client.stats.rtoTimeouts).toBe(0);
  });

  it('RFC 8985 §7: a lost tail segment is repaired by a probe, not the RTO', () => {
    const size = 100 * 1200;
    let total = 0;
    const r = transfer(size, {
      conn: { pacing: false },
      // Drop the last data segment of the transfer (the tail).
      drop: (_i, data) => {
        const d = decode(data);
        if (!d.ok || d.segment.payload.length === 0) return false;
        const end = d.segment.payload.length + total;
        const last = end >= size && total < size;
        total = end;
        return last && d.segment.payload.length > 0 && total - d.segment.payload.length < size;
      },
    });
    expect(r.received).toBe(size);
    expect(r.client.stats.tailLossProbes).toBeGreaterThanOrEqual(1);
    expect(r.client.stats.rtoTimeouts).toBe(0);
  });
});

describe('pacing', () => {
  /** Largest number of datagrams the client sent at one virtual instant. */
  function maxBurst(r: Run): number {
    let best = 0;
    let run = 0;
    for (let k = 0; k < r.sent.length; k++) {
      run = k > 0 && r.sent[k]!.t === r.sent[k - 1]!.t ? run + 1 : 1;
      best = Math.max(best, run);
    }
    return best;
  }

  it('paced sending spreads a window over the RTT instead of sending it in one burst', () => {
    const link = { delay: [20, 20] as [number, number] };
    const paced = transfer(4 << 20, { link, conn: { pacing: true } });
    const unpaced = transfer(4 << 20, { link, conn: { pacing: false } });
    expect(paced.received).toBe(4 << 20);
    expect(unpaced.received).toBe(4 << 20);
    expect(maxBurst(unpaced)).toBeGreaterThan(50);
    // The bucket holds ten segments or 2 ms of the pacing rate, whichever is more.
    expect(maxBurst(paced)).toBeLessThan(maxBurst(unpaced) / 2);
  });
});

describe('pacer', () => {
  it('a wait shorter than the timer granularity is not taken: the segment goes and the debt slows the next', () => {
    const p = new Pacer(MSS);
    const rate = 100; // bytes per ms
    expect(p.take(0, 1200, rate)).toBe(0); // full bucket
    // Empty bucket, 50 bytes short at 100 B/ms: 0.5 ms < 1 ms granularity: send now.
    const q = new Pacer(MSS);
    for (let i = 0; i < 10; i++) q.take(0, 1200, rate);
    expect(q.take(11.5, 1200, rate)).toBe(11.5); // 1150 refilled, 50 short → 0.5 ms: now
    // Now in debt by 50 bytes: the next full segment must wait (1250 / 100 = 12.5 ms).
    expect(q.take(11.5, 1200, rate)).toBeCloseTo(11.5 + 12.5, 6);
  });
});

describe('path MTU probing (RFC 8899)', () => {
  const conn = { maxMss: 9000 };

  it('off by default: every datagram fits the 1200-byte base payload', () => {
    const r = transfer(1 << 20, { link: { delay: [5, 5] } });
    expect(Math.max(...r.sent.map((s) => s.size))).toBeLessThanOrEqual(1200 + 32 + 34);
    expect(r.client.mss).toBe(1200);
  });

  it('searches up to the path MTU, keeping room for SACK options', () => {
    const r = transfer(4 << 20, { link: { delay: [5, 5], mtu: 1500 }, conn });
    expect(r.received).toBe(4 << 20);
    expect(r.client.mss).toBeGreaterThan(1350);
    expect(r.client.mss + 32 + 34).toBeLessThanOrEqual(1500);
  });

  it('reaches the ceiling exactly where the path carries it: after the bisection, the ceiling itself is probed', () => {
    const r = transfer(4 << 20, { link: { delay: [5, 5], mtu: 9100 }, conn });
    expect(r.received).toBe(4 << 20);
    expect(r.client.mss).toBe(9000 - 34); // the ceiling, less room for SACK options
  });

  it('RFC 8899 §4.1: a lost probe is resent smaller with no congestion response, with SACK or without', () => {
    for (const congestion of [cubic, newReno]) {
      for (const sack of [true, false]) {
        const plain = transfer(4 << 20, { link: { delay: [10, 10], mtu: 1500 }, conn: { congestion, sack } });
        const r = transfer(4 << 20, { link: { delay: [10, 10], mtu: 1500 }, conn: { ...conn, congestion, sack } });
        expect(r.received).toBe(4 << 20);
        expect(r.client.mss).toBeGreaterThan(1350); // it searched, and probes were lost on the way
        expect(r.client.stats.retransmittedSegments).toBeGreaterThan(0);
        expect(r.client.stats.fastRetransmits).toBe(0); // no recovery, so no window cut
        expect(r.client.stats.rtoTimeouts).toBe(0);
        // Each lost probe holds up delivery about a round trip; they cost no window (once 7x as long).
        expect(r.doneAt).toBeLessThan(2.5 * plain.doneAt);
      }
    }
  });

  it('RFC 8899 §5.3: the search brackets the path limit to 32 bytes and tries the ceiling at most once', () => {
    const drive = (limit: number): { probes: number[]; lo: number } => {
      const p = new PmtuSearch(1200, 9000);
      const probes: number[] = [];
      for (let n = p.nextProbe(); n !== undefined; n = p.nextProbe()) {
        probes.push(n);
        p.probing = n;
        if (n <= limit) p.onProbeAcked(n);
        else p.onProbeLost(n);
      }
      return { probes, lo: p.lo };
    };
    const through = drive(65_000); // the path carries everything
    expect(through.lo).toBe(9000);
    expect(through.probes.at(-1)).toBe(9000);
    expect(through.probes.filter((n) => n === 9000)).toHaveLength(1);
    for (const limit of [1210, 1500, 4000, 8990]) {
      const { probes, lo } = drive(limit);
      expect(lo).toBeLessThanOrEqual(limit);
      expect(limit - lo).toBeLessThan(32);
      expect(probes.filter((n) => n === 9000).length).toBeLessThanOrEqual(1);
    }
  });

  it('RFC 8899 §4.3: falls back to the base size when the path MTU shrinks mid-transfer', () => {
    const r = transfer(16 << 20, {
      link: { delay: [5, 5], mtu: 9100 },
      conn,
      onStart: (net) => net.at(80, () => net.setLinkBoth(A.address, B.address, { mtu: 1300 })),
    });
    expect(r.received).toBe(16 << 20);
    expect(r.doneAt).toBeGreaterThan(120);
    expect(Math.max(...r.sent.filter((d) => d.t < 80).map((d) => d.size))).toBeGreaterThan(5000); // it had probed up
    expect(r.client.mss + 32).toBeLessThanOrEqual(1300);
    expect(r.client.stats.rtoTimeouts).toBeLessThanOrEqual(3);
  });
});

describe('properties (issue 4)', () => {
  it('no spurious retransmission on a lossless, non-reordering link', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 600_000 }),
        fc.integer({ min: 1, max: 60 }),
        fc.constantFrom(newReno, cubic),
        fc.boolean(),
        (size, delay, congestion, pacing) => {
          const r = transfer(size, { link: { delay: [delay, delay] }, conn: { congestion, pacing } });
          expect(r.received).toBe(size);
          expect(r.client.stats.retransmittedSegments).toBe(0);
        },
      ),
      { numRuns: 30 },
    );
  });
});
