// Rules found missing in review; each test fails without its fix.
import { describe, expect, it } from 'vitest';
import { activeOpen, script } from '../helpers/script.js';

describe('edge cases', () => {
  it('RFC 5681 §2: answers to zero-window probes are not duplicate ACKs (no fast retransmit)', () => {
    const s = activeOpen({ options: { noDelay: true } }, { rtt: 100, win: 2000 });
    s.at(1000).write(5000);
    s.discard(); // two segments fill the window
    s.inject({ flags: 'A', seq: 1, ack: 2001, win: 0 }); // all ACKed, window closed
    s.discard();
    // The persist timer probes; the peer answers each probe with the same zero-window ACK.
    for (let t = 1000; t < 20_000; t += 50) {
      s.at(t);
      if (s.discard().length > 0) s.inject({ flags: 'A', seq: 1, ack: 2001, win: 0 });
    }
    expect(s.conn.stats.fastRetransmits).toBe(0);
    expect(s.conn.cc.ssthresh).toBe(Infinity);
  });

  it('RFC 9293 §3.10.4: a close in SYN_RECEIVED still reports the connection established when the SYN is ACKed', () => {
    const s = script();
    s.connect().inject({ flags: 'S', seq: 0 }).discard(); // simultaneous open: SYN_RECEIVED
    s.shutdown();
    expect(s.state).toBe('FIN_WAIT_1');
    expect(s.has('established')).toBe(false);
    s.discard();
    s.inject({ flags: 'A', seq: 1, ack: 2 }); // ACKs our SYN and our FIN
    expect(s.has('established')).toBe(true);
    expect(s.state).toBe('FIN_WAIT_2');
  });

  it('RFC 9293 §3.10.7.4 / RFC 5681 §4.2: a FIN above a hole is ACKed at once', () => {
    const s = activeOpen();
    s.at(100).inject({ flags: 'FA', seq: 1001, ack: 1 }); // bare FIN, bytes 1..1000 missing
    s.expect({ flags: 'A', seq: 1, ack: 1 });
    expect(s.has('end')).toBe(false);
    s.inject({ flags: 'A', seq: 1, ack: 1, len: 1000 }); // the hole fills: data, then the FIN
    s.expect({ flags: 'A', ack: 1002 });
    expect(s.has('end')).toBe(true);
  });

  it('RFC 5961 §4.2: an out-of-window SYN earns a counted, rate-limited challenge ACK', () => {
    const s = activeOpen({ options: { challengeAckLimit: 2 } });
    s.at(100);
    for (let i = 0; i < 5; i++) s.inject({ flags: 'S', seq: 3_000_000 + i }); // beyond the 1 MiB window
    expect(s.discard().length).toBe(2);
    expect(s.conn.stats.challengeAcks).toBe(2);
    expect(s.state).toBe('ESTABLISHED');
  });

  it('RFC 8985 §7.2: the probe timer restarts with each new transmission', () => {
    const s = activeOpen({ options: { noDelay: true } }, { rtt: 100, win: 100_000 });
    s.at(1000).write(1000);
    s.discard();
    s.at(1050).write(1000); // new data 50 ms later: the PTO counts from here
    s.discard();
    // PTO = 2·SRTT = 200 ms with two segments in flight, from t = 1050 (not 1000); the RTO is at 1300.
    s.at(1249).expectNothing();
    s.at(1250);
    s.expect({ flags: 'A', seq: 1001, len: 1000 });
    expect(s.conn.stats.tailLossProbes).toBe(1);
  });
});

describe('tail-loss probe and RTO ordering', () => {
  it('RFC 8985 §7.2: a probe due no later than the RTO pre-empts it (cwnd is not collapsed)', () => {
    // SRTT 100 ms, RTO 300 ms; a single segment: PTO = 200 + a 150 ms ACK-delay allowance = 350 > RTO.
    const s = activeOpen({ options: { noDelay: true, delayedAck: 150 } }, { rtt: 100 });
    const cwnd = s.conn.cwnd;
    s.at(1000).write(1000);
    s.discard();
    s.at(1299).expectNothing();
    s.at(1300); // the RTO's time: the probe goes instead
    s.expect({ flags: 'A', seq: 1, len: 1000 });
    expect(s.conn.stats.tailLossProbes).toBe(1);
    expect(s.conn.stats.rtoTimeouts).toBe(0);
    expect(s.conn.cwnd).toBe(cwnd);
    // With no answer, the RTO follows one RTO after the probe.
    s.at(1599).expectNothing();
    s.at(1600);
    s.expect({ flags: 'A', seq: 1, len: 1000 });
    expect(s.conn.stats.rtoTimeouts).toBe(1);
  });
});

describe('scoreboard bookkeeping', () => {
  it('counters match the retransmission queue through a zero-window persist episode', () => {
    type Sb = {
      entries: ReadonlyArray<{ retransmits: number; sacked: boolean; lost: boolean; inPipe: boolean; len: number }>;
      sackedCount: number;
      lostCount: number;
      pipe: number;
    };
    const s = activeOpen({}, { win: 2000, noSample: true });
    const sb = (s.conn as unknown as { sb: Sb }).sb;
    const check = () => {
      const q = sb.entries;
      expect(sb.sackedCount).toBe(q.filter((e) => e.sacked).length);
      expect(sb.lostCount).toBe(q.filter((e) => e.lost).length);
      expect(sb.pipe).toBe(q.filter((e) => e.inPipe).reduce((n, e) => n + e.len, 0));
    };
    s.at(100).write(5000);
    s.discard();
    s.at(150).inject({ flags: 'A', seq: 1, ack: 2001, win: 0, tsEcr: 'none' });
    for (let t = 150; t < 10_000; t += 100) {
      s.at(t);
      if (s.discard().length > 0) s.inject({ flags: 'A', seq: 1, ack: 2001, win: 0, tsEcr: 'none' }); // probe refused
      check();
    }
    s.inject({ flags: 'A', seq: 1, ack: 2002, win: 8000, tsEcr: 'none' }); // the window reopens, the probe byte taken
    check();
    s.discard();
    s.inject({ flags: 'A', seq: 1, ack: 5001, win: 8000, tsEcr: 'none' });
    check();
  });
});
