// cubic-lt (src/protocol/cc/cubic-lt.ts), unit: which losses it answers, and how.
import { describe, expect, it } from 'vitest';
import { CubicLt } from '../../src/protocol/cc/cubic-lt.js';
import { sample } from '../helpers/rate-sample.js';

const MSS = 1000;

/** A controller that has seen min_rtt 20 ms, a delivery rate of 5 segments per ms (BDP 100 segments) and RTTs of `rtt`. */
function primed(rtt: number, cwndSegs = 120): CubicLt {
  const cc = new CubicLt(MSS);
  cc.onRateSample(sample({ rtt: 20, rate: 5 * MSS, newlyAcked: MSS }), 1, 0);
  for (let i = 0; i < 20; i++) cc.onRateSample(sample({ rtt, rate: 5 * MSS, newlyAcked: MSS, priorDelivered: -1 }), 2 + i, cwndSegs * MSS);
  cc.cwnd = cwndSegs * MSS;
  return cc;
}

describe('cubic-lt', () => {
  it('a loss without a queue (RTT at min_rtt) leaves the window, and slow start, as they were', () => {
    const cc = primed(20.5);
    expect(cc.bdp).toBe(100 * MSS);
    cc.onLoss(30, 120 * MSS);
    expect(cc.cwnd).toBe(120 * MSS);
    expect(cc.ssthresh).toBe(Infinity);
    expect(cc.toleratedLosses).toBe(1);
    // It keeps growing through the recovery (the sender calls onAck only outside one).
    cc.onRateSample(sample({ rtt: 20.5, rate: 5 * MSS, newlyAcked: 5 * MSS, priorDelivered: -1 }), 31, 120 * MSS);
    expect(cc.cwnd).toBe(125 * MSS);
    cc.onRecoveryEnd(40);
    cc.onSpuriousLoss(41); // nothing to undo
    expect(cc.cwnd).toBe(125 * MSS);
  });

  it('RFC 9438 §4.6: a loss with a queue (RTT 30 ms over a min_rtt of 20) cuts by β = 0.7', () => {
    const cc = primed(30, 200);
    cc.onLoss(30, 200 * MSS);
    expect(cc.cwnd).toBeCloseTo(140 * MSS);
    expect(cc.ssthresh).toBeCloseTo(140 * MSS);
    expect(cc.reductions).toBe(1);
    cc.onSpuriousLoss(31); // RFC 9438 §4.9: undone
    expect(cc.cwnd).toBe(200 * MSS);
  });

  it('Westwood+: the cut stops at the estimated BDP', () => {
    const cc = primed(30, 120);
    cc.onLoss(30, 120 * MSS);
    expect(cc.cwnd).toBe(100 * MSS); // not 84 segments
  });

  it('far more in flight than 3 × the BDP is congestion without a queue (a policer)', () => {
    const cc = primed(20.5, 400);
    cc.onRateSample(sample({ rtt: 20.5, newlyAcked: MSS, priorDelivered: -1 }), 29, 400 * MSS);
    cc.onLoss(30, 400 * MSS);
    expect(cc.reductions).toBe(1);
    expect(cc.cwnd).toBeCloseTo(280 * MSS);
  });

  it('RFC 9438 §4.8: an RTO leaves one segment, with ssthresh not below the BDP', () => {
    const cc = primed(20.5, 110);
    cc.onRto(30, 110 * MSS);
    expect(cc.cwnd).toBe(MSS);
    expect(cc.ssthresh).toBe(100 * MSS);
  });
});
