import { describe, expect, it } from 'vitest';
import { activeOpen, pattern } from '../helpers/script.js';

describe('receiving: ACK policy and reassembly', () => {
  it('RFC 9293 §3.8.6.3 / RFC 5681 §4.2: ACK at the second full-sized segment, not the first', () => {
    const s = activeOpen();
    s.at(100).inject({ flags: 'A', seq: 1, ack: 1, len: 1000 });
    s.expectNothing();
    s.at(101).inject({ flags: 'A', seq: 1001, ack: 1, len: 1000 });
    s.expect({ flags: 'A', seq: 1, ack: 2001 });
    s.expectNothing();
  });

  it('RFC 9293 §3.8.6.3: a lone segment is ACKed by the delayed-ACK timer, well under 500 ms', () => {
    const s = activeOpen();
    const delay = s.conn.opts.delayedAck;
    expect(delay).toBeGreaterThan(0);
    expect(delay).toBeLessThan(500);
    s.at(100).inject({ flags: 'A', seq: 1, ack: 1, len: 10 });
    s.at(100 + delay - 1).expectNothing();
    s.at(100 + delay);
    s.expect({ flags: 'A', seq: 1, ack: 11, tsVal: 100 + delay });
  });

  it('RFC 5681 §4.2: out-of-order data is ACKed at once with a SACK block (RFC 2018 §4)', () => {
    const s = activeOpen();
    s.at(100).inject({ flags: 'A', seq: 1001, ack: 1, len: 1000 });
    s.expect({ flags: 'A', seq: 1, ack: 1, sack: [[1001, 2001]] });
    expect(s.conn.readableLength).toBe(0);
    s.inject({ flags: 'A', seq: 2001, ack: 1, len: 1000 });
    s.expect({ flags: 'A', ack: 1, sack: [[1001, 3001]] });
    // The hole is filled: everything is ACKed at once, no SACK left.
    s.inject({ flags: 'A', seq: 1, ack: 1, len: 1000 });
    s.expect({ flags: 'A', ack: 3001, sack: [] });
    expect(Array.from(s.read())).toEqual(Array.from(pattern(1, 3000)));
  });

  it('RFC 2018 §4: the first SACK block holds the most recently received segment', () => {
    const s = activeOpen();
    s.inject({ flags: 'A', seq: 3001, ack: 1, len: 1000 });
    s.expect({ flags: 'A', ack: 1, sack: [[3001, 4001]] });
    s.inject({ flags: 'A', seq: 1001, ack: 1, len: 1000 });
    s.expect({
      flags: 'A',
      ack: 1,
      sack: [
        [1001, 2001],
        [3001, 4001],
      ],
    });
    s.inject({ flags: 'A', seq: 5001, ack: 1, len: 500 });
    const seg = s.expect({ flags: 'A', ack: 1 });
    const blocks = s.describe(seg).sack;
    expect(blocks[0]).toEqual([5001, 5501]);
    expect([...blocks].sort((a, b) => a[0] - b[0])).toEqual([
      [1001, 2001],
      [3001, 4001],
      [5001, 5501],
    ]);
  });

  it('RFC 2018: no SACK blocks when the peer did not offer SACK-permitted', () => {
    const s = activeOpen({}, { sack: false });
    s.inject({ flags: 'A', seq: 1001, ack: 1, len: 100 });
    s.expect({ flags: 'A', ack: 1, sack: [] });
  });

  it('RFC 9293 §3.10.7.4: overlapping and duplicate segments are delivered exactly once', () => {
    const s = activeOpen();
    s.inject({ flags: 'A', seq: 501, ack: 1, len: 1000 }); // [501,1501)
    s.inject({ flags: 'A', seq: 1001, ack: 1, len: 1000 }); // overlaps, [1001,2001)
    s.inject({ flags: 'A', seq: 501, ack: 1, len: 1000 }); // duplicate
    s.inject({ flags: 'A', seq: 1, ack: 1, len: 700 }); // fills the hole and overlaps
    s.inject({ flags: 'A', seq: 1, ack: 1, len: 300 }); // old duplicate
    expect(Array.from(s.read())).toEqual(Array.from(pattern(1, 2000)));
    expect(s.conn.rcvNxt).toBe((s.peerIss + 2001) >>> 0);
    s.discard();
  });

  it('RFC 9293 §3.10.7.4: out-of-window data is dropped and answered with an ACK', () => {
    const s = activeOpen({ options: { rcvBuf: 4000 } });
    s.inject({ flags: 'A', seq: 4001, ack: 1, len: 100 });
    s.expect({ flags: 'A', ack: 1, sack: [] });
    s.inject({ flags: 'A', seq: -500, ack: 1, len: 100 }); // entirely old
    s.expect({ flags: 'A', ack: 1 });
    expect(s.conn.stats.duplicateSegments).toBe(2);
  });

  it('RFC 9293 §3.10.7.4: out-of-order bytes beyond the window are trimmed, not stored', () => {
    const s = activeOpen({ options: { rcvBuf: 4000 } });
    s.inject({ flags: 'A', seq: 3001, ack: 1, len: 2000 }); // [3001,5001), window ends at 4001
    s.expect({ flags: 'A', ack: 1, sack: [[3001, 4001]] });
  });

  it('RFC 7323 §5.3: PAWS drops a segment with an old timestamp and ACKs it', () => {
    const s = activeOpen();
    s.at(100).inject({ flags: 'A', seq: 1, ack: 1, data: 'new', tsVal: 100 });
    s.at(200).inject({ flags: 'A', seq: 4, ack: 1, data: 'old', tsVal: 50 });
    s.expect({ flags: 'A', ack: 4, tsEcr: 100 });
    expect(Buffer.from(s.read()).toString()).toBe('new');
    expect(s.conn.stats.duplicateSegments).toBe(1);
    // The same bytes with a fresh timestamp are accepted.
    s.inject({ flags: 'A', seq: 4, ack: 1, data: 'old', tsVal: 200 });
    expect(Buffer.from(s.read()).toString()).toBe('old');
  });

  it('RFC 7323 §5.3: a bare ACK failing PAWS is answered at most every 500 ms; data failing it always', () => {
    // Two ends whose timestamps each look old to the other would otherwise trade ACKs forever.
    const s = activeOpen();
    s.at(100).inject({ flags: 'A', seq: 1, ack: 1, tsVal: 100 });
    s.at(110).inject({ flags: 'A', seq: 1, ack: 1, tsVal: 50 });
    // Never the old timestamp; and no echo at all: the answer repeats an ACK already sent (no RTT from it).
    expect(s.expect({ flags: 'A', ack: 1 }).tsEcr).toBe(0);
    s.at(120).inject({ flags: 'A', seq: 1, ack: 1, tsVal: 50 });
    s.at(130).inject({ flags: 'A', seq: 1, ack: 1, tsVal: 60 });
    s.expectNothing();
    s.at(140).inject({ flags: 'A', seq: 1, ack: 1, data: 'old', tsVal: 60 });
    s.expect({ flags: 'A', ack: 1 });
    s.at(610).inject({ flags: 'A', seq: 1, ack: 1, tsVal: 50 });
    s.expect({ flags: 'A', ack: 1 });
    expect(s.conn.stats.duplicateSegments).toBe(5);
  });

  it('RFC 7323 §4.3: TSecr echoes the timestamp of the segment that advanced the left edge', () => {
    const s = activeOpen();
    s.at(100).inject({ flags: 'A', seq: 1, ack: 1, len: 1000, tsVal: 90 });
    s.at(101).inject({ flags: 'A', seq: 1001, ack: 1, len: 1000, tsVal: 91 });
    s.expect({ flags: 'A', ack: 2001, tsEcr: 90, tsVal: 101 });
  });
});

