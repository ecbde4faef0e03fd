// Delivery-rate estimation (draft-cheng-iccrg-delivery-rate-estimation-02): unit tests of
// DeliveryRate against small hand-driven packet schedules, and the samples a connection takes
// on a bandwidth-limited simulated link.
import { describe, expect, it } from 'vitest';
import type { CongestionFactory, RateSample } from '../../src/protocol/cc/congestion.js';
import { cubic } from '../../src/protocol/cc/cubic.js';
import { DeliveryRate, type DeliveryStamp } from '../../src/protocol/cc/delivery.js';
import type { ConnectionOptions } from '../../src/protocol/options.js';
import type { LinkOptions } from '../../src/sim/index.js';
import { simTransfer } from '../helpers/sim-transfer.js';

const SIZE = 1000;

interface Pkt extends DeliveryStamp {
  id: number;
  len: number;
  ackAt: number;
}

/**
 * A sender and a path, driven 0.5 ms at a time: `sendAt(t)` says how many packets the sender
 * sends at t; the path says when each is ACKed. Each ACK is processed alone (onDelivered, take),
 * before anything is sent at the same instant.
 */
function drive(
  until: number,
  sendAt: (t: number, inFlight: number) => number,
  ackTime: (sentAt: number, prevAck: number) => number,
  opts: { minRtt?: number; onIdle?: (dr: DeliveryRate, t: number, inFlight: number) => void } = {},
): { dr: DeliveryRate; pkts: Pkt[]; samples: Array<RateSample & { t: number; pkt: Pkt }> } {
  const dr = new DeliveryRate();
  const pkts: Pkt[] = [];
  const flight: Pkt[] = [];
  const samples: Array<RateSample & { t: number; pkt: Pkt }> = [];
  let inFlight = 0;
  let prevAck = -Infinity;
  for (let t = 0; t <= until; t += 0.5) {
    flight.sort((a, b) => a.ackAt - b.ackAt);
    while (flight.length > 0 && flight[0]!.ackAt <= t) {
      const p = flight.shift()!;
      dr.onDelivered(p, p.len, p.ackAt);
      inFlight -= p.len;
      samples.push({ ...dr.take(opts.minRtt ?? 0, -1), t: p.ackAt, pkt: p });
    }
    const n = sendAt(t, inFlight);
    if (n === 0) opts.onIdle?.(dr, t, inFlight);
    for (let k = 0; k < n; k++) {
      const p: Pkt = { id: pkts.length, len: SIZE, ackAt: 0, sentAt: 0, dlv: 0, dlvTime: 0, firstSent: 0, appLimited: false };
      dr.stamp(p, t, inFlight);
      p.ackAt = ackTime(t, prevAck);
      prevAck = p.ackAt;
      inFlight += p.len;
      pkts.push(p);
      flight.push(p);
    }
  }
  return { dr, pkts, samples };
}

