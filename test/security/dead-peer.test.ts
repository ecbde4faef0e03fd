import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Host } from '../../src/endpoint/host.js';
import { NodeClock, UdpTransport, nodeEnv } from '../../src/io/index.js';
import { State } from '../../src/protocol/state.js';
import { DEFAULT_OPTIONS } from '../../src/protocol/options.js';
import { retryBudget } from '../../src/protocol/send/sender.js';
import type { ConnectionOptions } from '../../src/protocol/options.js';
import { CLIENT, SERVER, transferPair, type Pair } from './util.js';

const seed = Number(process.env.FC_SEED ?? 42);

/** Both directions between the pair go dark: the peer has vanished (crash, cable, NAT state gone). */
function vanish(p: Pair): void {
  p.net.setLinkBoth(CLIENT.address, SERVER.address, { blackhole: true });
}

function errorAt(p: Pair, side: 'client' | 'server'): () => number | undefined {
  let at: number | undefined;
  p[side].host.observers.push((ev) => {
    if (ev.type === 'conn' && ev.ev.type === 'error' && at === undefined) at = p.net.now;
  });
  return () => at;
}

const KEEPALIVE: Partial<ConnectionOptions> = { keepAlive: true, keepAliveIdle: 10_000, keepAliveInterval: 1_000, keepAliveProbes: 3 };

