import { describe, expect, it } from 'vitest';
import { activeOpen, passiveOpen } from '../helpers/script.js';

// After activeOpen: our next seq is 1, the peer's is 1; the receive window is rcvBuf.
const opts = { options: { rcvBuf: 8000 } };

describe('RST and SYN validation (RFC 5961)', () => {
  it('RFC 5961 §3.2: an RST whose sequence number is exactly RCV.NXT resets the connection', () => {
    const s = activeOpen(opts);
    s.at(100).inject({ flags: 'R', seq: 1 });
    expect(s.state).toBe('CLOSED');
    expect(s.eventsOf('error')).toEqual([{ type: 'error', code: 'ECONNRESET' }]);
    expect(s.has('closed')).toBe(true);
    s.expectNothing();
  });

  it('RFC 5961 §3.2: an in-window RST that is not exact earns a challenge ACK and changes nothing', () => {
    const s = activeOpen(opts);
    s.at(100).inject({ flags: 'R', seq: 2 });
    s.expect({ flags: 'A', seq: 1, ack: 1 });
    expect(s.state).toBe('ESTABLISHED');
    expect(s.conn.stats.challengeAcks).toBe(1);
    // The RST with the sequence number from the challenge ACK is then accepted.
    s.inject({ flags: 'R', seq: 1 });
    expect(s.state).toBe('CLOSED');
  });

  it('RFC 5961 §3.2: an RST at the last in-window sequence number still only earns a challenge ACK', () => {
    const s = activeOpen(opts);
    s.inject({ flags: 'R', seq: 1 + 8000 - 1 });
    s.expect({ flags: 'A', seq: 1, ack: 1 });
    expect(s.state).toBe('ESTABLISHED');
  });

  it('RFC 9293 §3.10.7.4: an out-of-window RST is dropped silently', () => {
    const s = activeOpen(opts);
    for (const seq of [1 + 8000, 1 + 100_000, 0, -1000, 0x7fffffff]) s.inject({ flags: 'R', seq });
    s.inject({ flags: 'RA', seq: 9000, ack: 1 });
    expect(s.state).toBe('ESTABLISHED');
    s.expectNothing();
    expect(s.conn.stats.challengeAcks).toBe(0);
  });

  it('RFC 9293 §3.10.7: an RST is never answered with an RST', () => {
    const s = activeOpen(opts);
    // Unacceptable ACK fields, bad seq, every combination with RST: no reply at all.
    for (const seq of [1, 2, 50_000]) for (const ack of [0, 1, 99]) s.inject({ flags: 'RA', seq, ack, srcId: 42 });
    expect(s.sent.filter((seg) => seg.flags & 4)).toEqual([]);
  });

  it('RFC 5961 §4.2: a SYN in a synchronized state earns a challenge ACK, the connection stays', () => {
    const s = activeOpen(opts);
    s.at(50).inject({ flags: 'S', seq: 4000 });
    s.expect({ flags: 'A', seq: 1, ack: 1 });
    expect(s.state).toBe('ESTABLISHED');
    expect(s.conn.stats.challengeAcks).toBe(1);
    expect(s.has('error')).toBe(false);
  });

  it('RFC 5961 §4.2: a SYN-ACK with a new ISN in ESTABLISHED earns a challenge ACK', () => {
    const s = passiveOpen(opts);
    s.inject({ flags: 'SA', seq: 10, ack: 1 });
    s.expect({ flags: 'A', seq: 1, ack: 1 });
    expect(s.state).toBe('ESTABLISHED');
  });

  it('RFC 5961 §5.2: an ACK for data never sent earns a challenge ACK and is dropped', () => {
    const s = activeOpen(opts);
    s.inject({ flags: 'A', seq: 1, ack: 500, data: 'x' });
    s.expect({ flags: 'A', seq: 1, ack: 1 });
    expect(s.conn.readableLength).toBe(0);
    expect(s.conn.sndUna).toBe(s.conn.iss + 1);
  });

  it('RFC 5961 §7: at most challengeAckLimit challenge ACKs per second', () => {
    const s = activeOpen({ options: { rcvBuf: 8000, challengeAckLimit: 10 } });
    s.at(1000);
    for (let i = 0; i < 25; i++) s.inject({ flags: 'R', seq: 2 + i });
    expect(s.discard().length).toBe(10);
    s.at(1999);
    s.inject({ flags: 'S', seq: 100 });
    s.expectNothing();
    s.at(2000);
    for (let i = 0; i < 3; i++) s.inject({ flags: 'R', seq: 2 + i });
    expect(s.discard().length).toBe(3);
    expect(s.conn.stats.challengeAcks).toBe(13);
    expect(s.state).toBe('ESTABLISHED');
  });

  it('RFC 9293 §3.10.7.4: exact RST in CLOSE_WAIT gives ECONNRESET, in LAST_ACK closes without error', () => {
    const a = activeOpen(opts);
    a.inject({ flags: 'FA', seq: 1, ack: 1 }).discard();
    expect(a.state).toBe('CLOSE_WAIT');
    a.inject({ flags: 'R', seq: 2 });
    expect(a.conn.error).toBe('ECONNRESET');

    const b = activeOpen(opts);
    b.inject({ flags: 'FA', seq: 1, ack: 1 });
    b.shutdown().discard();
    expect(b.state).toBe('LAST_ACK');
    b.inject({ flags: 'R', seq: 2 });
    expect(b.state).toBe('CLOSED');
    expect(b.has('error')).toBe(false);
  });

  it('RFC 9293 §3.10.5: abort sends <SEQ=SND.NXT><CTL=RST,ACK> and closes; no second RST', () => {
    const s = activeOpen(opts);
    s.write('abc');
    s.discard();
    s.abort();
    s.expect({ flags: 'RA', seq: 4, ack: 1 });
    expect(s.state).toBe('CLOSED');
    s.abort();
    s.inject({ flags: 'A', seq: 1, ack: 4 });
    s.expectNothing();
    expect(s.drain().conn.pollTimeout()).toBe(Infinity);
  });
});