describe('DeliveryRate (unit)', () => {
  it('draft §3.3: a steady stream (one 1000-byte packet per ms, RTT 10 ms) yields exactly 1000 bytes/ms once a round has passed', () => {
    const { samples } = drive(
      300,
      (t) => (Number.isInteger(t) ? 1 : 0),
      (sentAt) => sentAt + 10,
    );
    const steady = samples.filter((s) => s.pkt.sentAt >= 10);
    expect(steady.length).toBeGreaterThan(250);
    for (const s of steady) {
      expect(s.rate).toBe(1000);
      expect(s.delivered).toBe(10 * SIZE); // one RTT's worth
      expect(s.interval).toBe(10);
      expect(s.newlyAcked).toBe(SIZE);
      expect(s.priorDelivered).toBe(s.pkt.dlv);
    }
    // Before that, the samples ramp up to it and never overstate it.
    for (const s of samples) expect(s.rate).toBeLessThanOrEqual(1000);
  });

  it('draft §3.3: a send burst is measured over the ACK interval (the send interval alone would overstate the rate)', () => {
    // A bottleneck serving one 1000-byte packet per ms, 9 ms from there to the ACK's arrival.
    // Packet 0 alone at t = 0, nine more at 0.5; once packet 0 is ACKed (t = 10), a burst of ten.
    let busy = 0;
    const { samples } = drive(
      40,
      (t) => (t === 0 ? 1 : t === 0.5 ? 9 : t === 10 ? 10 : 0),
      (sentAt) => {
        busy = Math.max(busy, sentAt) + 1;
        return busy + 9;
      },
    );
    expect(samples.length).toBe(20);
    for (const s of samples) expect(s.rate).toBeLessThanOrEqual(1000 + 1e-9);
    // The last packet of the burst: sent 10 ms after the first (send interval 10), 19 packets
    // delivered over the 19 ms of ACKs since its stamp: 1000 bytes/ms, not 1900.
    const last = samples[samples.length - 1]!;
    expect(last.pkt.sentAt).toBe(10);
    expect(last.pkt.sentAt - last.pkt.firstSent).toBe(10);
    expect(last.delivered).toBe(19 * SIZE);
    expect(last.interval).toBe(19);
    expect(last.rate).toBe(1000);
  });

  it('draft §3.3: ACK compression is measured over the send interval (the ACK interval alone would overstate the rate)', () => {
    // Smooth sending at 1000 bytes/ms, ACKs normally 10 ms later. The ACK of packet 40 is held
    // until t = 70; it arrives alone, the sender sends packet 70, then the held-back ACKs of
    // 41..69 arrive compressed within a ms or two, and packet 70's own ACK at 80.
    const { samples } = drive(
      150,
      (t) => (Number.isInteger(t) ? 1 : 0),
      (sentAt, prev) => Math.max(sentAt === 40 ? 70 : sentAt + 10, prev + 0.05),
    );
    for (const s of samples) expect(s.rate).toBeLessThanOrEqual(1000 + 1e-9);
    const p70 = samples.find((s) => s.pkt.sentAt === 70)!;
    expect(p70.pkt.dlvTime).toBe(70);
    expect(p70.t).toBe(80); // 10 ms of ACKs since its stamp ...
    expect(p70.delivered).toBe(30 * SIZE); // ... delivered 30 packets: 3000 bytes/ms by them alone
    expect(p70.interval).toBe(30); // the send interval, 70 - 40
    expect(p70.rate).toBe(1000);
  });

  it('draft §3.3: an interval shorter than min_rtt gives no rate sample (but still counts the bytes ACKed)', () => {
    const take = (minRtt: number): RateSample => {
      const dr = new DeliveryRate();
      const ps: DeliveryStamp[] = [];
      for (let k = 0; k < 10; k++) {
        const p: DeliveryStamp = { sentAt: 0, dlv: 0, dlvTime: 0, firstSent: 0, appLimited: false };
        dr.stamp(p, 0, k * SIZE); // a burst of ten at t = 0
        ps.push(p);
      }
      for (const p of ps) dr.onDelivered(p, SIZE, 5); // all ACKed at t = 5: an interval of 5 ms
      return dr.take(minRtt, 5);
    };
    const short = take(10);
    expect(short.rate).toBe(0);
    expect(short.delivered).toBe(0);
    expect(short.interval).toBe(0);
    expect(short.newlyAcked).toBe(10 * SIZE);
    expect(short.rtt).toBe(5);
    const ok = take(5);
    expect(ok.interval).toBe(5);
    expect(ok.delivered).toBe(10 * SIZE);
    expect(ok.rate).toBe((10 * SIZE) / 5);
  });

  it('draft §3.3: take() resets the sample under construction: an ACK that delivers nothing gives no sample', () => {
    const dr = new DeliveryRate();
    const p: DeliveryStamp = { sentAt: 0, dlv: 0, dlvTime: 0, firstSent: 0, appLimited: false };
    dr.stamp(p, 0, 0);
    dr.onDelivered(p, SIZE, 10);
    expect(dr.take(10, 10).rate).toBe(SIZE / 10);
    const empty = dr.take(10, -1);
    expect(empty).toMatchObject({ rate: 0, delivered: 0, newlyAcked: 0, newlyLost: 0, priorDelivered: -1 });
    expect(dr.delivered).toBe(SIZE);
  });

  it('draft §3.3: when one ACK delivers several packets, the sample is taken from the most recently sent (highest P.delivered), in either order', () => {
    const mk = (): DeliveryStamp => ({ sentAt: 0, dlv: 0, dlvTime: 0, firstSent: 0, appLimited: false });
    for (const order of ['b,c', 'c,b']) {
      const dr = new DeliveryRate();
      const a = mk();
      const d = mk();
      dr.stamp(a, 0, 0);
      dr.stamp(d, 1, SIZE);
      dr.onDelivered(a, SIZE, 10);
      dr.take(0, 10);
      const b = mk();
      dr.stamp(b, 10, SIZE); // P.delivered 1000, first_sent 0 (a's send time)
      dr.onDelivered(d, SIZE, 11);
      dr.take(0, 10);
      const c = mk();
      dr.stamp(c, 12, SIZE); // P.delivered 2000, delivered_time 11, first_sent 1 (d's)
      expect([b.dlv, c.dlv]).toEqual([SIZE, 2 * SIZE]);
      // One ACK at 22 delivers b and c (cumulatively, or c by SACK first).
      for (const p of order === 'b,c' ? [b, c] : [c, b]) dr.onDelivered(p, SIZE, 22);
      const rs = dr.take(0, 10);
      expect(rs.priorDelivered).toBe(2 * SIZE);
      expect(rs.newlyAcked).toBe(2 * SIZE);
      expect(rs.delivered).toBe(2 * SIZE); // 4000 delivered in all, 2000 when c left
      expect(rs.interval).toBe(11); // max(send 12 - 1, ACK 22 - 11); b would say 3000 bytes in 12 ms
      expect(rs.rate).toBe((2 * SIZE) / 11);
    }
  });

  it('draft §3.4: packets sent while app-limited are marked, their samples flagged; the mark ends once they are delivered', () => {
    // 1 packet per ms, RTT 10 ms; the application has nothing to send in [100, 130) and then
    // only one packet every 5 ms until 150, after which the stream resumes.
    const sendAt = (t: number): number => {
      if (!Number.isInteger(t)) return 0;
      if (t < 100 || t >= 150) return 1;
      if (t >= 130 && t % 5 === 0) return 1;
      return 0;
    };
    let markedAt = -1;
    const { pkts, samples } = drive(300, sendAt, (s) => s + 10, {
      onIdle: (dr, t, inFlight) => {
        if (t >= 100 && t < 150 && Number.isInteger(t)) {
          dr.markAppLimited(inFlight);
          if (markedAt < 0) markedAt = t;
        }
      },
    });
    expect(markedAt).toBe(100);
    const at = (t: number) => pkts.find((p) => p.sentAt === t)!;
    // Sent before the idle spell: not app-limited; their samples are not either.
    expect(pkts.filter((p) => p.sentAt < 100).every((p) => !p.appLimited)).toBe(true);
    // Sent in the sparse phase: app-limited (the sender had room and nothing to send).
    for (const t of [130, 135, 140, 145]) expect(at(t).appLimited).toBe(true);
    // The stream resumes at 150, but the last mark (at 149) covers the two packets then in flight:
    // the phase ends when C.delivered passes it, at the ACK (t = 160) of the first packet sent
    // after it. Packets sent until then are still marked; none after.
    for (const p of pkts.filter((x) => x.sentAt >= 150 && x.sentAt < 160)) expect(p.appLimited).toBe(true);
    expect(at(160).appLimited).toBe(false);
    expect(pkts.filter((p) => p.sentAt >= 160).every((p) => !p.appLimited)).toBe(true);
    // Each sample carries the mark of the packet it was taken from.
    for (const s of samples) expect(s.appLimited).toBe(s.pkt.appLimited);
    expect(samples.some((s) => s.appLimited)).toBe(true);
    // The app-limited samples understate the path (1000 bytes/ms): why BBR only lets them raise btlBw.
    for (const s of samples.filter((x) => x.appLimited)) expect(s.rate).toBeLessThan(1000);
  });

  it('draft §3.2: the stamp of a transmission records C.delivered, and first_sent/delivered_time restart after an idle pipe', () => {
    const dr = new DeliveryRate();
    const mk = (): DeliveryStamp => ({ sentAt: 0, dlv: 0, dlvTime: 0, firstSent: 0, appLimited: false });
    const a = mk();
    dr.stamp(a, 5, 0);
    dr.onDelivered(a, SIZE, 15);
    dr.take(0, 10);
    const b = mk();
    dr.stamp(b, 40, 0); // the pipe was empty: the sample interval restarts here, not at 15
    expect(b).toMatchObject({ sentAt: 40, dlv: SIZE, dlvTime: 40, firstSent: 40 });
    dr.onDelivered(b, SIZE, 50);
    const rs = dr.take(0, 10);
    expect(rs.interval).toBe(10);
    expect(rs.rate).toBe(SIZE / 10);
  });
});

