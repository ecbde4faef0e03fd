// BBR (src/protocol/bbr.ts) on the simulator: it finds the bottleneck rate without filling the
// queue, shrugs off random loss, collapses to one segment on an RTO, re-measures min_rtt with
// ProbeRTT, and paces at its own pacing rate.
import { describe, expect, it } from 'vitest';
import { Bbr, bbr } from '../../src/protocol/cc/bbr.js';
import type { CongestionController, CongestionFactory } from '../../src/protocol/cc/congestion.js';
import type { Connection } from '../../src/protocol/connection.js';
import { cubic } from '../../src/protocol/cc/cubic.js';
import type { ConnectionOptions } from '../../src/protocol/options.js';
import type { LinkOptions, SimNetwork } from '../../src/sim/index.js';
import { decode } from '../../src/wire/segment.js';
import { sample } from '../helpers/rate-sample.js';
import { simTransfer, type SimTransfer } from '../helpers/sim-transfer.js';

const A = { address: '10.0.0.1', port: 1000 };
const B = { address: '10.0.0.2', port: 2000 };
const MSS = 1200; // the default: no path MTU probing

interface Send {
  t: number;
  /** Datagram bytes. */
  size: number;
  /** Payload bytes (0: a pure ACK). */
  payload: number;
  cwnd: number;
  pacingRate: number | undefined;
  mode: string | undefined;
  /** The client's latest RTT sample at this moment. */
  rtt: number;
}

interface Run extends SimTransfer {
  sends: Send[];
}

interface TransferOpts {
  link: Partial<LinkOptions>;
  conn: Partial<ConnectionOptions>;
  seed?: number;
  until?: number;
  /** Drop the client's datagram (after it is recorded). */
  drop?: (t: number) => boolean;
  onStart?: (net: SimNetwork) => void;
}

/** A bulk transfer A → B of `size` bytes (Infinity: keep the send buffer full until `until`). */
function transfer(size: number, o: TransferOpts): Run {
  const sends: Send[] = [];
  const r = simTransfer(size, {
    link: o.link,
    // Controller state is read after the transfer: idle keepalive probes would move it (restart after idle, ProbeRTT).
    conn: { keepAlive: false, ...o.conn },
    seed: o.seed,
    until: o.until,
    from: A,
    to: B,
    onStart: o.onStart,
    onSend: (d, _i, net, c) => {
      if (c) {
        const seg = decode(d);
        const cc = c.cc as CongestionController & { modeName?: string };
        sends.push({
          t: net.now,
          size: d.length,
          payload: seg.ok ? seg.segment.payload.length : 0,
          cwnd: c.cwnd,
          pacingRate: cc.pacingRate,
          mode: cc.modeName,
          rtt: c.rtt.latest,
        });
      }
      return o.drop?.(net.now);
    },
  });
  return { ...r, sends };
}

const bbrOf = (c: Connection): Bbr => {
  expect(c.cc).toBeInstanceOf(Bbr);
  return c.cc as Bbr;
};

const median = (xs: number[]): number => {
  const s = [...xs].sort((x, y) => x - y);
  return s[s.length >> 1]!;
};

/** Bytes per ms of payload the link carries in full-sized data segments. */
const payloadRate = (bandwidth: number, run: Run): number => (bandwidth / 1000) * (MSS / Math.max(...run.sends.map((s) => s.size)));

// 10 MB/s, 10 ms round trip: a BDP of 100 kB, and a 400 kB queue (4 BDP) that a loss-based
// controller fills before it sees a loss.
const LINK: Partial<LinkOptions> = { bandwidth: 10e6, delay: [5, 5], queueBytes: 400_000 };

