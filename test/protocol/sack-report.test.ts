// What the receiver reports in SACK (RFC 2018 §4) when ACKs are batched per datagram burst.
import { describe, expect, it } from 'vitest';
import { MAX_SACK_BLOCKS, MAX_SACK_BLOCKS_ON_DATA } from '../../src/wire/segment.js';
import { activeOpen, type Script } from '../helpers/script.js';

const MSS = 1000;

/** Inject `n` segments, each above a fresh one-segment hole: [1+2k·MSS+MSS, ...) for k = 0..n-1. */
function holes(s: Script, n: number): void {
  for (let k = 0; k < n; k++) s.inject({ flags: 'A', seq: 1 + (2 * k + 1) * MSS, ack: 1, len: MSS });
}

const starts = (s: Script) => s.discard().map((seg) => s.describe(seg).sack.map(([a]) => a));

describe('SACK reports under batched ACKs', () => {
  it('a burst of out-of-order segments draws one ACK at the end of the batch, newest block first', () => {
    const s = activeOpen({ batchAcks: true, options: { mss: MSS } });
    s.discard();
    s.at(10);
    holes(s, 3);
    s.expectNothing(); // held for the end of the batch

    s.endBatch();
    expect(starts(s)).toEqual([[5001, 3001, 1001]]);
  });

  it('when a burst opens more holes than half an ACK can hold, the ACK goes at once so no block goes unreported', () => {
    const s = activeOpen({ batchAcks: true, options: { mss: MSS } });
    s.discard();
    s.at(10);
    const n = MAX_SACK_BLOCKS + 4;
    holes(s, n);
    s.endBatch();
    const acks = starts(s);
    expect(acks.length).toBeGreaterThan(1);
    for (const a of acks) expect(a.length).toBeLessThanOrEqual(MAX_SACK_BLOCKS);
    // Every block was in some report.
    const seen = new Set(acks.flat());
    for (let k = 0; k < n; k++) expect(seen.has(1 + (2 * k + 1) * MSS)).toBe(true);
  });

  it('a pure ACK carries up to MAX_SACK_BLOCKS blocks, a segment with data at most MAX_SACK_BLOCKS_ON_DATA', () => {
    const s = activeOpen({ options: { mss: MSS, noDelay: true } });
    s.discard();
    s.at(10);
    holes(s, 6);
    const acks = starts(s);
    expect(acks[acks.length - 1]).toEqual([11001, 9001, 7001, 5001, 3001, 1001]);
    s.write(100);
    const data = s.expect({ flags: 'A', len: 100 });
    expect(data.sack?.length).toBe(MAX_SACK_BLOCKS_ON_DATA);
    expect(s.describe(data).sack.map(([a]) => a)).toEqual([11001, 9001, 7001, 5001]);
  });

  it('RFC 2883: a duplicate below RCV.NXT is reported once, as the first SACK block', () => {
    const s = activeOpen({ options: { mss: MSS } });
    s.discard();
    s.at(10).inject({ flags: 'A', seq: 1, ack: 1, len: MSS });
    s.at(20).inject({ flags: 'A', seq: 1001, ack: 1, len: MSS });
    s.discard();
    s.at(30).inject({ flags: 'A', seq: 1, ack: 1, len: MSS }); // again
    expect(s.describe(s.expect({ flags: 'A', ack: 2001 })).sack).toEqual([[1, 1001]]);
    expect(s.conn.stats.duplicateSegments).toBe(1);
    s.at(40).inject({ flags: 'A', seq: 2001, ack: 1, len: 500 });
    s.at(40 + 25);
    expect(s.discard().every((seg) => s.describe(seg).sack.length === 0)).toBe(true); // once
  });

  it('RFC 2883 §4: a duplicate of held out-of-order data is the first block, inside the second', () => {
    const s = activeOpen({ options: { mss: MSS } });
    s.discard();
    s.at(10).inject({ flags: 'A', seq: 1001, ack: 1, len: MSS });
    s.inject({ flags: 'A', seq: 5001, ack: 1, len: MSS });
    s.discard();
    s.at(20).inject({ flags: 'A', seq: 1001, ack: 1, len: MSS });
    expect(s.describe(s.expect({ flags: 'A', ack: 1 })).sack).toEqual([
      [1001, 2001],
      [1001, 2001],
      [5001, 6001],
    ]);
    expect(s.conn.stats.duplicateSegments).toBe(1);
  });

  it('RFC 2883 / RFC 8985 §6.2: a D-SACK counts, and the sender then waits out the reordering window instead of DupThresh', () => {
    const s = activeOpen({ options: { mss: MSS, noDelay: true } }, { rtt: 8, win: 100_000 });
    s.at(100).write(2 * MSS);
    s.discard();
    // The peer got segment 1 twice: the ACK reports it as D-SACK below the cumulative ACK.
    s.at(108).inject({ flags: 'A', seq: 1, ack: 2001, sack: [[1, 1001]] });
    expect(s.conn.stats.dsacksReceived).toBe(1);
    s.at(200).write(5 * MSS);
    s.discard();
    // Three segments SACKed above the first: without the D-SACK, a fast retransmit at once.
    s.at(208).inject({ flags: 'A', seq: 1, ack: 2001, sack: [[3001, 6001]] });
    s.expectNothing();
    expect(s.conn.stats.fastRetransmits).toBe(0);
    s.at(215);
    s.expect({ flags: 'A', seq: 2001, len: MSS });
  });

  it('RFC 3708 / RFC 4015: when D-SACK reports every retransmission of a recovery duplicate, its reduction is undone', () => {
    const s = activeOpen({ options: { mss: MSS, noDelay: true } }, { rtt: 8, win: 100_000 });
    s.at(100).write(5 * MSS);
    s.discard();
    const before = s.conn.cwnd;
    // 2..5 SACKed above 1: fast retransmit of 1, and the window is cut.
    s.at(108).inject({ flags: 'A', seq: 1, ack: 1, sack: [[1001, 5001]] });
    s.expect({ flags: 'A', seq: 1, len: MSS });
    expect(s.conn.cwnd).toBeLessThan(before);
    // The original was only late: everything is acknowledged and the retransmission reported duplicate.
    s.at(110).inject({ flags: 'A', seq: 1, ack: 5001, sack: [[1, 1001]] });
    expect(s.conn.stats.spuriousRecoveries).toBe(1);
    expect(s.conn.cwnd).toBeGreaterThanOrEqual(before);
  });

  it('a recovery with one retransmission not reported duplicate keeps its reduction', () => {
    const s = activeOpen({ options: { mss: MSS, noDelay: true } }, { rtt: 8, win: 100_000 });
    s.at(100).write(6 * MSS);
    s.discard();
    // 1 and 3 missing: both retransmitted.
    s.at(108).inject({
      flags: 'A',
      seq: 1,
      ack: 1,
      sack: [
        [3001, 6001],
        [1001, 2001],
      ],
    });
    expect(s.discard().map((seg) => s.describe(seg).seq)).toEqual([1, 2001]);
    const reduced = s.conn.cwnd;
    // Only 1's retransmission was a duplicate; 3's was needed.
    s.at(110).inject({ flags: 'A', seq: 1, ack: 6001, sack: [[1, 1001]] });
    expect(s.conn.stats.dsacksReceived).toBe(1);
    expect(s.conn.stats.spuriousRecoveries).toBe(0);
    expect(s.conn.cwnd).toBeLessThanOrEqual(reduced + 2 * MSS);
  });

  it('RFC 6675 §2: with SACK, an ACK that SACKs nothing new (a D-SACK alone, or the same blocks again) is not a duplicate ACK', () => {
    const s = activeOpen({ options: { mss: MSS, noDelay: true } }, { rtt: 8, win: 100_000 });
    s.at(100).write(4 * MSS);
    s.discard();
    s.at(101).inject({ flags: 'A', seq: 1, ack: 1, sack: [[1001, 2001]] }); // new: the first duplicate ACK
    for (let i = 0; i < 3; i++) s.inject({ flags: 'A', seq: 1, ack: 1, sack: [[1001, 2001]] }); // nothing new
    s.inject({
      flags: 'A',
      seq: 1,
      ack: 1,
      sack: [
        [1001, 2001],
        [1001, 2001],
      ],
    }); // a D-SACK: inside the second block
    expect(s.conn.stats.fastRetransmits).toBe(0);
    s.expectNothing();
    // Two more ACKs that SACK new data make three duplicates: fast retransmit.
    s.inject({ flags: 'A', seq: 1, ack: 1, sack: [[1001, 3001]] });
    s.inject({ flags: 'A', seq: 1, ack: 1, sack: [[1001, 4001]] });
    expect(s.conn.stats.fastRetransmits).toBe(1);
    s.expect({ flags: 'A', seq: 1, len: MSS });
  });
});
