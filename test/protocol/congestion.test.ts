import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NewReno, newReno } from '../../src/protocol/cc/congestion.js';
import { Cubic } from '../../src/protocol/cc/cubic.js';

const MSS = 1000;

describe('NewReno (RFC 5681, RFC 6582)', () => {
  it('RFC 6928: starts with ten segments and no ssthresh', () => {
    const c = newReno(MSS);
    expect(c.name).toBe('newreno');
    expect(c.cwnd).toBe(10 * MSS);
    expect(c.ssthresh).toBe(Infinity);
  });

  it('RFC 5681 §3.1 / RFC 3465: slow start adds the bytes ACKed, a coalesced ACK all of them (no L limit)', () => {
    const c = new NewReno(MSS);
    c.onAck(MSS);
    expect(c.cwnd).toBe(11 * MSS);
    c.onAck(300);
    expect(c.cwnd).toBe(11 * MSS + 300);
    c.onAck(25 * MSS); // one ACK for a batch of 25 segments: the window still doubles per round
    expect(c.cwnd).toBe(36 * MSS + 300);
  });

  it('RFC 5681 §3.1: slow start stops at ssthresh; the rest of the ACK does not overshoot it', () => {
    const c = new NewReno(MSS);
    c.cwnd = 40 * MSS;
    c.onLoss(0, 40 * MSS); // ssthresh 20 MSS
    c.onRto(0, 24 * MSS); // ssthresh 12 MSS, cwnd 1 MSS
    expect(c.ssthresh).toBe(12 * MSS);
    c.onAck(8 * MSS);
    expect(c.cwnd).toBe(9 * MSS);
    c.onAck(8 * MSS);
    expect(c.cwnd).toBe(12 * MSS);
  });

  it('RFC 8899: after the MSS grows (PLPMTUD), congestion avoidance adds segments of the new size', () => {
    const r = new NewReno(MSS);
    r.cwnd = 16 * MSS;
    r.onLoss(0, 16 * MSS); // CA at 8 segments of 1000
    r.setMss(4 * MSS);
    r.onAck(8 * MSS); // one window ACKed: one (new-size) segment more
    expect(r.cwnd).toBe(12 * MSS);

    const c = new Cubic(MSS);
    c.cwnd = 100 * MSS;
    c.onLoss(); // W_max 100 segments of 1000
    c.setMss(2 * MSS);
    expect(c.wMax).toBeCloseTo(50, 6); // the same bytes, in new segments
    expect(c.cwnd).toBe(70 * MSS); // bytes unchanged
  });

  it('RFC 7661: neither controller grows a window the sender did not fill', () => {
    for (const c of [new NewReno(MSS), new Cubic(MSS)]) {
      c.onAck(5 * MSS, 10, 10, 5 * MSS, false);
      expect(c.cwnd).toBe(10 * MSS);
      c.onAck(5 * MSS, 20, 10, 10 * MSS, true);
      expect(c.cwnd).toBe(15 * MSS);
    }
  });

  it('RFC 5681 §3.1: congestion avoidance adds about one SMSS per window of ACKed bytes', () => {
    const c = new NewReno(MSS);
    c.cwnd = 16 * MSS;
    c.onLoss(0, 16 * MSS); // ssthresh = cwnd = 8 MSS
    expect(c.cwnd).toBe(8 * MSS);
    for (let i = 0; i < 7; i++) c.onAck(MSS);
    expect(c.cwnd).toBe(8 * MSS);
    c.onAck(MSS);
    expect(c.cwnd).toBe(9 * MSS);
    for (let i = 0; i < 9; i++) c.onAck(MSS);
    expect(c.cwnd).toBe(10 * MSS);
  });

  it('RFC 6675: FlightSize above cwnd (SACKed data counted) never raises the window on a loss', () => {
    const c = new NewReno(MSS); // cwnd 10 MSS
    c.onLoss(0, 30 * MSS);
    expect(c.ssthresh).toBe(5 * MSS);
    expect(c.cwnd).toBe(5 * MSS);
  });

  it('RFC 5681 eq. 4: loss sets ssthresh = max(FlightSize/2, 2·SMSS); fast recovery runs at ssthresh', () => {
    const c = new NewReno(MSS);
    c.onLoss(0, 10 * MSS);
    expect(c.ssthresh).toBe(5 * MSS);
    expect(c.cwnd).toBe(5 * MSS);
    c.onLoss(0, 2 * MSS);
    expect(c.ssthresh).toBe(2 * MSS);
    c.onRecoveryEnd();
    expect(c.cwnd).toBe(2 * MSS);
  });

  it('RFC 5681 §3.1: after an RTO cwnd is one segment (the loss window)', () => {
    const c = new NewReno(MSS);
    c.onAck(MSS);
    c.onRto(0, 11 * MSS);
    expect(c.cwnd).toBe(MSS);
    expect(c.ssthresh).toBe(5.5 * MSS);
    // Then slow start again up to ssthresh.
    c.onAck(MSS);
    expect(c.cwnd).toBe(2 * MSS);
  });

  it('RFC 5681 §4.1: after idle, cwnd restarts at min(IW, cwnd)', () => {
    const c = new NewReno(MSS);
    for (let i = 0; i < 20; i++) c.onAck(MSS);
    c.onIdle();
    expect(c.cwnd).toBe(10 * MSS);
    const d = new NewReno(MSS);
    d.onRto(0, 4 * MSS);
    d.onIdle();
    expect(d.cwnd).toBe(MSS);
  });

  it('property: cwnd never drops below one SMSS and ssthresh below 2·SMSS', () => {
    const ev = fc.oneof(
      fc.record({ k: fc.constant('ack' as const), n: fc.integer({ min: 1, max: 20 * MSS }) }),
      fc.record({ k: fc.constantFrom('loss' as const, 'rto' as const), n: fc.integer({ min: 0, max: 100 * MSS }) }),
      fc.record({ k: fc.constantFrom('end' as const, 'idle' as const), n: fc.constant(0) }),
    );
    fc.assert(
      fc.property(fc.array(ev, { maxLength: 80 }), (evs) => {
        const c = new NewReno(MSS);
        for (const e of evs) {
          if (e.k === 'ack') c.onAck(e.n);
          else if (e.k === 'loss') c.onLoss(0, e.n);
          else if (e.k === 'rto') c.onRto(0, e.n);
          else if (e.k === 'end') c.onRecoveryEnd();
          else c.onIdle();
          expect(c.cwnd).toBeGreaterThanOrEqual(MSS);
          expect(c.ssthresh).toBeGreaterThanOrEqual(2 * MSS);
        }
      }),
    );
  });
});