// ---------------------------------------------------------------- simulator

const A = { address: '10.0.0.1', port: 1000 };
const B = { address: '10.0.0.2', port: 2000 };

/** A controller that records every rate sample the connection hands it, around `inner`. */
function recording(inner: CongestionFactory, out: Array<RateSample & { t: number }>): CongestionFactory {
  return (mss) => {
    const c = inner(mss);
    return {
      name: `recording-${c.name}`,
      get cwnd() {
        return c.cwnd;
      },
      get ssthresh() {
        return c.ssthresh;
      },
      onAck: (acked, now, rtt, flight) => c.onAck(acked, now, rtt, flight),
      onLoss: (now, flight) => c.onLoss(now, flight),
      onRto: (now, flight) => c.onRto(now, flight),
      onRecoveryEnd: (now) => c.onRecoveryEnd(now),
      onIdle: (now) => c.onIdle(now),
      onRateSample(rs, now) {
        out.push({ ...rs, t: now });
      },
    };
  };
}

/** A bulk transfer A → B; returns the client connection and the largest datagram it sent. */
function transfer(size: number, link: Partial<LinkOptions>, conn: Partial<ConnectionOptions>) {
  let maxDatagram = 0;
  const r = simTransfer(size, {
    link,
    conn,
    until: 60_000,
    from: A,
    to: B,
    onSend: (d) => {
      maxDatagram = Math.max(maxDatagram, d.length);
    },
  });
  return { ...r, maxDatagram };
}

