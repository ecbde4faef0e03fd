// Loss probes, IMMEDIATE_ACK and exact RTT samples, scripted segment by segment.
//
// IMMEDIATE_ACK (0x10) is not a flag letter of the script harness: the tests read it from the
// raw segment that `expect` returns, and set it on an injected segment through `build`.
import { describe, expect, it } from 'vitest';
import { IMMEDIATE_ACK, type Segment } from '../../src/wire/segment.js';
import { activeOpen, type Script, type SegSpec } from '../helpers/script.js';

const imm = (seg: Segment): boolean => (seg.flags & IMMEDIATE_ACK) !== 0;

/** Inject `spec` with IMMEDIATE_ACK set (the harness's flag letters cannot say it). */
function injectImmediate(s: Script, spec: SegSpec): void {
  const seg = s.build(spec);
  seg.flags |= IMMEDIATE_ACK;
  s.conn.handleSegment(seg, s.now);
  s.drain();
}

/** A noDelay connection (SRTT `peer.rtt` from the handshake) that writes `bytes` at t=1000; it, and what went out then. */
function writeAt1000(bytes: number, peer: { rtt: number; win?: number }): { s: Script; first: Segment[] } {
  const s = activeOpen({ options: { noDelay: true } }, peer);
  s.at(1000).write(bytes);
  return { s, first: s.discard() };
}

/** Every transmission between now and `until` (1 ms steps, or `step`), as [time, relative seq, len, IMMEDIATE_ACK]. */
function sends(s: Script, until: number, step = 1): Array<[number, number, number, boolean]> {
  const out: Array<[number, number, number, boolean]> = [];
  for (let t = s.now; t <= until; t += step) {
    s.at(t);
    for (const seg of s.discard()) out.push([t, s.describe(seg).seq, seg.payload.length, imm(seg)]);
  }
  return out;
}

describe('IMMEDIATE_ACK on retransmissions (sender)', () => {
  it('RFC 6298 §5.4 + IMMEDIATE_ACK: a first transmission and a pure ACK do not carry IMMEDIATE_ACK; the RTO retransmission does', () => {
    // SRTT 100 ms, RTO 300 ms; no probe, so the RTO fires.
    const s = activeOpen({ options: { noDelay: true, tlp: false } }, { rtt: 100 });
    expect(imm(s.sent[s.sent.length - 1]!)).toBe(false); // the handshake's ACK
    s.at(1000).write(1000);
    expect(imm(s.expect({ flags: 'A', seq: 1, len: 1000 }))).toBe(false);
    s.at(1299).expectNothing();
    s.at(1300);
    expect(imm(s.expect({ flags: 'A', seq: 1, len: 1000 }))).toBe(true);
    expect(s.conn.stats.rtoTimeouts).toBe(1);
  });

  it('RFC 6675 fast retransmit (SACK) carries IMMEDIATE_ACK; the new data it releases does not', () => {
    const s = activeOpen({ options: { noDelay: true } }, { noSample: true, win: 100_000 });
    s.at(100).write(6000);
    expect(s.discard().map(imm)).toEqual([false, false, false, false, false, false]);
    s.at(110).inject({ flags: 'A', seq: 1, ack: 1, sack: [[1001, 4001]], tsEcr: 'none' });
    expect(imm(s.expect({ flags: 'A', seq: 1, len: 1000 }))).toBe(true);
    expect(s.conn.stats.fastRetransmits).toBe(1);
    s.expectNothing();
  });

  it('RFC 5681 §3.2 fast retransmit on the third duplicate ACK and RFC 6582 partial-ACK retransmission carry IMMEDIATE_ACK', () => {
    const s = activeOpen({ options: { sack: false, noDelay: true } }, { noSample: true, sack: false, win: 100_000 });
    s.at(100).write(10_000);
    expect(s.discard().some(imm)).toBe(false);
    s.at(110);
    for (let i = 0; i < 3; i++) s.inject({ flags: 'A', seq: 1, ack: 1, tsEcr: 'none' });
    expect(imm(s.expect({ flags: 'A', seq: 1, len: 1000 }))).toBe(true);
    s.at(120).inject({ flags: 'A', seq: 1, ack: 1001, tsEcr: 'none' }); // partial ACK: the next hole
    expect(imm(s.expect({ flags: 'A', seq: 1001, len: 1000 }))).toBe(true);
  });
});