describe('undoing a spurious loss response (RFC 9438 §4.9, RFC 4015)', () => {
  it("RFC 9438 §4.3: the Reno-friendly estimate grows by α_cubic (0.53) per window until it reaches the last congestion event's window, then by Reno's 1", () => {
    const c = new Cubic(MSS);
    c.cwnd = 100 * MSS;
    c.onLoss(); // cwnd_prior 100 segments, cwnd 70
    expect(c.cwnd).toBe(70 * MSS);
    // One window of ACKs at one instant: t stays 0, so W_cubic stays at 70 and W_est decides.
    const window = (): number => {
      const before = c.cwnd;
      for (let acked = 0; acked < before; acked += MSS) c.onAck(MSS, 0, 10);
      return (c.cwnd - before) / MSS;
    };
    expect(window()).toBeCloseTo(0.53, 1);
    while (c.cwnd < 100 * MSS) window();
    expect(window()).toBeCloseTo(1, 1);
    expect(window()).toBeCloseTo(1, 1);
  });

  it('CUBIC restores cwnd, ssthresh and its cubic state, so growth resumes as before the loss', () => {
    const MSS = 1000;
    const c = new Cubic(MSS);
    const ref = new Cubic(MSS);
    for (const x of [c, ref]) {
      x.onLoss(); // leave slow start: ssthresh = 7 segments
      x.onRecoveryEnd();
      for (let t = 0; t < 50; t++) x.onAck(MSS, t * 10, 10);
    }
    const before = c.cwnd;
    c.onLoss();
    expect(c.cwnd).toBeLessThan(before);
    c.onRecoveryEnd();
    c.onSpuriousLoss();
    expect(c.cwnd).toBe(before);
    expect(c.ssthresh).toBe(ref.ssthresh);
    expect(c.wMax).toBe(ref.wMax);
    // The same window trajectory as a flow that never saw the loss.
    for (let t = 50; t < 100; t++) {
      c.onAck(MSS, t * 10, 10);
      ref.onAck(MSS, t * 10, 10);
    }
    expect(c.cwnd).toBeCloseTo(ref.cwnd, 6);
  });

  it('NewReno restores cwnd and ssthresh', () => {
    const r = new NewReno(1000);
    r.onAck(2000);
    const { cwnd, ssthresh } = r;
    r.onLoss(0, cwnd);
    r.onRecoveryEnd();
    r.onSpuriousLoss();
    expect(r.cwnd).toBe(cwnd);
    expect(r.ssthresh).toBe(ssthresh);
  });
});
