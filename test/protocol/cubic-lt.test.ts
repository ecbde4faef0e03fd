// cubic-lt (src/protocol/cc/cubic-lt.ts), unit: which losses it answers, and how.
import { describe, expect, it } from 'vitest';
import { CubicLt } from '../../src/protocol/cc/cubic-lt.js';
import { sample } from '../helpers/rate-sample.js';

const MSS = 1000;

/** A controller that has seen min_rtt 20 ms, a delivery rate of 5 segments per ms (BDP 100 segments) and, for 200 ms since, RTTs of `rtt`. */
function primed(rtt: number, cwndSegs = 120): CubicLt {
  const cc = new CubicLt(MSS);
  cc.onRateSample(sample({ rtt: 20, rate: 5 * MSS, newlyAcked: MSS }), 1, 0);
  for (let i = 0; i < 20; i++) cc.onRateSample(sample({ rtt, rate: 5 * MSS, newlyAcked: MSS, priorDelivered: -1 }), 11 + 10 * i, cwndSegs * MSS);
  cc.cwnd = cwndSegs * MSS;
  return cc;
}

/** `n` rounds, each one sample at `rate` segments per ms and RTT `rtt`, from `at` ms, 1 ms apart. */
function rounds(cc: CubicLt, n: number, at: number, rtt = 20.5, rate = 5, inFlight = cc.cwnd): void {
  for (let i = 0; i < n; i++) cc.onRateSample(sample({ rtt, rate: rate * MSS, newlyAcked: MSS, priorDelivered: 1e9 }), at + i, inFlight);
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

  it('a burst of late samples (a paused event loop) within one RTT is no standing queue: a loss then is tolerated', () => {
    const cc = primed(20.5);
    // 2 ms' worth of samples, all 15 ms late: the smoothed RTT jumps, the least of the last SRTT does not.
    for (let i = 0; i < 8; i++) cc.onRateSample(sample({ rtt: 35, rate: 5 * MSS, newlyAcked: MSS, priorDelivered: -1 }), 210 + i / 4, 120 * MSS);
    expect(cc.queueDelay).toBeCloseTo(0.5);
    cc.onLoss(212, 120 * MSS);
    expect(cc.toleratedLosses).toBe(1);
    expect(cc.cwnd).toBe(120 * MSS);
    // The same late samples for longer than an RTT are a standing queue.
    for (let i = 0; i < 40; i++) cc.onRateSample(sample({ rtt: 35, rate: 5 * MSS, newlyAcked: MSS, priorDelivered: -1 }), 213 + i, 120 * MSS);
    expect(cc.queueDelay).toBe(15);
    cc.onRecoveryEnd(253);
    cc.onLoss(254, 120 * MSS);
    expect(cc.reductions).toBe(1);
  });

  it('on a sub-millisecond path the standing window is 10 ms, not one SRTT: a hiccup of a few ms is no standing queue', () => {
    // min_rtt 0.1 ms, 100 segments per ms; then 6 ms of samples 3 ms late (a peer busy compiling or collecting).
    const cc = new CubicLt(MSS);
    for (let i = 0; i < 40; i++) cc.onRateSample(sample({ rtt: 0.1, rate: 100 * MSS, newlyAcked: MSS, priorDelivered: -1 }), i / 4, 20 * MSS);
    cc.cwnd = 20 * MSS;
    for (let i = 0; i <= 24; i++) cc.onRateSample(sample({ rtt: 3.1, rate: 100 * MSS, newlyAcked: MSS, priorDelivered: -1 }), 10 + i / 4, 20 * MSS);
    expect(cc.queueDelay).toBe(0);
    cc.onLoss(16, 20 * MSS);
    expect(cc.toleratedLosses).toBe(1);
    cc.onRecoveryEnd(16);
    // The same lateness for over 10 ms stands.
    for (let i = 25; i <= 50; i++) cc.onRateSample(sample({ rtt: 3.1, rate: 100 * MSS, newlyAcked: MSS, priorDelivered: -1 }), 10 + i / 4, 20 * MSS);
    expect(cc.queueDelay).toBeCloseTo(3);
    cc.onLoss(23, 20 * MSS);
    expect(cc.reductions).toBe(1);
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

  it('the queue that makes a loss congestion: half the deepest seen (a drop-tail buffer overflows near it), from 1 ms to CoDel’s 5 ms', () => {
    /** min_rtt 20 ms; a queue of `deepest` ms for 40 ms, then one of `now` ms; then a loss. */
    const lossAfter = (deepest: number, now: number): CubicLt => {
      const cc = primed(20.5);
      rounds(cc, 40, 300, 20 + deepest);
      rounds(cc, 40, 340, 20 + now);
      cc.onLoss(380, 120 * MSS);
      return cc;
    };
    // A 3 ms queue where one of 12 ms stood before: the buffer is far from full, the loss random.
    expect(lossAfter(12, 3).toleratedLosses).toBe(1);
    // Where the deepest was 4 ms, a 3 ms queue is near the top of a shallow buffer: congestion.
    expect(lossAfter(4, 3).reductions).toBe(1);
    // Beyond 5 ms (CoDel's target, RFC 8289 §4.2), congestion however deep the buffer.
    expect(lossAfter(30, 6).reductions).toBe(1);
    expect(lossAfter(30, 6).queueThreshold()).toBe(5);
  });

  it('after a cut, a loss answers to the queue only once the standing window holds samples from after it', () => {
    const cc = primed(30, 200); // a 10 ms standing queue; SRTT about 30 ms
    cc.onLoss(30, 200 * MSS);
    expect(cc.reductions).toBe(1);
    cc.onRecoveryEnd(31);
    // 9 ms later the window still shows the queue the cut answered: not a second cut.
    cc.onLoss(40, 140 * MSS);
    expect(cc.reductions).toBe(1);
    expect(cc.toleratedLosses).toBe(1);
    cc.onRecoveryEnd(41);
    // An SRTT after the cut, the queue still stands: congestion again.
    rounds(cc, 30, 41, 30, 5, 140 * MSS);
    cc.onLoss(71, 140 * MSS);
    expect(cc.reductions).toBe(2);
  });

  it('Westwood+: the cut stops at the estimated BDP', () => {
    const cc = primed(30, 120);
    cc.onLoss(30, 120 * MSS);
    expect(cc.cwnd).toBe(100 * MSS); // not 84 segments
  });

  it('far more in flight than 3 × rate × RTT is congestion without a queue (a policer), in slow start too once the rate stops growing', () => {
    const cc = primed(20.5, 400);
    rounds(cc, 4, 25); // the rate, 5 segments per ms, grew by under a quarter in 3 rounds (draft §5.3.1.2)
    cc.onLoss(30, 400 * MSS);
    expect(cc.reductions).toBe(1);
    expect(cc.cwnd).toBeCloseTo(280 * MSS);
  });

  it('in slow start, while the delivery rate still grows, the in-flight bound is twice as wide (what is measured lags what is sent by a round)', () => {
    const cc = primed(20.5, 600);
    // 3 × rate × SRTT (5 × 20.5) + 1 ms at the rate (5) = 312.5 segments, doubled, + 4: 629.
    cc.onLoss(30, 600 * MSS);
    expect(cc.toleratedLosses).toBe(1);
    cc.onRecoveryEnd(31);
    cc.onRateSample(sample({ rtt: 20.5, rate: 5 * MSS, newlyAcked: MSS, priorDelivered: -1 }), 31, 640 * MSS);
    cc.onLoss(32, 640 * MSS);
    expect(cc.reductions).toBe(1);
    // Out of slow start, not doubled.
    const ca = primed(20.5, 400);
    ca.ssthresh = 300 * MSS;
    ca.onLoss(30, 400 * MSS);
    expect(ca.reductions).toBe(1);
  });

  it('on a sub-millisecond path, the in-flight bound counts the RTT the ACKs take (an event-loop-paced clock), not min_rtt', () => {
    // min_rtt 0.1 ms at 100 segments per ms (BDP 10 segments), but every other ACK comes 1.9 ms
    // after its segment: SRTT about 1 ms, no standing queue. 3 × BDP + 1 ms at the rate would cap
    // the window at 134 segments; 3 × rate × SRTT + 1 ms at the rate lets in about 400.
    const cc = new CubicLt(MSS);
    // Each sample a round: the rate has stopped growing, so the bound is not doubled for slow start.
    const acks = (from: number, inFlight: number) => {
      for (let i = 0; i < 20; i++)
        cc.onRateSample(sample({ rtt: i % 2 === 0 ? 0.1 : 1.9, rate: 100 * MSS, newlyAcked: MSS, priorDelivered: 1e9 }), from + i / 10, inFlight);
    };
    acks(0, 250 * MSS);
    cc.cwnd = 250 * MSS;
    expect(cc.queueDelay).toBeCloseTo(0);
    cc.onLoss(3, 250 * MSS);
    expect(cc.toleratedLosses).toBe(1);
    cc.onRecoveryEnd(4);
    acks(5, 600 * MSS);
    cc.onLoss(8, 600 * MSS); // beyond 3 × 100 × 1.3 + 100 + 4 segments
    expect(cc.reductions).toBe(1);
  });

  it('RFC 9438 §4.8: an RTO with a queue behind it leaves one segment, with ssthresh not below the BDP', () => {
    const cc = primed(30, 110);
    cc.onRto(30, 110 * MSS);
    expect(cc.cwnd).toBe(MSS);
    expect(cc.ssthresh).toBe(100 * MSS);
    expect(cc.reductions).toBe(1);
  });

  it('an RTO without a queue (random loss took a retransmission) restarts from 4 segments; slow start climbs back to the window it had', () => {
    const cc = primed(20.5, 110);
    cc.onRto(30, 110 * MSS);
    expect(cc.cwnd).toBe(4 * MSS);
    expect(cc.ssthresh).toBe(110 * MSS);
    expect(cc.reductions).toBe(0);
    expect(cc.toleratedLosses).toBe(1);
    // On a slow path, no more than the path delivers in min_rtt + 1 ms (here 0.1 segment per ms × 11 ms: one).
    const slow = new CubicLt(MSS);
    for (let i = 0; i < 10; i++) slow.onRateSample(sample({ rtt: 10, rate: 0.1 * MSS, newlyAcked: MSS, priorDelivered: -1 }), 10 * i, 3 * MSS);
    slow.onRto(100, 3 * MSS);
    expect(slow.toleratedLosses).toBe(1);
    expect(slow.cwnd).toBe(MSS);
    // A small window is not raised by it.
    const small = primed(20.5, 3);
    small.onRto(30, 3 * MSS);
    expect(small.cwnd).toBe(3 * MSS);
  });

  it('with no queue standing, a window below what min_rtt + 1 ms carries at the measured rate is lifted to it at the next ACK', () => {
    // A host-bound path after a cut: min_rtt 0.3 ms, 100 segments per ms delivered, the window at 40 segments.
    const lifted = (rtt: number, limited = true) => {
      const cc = new CubicLt(MSS);
      for (let i = 0; i < 60; i++) cc.onRateSample(sample({ rtt: i < 4 ? 0.3 : rtt, rate: 100 * MSS, newlyAcked: MSS, priorDelivered: -1 }), i / 4, 40 * MSS);
      cc.cwnd = cc.ssthresh = 40 * MSS; // congestion avoidance: CUBIC alone adds about a segment per round
      cc.onAck(MSS, 16, rtt, 40 * MSS, limited);
      return cc.cwnd / MSS;
    };
    expect(lifted(0.5)).toBe(130); // 100 per ms × (0.3 + 1) ms
    // Not with a queue of 1 ms or more standing (the delay test's business), nor when the window goes unused.
    expect(lifted(1.5)).toBeLessThan(41);
    expect(lifted(0.5, false)).toBe(40);
  });
});
