// Outages, dead peers and idle connections with the default settings (issue 14 §4, §5;
// invariant 15): a minute's blackhole is survived, a user timeout alone decides when it is
// set, a peer that is gone is reported, and an idle connection to a live peer stays up.
import { describe, expect, it } from 'vitest';
import { DEFAULT_OPTIONS } from '../../src/protocol/options.js';
import { retryBudget } from '../../src/protocol/send/sender.js';
import { blackhole, simPair } from './sim-pair.js';

const MIB = 1 << 20;

describe('outages (RFC 1122 §4.2.3.5, RFC 5482)', () => {
  it('with default settings a 60 s blackhole both ways mid-transfer is survived and the transfer completes intact', () => {
    const p = simPair();
    p.clientWrites(4 * MIB);
    blackhole(p.net, 300, 60_000);
    p.net.run({ until: 400_000 });
    expect(p.errors).toEqual({});
    expect(p.read.server).toBe(4 * MIB);
    expect(p.client.state).toBe('ESTABLISHED');
    expect(p.server().state).toBe('ESTABLISHED');
  });

  it('the default retransmission budget spans at least 100 s (RFC 1122 R2), however short the RTO', () => {
    expect(retryBudget(DEFAULT_OPTIONS.maxRetries, DEFAULT_OPTIONS.rto.rtoMax)).toBeGreaterThanOrEqual(100_000);
    const p = simPair({ link: { delay: [1, 1], bandwidth: 1_000_000 } }); // RTO at its 50 ms floor; still sending at 200 ms
    p.clientWrites(64 * MIB);
    blackhole(p.net, 200);
    p.net.run({ until: 1_000_000 });
    const [t, code] = p.errors.client!;
    expect(code).toBe('ETIMEDOUT');
    expect(t - 200).toBeGreaterThanOrEqual(100_000);
    expect(t - 200).toBeLessThanOrEqual(retryBudget(DEFAULT_OPTIONS.maxRetries, DEFAULT_OPTIONS.rto.rtoMax) + DEFAULT_OPTIONS.rto.rtoMax);
  });

  it('a connection the app has closed (an orphan) gives up after orphanRetries (8: ~102 s), not maxRetries (522 s)', () => {
    const orphanBudget = retryBudget(DEFAULT_OPTIONS.orphanRetries, DEFAULT_OPTIONS.rto.rtoMax);
    const ends: Record<string, [number, string]> = {};
    for (const closed of [true, false]) {
      const p = simPair();
      p.clientWrites(4 * MIB);
      // The app lets go at 100 ms with data still queued: the orphan goes on delivering it.
      if (closed) p.net.at(100, () => p.client.close(p.net.now));
      blackhole(p.net, 200);
      p.net.run({ until: 1_000_000 });
      expect(p.client.state).toBe('CLOSED');
      ends[String(closed)] = p.errors.client!;
    }
    const [tOrphan, code] = ends.true!;
    expect(code).toBe('ETIMEDOUT');
    expect(tOrphan - 200).toBeGreaterThanOrEqual(orphanBudget);
    expect(tOrphan - 200).toBeLessThanOrEqual(orphanBudget + DEFAULT_OPTIONS.rto.rtoMax);
    // The same connection still held by the app keeps the full budget.
    expect(ends.false![0] - 200).toBeGreaterThanOrEqual(retryBudget(DEFAULT_OPTIONS.maxRetries, DEFAULT_OPTIONS.rto.rtoMax));
  });

  it('with userTimeout set, it alone decides: ETIMEDOUT within userTimeout plus one RTO, not at the retry count', () => {
    for (const userTimeout of [120_000, 5_000]) {
      const p = simPair({ conn: { userTimeout, maxRetries: 3 }, link: { delay: [10, 10], bandwidth: 1_000_000 } });
      p.clientWrites(64 * MIB);
      blackhole(p.net, 500);
      p.net.run({ until: 600_000 });
      const [t, code] = p.errors.client!;
      expect(code).toBe('ETIMEDOUT');
      expect(t - 500).toBeGreaterThanOrEqual(userTimeout);
      expect(t - 500).toBeLessThanOrEqual(userTimeout + DEFAULT_OPTIONS.rto.rtoMax);
    }
  });

  it('after an outage the transfer resumes within a keepalive interval, not after the rest of a backoff of up to a minute', () => {
    for (const outage of [20_000, 30_000, 40_000, 50_000]) {
      const p = simPair();
      p.clientWrites(4 * MIB);
      blackhole(p.net, 300, outage);
      const back = 300 + outage;
      let resumed = -1;
      let seen = 0;
      const poll = (): void => {
        if (p.net.now > back && p.read.server > seen && resumed < 0) resumed = p.net.now;
        seen = p.read.server;
        if (resumed < 0) p.net.after(10, poll);
      };
      poll();
      p.net.run({ until: back + 120_000 });
      // The receiver probes every 3 s once the sender is silent; hearing one brings the backed-off
      // retransmission forward to one RTO (Sender.onPeerHeard).
      expect(resumed - back).toBeGreaterThan(0);
      expect(resumed - back).toBeLessThan(DEFAULT_OPTIONS.keepAliveInterval + 500);
    }
  });
});