describe('IMMEDIATE_ACK (receiver)', () => {
  it('RFC 9293 §3.8.6.3 + IMMEDIATE_ACK: an in-order segment asking for IMMEDIATE_ACK is ACKed at once; without it the delayed-ACK timer waits', () => {
    const s = activeOpen();
    const delay = s.conn.opts.delayedAck;
    expect(delay).toBeGreaterThan(1);
    // Without the flag: one segment, the ACK waits for the delayed-ACK timer (RFC 9293 §3.8.6.3).
    s.at(100).inject({ flags: 'A', seq: 1, ack: 1, len: 1000 });
    s.expectNothing();
    s.at(100 + delay - 1).expectNothing();
    s.at(100 + delay);
    s.expect({ flags: 'A', ack: 1001 });
    // With the flag: the same kind of segment is ACKed before any time passes.
    s.at(200);
    injectImmediate(s, { flags: 'A', seq: 1001, ack: 1, len: 1000 });
    s.expect({ flags: 'A', ack: 2001 });
    s.at(200 + delay).expectNothing(); // and no second, delayed ACK follows
  });
});

describe('loss probes (RFC 8985 §7, RFC 9002 §6.2)', () => {
  it('RFC 8985 §7.3: with unsent data that the peer window and cwnd allow, the probe is one NEW segment, with IMMEDIATE_ACK', () => {
    // Nagle holds the 500-byte tail while the first segment is unacknowledged: unsent data is there.
    const s = activeOpen({}, { rtt: 100 });
    s.at(1000).write(1500);
    s.expect({ flags: 'A', seq: 1, len: 1000 });
    s.expectNothing();
    // One segment in flight: PTO = 2·SRTT + the delayed-ACK allowance = 225 ms < RTO 300 ms.
    const pto = 200 + s.conn.opts.delayedAck;
    s.at(1000 + pto - 1).expectNothing();
    s.at(1000 + pto);
    expect(imm(s.expect({ flags: 'A', seq: 1001, len: 500 }))).toBe(true);
    s.expectNothing(); // the unacknowledged first segment is not resent
    expect(s.conn.stats.tailLossProbes).toBe(1);
    expect(s.conn.stats.retransmittedSegments).toBe(0);
  });

  it('RFC 8985 §7.3: when cwnd is full the probe resends the highest unSACKed segment instead', () => {
    const { s, first } = writeAt1000(20_000, { rtt: 100, win: 100_000 });
    expect(first.length).toBe(10); // the initial window: 10 000 bytes unsent remain
    expect(s.conn.bytesInFlight).toBe(s.conn.cwnd);
    s.at(1199).expectNothing();
    s.at(1200); // PTO = 2·SRTT with several segments in flight
    expect(imm(s.expect({ flags: 'A', seq: 9001, len: 1000 }))).toBe(true);
    s.expectNothing();
    expect(s.conn.stats.tailLossProbes).toBe(1);
    expect(s.conn.stats.retransmittedSegments).toBe(1);
  });

  it('RFC 8985 §7.3: when the peer window is full the probe resends the highest segment instead', () => {
    const { s, first } = writeAt1000(20_000, { rtt: 100, win: 5000 });
    expect(first.length).toBe(5); // the peer window, not cwnd (10 000), limits
    expect(s.conn.bytesInFlight).toBeLessThan(s.conn.cwnd);
    s.at(1200);
    expect(imm(s.expect({ flags: 'A', seq: 4001, len: 1000 }))).toBe(true);
    s.expectNothing();
  });

  it('RFC 9002 §6.2.1: unanswered probes back off (PTO, 2·PTO, 4·PTO), stop after three, and the RTO follows', () => {
    // SRTT 10 ms: PTO = 20 ms with two segments in flight; RTO = 200 ms (rtoMin).
    const { s } = writeAt1000(2000, { rtt: 10 });
    expect(s.conn.rtt.rto).toBe(200);
    expect(sends(s, 1600)).toEqual([
      [1020, 1001, 1000, true], // probe 1 at PTO
      [1060, 1001, 1000, true], // probe 2 at 2·PTO after it
      [1140, 1001, 1000, true], // probe 3 at 4·PTO after that; no fourth
      [1340, 1, 1000, true], // the RTO, one RTO after the last probe re-armed it
    ]);
    expect(s.conn.stats.tailLossProbes).toBe(3);
    expect(s.conn.stats.rtoTimeouts).toBe(1);
  });

  it('RFC 8985 §7.2: no probe in RTO recovery: after a timeout only the backed-off RTO runs until an ACK comes', () => {
    // SRTT 100 ms: PTO 200 ms, RTO 300 ms. A probe at 1200, the RTO at 1500. Its retransmission
    // would arm a second probe for 1900 (2·PTO, before the doubled RTO at 2100); none comes.
    const { s } = writeAt1000(2000, { rtt: 100 });
    expect(sends(s, 2199)).toEqual([
      [1200, 1001, 1000, true],
      [1500, 1, 1000, true],
      [2100, 1, 1000, true],
    ]);
    expect(s.conn.stats.tailLossProbes).toBe(1);
    expect(s.conn.stats.rtoTimeouts).toBe(2);
    // An ACK with an RTT sample (100 ms) ends it: segment 1001, presumed lost at the timeout, goes
    // again at once, and a probe follows one PTO later (2·SRTT + the delayed-ACK allowance).
    s.at(2200).inject({ flags: 'A', seq: 1, ack: 1001, tsEcr: 2100 });
    expect(sends(s, 2500)).toEqual([
      [2200, 1001, 1000, true],
      [2425, 1001, 1000, true],
    ]);
    expect(s.conn.stats.tailLossProbes).toBe(2);
  });

  it('RFC 8985 §7.2: only the first probe may stand in for the RTO; a later one due at or after the RTO is not armed', () => {
    // SRTT 100 ms: PTO 200 ms, RTO 300 ms. Probe 1 at 1200 re-arms the RTO for 1500; probe 2 would be 1600.
    const { s } = writeAt1000(2000, { rtt: 100 });
    expect(sends(s, 1600)).toEqual([
      [1200, 1001, 1000, true],
      [1500, 1, 1000, true], // the RTO itself, not a second probe in its place
    ]);
    expect(s.conn.stats.tailLossProbes).toBe(1);
    expect(s.conn.stats.rtoTimeouts).toBe(1);
  });

  it('RFC 9002 §6.2.1: an ACK that advances SND.UNA resets the probe count, so the next probe comes one PTO later', () => {
    const { s } = writeAt1000(3000, { rtt: 10 });
    expect(sends(s, 1060)).toEqual([
      [1020, 2001, 1000, true],
      [1060, 2001, 1000, true],
    ]);
    // Backed off twice: the third probe would be due at 1140. An ACK of the first segment (no
    // timestamp echo, so SRTT stays 10 ms) resets the count: the next probe is due at 1065 + 20.
    s.at(1065).inject({ flags: 'A', seq: 1, ack: 1001, tsEcr: 'none' });
    expect(s.conn.rtt.srtt).toBe(10);
    expect(sends(s, 1140)).toEqual([
      [1085, 2001, 1000, true],
      [1125, 2001, 1000, true], // and backs off afresh from there
    ]);
    expect(s.conn.stats.rtoTimeouts).toBe(0);
  });

  it('RFC 9002 §6.2: a probe is armed in fast recovery too: a lost retransmission at the tail is resent after 2·SRTT, not at the RTO', () => {
    // SRTT 10 ms, RTO 200 ms.
    const { s, first } = writeAt1000(6000, { rtt: 10, win: 100_000 });
    expect(first.length).toBe(6);
    // Segments 1 and 2 lost, 3-6 SACKed: both are lost (RFC 6675) and resent at once.
    s.at(1010).inject({ flags: 'A', seq: 1, ack: 1, sack: [[2001, 6001]] });
    expect(s.discard().map((seg) => [s.describe(seg).seq, imm(seg)])).toEqual([
      [1, true],
      [1001, true],
    ]);
    // The first retransmission arrives (a partial ACK, in recovery: before the PTO armed at the
    // original send, 1020, fires); the second retransmission is lost.
    s.at(1015).inject({ flags: 'A', seq: 1, ack: 1001, sack: [[2001, 6001]], tsEcr: 'none' });
    s.expectNothing();
    expect(s.conn.rtt.srtt).toBe(10);
    // The probe, armed by the partial ACK in recovery: 2·SRTT later, the highest unSACKed segment.
    // (Not armed in recovery, or refused there, the loss would wait for the RTO at 1215.)
    expect(sends(s, 1039)).toEqual([[1035, 1001, 1000, true]]);
    expect(s.conn.stats.tailLossProbes).toBe(1);
    s.at(1040).inject({ flags: 'A', seq: 1, ack: 6001 });
    expect(s.conn.bytesInFlight).toBe(0);
    expect(s.conn.stats.rtoTimeouts).toBe(0);
  });
});