describe('delivery-rate samples on the simulator', () => {
  it('on a 10 MB/s link the rate samples of a bulk transfer measure the link (within 15 %), and never exceed it', () => {
    const samples: Array<RateSample & { t: number }> = [];
    const size = 3 << 20;
    const r = transfer(size, { bandwidth: 10e6, delay: [5, 5] }, { congestion: recording(cubic, samples) });
    expect(r.received).toBe(size);
    // Payload bytes per ms the link carries in full-sized datagrams (headers take the rest).
    const linkRate = (10e6 / 1000) * (r.client.mss / r.maxDatagram);
    const valid = samples.filter((s) => s.rate > 0 && !s.appLimited && s.t > 100);
    expect(valid.length).toBeGreaterThan(500);
    const rates = valid.map((s) => s.rate).sort((x, y) => x - y);
    const median = rates[rates.length >> 1]!;
    expect(median).toBeGreaterThan(0.85 * linkRate);
    expect(median).toBeLessThan(1.15 * linkRate);
    // The longer of the send and ACK intervals: no sample claims more than the bottleneck delivers.
    expect(rates[rates.length - 1]!).toBeLessThanOrEqual(1.01 * linkRate);
    // Every ACK got a sample object, and the bytes they report as newly acknowledged add up.
    expect(samples.reduce((n, s) => n + s.newlyAcked, 0)).toBeGreaterThanOrEqual(size);
  });

  it('the receiving end, with nothing in flight, hands its controller nothing per data segment (as Linux tcp_ack no_queue)', () => {
    const samples: Array<RateSample & { t: number }> = [];
    const size = 1 << 20;
    const r = transfer(size, { bandwidth: 10e6, delay: [5, 5] }, { congestion: recording(cubic, samples) });
    expect(r.received).toBe(size);
    const segments = size / r.client.mss;
    // Samples that carry nothing: before, the receiver took one for each of the ~870 data segments.
    const empty = samples.filter((s) => s.newlyAcked === 0 && s.newlyLost === 0 && s.rtt < 0);
    expect(segments).toBeGreaterThan(800);
    expect(empty.length).toBeLessThan(segments / 20);
  });
});