describe('receive window and flow control', () => {
  it('RFC 9293 §3.8.6: the window offered is the free receive buffer; a reader that stops closes it', () => {
    const s = activeOpen({ options: { rcvBuf: 4000 } });
    s.inject({ flags: 'A', seq: 1, ack: 1, len: 1000 });
    s.inject({ flags: 'A', seq: 1001, ack: 1, len: 1000 });
    s.expect({ flags: 'A', ack: 2001, win: 2000 });
    s.inject({ flags: 'A', seq: 2001, ack: 1, len: 1000 });
    s.inject({ flags: 'A', seq: 3001, ack: 1, len: 1000 });
    s.expect({ flags: 'A', ack: 4001, win: 0 });
    // More data does not fit: dropped, ACKed with the closed window.
    s.inject({ flags: 'A', seq: 4001, ack: 1, len: 1000 });
    s.expect({ flags: 'A', ack: 4001, win: 0 });
    expect(s.conn.readableLength).toBe(4000);
  });

  it('RFC 9293 §3.8.6.2.2: a small read is not advertised; a window update follows a useful one', () => {
    const s = activeOpen({ options: { rcvBuf: 4000 } });
    for (let i = 0; i < 4; i++) s.inject({ flags: 'A', seq: 1 + 1000 * i, ack: 1, len: 1000 });
    s.discard();
    expect(s.read(100).length).toBe(100);
    s.expectNothing();
    // A zero-window probe is answered, still with a zero window (100 bytes free is silly).
    s.inject({ flags: 'A', seq: 4001, ack: 1, len: 1 });
    s.expect({ flags: 'A', ack: 4001, win: 0 });
    expect(s.read(900).length).toBe(900);
    s.expect({ flags: 'A', ack: 4001, win: 1000 });
  });

  it('RFC 9293 §3.8.6.1: the sender probes a zero window with one byte on the persist timer', () => {
    const s = activeOpen({}, { win: 2000, noSample: true });
    s.at(100);
    expect(s.write(5000)).toBe(5000);
    s.expect({ flags: 'A', seq: 1, len: 1000 });
    s.expect({ flags: 'A', seq: 1001, len: 1000 });
    s.expectNothing();
    s.at(150).inject({ flags: 'A', seq: 1, ack: 2001, win: 0, tsEcr: 'none' });
    s.expectNothing();
    const rto = s.conn.rtt.rto;
    s.at(150 + rto - 1).expectNothing();
    s.at(150 + rto);
    s.expect({ flags: 'A', seq: 2001, len: 1 });
    // Still closed: the probe is not accepted; the next probe comes after a backed-off timer.
    s.wait(10).inject({ flags: 'A', seq: 1, ack: 2001, win: 0, tsEcr: 'none' });
    expect(s.state).toBe('ESTABLISHED');
    s.at(150 + rto + 2 * rto - 1).expectNothing();
    s.at(150 + 3 * rto);
    s.expect({ flags: 'A', seq: 2001, len: 1 });
    // The window reopens and takes the probe byte: the rest flows.
    s.inject({ flags: 'A', seq: 1, ack: 2002, win: 4000, tsEcr: 'none' });
    s.expect({ flags: 'A', seq: 2002, len: 1000 });
    s.expect({ flags: 'A', seq: 3002, len: 1000 });
    s.expectNothing(); // the 999-byte tail waits for the ACK (Nagle)
    s.inject({ flags: 'A', seq: 1, ack: 4002, win: 4000, tsEcr: 'none' });
    s.expect({ flags: 'A', seq: 4002, len: 999 });
    // The persist episode left the congestion window alone.
    expect(s.conn.cwnd).toBeGreaterThanOrEqual(10 * 1000);
  });

  it('RFC 9293 §3.8.6.1: a zero window held open indefinitely does not time the connection out', () => {
    const s = activeOpen({ options: { maxRetries: 3 } }, { win: 1000, noSample: true });
    s.write(3000);
    s.discard();
    s.inject({ flags: 'A', seq: 1, ack: 1001, win: 0, tsEcr: 'none' });
    for (let t = 1000; t < 600_000; t += 1000) {
      s.at(t);
      if (s.discard().length > 0) s.inject({ flags: 'A', seq: 1, ack: 1001, win: 0, tsEcr: 'none' });
    }
    expect(s.state).toBe('ESTABLISHED');
    expect(s.has('error')).toBe(false);
  });

  it('RFC 9293 §3.8.6.2.1: the sender does not send a tiny segment into a small window', () => {
    const s = activeOpen({}, { win: 10_000, noSample: true });
    s.write(8000);
    expect(s.discard().length).toBe(8);
    s.write(5000);
    expect(s.discard().length).toBe(2); // up to the 10 000-byte window
    // The reader is slow: the window has room for only 300 bytes.
    s.at(100).inject({ flags: 'A', seq: 1, ack: 10_001, win: 300, tsEcr: 'none' });
    s.expectNothing();
    // Only the override timeout (the persist timer) may send into it (RFC 9293 §3.8.6.2.1, case 4).
    const rto = s.conn.rtt.rto;
    s.at(100 + rto - 1).expectNothing();
    s.at(100 + rto);
    s.expect({ flags: 'A', seq: 10_001, len: 300 });
    // The window update comes: full-sized segments again.
    s.inject({ flags: 'A', seq: 1, ack: 10_301, win: 5000, tsEcr: 'none' });
    expect(s.discard().map((seg) => seg.payload.length)).toEqual([1000, 1000]); // the 700-byte tail waits (Nagle)
  });

  it('RFC 9293 §3.8.6.2.1: a window update before the override timeout brings full segments, no tiny one', () => {
    const s = activeOpen({}, { win: 10_000, noSample: true });
    s.write(15_000);
    expect(s.discard().length).toBe(10);
    s.at(100).inject({ flags: 'A', seq: 1, ack: 10_001, win: 300, tsEcr: 'none' });
    s.at(200).inject({ flags: 'A', seq: 1, ack: 10_001, win: 3000, tsEcr: 'none' });
    expect(s.discard().map((seg) => seg.payload.length)).toEqual([1000, 1000, 1000]);
  });
});

