import { describe, expect, it } from 'vitest';
import { bbr } from '../../src/protocol/cc/bbr.js';
import { newReno, type CongestionFactory } from '../../src/protocol/cc/congestion.js';
import { cubic } from '../../src/protocol/cc/cubic.js';
import { IMMEDIATE_ACK } from '../../src/wire/segment.js';
import { activeOpen, passiveOpen, script, type Script } from '../helpers/script.js';

describe('opening a connection', () => {
  it('RFC 9293 §3.5 Fig. 6: active open sends SYN with MSS and SACK-permitted, ACKs the SYN-ACK', () => {
    const s = script({ iss: 1000, peerIss: 5000 });
    s.connect();
    expect(s.state).toBe('SYN_SENT');
    s.expect({ flags: 'S', seq: 0, mss: 1000, sackPermitted: true, tsVal: 0, dstId: 0, srcId: s.conn.localId });
    s.at(30).inject({ flags: 'SA', seq: 0, ack: 1, mss: 1000, sackPermitted: true, win: 20000 });
    s.expect({ flags: 'A', seq: 1, ack: 1, dstId: s.remoteId, tsVal: 30, tsEcr: 30 });
    expect(s.state).toBe('ESTABLISHED');
    expect(s.has('established')).toBe(true);
    expect(s.conn.sndWnd).toBe(20000);
    expect(s.conn.remoteId).toBe(s.remoteId);
    s.expectNothing();
  });

  it('RFC 9293 §3.5: passive open answers SYN with SYN-ACK and is ESTABLISHED on the ACK', () => {
    const s = script({ iss: 1000, peerIss: 5000 });
    s.listen();
    expect(s.state).toBe('LISTEN');
    s.inject({ flags: 'S', seq: 0, mss: 1000, sackPermitted: true, tsVal: 0 });
    expect(s.state).toBe('SYN_RECEIVED');
    s.expect({ flags: 'SA', seq: 0, ack: 1, mss: 1000, sackPermitted: true, tsEcr: 0, dstId: s.remoteId });
    s.at(20).inject({ flags: 'A', seq: 1, ack: 1 });
    expect(s.state).toBe('ESTABLISHED');
    expect(s.path).toEqual(['CLOSED', 'LISTEN', 'SYN_RECEIVED', 'ESTABLISHED']);
    s.expectNothing();
  });

  it('RFC 9293 §3.5: a retransmitted SYN in SYN_RECEIVED gets the same SYN-ACK again', () => {
    const s = script();
    s.listen().inject({ flags: 'S', seq: 0 });
    s.expect({ flags: 'SA', seq: 0, ack: 1 });
    s.at(500).inject({ flags: 'S', seq: 0 });
    s.expect({ flags: 'SA', seq: 0, ack: 1 });
    expect(s.state).toBe('SYN_RECEIVED');
  });

  it('RFC 9293 §3.5 Fig. 8: simultaneous open goes SYN_SENT → SYN_RECEIVED → ESTABLISHED', () => {
    const s = script({ iss: 100, peerIss: 300 });
    s.connect().expect({ flags: 'S', seq: 0 });
    s.at(5).inject({ flags: 'S', seq: 0 });
    expect(s.state).toBe('SYN_RECEIVED');
    s.expect({ flags: 'SA', seq: 0, ack: 1 });
    s.at(6).inject({ flags: 'SA', seq: 0, ack: 1, tsEcr: 5 }); // echoing our SYN-ACK, the copy that differs
    expect(s.state).toBe('ESTABLISHED');
    expect(s.path).toEqual(['CLOSED', 'SYN_SENT', 'SYN_RECEIVED', 'ESTABLISHED']);
    // Our SYN-ACK repeated the SYN as the open requires: no loss, the initial window stands (RFC 5681 §3.1).
    expect(s.conn.stats.handshakeLossRestarts).toBe(0);
    // Both directions work.
    s.write('hi');
    s.expect({ flags: 'A', seq: 1, ack: 1, data: 'hi' });
    s.inject({ flags: 'A', seq: 1, ack: 3, data: 'yo' });
    expect(Buffer.from(s.read()).toString()).toBe('yo');
  });

  it('RFC 6298 §5.5 / RFC 9293 §3.8.1: SYN retransmitted with exponential backoff (at most 8 s apart), then ETIMEDOUT after the time synRetries doublings take', () => {
    const s = script({ options: { synRetries: 5 } });
    s.connect().expect({ flags: 'S', seq: 0, tsVal: 0 });
    const times: number[] = [];
    for (let t = 0; t <= 70_000; t += 250) {
      s.at(t);
      for (const seg of s.discard()) {
        expect(s.describe(seg)).toMatchObject({ flags: 'S', seq: 0 });
        times.push(t);
      }
    }
    // 1, 2, 4, 8 s apart, then 8 s apart: more tries over a lossy path within the same budget.
    expect(times).toEqual([1000, 3000, 7000, 15000, 23000, 31000, 39000, 47000, 55000]);
    expect(s.state).toBe('CLOSED');
    expect(s.eventsOf('error')).toEqual([{ type: 'error', code: 'ETIMEDOUT' }]);
    expect(s.transitions.at(-1)).toEqual(['SYN_SENT', 'CLOSED']);
    // The error comes at 63 s, as five doublings from 1 s take (1 + 2 + 4 + 8 + 16 + 32).
    expect(s.drain().conn.pollTimeout()).toBe(Infinity);
  });

  it("RFC 6298 §3 (Karn): a retransmitted SYN's ACK gives no RTT sample from the first send; the echoed timestamp does", () => {
    const s = script();
    s.connect().expect({ flags: 'S', seq: 0, tsVal: 0 });
    s.at(1000).expect({ flags: 'S', seq: 0, tsVal: 1000 });
    // The SYN-ACK answers the second SYN 30 ms after it left: the RTT is 30, not 1030.
    s.at(1030).inject({ flags: 'SA', seq: 0, ack: 1, tsEcr: 1000 });
    expect(s.state).toBe('ESTABLISHED');
    expect(s.conn.rtt.srtt).toBe(30);
  });

  it('RFC 6298 §3 (Karn): likewise for a retransmitted SYN-ACK and the ACK that completes a passive open', () => {
    const s = script();
    s.listen().inject({ flags: 'S', seq: 0 }).expect({ flags: 'SA', seq: 0, ack: 1, tsVal: 0 });
    s.at(1000).expect({ flags: 'SA', seq: 0, ack: 1, tsVal: 1000 });
    s.at(1020).inject({ flags: 'A', seq: 1, ack: 1, tsEcr: 1000 });
    expect(s.state).toBe('ESTABLISHED');
    expect(s.conn.rtt.srtt).toBe(20);
  });

  /**
   * SYN at 0 (tsVal 0), resent by the timeout at 1000 (tsVal 1000), answered at `at` by a SYN-ACK
   * echoing `tsEcr`; then 20 000 bytes written. Returns the script and the data segments sent at once.
   */
  function synResentThenAnswered(at: number, tsEcr: number, congestion: CongestionFactory = newReno): { s: Script; flight: number } {
    const s = script({ options: { mss: 1000, congestion } });
    s.connect().expect({ flags: 'S', seq: 0, tsVal: 0 });
    s.at(1000).expect({ flags: 'S', seq: 0, tsVal: 1000 });
    s.at(at).inject({ flags: 'SA', seq: 0, ack: 1, tsEcr }).discard();
    const cwnd = s.conn.cwnd;
    s.write(20_000);
    const flight = s.discard().filter((x) => x.payload.length > 0).length;
    expect(flight * 1000).toBe(cwnd);
    return { s, flight };
  }

  it.each([
    ['NewReno', newReno],
    ['CUBIC', cubic],
    ['BBR', bbr],
  ])('RFC 5681 §3.1 / RFC 6928 §2: after a lost SYN, sending starts from one segment, not the initial window (%s)', (_name, congestion) => {
    const { s, flight } = synResentThenAnswered(1030, 1000, congestion); // the first SYN was lost: the answer echoes the second
    expect(flight).toBe(1);
    expect(s.conn.stats.handshakeLossRestarts).toBe(1);
  });

  it('RFC 5681 §3.1: a SYN resent by a timeout that fired early, answered first, keeps the initial window', () => {
    const { s, flight } = synResentThenAnswered(1200, 0); // the first SYN was only slow: the answer echoes it
    expect(flight).toBe(10);
    expect(s.conn.stats.handshakeLossRestarts).toBe(0);
  });

  it('RFC 5681 §3.1: a lost SYN-ACK (the peer sends its SYN again) makes the passive side start from one segment', () => {
    const s = script({ options: { mss: 1000 } });
    s.listen().inject({ flags: 'S', seq: 0, tsVal: 5 }).expect({ flags: 'SA', tsVal: 0 });
    s.at(700).inject({ flags: 'S', seq: 0, tsVal: 700 }).expect({ flags: 'SA', tsVal: 700 }); // the first was lost
    s.at(720).inject({ flags: 'A', seq: 1, ack: 1, tsVal: 720, tsEcr: 700 });
    expect(s.state).toBe('ESTABLISHED');
    expect(s.conn.cwnd).toBe(1000);
  });

  it('RFC 6298 §5.7: data after a SYN timeout starts with a 3 s RTO while there is no RTT sample', () => {
    const s = script();
    s.connect().discard();
    s.at(1000).discard();
    // A SYN-ACK that echoes no timestamp of ours: no RTT sample at all (Karn rules out the send times).
    s.at(1030).inject({ flags: 'SA', seq: 0, ack: 1, tsEcr: 'none' }).discard();
    expect(s.conn.rtt.hasSample).toBe(false);
    expect(s.conn.rtt.rto).toBe(3000);
  });

  it('RFC 7323 §4.1: a SYN-ACK echoing our resent SYN gives an exact RTT sample from that copy, even under one tick', () => {
    const s = script();
    s.connect().discard();
    s.at(1000).discard(); // the SYN again
    // Answered 0.4 ms later (a loopback path): the echo alone says "< 1 ms", the copy's send time says 0.4.
    s.at(1000.4).inject({ flags: 'SA', seq: 0, ack: 1 }).discard();
    expect(s.conn.rtt.hasSample).toBe(true);
    expect(s.conn.rtt.srtt).toBeCloseTo(0.4);
    expect(s.conn.rtt.rto).toBeLessThan(3000); // not RFC 6298 §5.7's fallback: there is a sample
  });

  it('RFC 7323 §4.1: no such sample when the SYN-ACK answers the first SYN (Karn: which copy it answers is known, its timing is not)', () => {
    const first = script();
    first.connect().discard();
    first.at(1000).discard();
    first.at(1000.4).inject({ flags: 'SA', seq: 0, ack: 1, tsEcr: first.tsOffset }).discard(); // echoes the SYN of t=0
    expect(first.conn.rtt.hasSample).toBe(false);
    expect(first.conn.rtt.rto).toBe(3000);
  });

  it('the SYN-ACK that answers a duplicate SYN at once is not marked as a retransmission (the peer may time it); one resent on our timer is', () => {
    const s = script();
    s.listen().inject({ flags: 'S', seq: 0, sackPermitted: true });
    s.expect({ flags: 'SA', seq: 0, ack: 1 }); // lost
    s.at(500).inject({ flags: 'S', seq: 0, sackPermitted: true, tsVal: 500 }); // the peer's SYN again
    const answer = s.expect({ flags: 'SA', seq: 0, ack: 1 });
    expect(answer.flags & IMMEDIATE_ACK).toBe(0);
    expect(answer.tsEcr).toBe(s.peerTsOffset + 500); // it echoes the copy it answers
    s.at(1500); // our own timer (1 s after the answer)
    const resent = s.expect({ flags: 'SA', seq: 0, ack: 1 });
    expect(resent.flags & IMMEDIATE_ACK).not.toBe(0);
  });

  it('with no RTT sample and the 3 s RTO, a loss probe goes out 1 s after the first data (as Linux), not 3 s', () => {
    const s = script();
    s.connect().discard();
    s.at(1000).discard();
    s.at(1030).inject({ flags: 'SA', seq: 0, ack: 1, tsEcr: 'none' }).discard(); // no sample: RTO 3 s
    s.write(500);
    s.expect({ flags: 'A', seq: 1, len: 500 }); // lost
    s.at(2029).expectNothing();
    s.at(2030).expect({ flags: 'A', seq: 1, len: 500 }); // the probe: the last segment again
    expect(s.conn.stats.tailLossProbes).toBe(1);
    s.at(4029).expectNothing(); // the RTO still stands at 3 s
  });

  it('RFC 6298 §5.5: the SYN timeout happens exactly when the last backed-off RTO expires', () => {
    const s = script({ options: { synRetries: 2 } });
    s.connect().discard();
    s.at(6999);
    expect(s.state).toBe('SYN_SENT');
    expect(s.discard().length).toBe(2);
    s.at(7000);
    expect(s.state).toBe('CLOSED');
    expect(s.conn.error).toBe('ETIMEDOUT');
    s.expectNothing();
  });

  it('RFC 9293 §3.10.7.3: RST with an acceptable ACK in SYN_SENT refuses the connection', () => {
    const s = script();
    s.connect().discard();
    s.at(10).inject({ flags: 'RA', seq: 0, ack: 1 });
    expect(s.state).toBe('CLOSED');
    expect(s.eventsOf('error')).toEqual([{ type: 'error', code: 'ECONNREFUSED' }]);
    s.expectNothing();
  });

  it('RFC 9293 §3.10.7.3: RST without ACK, or with an unacceptable ACK, in SYN_SENT is dropped unanswered', () => {
    const s = script();
    s.connect().discard();
    s.inject({ flags: 'R', seq: 0 });
    s.inject({ flags: 'RA', seq: 0, ack: 2 });
    s.inject({ flags: 'RA', seq: 0, ack: 0 });
    expect(s.state).toBe('SYN_SENT');
    s.expectNothing();
  });

  it('RFC 9293 §3.10.7.3: an unacceptable ACK in SYN_SENT gets <SEQ=SEG.ACK><CTL=RST>', () => {
    const s = script();
    s.connect().discard();
    s.inject({ flags: 'SA', seq: 0, ack: 77 });
    s.expect({ flags: 'R', seq: 77 });
    expect(s.state).toBe('SYN_SENT');
  });

  it('RFC 9293 §3.10.7.4: an ACK for something unsent in SYN_RECEIVED gets RST, the connection stays', () => {
    const s = script();
    s.listen().inject({ flags: 'S', seq: 0 }).discard();
    s.inject({ flags: 'A', seq: 1, ack: 9 });
    s.expect({ flags: 'R', seq: 9 });
    expect(s.state).toBe('SYN_RECEIVED');
  });

  it('RFC 9293 §3.10.7.4: exact RST in a passive SYN_RECEIVED returns to LISTEN (the endpoint) and closes without error', () => {
    const s = script();
    s.listen().inject({ flags: 'S', seq: 0 }).discard();
    s.inject({ flags: 'R', seq: 1 });
    expect(s.path).toEqual(['CLOSED', 'LISTEN', 'SYN_RECEIVED', 'LISTEN', 'CLOSED']);
    expect(s.eventsOf('error')).toEqual([]);
  });

  it('RFC 9293 §3.10.7.4: exact RST in an active SYN_RECEIVED (simultaneous open) is ECONNREFUSED', () => {
    const s = script();
    s.connect().inject({ flags: 'S', seq: 0 }).discard();
    s.inject({ flags: 'R', seq: 1 });
    expect(s.state).toBe('CLOSED');
    expect(s.conn.error).toBe('ECONNREFUSED');
  });

  it('RFC 9293 §3.10.4: a FIN queued before the handshake completes is sent after it (active open)', () => {
    const s = script();
    s.connect().discard();
    expect(s.write('abc')).toBe(3);
    s.shutdown();
    s.expectNothing();
    s.inject({ flags: 'SA', seq: 0, ack: 1 });
    s.expect({ flags: 'FA', seq: 1, ack: 1, data: 'abc' }); // the ACK of the SYN-ACK rides on it
    s.expectNothing();
    expect(s.state).toBe('FIN_WAIT_1');
  });

  it('RFC 9293 §3.10.4: a FIN queued in SYN_RECEIVED behind data is sent with the data and leads to FIN_WAIT_1', () => {
    // Simultaneous open, with data written while the SYN was outstanding.
    const s = script();
    s.connect().discard();
    s.write('abc');
    s.shutdown();
    s.inject({ flags: 'S', seq: 0 });
    s.expect({ flags: 'SA', seq: 0, ack: 1 });
    expect(s.state).toBe('SYN_RECEIVED');
    s.inject({ flags: 'SA', seq: 0, ack: 1 });
    s.expect({ flags: 'FA', seq: 1, data: 'abc' });
    expect(s.state).toBe('FIN_WAIT_1');
    s.inject({ flags: 'A', seq: 1, ack: 5 });
    expect(s.state).toBe('FIN_WAIT_2');
    expect(s.conn.stats.invalidTransitions).toBe(0);
  });

  it('RFC 9293 §3.10.4: shutdown in SYN_RECEIVED with nothing queued sends FIN at once (FIN_WAIT_1)', () => {
    const s = script();
    s.listen().inject({ flags: 'S', seq: 0 }).discard();
    s.shutdown();
    expect(s.state).toBe('FIN_WAIT_1');
    s.expect({ flags: 'FA', seq: 1, ack: 1, len: 0 });
    s.inject({ flags: 'A', seq: 1, ack: 2 });
    expect(s.state).toBe('FIN_WAIT_2');
  });

  it('RFC 9293 §3.10.4: close in SYN_SENT or LISTEN closes silently', () => {
    const a = script();
    a.connect().discard();
    a.close();
    expect(a.state).toBe('CLOSED');
    a.expectNothing();
    const b = script();
    b.listen().close();
    expect(b.path).toEqual(['CLOSED', 'LISTEN', 'CLOSED']);
    b.expectNothing();
  });

  it('RFC 9293 §3.10.1: connect from LISTEN turns the listener into an active opener', () => {
    const s = script();
    s.listen().connect();
    expect(s.path).toEqual(['CLOSED', 'LISTEN', 'SYN_SENT']);
    s.expect({ flags: 'S', seq: 0 });
  });

  it('RFC 9293 §3.4: handshake works with both ISNs just below 2^32', () => {
    const s = activeOpen({ iss: 0xffffffff, peerIss: 0xfffffffe });
    s.write('wrap');
    s.expect({ flags: 'A', seq: 1, ack: 1, data: 'wrap' });
    expect(s.conn.sndNxt).toBe(4); // 0xffffffff + 1 + 4
    s.inject({ flags: 'A', seq: 1, ack: 5, data: 'back' });
    expect(Buffer.from(s.read()).toString()).toBe('back');
    expect(s.conn.rcvNxt).toBe(3); // 0xfffffffe + 1 + 4
    expect(s.conn.sndUna).toBe(4);
  });

  it('passiveOpen helper reaches ESTABLISHED', () => {
    const s = passiveOpen();
    expect(s.state).toBe('ESTABLISHED');
    s.expectNothing();
  });
});
