// A socket closed with data still queued: the connection delivers it in the background, as
// the kernel does for TCP (issue 14 §2). No fixed timeout: it lives while the peer acknowledges
// or answers probes, bounded by the retry budget, FIN_WAIT_2's finTimeout (which starts once
// all is acknowledged) and the orphan caps; and the process stays alive until it is delivered.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { connect, createEndpoint, createServer, type Socket } from '../../src/index.js';
import { prngEnv, SimNetwork } from '../../src/sim/index.js';
import { pattern, runSim, sha256, track } from '../stream/helpers.js';

const A = '10.0.0.1';
const B = '10.0.0.2';

function simOpts(net: SimNetwork, address: string, port = 0) {
  return { transport: net.bind({ address, port }), clock: net.clock, env: prngEnv(net.prng.fork()) };
}

/** A client whose receive window is small, so what the server wrote waits in the server's send buffer. */
const SMALL_WINDOW = { connection: { rcvBuf: 32 * 1024, maxRcvBuf: 32 * 1024 } };

describe('orphaned connections', () => {
  it('a socket destroyed right after end() with 900 KB queued still delivers it all to a reader that pauses 70 s', async () => {
    const net = new SimNetwork({ seed: 2, link: { delay: [5, 5] } });
    const data = pattern(900_000, 3);
    const server = createServer(simOpts(net, B, 7), (s) => {
      s.end(data);
      s.on('finish', () => s.destroy()); // the app lets go; the connection goes on
    });
    server.listen();
    const c = connect({ port: 7, host: B, ...SMALL_WINDOW, ...simOpts(net, A) });
    const t = track(c);
    c.pause();
    const chunks: Buffer[] = [];
    net.after(70_000, () => {
      c.on('data', (d: Buffer) => chunks.push(d));
      c.resume();
    });
    await runSim(net, () => t.fired('close'), 200_000, 50);
    expect(t.fired('error')).toBe(false);
    const got = Buffer.concat(chunks);
    expect(got.length).toBe(data.length);
    expect(sha256(got)).toBe(sha256(data));
    server.close();
  });

  it('FIN_WAIT_2 of a closed socket lasts finTimeout from the moment all it sent is acknowledged, then RST', async () => {
    const net = new SimNetwork({ seed: 4, link: { delay: [5, 5] } });
    const ep = createEndpoint({ ...simOpts(net, B, 7) });
    const server = createServer({ endpoint: ep }, (s) => {
      s.end(pattern(200_000));
      s.on('finish', () => s.destroy());
    });
    server.listen();
    // The client reads slowly for 30 s, then all; it never ends its side.
    const c = connect({ port: 7, host: B, allowHalfOpen: true, ...SMALL_WINDOW, ...simOpts(net, A) });
    const t = track(c);
    let got = 0;
    let allAt = -1;
    c.pause();
    net.after(30_000, () => {
      c.on('data', (d: Buffer) => {
        got += d.length;
        if (got === 200_000) allAt = net.now;
      });
      c.resume();
    });
    let resetAt = -1;
    c.on('error', () => (resetAt = net.now));
    await runSim(net, () => t.fired('close'), 300_000, 50);
    expect(got).toBe(200_000);
    expect(t.fired('end')).toBe(true);
    // The timer started only once everything was acknowledged (30 s in), not when the socket was destroyed.
    expect(resetAt - allAt).toBeGreaterThanOrEqual(60_000);
    expect(resetAt - allAt).toBeLessThan(61_000);
    expect(ep.connectionCount).toBe(0);
    server.close();
  });

  it('past maxOrphans the oldest orphan is reset and counted; the others deliver', async () => {
    const net = new SimNetwork({ seed: 5, link: { delay: [5, 5] } });
    const ep = createEndpoint({ ...simOpts(net, B, 7), maxOrphans: 2 });
    const server = createServer({ endpoint: ep }, (s) => {
      s.end(pattern(100_000));
      s.on('finish', () => s.destroy());
    });
    server.listen();
    const clients: Socket[] = [];
    const results: Array<{ got: number; err?: string }> = [];
    for (let i = 0; i < 3; i++) {
      await runSim(net, () => true); // one after another: the first becomes the oldest orphan
      const c = connect({ port: 7, host: B, ...SMALL_WINDOW, ...simOpts(net, `10.0.1.${i + 1}`) });
      const r: { got: number; err?: string } = { got: 0 };
      c.pause();
      c.on('error', (e: NodeJS.ErrnoException) => (r.err = e.code));
      clients.push(c);
      results.push(r);
      await runSim(net, () => ep.orphanStats.count + ep.orphanStats.aborted === i + 1, 10_000, 5);
    }
    expect(ep.orphanStats.aborted).toBe(1);
    net.after(1_000, () => {
      for (const [i, c] of clients.entries()) {
        c.on('data', (d: Buffer) => (results[i]!.got += d.length));
        c.resume();
      }
    });
    await runSim(net, () => clients.every((c) => c.destroyed), 60_000, 50);
    expect(results[0]!.err).toBe('ECONNRESET');
    expect(results.slice(1)).toEqual([{ got: 100_000 }, { got: 100_000 }]);
    server.close();
  });

  it('a process that end()s 5 MB and lets go exits only once the peer has it all (the orphan keeps it alive)', async () => {
    let got = 0;
    const server = createServer((s) => {
      s.end(); // our FIN first: the client's socket closes as soon as its writes are queued
      s.on('data', (d: Buffer) => (got += d.length));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', new URL('./fixtures/sender.ts', import.meta.url).pathname, String((server.address() as { port: number }).port)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const lines: string[] = [];
    createInterface({ input: child.stdout! }).on('line', (l) => lines.push(l));
    await once(child, 'exit');
    expect(lines).toContain('close');
    expect(got).toBe(5_000_000);
    server.close();
  });

  it('a socket reset and destroyed does not keep what was written alive while the app holds it (getStats() is a snapshot)', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const net = new SimNetwork({ seed: 6, link: { delay: [5, 5] } });
    const server = createServer(simOpts(net, B, 7), (s) => s.pause());
    server.listen();
    const c = connect({ port: 7, host: B, ...simOpts(net, A) });
    await runSim(net, () => !c.connecting, 5_000);
    let freed = false;
    const registry = new FinalizationRegistry(() => (freed = true));
    (() => {
      const big = Buffer.alloc(4 << 20);
      registry.register(big.buffer, 'big'); // the memory itself: the send buffer keeps views of it
      c.write(big);
    })();
    await runSim(net, () => true);
    c.resetAndDestroy(); // the connection ends here: nothing is left to deliver
    await runSim(net, () => c.destroyed);
    for (let i = 0; i < 10 && !freed; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(freed).toBe(true);
    expect(c.getStats().bytesSent).toBeGreaterThan(0); // the figures as they stood at destroy
    server.close();
  });
});
