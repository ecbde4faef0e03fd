import { describe, expect, it } from 'vitest';
import { DEFAULT_RTO } from '../../src/protocol/recovery/rtt.js';
import { activeOpen, type Script } from '../helpers/script.js';

/** Times at which segments starting at relative `seq` were sent, stepping the clock 1 ms at a time. */
function sendTimes(s: Script, seq: number, until: number): number[] {
  const times: number[] = [];
  for (let t = s.now; t <= until; t++) {
    s.at(t);
    for (const seg of s.discard()) if (s.describe(seg).seq === seq && seg.payload.length > 0) times.push(t);
  }
  return times;
}

describe('retransmission timer (RFC 6298)', () => {
  it('RFC 6298 §2.1, §5.5, §2.5: 1 s before any sample, doubling per timeout, capped at rtoMax, then ETIMEDOUT', () => {
    const s = activeOpen({ options: { rto: { ...DEFAULT_RTO, rtoMax: 5000 }, maxRetries: 6 } }, { noSample: true });
    s.at(100).write(100);
    s.expect({ flags: 'A', seq: 1, len: 100 });
    const times = sendTimes(s, 1, 40_000);
    expect(times).toEqual([1100, 3100, 7100, 12100, 17100, 22100]);
    expect(s.state).toBe('CLOSED');
    expect(s.conn.error).toBe('ETIMEDOUT');
    expect(s.conn.stats.rtoTimeouts).toBe(6);
    const closedAt = s.events.findIndex((e) => e.type === 'error');
    expect(closedAt).toBeGreaterThan(-1);
  });

  it('RFC 6298 §2.2: the first sample R gives SRTT = R, RTTVAR = R/2, RTO = R + 4·R/2', () => {
    // No tail-loss probe: it would pre-empt the RTO (RFC 8985 §7.2); this test isolates the RTO.
    const s = activeOpen({ options: { tlp: false } }, { rtt: 100 });
    expect(s.conn.rtt.srtt).toBe(100);
    expect(s.conn.rtt.rttvar).toBe(50);
    expect(s.conn.rtt.rto).toBe(300);
    s.at(1000).write(100);
    s.discard();
    expect(sendTimes(s, 1, 3200)).toEqual([1300, 1900, 3100]);
  });

  it('RFC 6298 §2.4: the RTO is clamped to rtoMin, and backs off by doubling from there (§5.5)', () => {
    const s = activeOpen({ options: { tlp: false } }, { rtt: 10 });
    expect(s.conn.rtt.rto).toBe(s.conn.opts.rto.rtoMin);
    s.at(1000).write(100);
    s.discard();
    expect(sendTimes(s, 1, 2500)).toEqual([1200, 1600, 2400]);
  });

  it('RFC 6298 §5.3: an ACK of new data restarts the timer for what is still outstanding', () => {
    const s = activeOpen({ options: { noDelay: true } }, { noSample: true });
    s.at(1000).write(2000);
    s.discard();
    s.at(1500).inject({ flags: 'A', seq: 1, ack: 1001, tsEcr: 'none' });
    expect(sendTimes(s, 1001, 2600)).toEqual([2500]);
  });

  it('RFC 6298 §5.2: the timer stops when everything is acknowledged', () => {
    const s = activeOpen({ options: { keepAlive: false } }, { noSample: true }); // no keepalive timer either
    s.at(1000).write(100);
    s.discard();
    s.inject({ flags: 'A', seq: 1, ack: 101, tsEcr: 'none' });
    expect(s.drain().conn.pollTimeout()).toBe(Infinity);
  });

  it('RFC 6298 §5.7 / RFC 7323 §4: a fresh RTT sample after a retransmission ends the backoff', () => {
    const s = activeOpen({ options: { tlp: false } }, { rtt: 100 });
    s.at(1000).write(100);
    s.at(1300).at(1900);
    expect(s.conn.rtt.rto).toBe(1200);
    s.discard();
    s.at(1950).inject({ flags: 'A', seq: 1, ack: 101, tsEcr: 1900 }); // echoes the latest send: 50 ms
    expect(s.conn.rtt.backoff).toBe(0);
    expect(s.conn.rtt.rto).toBeLessThan(600);
  });

  it('RFC 8985 §7.2-7.3: with an RTT estimate, a tail-loss probe re-sends the last segment before the RTO', () => {
    const s = activeOpen({ options: { noDelay: true } }, { rtt: 100 });
    s.at(1000).write(1000);
    s.expect({ flags: 'A', seq: 1, len: 1000 });
    // PTO = 2·SRTT + the delayed-ACK allowance for a single segment; the RTO (300 ms) comes later.
    const pto = 200 + s.conn.opts.delayedAck;
    expect(pto).toBeLessThan(300);
    s.at(1000 + pto - 1).expectNothing();
    s.at(1000 + pto);
    s.expect({ flags: 'A', seq: 1, len: 1000 });
    expect(s.conn.stats.tailLossProbes).toBe(1);
    expect(s.conn.stats.rtoTimeouts).toBe(0);
  });
});

