// The same Socket and Server on the simulator (transport + clock + env):
// whole-stack runs on virtual time, deterministic for a seed.
import { describe, expect, test } from 'vitest';
import { connect, createEndpoint, createServer, type LocalEndpoint, type Socket } from '../../src/index.js';
import { lingeringCount } from '../../src/stream/local-endpoint.js';
import { prngEnv, SimNetwork } from '../../src/sim/index.js';
import { pattern, runSim, sha256, track } from './helpers.js';

const A = '10.0.0.1';
const B = '10.0.0.2';

function simOpts(net: SimNetwork, address: string, port = 0) {
  return { transport: net.bind({ address, port }), clock: net.clock, env: prngEnv(net.prng.fork()) };
}

describe('Socket and Server on SimNetwork', () => {
  test('echo of 256 KiB over a lossy, reordering link arrives intact; both sides close', async () => {
    const net = new SimNetwork({ seed: 11, link: { loss: 0.05, delay: [5, 20], reorder: 0.05, duplicate: 0.01 } });
    const server = createServer(simOpts(net, B, 7), (s) => s.pipe(s));
    server.listen();
    const accepted: Socket[] = [];
    server.on('connection', (s: Socket) => accepted.push(s));
    const c = connect({ port: 7, host: B, ...simOpts(net, A) });
    const ct = track(c);
    const data = pattern(256 * 1024, 5);
    const chunks: Buffer[] = [];
    c.on('data', (d: Buffer) => chunks.push(d));
    c.end(data);
    await runSim(net, () => ct.fired('close') && accepted.length === 1 && accepted[0]!.destroyed);
    const back = Buffer.concat(chunks);
    expect(back.length).toBe(data.length);
    expect(sha256(back)).toBe(sha256(data));
    expect(ct.fired('error')).toBe(false);
    expect(ct.order.filter((e) => e !== 'ready')).toEqual(['connect', 'finish', 'end', 'close']);
    expect(net.stats.dropped).toBeGreaterThan(0);
    const stats = c.getStats()!;
    expect(stats.retransmittedSegments + accepted[0]!.getStats()!.retransmittedSegments).toBeGreaterThan(0);
    expect(stats.srtt).toBeGreaterThanOrEqual(10); // two one-way delays of 5..20 ms
    server.close();
    await runSim(net, () => net.idle(), 600_000, 50);
  });

  test("setTimeout runs on the virtual clock: 'timeout' exactly `ms` after the last activity", async () => {
    const net = new SimNetwork({ seed: 3 });
    const server = createServer(simOpts(net, B, 7), (s) => s.resume());
    server.listen();
    const c = connect({ port: 7, host: B, ...simOpts(net, A) });
    const t = track(c);
    let connectedAt = -1;
    let firedAt = -1;
    c.on('connect', () => {
      connectedAt = net.now;
      c.setTimeout(5000, () => (firedAt = net.now));
      net.after(1000, () => c.write('activity')); // postpones the timeout to t+1000+5000
    });
    await runSim(net, () => t.fired('timeout'), 60_000, 100);
    expect(firedAt - connectedAt).toBe(6000);
    expect(c.destroyed).toBe(false);
    c.destroy();
    server.close();
  });

  test('simultaneous open on the simulator: both SYN_SENT → SYN_RECEIVED → ESTABLISHED', async () => {
    const net = new SimNetwork({ seed: 5, link: { delay: [10, 10] } });
    const ea = createEndpoint({ ...simOpts(net, A, 1000) });
    const eb = createEndpoint({ ...simOpts(net, B, 2000) });
    const seen: Record<string, string[]> = { a: [], b: [] };
    for (const [k, ep] of [
      ['a', ea],
      ['b', eb],
    ] as const) {
      ep.host.observers.push((ev) => {
        if (ev.type === 'conn' && ev.ev.type === 'state') seen[k]!.push(`${ev.ev.from}>${ev.ev.to}`);
      });
    }
    const sa = connect({ endpoint: ea, port: 2000, host: B });
    const sb = connect({ endpoint: eb, port: 1000, host: A });
    const [ta, tb] = [track(sa), track(sb)];
    await runSim(net, () => ta.fired('connect') && tb.fired('connect'), 10_000, 1);
    for (const k of ['a', 'b']) expect(seen[k]!.slice(0, 3)).toEqual(['CLOSED>SYN_SENT', 'SYN_SENT>SYN_RECEIVED', 'SYN_RECEIVED>ESTABLISHED']);
    expect(ea.connectionCount).toBe(1);
    expect(eb.connectionCount).toBe(1);
    sa.destroy();
    sb.destroy();
    ea.close();
    eb.close();
  });

  test('ECONNREFUSED on the simulator when the network reports port unreachable', async () => {
    const net = new SimNetwork({ seed: 9, icmpUnreachable: true });
    const c = connect({ port: 4242, host: B, ...simOpts(net, A) });
    const t = track(c);
    await runSim(net, () => t.fired('close'), 10_000, 1);
    const [err] = (await t.wait('error')) as [NodeJS.ErrnoException];
    expect(err.code).toBe('ECONNREFUSED');
    expect(err.message).toBe(`connect ECONNREFUSED ${B}:4242`);
    expect(net.now).toBeLessThan(100); // on the first SYN, not after retries
  });

  test('ETIMEDOUT after the SYN retries when every datagram is lost', async () => {
    const net = new SimNetwork({ seed: 2, link: { blackhole: true } });
    const server = createServer(simOpts(net, B, 7));
    server.listen();
    const c = connect({ port: 7, host: B, ...simOpts(net, A), connection: { synRetries: 3 } });
    const t = track(c);
    const start = net.now;
    await runSim(net, () => t.fired('close'), 120_000, 100);
    const [err] = (await t.wait('error')) as [NodeJS.ErrnoException];
    expect(err.code).toBe('ETIMEDOUT');
    // RFC 6298 §5.5: the RTO doubles per retry: 1 + 2 + 4 + 8 s before giving up.
    expect(net.now - start).toBeGreaterThanOrEqual(15_000);
    expect(net.now - start).toBeLessThan(15_000 + 200);
    server.close();
  });

  test('same seed, same trace: the full stack (streams included) is deterministic on the simulator', async () => {
    async function echoTrace(seed: number): Promise<[string, number]> {
      const net = new SimNetwork({ seed, link: { loss: 0.03, delay: [2, 30], reorder: 0.1 } });
      const server = createServer(simOpts(net, B, 7), (s) => s.pipe(s));
      server.listen();
      const c = connect({ port: 7, host: B, ...simOpts(net, A) });
      const t = track(c);
      c.resume();
      c.end(pattern(64 * 1024, seed));
      await runSim(net, () => t.fired('close'));
      server.close();
      return [net.traceHash(), net.now];
    }
    const [h1, t1] = await echoTrace(21);
    const [h2, t2] = await echoTrace(21);
    const [h3] = await echoTrace(22);
    expect(h2).toBe(h1);
    expect(t2).toBe(t1);
    expect(h3).not.toBe(h1);
  });

  test('setNoDelay reaches the connection: Nagle holds small writes back until the ACK, noDelay sends them when the task ends (RFC 9293 §3.7.4)', async () => {
    const net = new SimNetwork({ seed: 8, link: { delay: [20, 20] } });
    const server = createServer(simOpts(net, B, 7), (s) => s.resume());
    server.listen();
    const atOnce: Record<string, number> = {};
    const atTaskEnd: Record<string, number> = {};
    for (const noDelay of [false, true]) {
      const c = connect({ port: 7, host: B, ...simOpts(net, A), noDelay });
      const t = track(c);
      c.on('connect', () => {
        const before = c.getStats()!.segmentsSent;
        c.write('a'); // the task's first write leaves in the call
        c.write('b');
        c.write('c');
        atOnce[String(noDelay)] = c.getStats()!.segmentsSent - before;
        // Same virtual instant, after the task: 'bc' in one segment with noDelay; Nagle waits for the ACK of 'a' (40 ms).
        queueMicrotask(() => (atTaskEnd[String(noDelay)] = c.getStats()!.segmentsSent - before));
      });
      await runSim(net, () => t.fired('connect'), 10_000, 1);
      c.destroy();
    }
    expect(atOnce).toEqual({ false: 1, true: 1 });
    expect(atTaskEnd).toEqual({ false: 1, true: 2 });
    server.close();
  });

  test('writes made in one task leave in full segments, not one datagram per write (noDelay, 100 writes of 100 bytes)', async () => {
    const net = new SimNetwork({ seed: 9, link: { delay: [20, 20] } });
    let got = 0;
    const server = createServer(simOpts(net, B, 7), (s) => s.on('data', (d: Buffer) => (got += d.length)));
    server.listen();
    const c = connect({ port: 7, host: B, ...simOpts(net, A), noDelay: true });
    const t = track(c);
    let sent = -1;
    c.on('connect', () => {
      const before = c.getStats()!.segmentsSent;
      for (let i = 0; i < 100; i++) c.write(pattern(100, i));
      queueMicrotask(() => (sent = c.getStats()!.segmentsSent - before));
    });
    await runSim(net, () => t.fired('connect') && got === 10_000, 10_000);
    // The first write alone, then 9,900 bytes in ceil(9900 / 1200) = 9 segments (was 100 datagrams).
    expect(sent).toBe(1 + Math.ceil(9900 / c.getStats()!.mss));
    expect(c.getStats()!.mss).toBe(1200);
    c.destroy();
    server.close();
  });

  test('keepalive: an idle connection to a peer that went silent fails with ETIMEDOUT; without keepalive it lingers', async () => {
    const net = new SimNetwork({ seed: 4 });
    const server = createServer(simOpts(net, B, 7), (s) => s.resume());
    server.listen();
    const withKa = connect({ port: 7, host: B, ...simOpts(net, A), keepAlive: true, keepAliveInitialDelay: 10_000 });
    const without = connect({ port: 7, host: B, ...simOpts(net, A) });
    const [tk, tw] = [track(withKa), track(without)];
    await runSim(net, () => tk.fired('connect') && tw.fired('connect'), 10_000, 1);
    net.setLinkBoth(A, B, { blackhole: true }); // the path dies silently
    const since = net.now;
    await runSim(net, () => tk.fired('close'), 2_000_000, 1000);
    const [err] = (await tk.wait('error')) as [NodeJS.ErrnoException];
    expect(err.code).toBe('ETIMEDOUT');
    expect(err.message).toBe('read ETIMEDOUT');
    expect(withKa.getStats()!.keepAliveProbes).toBeGreaterThan(0);
    expect(net.now - since).toBeGreaterThanOrEqual(10_000); // not before the idle time
    expect(tw.fired('close')).toBe(false); // no keepalive: an idle connection never notices
    expect(without.readyState).toBe('open');
    without.destroy();
    server.close();
  });

  test('a client that closes first keeps at most 256 UDP ports lingering for TIME_WAIT, as Linux caps TIME_WAIT sockets', async () => {
    const net = new SimNetwork({ seed: 3, link: { delay: [1, 1] } });
    const server = createServer(simOpts(net, B, 7), (s) => {
      s.resume();
      s.on('end', () => s.end());
    });
    server.listen();
    const clients = Array.from({ length: 300 }, () => connect({ port: 7, host: B, ...simOpts(net, A) }));
    const endpoints: LocalEndpoint[] = [];
    for (const c of clients) {
      c.on('connect', () => endpoints.push(c.endpoint!));
      c.end('bye'); // our FIN first: each client ends in TIME_WAIT, its port lingering 1 s
    }
    await runSim(net, () => clients.every((c) => c.destroyed) && endpoints.length === 300, 900);
    expect(net.now).toBeLessThan(900); // within the linger: none has closed on its timer
    const closed = endpoints.filter((ep) => ep.closed).length;
    expect(closed).toBe(300 - 256); // the oldest went at once, past the cap
    expect(lingeringCount()).toBe(256);
    await runSim(net, () => endpoints.every((ep) => ep.closed), 5000);
    expect(lingeringCount()).toBe(0);
    server.close();
  });
});