describe('dead peers and idle connections (invariant 15)', () => {
  it('an idle connection to a live peer stays up for hours, and the path is never silent for more than 20 s (NAT bindings)', () => {
    const p = simPair();
    p.net.run({ until: 3 * 3_600_000 });
    expect(p.errors).toEqual({});
    expect(p.client.state).toBe('ESTABLISHED');
    expect(p.server().state).toBe('ESTABLISHED');
    const all = [...p.sends.client, ...p.sends.server, p.net.now].sort((x, y) => x - y);
    let gap = 0;
    for (let i = 1; i < all.length; i++) gap = Math.max(gap, all[i]! - all[i - 1]!);
    expect(gap).toBeLessThanOrEqual(20_000);
  });

  it('a peer that vanishes without a trace is reported: ETIMEDOUT within 90 s of its last word, idle or receiving', () => {
    for (const receiving of [false, true]) {
      const p = simPair();
      if (receiving) p.clientWrites(64 * MIB); // the server is receiving; the client dies mid-transfer
      p.net.at(5_000, () => p.a.close());
      p.net.run({ until: 400_000 });
      const [t, code] = p.errors.server!;
      expect(code).toBe('ETIMEDOUT');
      expect(t - 5_000).toBeLessThanOrEqual(DEFAULT_OPTIONS.keepAliveIdle + DEFAULT_OPTIONS.keepAliveProbes * DEFAULT_OPTIONS.keepAliveInterval + 2_000);
    }
  });

  it('a killed peer on a live host (its port closed: ICMP port unreachable) is reported within 60 s, idle or receiving', () => {
    for (const receiving of [false, true]) {
      const p = simPair({ icmp: true });
      if (receiving) p.clientWrites(64 * MIB); // the server is receiving when the client's process dies
      p.net.at(5_000, () => p.a.close());
      p.net.run({ until: 400_000 });
      const [t, code] = p.errors.server!;
      expect(code).toBe('ETIMEDOUT');
      expect(t - 5_000).toBeLessThanOrEqual(60_000);
    }
  });

  it('ICMP port unreachable does not end a connection whose peer is heard from (RFC 5927: a soft error)', () => {
    const p = simPair({ icmp: true });
    p.clientWrites(MIB);
    p.net.at(50, () => p.client.unreachable(p.net.now));
    p.net.run({ until: 60_000 });
    expect(p.errors).toEqual({});
    expect(p.read.server).toBe(MIB);
  });

  it('a timer that fires and re-arms for the same instant fires again (keepalive probes 0 ms apart still end in ETIMEDOUT)', () => {
    const p = simPair({ conn: { keepAliveIdle: 1_000, keepAliveInterval: 0, keepAliveProbes: 3 } });
    blackhole(p.net, 100);
    p.net.run({ until: 10_000 });
    const [t, code] = p.errors.client!;
    expect(code).toBe('ETIMEDOUT');
    expect(t).toBeLessThan(1_100);
    expect(p.client.stats.keepAliveProbes).toBe(3);
  });
});