describe('BBR on a bandwidth-limited link with a deep queue', () => {
  const size = 8 << 20;
  // Run once, on first use, for the tests below.
  let runs: { b: Run; c: Run } | undefined;
  const get = () => (runs ??= { b: transfer(size, { link: LINK, conn: { congestion: bbr } }), c: transfer(size, { link: LINK, conn: { congestion: cubic } }) });

  it('draft §4.3.2: leaves Startup once the bandwidth stops growing (filledPipe), through Drain into ProbeBW', () => {
    const { b } = get();
    expect(b.received).toBe(size);
    const cc = bbrOf(b.client);
    expect(cc.filledPipe).toBe(true);
    expect(cc.modeName).toBe('probe-bw');
    // In order: startup, drain, probe-bw, each entered once.
    const modes = b.sends.map((s) => s.mode).filter((m, i, all) => i === 0 || m !== all[i - 1]);
    expect(modes).toEqual(['startup', 'drain', 'probe-bw']);
    // btlBw estimates the bottleneck (payload rate, within 5 %).
    const rate = payloadRate(10e6, b);
    expect(cc.btlBw).toBeGreaterThan(0.95 * rate);
    expect(cc.btlBw).toBeLessThan(1.05 * rate);
  });

  it('draft §4: gets at least 85 % of the link rate', () => {
    const { b } = get();
    expect(b.received / b.doneAt).toBeGreaterThanOrEqual(0.85 * payloadRate(10e6, b));
  });

  it('draft §4: keeps the queue small: no queue drops (CUBIC overflows it) and RTTs in ProbeBW near min_rtt (CUBIC 2.5 times it or more)', () => {
    const { b, c } = get();
    expect(b.net.stats.queueDropped).toBe(0);
    expect(c.received).toBe(size);
    expect(c.net.stats.queueDropped).toBeGreaterThan(100);
    const minRtt = b.client.rtt.minRtt;
    expect(minRtt).toBeGreaterThan(10);
    expect(minRtt).toBeLessThan(10.5);
    const bbrRtts = b.sends.filter((s) => s.mode === 'probe-bw').map((s) => s.rtt);
    expect(bbrRtts.length).toBeGreaterThan(1000);
    expect(median(bbrRtts)).toBeLessThan(1.25 * minRtt);
    expect(b.client.rtt.srtt).toBeLessThan(2 * minRtt);
    const cubicRtts = c.sends.filter((s) => s.t > 200).map((s) => s.rtt);
    expect(median(cubicRtts)).toBeGreaterThan(2.5 * minRtt);
  });

  it("draft §4.2.1: in ProbeBW the sender paces at the controller's pacingRate (bytes sent per 20 ms window match it)", () => {
    const { b } = get();
    const ratios: number[] = [];
    for (let w = 200; w + 20 < b.doneAt - 50; w += 20) {
      const ws = b.sends.filter((s) => s.payload > 0 && s.t >= w && s.t < w + 20);
      if (ws.length === 0 || ws.some((s) => s.mode !== 'probe-bw' || s.pacingRate === undefined)) continue;
      const sent = ws.reduce((n, s) => n + s.size, 0) / 20;
      const rate = ws.reduce((n, s) => n + s.pacingRate!, 0) / ws.length;
      ratios.push(sent / rate);
    }
    expect(ratios.length).toBeGreaterThan(20);
    for (const r of ratios) {
      expect(r).toBeGreaterThan(0.85);
      expect(r).toBeLessThan(1.15);
    }
  });
});

describe('BBR under random loss', () => {
  it("draft §4 (loss is not congestion): 5 % loss each way keeps ≥ 70 % of the lossless goodput and ≥ 2× CUBIC's", () => {
    const size = 4 << 20;
    const link = { ...LINK, loss: 0.05 };
    const clean = transfer(size, { link: LINK, conn: { congestion: bbr } });
    const lossy = transfer(size, { link, conn: { congestion: bbr }, seed: 3 });
    const cub = transfer(size, { link, conn: { congestion: cubic }, seed: 3 });
    for (const r of [clean, lossy, cub]) expect(r.received).toBe(size);
    const gp = (r: Run) => r.received / r.doneAt;
    expect(lossy.net.stats.dropped).toBeGreaterThan(200); // the loss was real
    expect(gp(lossy)).toBeGreaterThanOrEqual(0.7 * gp(clean));
    expect(gp(lossy)).toBeGreaterThanOrEqual(2 * gp(cub));
    expect(bbrOf(lossy.client).modeName).toBe('probe-bw');
  });
});

describe('BBR and the retransmission timer', () => {
  it('RFC 5681 §3.1 / draft §4.2.3.4: after an RTO cwnd is one segment; the model rebuilds it', () => {
    let net: SimNetwork | undefined;
    let firstLoss = -1;
    const size = 1 << 20;
    // Every datagram of the client in [60 ms, 600 ms) is lost, the loss probes too: only the RTO recovers.
    const r = transfer(size, {
      link: { delay: [10, 10] },
      conn: { congestion: bbr },
      onStart: (n) => (net = n),
      drop: (t) => {
        if (t >= 60 && t < 600) {
          if (firstLoss < 0) firstLoss = t;
          return true;
        }
        return false;
      },
    });
    expect(net).toBeDefined();
    expect(r.received).toBe(size);
    expect(r.client.stats.rtoTimeouts).toBeGreaterThanOrEqual(1);
    const after = r.sends.filter((s) => s.t > firstLoss);
    expect(Math.min(...after.map((s) => s.cwnd))).toBe(MSS);
    // And back to at least BBR's floor of four segments once ACKs flow again.
    expect(r.client.cwnd).toBeGreaterThanOrEqual(4 * MSS);
  });
});

describe('BBR and recovery (draft §4.2.3.4), unit', () => {
  it('draft §4.2.3.4: entering recovery holds to packet conservation (in flight + what each ACK delivers), and the end of recovery restores the prior cwnd', () => {
    const cc = new Bbr(1000);
    expect(cc.cwnd).toBe(10_000);
    cc.onLoss();
    // The first ACK of recovery sets cwnd to the pipe (bytes in flight, not FlightSize) plus what it delivered.
    cc.onRateSample(sample({ newlyAcked: 1000, priorDelivered: -1 }), 1, 5000);
    expect(cc.cwnd).toBe(6000);
    // Later ACKs in the first round may raise it to in flight + newly delivered, never lower it.
    cc.onRateSample(sample({ newlyAcked: 2000, priorDelivered: -1 }), 2, 5000);
    expect(cc.cwnd).toBe(7000);
    cc.onRecoveryEnd();
    expect(cc.cwnd).toBe(10_000); // the loss was not read as congestion: the window is back
  });

  it("RFC 5681 §3.1: an RTO leaves one segment; the next ACK lifts it to BBR's floor of four", () => {
    const cc = new Bbr(1000);
    cc.onRto();
    expect(cc.cwnd).toBe(1000);
    cc.onRateSample(sample({ newlyAcked: 1000 }), 1, 0);
    expect(cc.cwnd).toBe(4000);
  });
});