describe('dead peers: keepalive, user timeout, retries (RFC 9293 §3.8.3-3.8.4, RFC 5482)', () => {
  it('RFC 9293 §3.8.4: an idle connection to a vanished peer sends keepAliveProbes probes, then fails with ETIMEDOUT', () => {
    const p = transferPair({ seed, up: 0, down: 0, writeDelay: 1e9, client: { connection: KEEPALIVE }, link: { delay: [5, 5] } });
    const at = errorAt(p, 'client');
    p.net.run({ until: 100 });
    vanish(p);
    p.net.run({ until: 60_000 });
    const c = p.client.conn!;
    expect(p.client.errors).toEqual(['ETIMEDOUT']);
    expect(c.stats.keepAliveProbes).toBe(3);
    // Last segment received at 10 ms (the handshake); idle 10 s; three probes 1 s apart; then give up.
    expect(at()).toBe(10 + 10_000 + 3 * 1_000);
  });

  it('RFC 1122 §4.2.3.6: a live peer answers the probes; the idle connection stays up for hours', () => {
    const p = transferPair({ seed, up: 0, down: 0, writeDelay: 1e9, client: { connection: KEEPALIVE } });
    p.net.run({ until: 3 * 3_600_000 });
    expect(p.client.errors).toEqual([]);
    expect(p.client.conn!.state).toBe(State.ESTABLISHED);
    expect(p.client.conn!.stats.keepAliveProbes).toBeGreaterThan(1_000); // one per idle period, each answered
  });

  it('RFC 9293 §3.8.4: any segment from the peer resets the unanswered-probe count', () => {
    const p = transferPair({ seed, up: 0, down: 0, writeDelay: 1e9, client: { connection: KEEPALIVE }, link: { delay: [5, 5] } });
    const at = errorAt(p, 'client');
    p.net.run({ until: 100 });
    vanish(p);
    // Two probes go unanswered (at 10.01 s and 11.01 s)...
    p.net.run({ until: 11_500 });
    expect(p.client.conn!.stats.keepAliveProbes).toBe(2);
    // ...then the peer is back and answers the third (sent at 12.01 s, answered at 12.02 s): the count starts over.
    p.net.setLinkBoth(CLIENT.address, SERVER.address, { blackhole: false });
    p.net.run({ until: 13_000 });
    vanish(p);
    p.net.run({ until: 14_000 });
    expect(p.client.errors).toEqual([]); // without the reset: ETIMEDOUT at 13.01 s
    p.net.run({ until: 60_000 });
    expect(p.client.errors).toEqual(['ETIMEDOUT']);
    expect(at()).toBe(12_020 + 10_000 + 3 * 1_000); // a full idle period, then three probes
  });

  it('RFC 5482: a peer that vanishes mid-transfer is detected within the user timeout (ETIMEDOUT)', () => {
    const p = transferPair({ seed, up: 4 << 20, down: 0, link: { bandwidth: 1_000_000 }, client: { connection: { userTimeout: 5_000 } } });
    const at = errorAt(p, 'client');
    p.net.run({ until: 1_000 });
    expect(p.server.sink.length).toBeGreaterThan(0);
    vanish(p);
    p.net.run({ until: 120_000 });
    expect(p.client.errors).toEqual(['ETIMEDOUT']);
    // Counted from the last ACK, which may still have been in flight (≤ 10 ms) when the peer went.
    expect(at()! - 1_000).toBeLessThanOrEqual(5_000 + 10);
    expect(at()! - 1_000).toBeGreaterThan(4_000); // the budget, not an early give-up
  });

  it('RFC 6298 §5: without a user timeout, maxRetries backed-off RTOs end in ETIMEDOUT within their sum', () => {
    const rto = { rtoMin: 200, rtoMax: 2_000, rtoInitial: 1_000, granularity: 1 };
    const p = transferPair({ seed, up: 4 << 20, down: 0, link: { bandwidth: 1_000_000 }, client: { connection: { rto, maxRetries: 5 } } });
    const at = errorAt(p, 'client');
    p.net.run({ until: 1_000 });
    vanish(p);
    p.net.run({ until: 120_000 });
    expect(p.client.errors).toEqual(['ETIMEDOUT']);
    expect(at()! - 1_000).toBeLessThanOrEqual(6 * rto.rtoMax);
  });

  it('docs/ARCHITECTURE.md, invariant 8: total loss from the first SYN ends in ETIMEDOUT after synRetries, and nothing is left behind', () => {
    const p = transferPair({ seed, up: 1000, down: 0, link: { blackhole: true } });
    const at = errorAt(p, 'client');
    p.net.run({ until: 600_000 });
    expect(p.client.errors).toEqual(['ETIMEDOUT']);
    // The time 6 doublings from a 1 s initial RTO take, up to a 60 s rtoMax (Linux's tcp_syn_retries model).
    expect(at()).toBe(retryBudget(DEFAULT_OPTIONS.synRetries, DEFAULT_OPTIONS.rto.rtoMax, DEFAULT_OPTIONS.rto.rtoInitial));
    expect(p.client.host.endpoint.connectionCount).toBe(0);
    expect(p.client.host.endpoint.nextTimeout()).toBe(Infinity);
  });

  it('docs/ARCHITECTURE.md, invariant 8: whenever the peer vanishes, in any state, the connection ends in ETIMEDOUT within its budget, never hangs', () => {
    // Sending states are bounded by the user timeout, idle ones (ESTABLISHED, FIN_WAIT_2...) by keepalive.
    const connection: Partial<ConnectionOptions> = { userTimeout: 3_000, keepAlive: true, keepAliveIdle: 2_000, keepAliveInterval: 500, keepAliveProbes: 3 };
    const budget = Math.max(3_000, 2_000 + 3 * 500) + 1; // from the last segment received (+1: float time)
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1 << 30 }),
        fc.integer({ min: 1, max: 1_500 }),
        fc.constantFrom(0, 0.02, 0.1),
        fc.constantFrom(0, 64 * 1024, 1 << 20),
        fc.boolean(),
        (s, t, loss, up, clientClosesLast) => {
          const p = transferPair({ seed: s, up, down: 512 * 1024, link: { bandwidth: 1_000_000, loss }, client: { connection }, clientClosesLast });
          const at = errorAt(p, 'client');
          let lastRecv = 0;
          const deliver = p.client.host.transport.onMessage!;
          p.client.host.transport.onMessage = (d, from) => {
            lastRecv = p.net.now;
            deliver(d, from);
          };
          p.net.run({ until: t });
          const before = p.client.conn!.state;
          vanish(p);
          p.net.run({ until: t + 200_000 });
          const done = p.client.sink.ended && p.server.sink.length === p.up.length;
          if (!done) {
            expect(p.client.errors, `vanished in ${before}`).toEqual(['ETIMEDOUT']);
            // Handshake states answer to the SYN retry budget, the rest to the user timeout or keepalive.
            const opening = before === State.SYN_SENT || before === State.SYN_RECEIVED;
            // (Segments already queued on the link still arrive after the peer is gone.)
            expect(at()! - Math.max(t, lastRecv)).toBeLessThanOrEqual(
              opening ? retryBudget(DEFAULT_OPTIONS.synRetries, DEFAULT_OPTIONS.rto.rtoMax, 1000) : budget,
            );
          }
          expect(p.client.host.endpoint.connectionCount).toBe(0);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('real sockets: the receiving process is killed (SIGKILL) mid-transfer; the sender fails with ETIMEDOUT within its user timeout', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', new URL('./fixtures/sink.ts', import.meta.url).pathname], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const lines = createInterface({ input: child.stdout! });
      const [first] = (await once(lines, 'line')) as [string];
      const { port } = JSON.parse(first) as { port: number };
      const transport = await UdpTransport.bind({ address: '127.0.0.1' });
      const host = new Host(transport, new NodeClock({ ref: true }), nodeEnv());
      const userTimeout = 1_500;
      const conn = host.connect(
        { address: '127.0.0.1', port },
        { userTimeout, rto: { rtoMin: 50, rtoMax: 400, rtoInitial: 200, granularity: 1 }, maxRetries: 50 },
      );
      const chunk = new Uint8Array(64 * 1024);
      let killedAt = 0;
      const result = new Promise<{ code: string; after: number }>((resolve) => {
        host.onEvent = (ev) => {
          if (ev.type !== 'conn' || ev.conn !== conn) return;
          if (ev.ev.type === 'established' || ev.ev.type === 'writable') {
            while (conn.write(chunk) > 0);
            host.service(conn);
          }
          if (ev.ev.type === 'error') resolve({ code: ev.ev.code, after: performance.now() - killedAt });
        };
      });
      // Kill the receiver once real data has been acknowledged.
      while (conn.stats.bytesSent < 1 << 20) await new Promise((r) => setTimeout(r, 10));
      child.kill('SIGKILL');
      killedAt = performance.now();
      const { code, after } = await result;
      host.close();
      expect(code).toBe('ETIMEDOUT');
      expect(after).toBeLessThanOrEqual(userTimeout + 1_000);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
