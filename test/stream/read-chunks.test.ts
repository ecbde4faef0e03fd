// What one 'data' event carries: as a TCP read, everything that has arrived
// contiguously (up to 64 KiB, as node:net's reads), not one event per segment; and
// a lone small message still comes at once.
import { describe, expect, test } from 'vitest';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { connect, createServer, type Socket } from '../../src/index.js';
import { prngEnv, SimNetwork } from '../../src/sim/index.js';
import { HOST, listen, once, pattern, runSim, sha256, sleep } from './helpers.js';

/** A server whose sockets start paused; resolves with the accepted socket once `n` bytes wait in its receive buffer. */
async function pausedReceiver(n: number, highWaterMark?: number): Promise<{ s: Socket; c: Socket; close: () => void }> {
  const server = createServer({ pauseOnConnect: true, highWaterMark });
  const port = await listen(server);
  const accepted = once(server, 'connection');
  const c = connect(port, HOST);
  const [s] = (await accepted) as [Socket];
  c.write(pattern(n));
  for (let i = 0; i < 400 && (s.getStats()?.receiveBuffered ?? 0) < n; i++) await sleep(5);
  expect(s.getStats()!.receiveBuffered).toBe(n);
  return {
    s,
    c,
    close: () => {
      c.destroy();
      s.destroy();
      server.close();
    },
  };
}

function chunksUntil(s: Socket, total: number): Promise<number[]> {
  return new Promise((resolve) => {
    const sizes: number[] = [];
    let got = 0;
    s.on('data', (d: Buffer) => {
      sizes.push(d.length);
      got += d.length;
      if (got >= total) resolve(sizes);
    });
  });
}

describe("'data' chunks", () => {
  test('bytes that arrived in many segments come out as one chunk when read', async () => {
    const n = 10_000; // 9 segments at the default MSS
    const { s, close } = await pausedReceiver(n);
    const sizes = chunksUntil(s, n);
    s.resume();
    expect(await sizes).toEqual([n]);
    close();
  });

  // node:net reads up to 64 KiB at a time whatever the high-water mark (libuv's read buffer), and so do we:
  // a small mark bounds what is buffered, not the size of each chunk (a chunk per 16 KiB cost the file
  // writer of issue 17's app figure four times the writes and pauses).
  test.each([8192, 256 * 1024])('a chunk is at most 64 KiB, with readableHighWaterMark %i as with the default', async (hwm) => {
    const n = 150_000;
    const { s, close } = await pausedReceiver(n, hwm);
    expect(s.readableHighWaterMark).toBe(hwm);
    const sizes = chunksUntil(s, n);
    s.resume();
    expect(await sizes).toEqual([65536, 65536, n - 2 * 65536]);
    close();
  });

  test('a lone small message is delivered at once, as its own chunk (simulator: one round trip of 2 ms, not the 40 ms delayed-ACK timer)', async () => {
    const net = new SimNetwork({ seed: 5, link: { delay: [1, 1] } });
    const sim = (address: string, port = 0) => ({ transport: net.bind({ address, port }), clock: net.clock, env: prngEnv(net.prng.fork()) });
    const server = createServer(sim('10.0.0.2', 7), (s) => s.pipe(s));
    server.listen();
    const c = connect({ port: 7, host: '10.0.0.2', ...sim('10.0.0.1') });
    let connected = false;
    c.once('connect', () => (connected = true));
    await runSim(net, () => connected);
    const got: Buffer[] = [];
    c.on('data', (d: Buffer) => got.push(d));
    const t0 = net.now;
    c.write('ping');
    await runSim(net, () => got.length > 0);
    expect(got.map(String)).toEqual(['ping']);
    // Virtual time: 1 ms there, 1 ms back, no wait for a batch or a timer on either side.
    expect(net.now - t0).toBe(2);
    c.destroy();
    server.close();
  });

  test('a flowing reader gets a burst of segments as one chunk, not one per segment (1 MiB on the simulator)', async () => {
    const net = new SimNetwork({ seed: 17 });
    const sim = (address: string, port = 0) => ({ transport: net.bind({ address, port }), clock: net.clock, env: prngEnv(net.prng.fork()) });
    const n = 1 << 20;
    const sizes: number[] = [];
    const got: Buffer[] = [];
    let done = false;
    // The receiving side as in issue 17: pipeline(socket, a writable that keeps up).
    const server = createServer(sim('10.0.0.2', 7), (s) => {
      const sink = new Writable({
        write(chunk: Buffer, _enc, cb) {
          sizes.push(chunk.length);
          got.push(chunk);
          cb();
        },
      });
      void pipeline(s, sink).then(() => (done = true));
    });
    server.listen();
    const c = connect({ port: 7, host: '10.0.0.2', ...sim('10.0.0.1') });
    const data = pattern(n, 3);
    c.end(data);
    await runSim(net, () => done);
    expect(sha256(Buffer.concat(got))).toBe(sha256(data));
    const segments = Math.ceil(n / 1200);
    expect(c.getStats().segmentsSent).toBeGreaterThanOrEqual(segments);
    // One chunk per segment would be ~875; reads join what each burst brought (67 at seed 17).
    expect(sizes.length).toBeLessThan(segments / 4);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(65536);
    c.destroy();
    server.close();
  });
});