describe('BBR ProbeRTT (draft §4.3.4)', () => {
  it('when min_rtt is 10 s old, cwnd drops to 4 segments for ProbeRTT, min_rtt is re-measured, and ProbeBW resumes', () => {
    // 500 kB/s, 100 ms: a BDP of 50 kB (≈ 40 segments). At t = 1 s the path's delay grows
    // (a route change), so no later sample refreshes min_rtt: it expires about 10 s after
    // the last fresh minimum, and ProbeRTT must find the new one.
    const link: Partial<LinkOptions> = { bandwidth: 500_000, delay: [50, 50], queueBytes: 200_000 };
    const r = transfer(Infinity, {
      link,
      conn: { congestion: bbr },
      until: 12_500,
      onStart: (net) => net.at(1000, () => net.setLinkBoth(A.address, B.address, { ...link, delay: [60, 60] })),
    });
    const cc = bbrOf(r.client);
    const probeRtt = r.sends.filter((s) => s.mode === 'probe-rtt');
    expect(probeRtt.length).toBeGreaterThan(0);
    const start = probeRtt[0]!.t;
    const end = r.sends.find((s) => s.t > start && s.mode !== 'probe-rtt')?.t ?? Infinity;
    expect(start).toBeGreaterThan(10_000);
    expect(end).toBeLessThan(12_500);
    expect(probeRtt.every((s) => s.t < end)).toBe(true); // one visit
    // In ProbeRTT the window is BBR's floor, four segments, whatever it was before.
    expect(Math.max(...probeRtt.map((s) => s.cwnd))).toBe(4 * MSS);
    expect(Math.min(...r.sends.filter((s) => s.t < start && s.mode === 'probe-bw').map((s) => s.cwnd))).toBeGreaterThan(40 * MSS);
    // At least 200 ms there (draft §4.3.4.3), then back to ProbeBW with the window restored.
    expect(end - start).toBeGreaterThanOrEqual(200);
    const afterwards = r.sends.filter((s) => s.t >= end);
    expect(afterwards.length).toBeGreaterThan(0);
    expect(afterwards[0]!.cwnd).toBeGreaterThan(40 * MSS); // restored at once, not regrown
    expect(afterwards.every((s) => s.mode === 'probe-bw')).toBe(true);
    expect(cc.modeName).toBe('probe-bw');
    expect(cc.cwnd).toBeGreaterThan(40 * MSS);
    // The new path's round trip, not the old one's.
    expect(cc.minRtt).toBeGreaterThan(120);
    expect(cc.minRtt).toBeLessThan(125);
  });
});

describe("pacing at the controller's pacingRate", () => {
  /** A controller with an unlimited window and a fixed pacing rate that the test may change. */
  function fixedRate(state: { rate: number }): CongestionFactory {
    return () => ({
      name: 'fixed-rate',
      cwnd: 1e9,
      ssthresh: Infinity,
      get pacingRate() {
        return state.rate;
      },
      onAck() {},
      onLoss() {},
      onRto() {},
      onRecoveryEnd() {},
      onIdle() {},
    });
  }

  it("a controller's pacingRate replaces the cwnd/SRTT rule: datagram bytes per ms follow it, and a change of it", () => {
    // No bottleneck: only pacing limits the sender (the cwnd/SRTT rule would send 1 MiB at once).
    const state = { rate: 500 };
    const size = 1 << 20;
    const r = transfer(size, {
      link: { delay: [5, 5] },
      conn: { congestion: fixedRate(state) },
      onStart: (net) => net.at(1000, () => (state.rate = 1000)),
    });
    expect(r.received).toBe(size);
    const rateIn = (t0: number, t1: number) => r.sends.filter((s) => s.payload > 0 && s.t >= t0 && s.t < t1).reduce((n, s) => n + s.size, 0) / (t1 - t0);
    expect(rateIn(200, 1000)).toBeGreaterThan(0.95 * 500);
    expect(rateIn(200, 1000)).toBeLessThan(1.05 * 500);
    expect(rateIn(1100, 1400)).toBeGreaterThan(0.95 * 1000);
    expect(rateIn(1100, 1400)).toBeLessThan(1.05 * 1000);
    // 1 MiB: about 0.5 MB in the first second at 500, the rest at 1000.
    expect(r.doneAt).toBeGreaterThan(1400);
    expect(r.doneAt).toBeLessThan(1700);
  });
});
