// Invariant 14: on a link with a fixed delay, no RTT sample exceeds the path's RTT plus the
// peer's maximum ACK delay, at any loss rate up to 50 %: a sample never spans a hole filled
// by a retransmission (RFC 6298 §3, Karn; RFC 7323 §4.1), nor a lost SYN.
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RttEstimator } from '../../src/protocol/recovery/rtt.js';
import { simTransfer } from '../helpers/sim-transfer.js';

/** One-way delay, ms: the path's RTT is twice it. */
const ONE_WAY = 50;
/** The peer's delayed-ACK timer (the default), plus 2 ms of timer granularity (1 ms each side). */
const BOUND = 2 * ONE_WAY + 25 + 2;

function samplesOf(run: () => void): number[] {
  const samples: number[] = [];
  const orig = RttEstimator.prototype.sample;
  const spy = vi.spyOn(RttEstimator.prototype, 'sample').mockImplementation(function (this: RttEstimator, r: number) {
    samples.push(r);
    orig.call(this, r);
  });
  try {
    run();
  } finally {
    spy.mockRestore();
  }
  return samples;
}

describe('RTT samples under loss (invariant 14)', () => {
  afterEach(() => vi.restoreAllMocks());

  it('no RTT sample exceeds the path RTT plus the peer ACK delay, at 0-50 % loss each way', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.double({ min: 0, max: 0.5, noNaN: true }), (seed, loss) => {
        let received = 0;
        const samples = samplesOf(() => {
          received = simTransfer(64 * 1024, { seed, link: { delay: [ONE_WAY, ONE_WAY], loss }, until: 600_000 }).received;
        });
        if (received > 0) expect(samples.length).toBeGreaterThan(0); // (at 50 % each way a handshake may fail)
        const worst = Math.max(0, ...samples);
        if (worst > BOUND) throw new Error(`seed ${seed} loss ${loss}: sample ${worst} ms > ${BOUND} ms`);
      }),
      { seed: 14, numRuns: 40, endOnFailure: true },
    );
  });

  it('after a lost SYN-ACK the first sample is timed from the SYN that was answered, not the first one', () => {
    // The server's SYN-ACK is lost; the client's SYN goes again at 1 s and is answered at once.
    const samples = samplesOf(() => {
      simTransfer(4 * 1024, {
        link: { delay: [ONE_WAY, ONE_WAY] },
        onStart: (net) => {
          net.setLink('10.0.0.2', '10.0.0.1', { blackhole: true });
          net.at(1010, () => net.setLink('10.0.0.2', '10.0.0.1', { blackhole: false }));
        },
      });
    });
    expect(samples.length).toBeGreaterThan(0);
    expect(Math.max(...samples)).toBeLessThanOrEqual(BOUND);
  });
});

describe('RTT samples from echoed timestamps (RFC 7323 §4.1, §4.3)', () => {
  it('a duplicate ACK for out-of-order data echoes an older segment: no sample from its age (seed 878235, 50 % loss each way, 100 ms path)', () => {
    // The peer's ACK of a retransmission was lost; its next ACK, sent when segments sent after that
    // retransmission arrived out of order, SACKs them and echoes the retransmission's TSval: 200 ms old.
    const samples = samplesOf(() => simTransfer(64 * 1024, { seed: 878235, link: { delay: [ONE_WAY, ONE_WAY], loss: 0.4999999999999993 }, until: 600_000 }));
    expect(samples.length).toBeGreaterThan(0);
    expect(Math.max(...samples)).toBeLessThanOrEqual(BOUND);
  });

  it('an ACK of a retransmission that SACKs only data sent before it still gives a sample from its echo', async () => {
    const { activeOpen } = await import('../helpers/script.js');
    const s = activeOpen({ options: { noDelay: true, tlp: false } }, { rtt: 10 });
    s.at(100).write(3000);
    s.discard(); // three segments, all lost
    const rto = s.conn.rtt.rto;
    s.at(100 + rto).discard(); // the first again, on the RTO
    // Its ACK, 20 ms later, SACKs the third segment (sent at 100, before the copy it echoes).
    s.at(100 + rto + 20).inject({ flags: 'A', seq: 1, ack: 1001, sack: [[2001, 3001]] });
    expect(s.conn.rtt.latest).toBe(20);
  });
});

describe('RTT samples on a sub-millisecond path', () => {
  it('the ACK of a retransmission echoing it within the same tick ends the RTO backoff (counted as a 1 ms sample, as Linux)', async () => {
    const { activeOpen } = await import('../helpers/script.js');
    const s = activeOpen({ options: { noDelay: true, tlp: false } }, { rtt: 0.2 });
    s.at(100).write(1000);
    s.discard(); // lost
    const first = s.conn.rtt.rto;
    s.at(100 + first).discard(); // the copy sent on the RTO is lost too
    const second = s.conn.rtt.rto;
    s.at(100 + first + second).expect({ flags: 'A', seq: 1, len: 1000 }); // and this one arrives
    expect(s.conn.rtt.backoff).toBe(2);
    // Answered 0.2 ms later: the echo is of this copy (no ambiguity), its age under a tick. Without a
    // sample, nothing else would end the backoff: no new data follows, so no send-time sample either.
    s.at(100 + first + second + 0.2).inject({ flags: 'A', seq: 1, ack: 1001 });
    expect(s.conn.rtt.latest).toBe(1);
    expect(s.conn.rtt.backoff).toBe(0);
  });
});

describe('timestamp echo only on segments that bring news (invariant 14, both directions)', () => {
  it('a data segment repeating an ACK already sent carries no echo; one sent while an ACK is owed echoes', async () => {
    const { activeOpen } = await import('../helpers/script.js');
    const s = activeOpen({ options: { noDelay: true } });
    // Two full segments: the second draws the ACK at once; the app then writes: a repeat of that ACK.
    s.at(100).inject({ flags: 'A', seq: 1, ack: 1, len: 1200, tsVal: 100 });
    s.at(101).inject({ flags: 'A', seq: 1201, ack: 1, len: 1200, tsVal: 101 });
    s.endBatch();
    expect(s.expect({ flags: 'A', ack: 2401 }).tsEcr).not.toBe(0);
    s.at(300).write(10);
    expect(s.expect({ flags: 'A', ack: 2401, len: 10 }).tsEcr).toBe(0);
    // A lone segment: its ACK is owed (delayed) when the app answers, so the answer echoes.
    s.at(330).inject({ flags: 'A', seq: 2401, ack: 11 }); // our 10 bytes are acknowledged
    s.at(400).inject({ flags: 'A', seq: 2401, ack: 11, len: 100, tsVal: 400 });
    s.at(405).write(10);
    const r = s.expect({ flags: 'A', seq: 11, ack: 2501, len: 10 });
    expect(r.tsEcr).not.toBe(0);
  });
});