describe('sending: segmentation and Nagle', () => {
  it('RFC 9293 §3.7.1: segments are cut to min(our MSS, the peer MSS option)', () => {
    const a = activeOpen({ options: { noDelay: true } }, { mss: 500 });
    expect(a.conn.mss).toBe(500);
    a.write(1600);
    expect(a.discard().map((seg) => seg.payload.length)).toEqual([500, 500, 500, 100]);
    const b = activeOpen({ options: { mss: 700, noDelay: true } }, { mss: 1460 });
    b.write(1600);
    expect(b.discard().map((seg) => seg.payload.length)).toEqual([700, 700, 200]);
  });

  it('RFC 9293 §3.7.1: our SYN advertises our MSS and nothing larger is accepted as a send size', () => {
    const s = activeOpen({ options: { mss: 800 } }, { mss: 65535 });
    expect(s.describe(s.sent[0]!).mss).toBe(800);
    expect(s.conn.mss).toBe(800);
  });

  it('RFC 6928: the initial window is ten segments of the negotiated MSS', () => {
    const s = activeOpen({ options: { noDelay: true } }, { mss: 500, noSample: true });
    s.write(20_000);
    const sizes = s.discard().map((seg) => seg.payload.length);
    expect(sizes.every((n) => n === 500)).toBe(true);
    expect(sizes.length).toBe(10);
  });

  it('RFC 9293 §3.7.4: Nagle holds a small segment while another is unacknowledged', () => {
    const s = activeOpen();
    s.at(100);
    s.write('a'.repeat(100));
    s.expect({ flags: 'A', seq: 1, len: 100 });
    s.write('b'.repeat(100));
    s.write('c'.repeat(100));
    s.expectNothing();
    s.at(110).inject({ flags: 'A', seq: 1, ack: 101 });
    s.expect({ flags: 'A', seq: 101, data: 'b'.repeat(100) + 'c'.repeat(100) });
  });

  it('RFC 9293 §3.7.4: Nagle never holds back full-sized segments', () => {
    const s = activeOpen();
    s.write(100);
    s.discard();
    s.write(2000);
    expect(s.discard().map((seg) => seg.payload.length)).toEqual([1000, 1000]);
  });

  it('RFC 9293 §3.7.4: with Nagle off (noDelay) every small write goes out at once', () => {
    const s = activeOpen({ options: { noDelay: true } });
    s.write('x');
    s.write('y');
    s.write('z');
    expect(s.discard().map((seg) => Buffer.from(seg.payload).toString())).toEqual(['x', 'y', 'z']);
  });

  it('RFC 9293 §3.7.4: turning Nagle off flushes what it was holding', () => {
    const s = activeOpen();
    s.write('x');
    s.write('y');
    s.expect({ flags: 'A', data: 'x' });
    s.expectNothing();
    s.conn.setNoDelay(true);
    s.expect({ flags: 'A', data: 'y' });
  });

  it('the send buffer is bounded: a write past it is accepted in part and "writable" follows the ACK', () => {
    const s = activeOpen({ options: { sndBuf: 3000 } }, { noSample: true });
    expect(s.write(5000)).toBe(3000);
    expect(s.write(10)).toBe(0);
    s.discard();
    s.inject({ flags: 'A', seq: 1, ack: 1001, tsEcr: 'none' });
    expect(s.has('writable')).toBe(true);
    expect(s.conn.writableRoom).toBe(1000);
  });
});
