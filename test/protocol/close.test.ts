import { describe, expect, it } from 'vitest';
import { activeOpen, pattern } from '../helpers/script.js';

const MSL = 1000;
const open = () => activeOpen({ options: { msl: MSL } });

describe('closing a connection', () => {
  it('RFC 9293 §3.6 Fig. 12: FIN_WAIT_1 → FIN_WAIT_2 → TIME_WAIT', () => {
    const s = open();
    s.at(100).shutdown();
    expect(s.state).toBe('FIN_WAIT_1');
    s.expect({ flags: 'FA', seq: 1, ack: 1 });
    s.at(110).inject({ flags: 'A', seq: 1, ack: 2 });
    expect(s.state).toBe('FIN_WAIT_2');
    expect(s.has('finished')).toBe(true);
    s.expectNothing();
    s.at(200).inject({ flags: 'FA', seq: 1, ack: 2 });
    s.expect({ flags: 'A', seq: 2, ack: 2 });
    expect(s.state).toBe('TIME_WAIT');
    expect(s.has('end')).toBe(true);
    expect(s.path.slice(-4)).toEqual(['ESTABLISHED', 'FIN_WAIT_1', 'FIN_WAIT_2', 'TIME_WAIT']);
  });

  it('RFC 9293 §3.6 Fig. 13: simultaneous close, FIN_WAIT_1 → CLOSING → TIME_WAIT', () => {
    const s = open();
    s.shutdown().expect({ flags: 'FA', seq: 1, ack: 1 });
    s.at(10).inject({ flags: 'FA', seq: 1, ack: 1 }); // the peer's FIN crossed ours
    s.expect({ flags: 'A', seq: 2, ack: 2 });
    expect(s.state).toBe('CLOSING');
    s.at(20).inject({ flags: 'A', seq: 2, ack: 2 });
    expect(s.state).toBe('TIME_WAIT');
    expect(s.path.slice(-4)).toEqual(['ESTABLISHED', 'FIN_WAIT_1', 'CLOSING', 'TIME_WAIT']);
  });

  it('RFC 9293 §3.10.7.4 (eighth step): FIN_WAIT_1 → TIME_WAIT on a FIN that also ACKs our FIN', () => {
    const s = open();
    s.shutdown().expect({ flags: 'FA', seq: 1 });
    s.at(10).inject({ flags: 'FA', seq: 1, ack: 2 });
    s.expect({ flags: 'A', seq: 2, ack: 2 });
    expect(s.path.slice(-3)).toEqual(['ESTABLISHED', 'FIN_WAIT_1', 'TIME_WAIT']);
    expect(s.has('finished')).toBe(true);
  });

  it('RFC 9293 §3.6: CLOSE_WAIT → LAST_ACK → CLOSED, without TIME_WAIT for the passive closer', () => {
    const s = open();
    s.at(10).inject({ flags: 'FA', seq: 1, ack: 1 });
    s.expect({ flags: 'A', seq: 1, ack: 2 });
    expect(s.state).toBe('CLOSE_WAIT');
    expect(s.has('end')).toBe(true);
    s.at(20).shutdown();
    expect(s.state).toBe('LAST_ACK');
    s.expect({ flags: 'FA', seq: 1, ack: 2 });
    s.at(30).inject({ flags: 'A', seq: 2, ack: 2 });
    expect(s.state).toBe('CLOSED');
    expect(s.has('closed')).toBe(true);
    expect(s.has('error')).toBe(false);
    expect(s.path).not.toContain('TIME_WAIT');
    expect(s.drain().conn.pollTimeout()).toBe(Infinity);
  });

  it('RFC 9293 §3.6.1: TIME_WAIT lasts exactly 2·MSL', () => {
    const s = open();
    s.shutdown().discard();
    s.inject({ flags: 'FA', seq: 1, ack: 2 }).discard();
    const t0 = s.now;
    expect(s.state).toBe('TIME_WAIT');
    s.at(t0 + 2 * MSL - 1);
    expect(s.state).toBe('TIME_WAIT');
    s.at(t0 + 2 * MSL);
    expect(s.state).toBe('CLOSED');
    expect(s.transitions.at(-1)).toEqual(['TIME_WAIT', 'CLOSED']);
    s.expectNothing();
  });

  it('RFC 9293 §3.10.7.4: a retransmitted FIN in TIME_WAIT is ACKed and restarts the 2·MSL timer', () => {
    const s = open();
    s.shutdown().discard();
    s.inject({ flags: 'FA', seq: 1, ack: 2 }).discard();
    s.at(1500).inject({ flags: 'FA', seq: 1, ack: 2 });
    s.expect({ flags: 'A', seq: 2, ack: 2 });
    s.at(1500 + 2 * MSL - 1);
    expect(s.state).toBe('TIME_WAIT');
    s.at(1500 + 2 * MSL);
    expect(s.state).toBe('CLOSED');
  });

  it('RFC 1337: an RST in TIME_WAIT is ignored (no assassination)', () => {
    const s = open();
    s.shutdown().discard();
    s.inject({ flags: 'FA', seq: 1, ack: 2 }).discard();
    s.at(500).inject({ flags: 'R', seq: 2 });
    s.inject({ flags: 'RA', seq: 2, ack: 2 });
    expect(s.state).toBe('TIME_WAIT');
    expect(s.has('error')).toBe(false);
    s.expectNothing();
    s.at(2 * MSL - 1);
    expect(s.state).toBe('TIME_WAIT');
  });

  it('half-close: data still flows toward the side that closed first', () => {
    const s = open();
    s.write('bye');
    s.expect({ flags: 'A', seq: 1, data: 'bye' });
    s.shutdown();
    s.expect({ flags: 'FA', seq: 4, len: 0 });
    s.at(10).inject({ flags: 'A', seq: 1, ack: 5 });
    expect(s.state).toBe('FIN_WAIT_2');
    for (let i = 0; i < 3; i++) s.at(20 + i).inject({ flags: 'A', seq: 1 + 1000 * i, ack: 5, len: 1000 });
    expect(Array.from(s.read())).toEqual(Array.from(pattern(1, 3000)));
    s.at(200);
    const acks = s.discard().map((seg) => s.describe(seg).ack);
    expect(acks.at(-1)).toBe(3001);
    expect(s.state).toBe('FIN_WAIT_2');
  });

  it('half-close: the side that received the FIN (CLOSE_WAIT) can still send', () => {
    const s = open();
    s.inject({ flags: 'FA', seq: 1, ack: 1 }).discard();
    expect(s.state).toBe('CLOSE_WAIT');
    expect(s.write('still here')).toBe(10);
    s.expect({ flags: 'A', seq: 1, ack: 2, data: 'still here' });
    s.inject({ flags: 'A', seq: 2, ack: 11 });
    expect(s.conn.bufferedAmount).toBe(0);
  });

  it('RFC 9293 §3.10.7.4: a FIN is not delivered (no end) before earlier missing data arrives', () => {
    const s = open();
    s.at(10).inject({ flags: 'A', seq: 1001, ack: 1, len: 1000 });
    s.inject({ flags: 'FA', seq: 2001, ack: 1 });
    expect(s.has('end')).toBe(false);
    expect(s.state).toBe('ESTABLISHED');
    expect(s.conn.readableLength).toBe(0);
    s.at(20).inject({ flags: 'A', seq: 1, ack: 1, len: 1000 });
    expect(s.has('end')).toBe(true);
    expect(s.state).toBe('CLOSE_WAIT');
    expect(Array.from(s.read())).toEqual(Array.from(pattern(1, 2000)));
    const last = s.discard().at(-1)!;
    expect(s.describe(last).ack).toBe(2002);
    // 'end' comes after the last 'readable'.
    const types = s.events.map((e) => e.type);
    expect(types.lastIndexOf('readable')).toBeLessThan(types.indexOf('end'));
  });

  it('RFC 9293 §3.10.7.4: data at or beyond the peer FIN is ignored', () => {
    const s = open();
    s.inject({ flags: 'FA', seq: 1, ack: 1, data: 'ab' }).discard();
    s.inject({ flags: 'A', seq: 4, ack: 1, data: 'zz' });
    expect(Buffer.from(s.read()).toString()).toBe('ab');
  });

  it('RFC 9293 §3.10.4: a write after shutdown is accepted for 0 bytes', () => {
    const s = open();
    s.shutdown().discard();
    expect(s.write('late')).toBe(0);
    expect(s.conn.bufferedAmount).toBe(0);
    s.expectNothing();
  });

  it('RFC 9293 §3.10.4: FIN follows all data written before shutdown and rides on the last bytes held by Nagle', () => {
    const s = activeOpen({ options: { msl: MSL } }, { win: 100_000 });
    s.write(2500);
    s.expect({ flags: 'A', seq: 1, len: 1000 });
    s.expect({ flags: 'A', seq: 1001, len: 1000 });
    s.expectNothing(); // the 500-byte tail waits (Nagle)
    s.shutdown();
    s.expect({ flags: 'FA', seq: 2001, len: 500 });
    s.expectNothing();
  });

  it('RFC 6298 §5: a lost FIN is retransmitted by the RTO', () => {
    const s = open();
    s.at(100).shutdown().expect({ flags: 'FA', seq: 1 });
    s.at(100 + s.conn.rtt.rto);
    s.expect({ flags: 'FA', seq: 1 });
    expect(s.state).toBe('FIN_WAIT_1');
  });
});