describe('RTT samples (RFC 6298 §3, RFC 7323 §4)', () => {
  it('samples are exact to the clock: 0.25 ms round trips give SRTT 0.25 ms, not whole milliseconds', () => {
    const s = activeOpen({ options: { noDelay: true } }, { rtt: 0.25 });
    expect(s.conn.rtt.srtt).toBe(0.25); // the handshake's sample
    // Send at x.5, ACK at x.75: the millisecond timestamps would say 0 ms for each.
    for (let k = 0; k < 8; k++) {
      const t = 100 + k * 10;
      s.at(t + 0.5).write(100);
      s.discard();
      s.at(t + 0.75).inject({ flags: 'A', seq: 1, ack: 1 + 100 * (k + 1) });
      expect(s.conn.rtt.latest).toBe(0.25);
    }
    expect(s.conn.rtt.srtt).toBe(0.25);
    expect(s.conn.rtt.minRtt).toBe(0.25);
    // And across a millisecond boundary: sent at 200.75, ACKed at 201.5, 0.75 ms (the timestamps say 1).
    s.at(200.75).write(100);
    s.discard();
    s.at(201.5).inject({ flags: 'A', seq: 1, ack: 901 });
    expect(s.conn.rtt.latest).toBe(0.75);
  });

  it('the sample comes from the newest first transmission the ACK delivers, not the echoed timestamp', () => {
    const s = activeOpen({ options: { noDelay: true } }, { rtt: 10 });
    s.at(100).write(1000);
    s.at(105).write(1000);
    expect(s.discard().length).toBe(2);
    // A delayed ACK of both echoes the first segment's timestamp (RFC 7323 §4.3): 15 ms by it,
    // and by the oldest segment's send time; the newest segment was sent 10 ms before.
    s.at(115).inject({ flags: 'A', seq: 1, ack: 2001, tsEcr: 100 });
    expect(s.conn.stats.retransmittedSegments).toBe(0); // no probe came in between (Karn would exclude it)
    expect(s.conn.rtt.latest).toBe(10);
  });

  it('a SACK-only ACK (SND.UNA unchanged) gives a sample; with no timestamp echo it gives none', () => {
    // No loss probe: it would resend the third segment, which Karn's rule then excludes.
    const s = activeOpen({ options: { noDelay: true, tlp: false } }, { rtt: 10, win: 100_000 });
    s.at(100).write(3000);
    s.discard();
    s.at(130).inject({ flags: 'A', seq: 1, ack: 1, sack: [[1001, 2001]] });
    expect(s.conn.rtt.latest).toBe(30);
    expect(s.conn.rtt.srtt).toBe(0.875 * 10 + 0.125 * 30);
    const srtt = s.conn.rtt.srtt;
    // The third segment, a first transmission, newly SACKed 40 ms after it was sent, but the ACK echoes no timestamp.
    s.at(140).inject({ flags: 'A', seq: 1, ack: 1, sack: [[1001, 3001]], tsEcr: 'none' });
    expect(s.sent.filter((g) => s.describe(g).seq === 2001).length).toBe(1); // sent once: a first transmission
    expect(s.conn.rtt.latest).toBe(30);
    expect(s.conn.rtt.srtt).toBe(srtt);
  });

  it("Karn's rule: an ACK that delivers only a retransmission gives no send-time sample; the echoed timestamp may", () => {
    // SRTT 10 ms, RTO 200 ms; no probe, so the RTO retransmits.
    const s = activeOpen({ options: { noDelay: true, tlp: false } }, { rtt: 10 });
    s.at(100).write(1000);
    s.discard();
    s.at(300);
    expect(imm(s.expect({ flags: 'A', seq: 1, len: 1000 }))).toBe(true);
    expect(s.conn.rtt.backoff).toBe(1);
    // ACKed 50 ms after the retransmission: the send time cannot say which transmission this
    // answers, the echo can: 50 ms, and the backoff ends (RFC 6298 §5.7).
    s.at(350).inject({ flags: 'A', seq: 1, ack: 1001, tsEcr: 300 });
    expect(s.conn.rtt.latest).toBe(50);
    expect(s.conn.rtt.backoff).toBe(0);
    // ACKed 0.5 ms after a retransmission, echoing it: under one tick. While the RTO is backed off
    // this counts as 1 ms (no other sample can end the backoff: the send-time one is Karn's).
    s.at(400).write(1000);
    s.discard();
    const rto = s.conn.rtt.rto;
    s.at(400 + rto);
    s.expect({ flags: 'A', seq: 1001, len: 1000 });
    expect(s.conn.rtt.backoff).toBe(1);
    s.at(400 + rto + 0.5).inject({ flags: 'A', seq: 1, ack: 2001, tsEcr: 400 + rto });
    expect(s.conn.rtt.latest).toBe(1);
    expect(s.conn.rtt.backoff).toBe(0);
  });
});