describe('fast retransmit and NewReno (RFC 5681, RFC 6582)', () => {
  /** No SACK either way: classic duplicate-ACK loss detection. */
  function noSack(): Script {
    const s = activeOpen({ options: { sack: false, noDelay: true } }, { noSample: true, sack: false, win: 100_000 });
    s.at(100).write(5000);
    expect(s.discard().length).toBe(5);
    return s;
  }
  const dupAck = (s: Script, ack: number) => s.inject({ flags: 'A', seq: 1, ack, tsEcr: 'none' });

  it('RFC 5681 §3.2: fast retransmit on the third duplicate ACK, not before', () => {
    const s = noSack();
    s.at(110);
    dupAck(s, 1001); // new data ACKed
    dupAck(s, 1001);
    dupAck(s, 1001);
    s.expectNothing();
    dupAck(s, 1001);
    s.expect({ flags: 'A', seq: 1001, len: 1000 });
    expect(s.conn.stats.fastRetransmits).toBe(1);
    expect(s.conn.stats.rtoTimeouts).toBe(0);
  });

  it('RFC 5681 §3.2 eq. 4: loss halves the window (ssthresh = FlightSize/2) and recovery ends at it', () => {
    const s = noSack();
    s.at(110);
    dupAck(s, 1001);
    const flight = s.conn.bytesInFlight;
    expect(flight).toBe(4000);
    for (let i = 0; i < 3; i++) dupAck(s, 1001);
    expect(s.conn.cc.ssthresh).toBe(flight / 2);
    expect(s.conn.cwnd).toBe(flight / 2);
    s.discard();
    dupAck(s, 5001); // the full ACK ends recovery
    expect(s.conn.cwnd).toBe(flight / 2);
  });

  it('RFC 6582 §3.2 step 5: a partial ACK retransmits the next hole at once, whatever the window', () => {
    const s = activeOpen({ options: { sack: false, noDelay: true } }, { noSample: true, sack: false, win: 100_000 });
    s.at(100).write(10_000);
    expect(s.discard().length).toBe(10);
    s.at(110);
    // Segments 1 and 2 are lost: the eight others draw duplicate ACKs for 1.
    for (let i = 0; i < 3; i++) dupAck(s, 1);
    s.expect({ flags: 'A', seq: 1, len: 1000 });
    for (let i = 0; i < 5; i++) dupAck(s, 1);
    s.expectNothing();
    s.at(120);
    dupAck(s, 1001); // partial: the retransmission filled the first hole only
    s.expect({ flags: 'A', seq: 1001, len: 1000 });
    dupAck(s, 10_001);
    expect(s.conn.bytesInFlight).toBe(0);
    expect(s.conn.stats.rtoTimeouts).toBe(0);
  });

  it('RFC 6675: with SACK, the segment below three SACKed segments is retransmitted', () => {
    const s = activeOpen({ options: { noDelay: true } }, { noSample: true, win: 100_000 });
    s.at(100).write(5000);
    s.discard();
    s.at(110);
    for (const end of [2001, 3001, 4001]) s.inject({ flags: 'A', seq: 1, ack: 1, sack: [[1001, end]], tsEcr: 'none' });
    s.expect({ flags: 'A', seq: 1, len: 1000 });
    expect(s.conn.stats.fastRetransmits).toBe(1);
  });

  it('RFC 3465: slow start grows cwnd by the bytes acknowledged, however many segments an ACK covers', () => {
    const s = activeOpen({ options: { noDelay: true } }, { noSample: true, win: 1_000_000 });
    const iw = s.conn.cwnd;
    expect(iw).toBe(10 * 1000);
    s.at(100).write(40_000);
    s.discard();
    s.inject({ flags: 'A', seq: 1, ack: 1001, tsEcr: 'none' });
    expect(s.conn.cwnd).toBe(iw + 1000);
    s.inject({ flags: 'A', seq: 1, ack: 5001, tsEcr: 'none' }); // four segments at once: all four count
    expect(s.conn.cwnd).toBe(iw + 5000);
    // The window opened by the ACKs is filled: flight = cwnd.
    s.discard();
    expect(s.conn.bytesInFlight).toBe(s.conn.cwnd);
  });

  it('RFC 7661: a window the peer or the application keeps from filling does not grow', () => {
    // The peer's window (3000) keeps flight at three segments, under half the 10-segment cwnd.
    const s = activeOpen({ options: { noDelay: true } }, { noSample: true, win: 3000 });
    const iw = s.conn.cwnd;
    const una0 = s.conn.sndUna;
    s.at(100).write(40_000);
    for (let ack = 1001; ack <= 30_001; ack += 1000) {
      s.discard();
      s.inject({ flags: 'A', seq: 1, ack, win: 3000, tsEcr: 'none' });
    }
    expect(s.conn.sndUna - una0).toBe(30_000);
    expect(s.conn.cwnd).toBe(iw);
    // The application writes less than the window: no growth either.
    const a = activeOpen({ options: { noDelay: true } }, { noSample: true, win: 1_000_000 });
    const aUna0 = a.conn.sndUna;
    for (let i = 0; i < 20; i++) {
      a.at(100 + i).write(2000);
      a.discard();
      a.inject({ flags: 'A', seq: 1, ack: 1 + 2000 * (i + 1), tsEcr: 'none' });
    }
    expect(a.conn.sndUna - aUna0).toBe(40_000);
    expect(a.conn.cwnd).toBe(iw);
  });

  it('RFC 5681 §3.1 eq. 4: after an RTO, cwnd is one segment and ssthresh half the flight', () => {
    const s = activeOpen({ options: { noDelay: true } }, { noSample: true, win: 100_000 });
    s.at(100).write(6000);
    s.discard();
    const flight = s.conn.bytesInFlight;
    s.at(100 + 1000);
    expect(s.conn.stats.rtoTimeouts).toBe(1);
    expect(s.conn.cwnd).toBe(1000);
    expect(s.conn.cc.ssthresh).toBe(flight / 2);
    // Only the first segment is resent: one segment of window.
    expect(s.discard().map((seg) => s.describe(seg).seq)).toEqual([1]);
  });
});
