// Chunks the stream buffered (cork(), a backlog behind a full send buffer) reach the connection
// together, as net's writev: so a corked response is not split into a head that leaves and a body
// that Nagle holds until the peer's delayed ACK (25 ms). On the simulator, in virtual time.
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { connect, createServer } from '../../src/index.js';
import { prngEnv, SimNetwork } from '../../src/sim/index.js';
import { pattern, runSim, sha256, track } from './helpers.js';

const A = '10.0.0.1';
const B = '10.0.0.2';

function simOpts(net: SimNetwork, address: string, port = 0) {
  return { transport: net.bind({ address, port }), clock: net.clock, env: prngEnv(net.prng.fork()) };
}

/** A client connected to a server that collects what it receives; 1 ms each way. */
async function pair(seed: number) {
  const net = new SimNetwork({ seed, link: { delay: [1, 1] } });
  const got: Buffer[] = [];
  const server = createServer(simOpts(net, B, 7), (s) => s.on('data', (d: Buffer) => got.push(d)));
  server.listen();
  const c = connect({ port: 7, host: B, ...simOpts(net, A) });
  const t = track(c);
  await runSim(net, () => t.fired('connect'));
  const received = () => Buffer.concat(got);
  const close = (): void => {
    c.destroy();
    server.close();
  };
  return { net, c, received, close };
}

describe('_writev', () => {
  test('corked small writes arrive one way-delay later, not after the delayed-ACK timer (Nagle on)', async () => {
    const { net, c, received, close } = await pair(3);
    const t0 = net.now;
    c.cork();
    c.write('head ');
    c.write('and ');
    c.write('body');
    process.nextTick(() => c.uncork()); // as node:http's response
    await runSim(net, () => received().length === 13);
    expect(received().toString()).toBe('head and body');
    // One segment, 1 ms away. Written one by one, 'and body' waited for the ACK of 'head ' (1 + 25 + 1 ms).
    expect(net.now - t0).toBe(1);
    close();
  });

  test('a corked backlog larger than one join (3 × 40 KiB) is written chunk by chunk, intact and in order', async () => {
    const { net, c, received, close } = await pair(4);
    const parts = [pattern(40_960, 1), pattern(40_960, 2), pattern(40_960, 3)];
    c.cork();
    for (const p of parts) c.write(p);
    let done = false;
    c.write(Buffer.alloc(0), () => (done = true));
    c.uncork();
    await runSim(net, () => done && received().length === 3 * 40_960);
    expect(sha256(received())).toBe(sha256(Buffer.concat(parts)));
    close();
  });
});

describe('node:http over the simulator', () => {
  test('keep-alive GETs take about one round trip each (2 ms), not a delayed-ACK stall (27 ms) per response', async () => {
    const net = new SimNetwork({ seed: 5, link: { delay: [1, 1] } });
    const httpServer = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('hello world'); // chunked: head, size, body, CRLF and the last chunk, corked
      });
    });
    const server = createServer(simOpts(net, B, 80), (s) => httpServer.emit('connection', s));
    server.listen();
    const sockets: Duplex[] = [];
    const agent = new (class extends http.Agent {
      override createConnection(): Duplex {
        const s = connect({ port: 80, host: B, ...simOpts(net, A) });
        sockets.push(s);
        return s;
      }
    })({ keepAlive: true, maxSockets: 1 });
    const times: number[] = [];
    for (let i = 0; i < 4; i++) {
      const t0 = net.now;
      let body: string | null = null;
      let error: Error | null = null;
      http
        .get({ host: B, port: 80, path: '/', agent }, (res) => {
          let b = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (b += d));
          res.on('end', () => (body = b));
        })
        .on('error', (e) => (error = e));
      await runSim(net, () => body !== null || error !== null);
      expect(error).toBeNull();
      expect(body).toBe('hello world');
      times.push(net.now - t0);
    }
    expect(sockets.length).toBe(1); // one kept-alive connection
    // The first includes the handshake; each later one is a request out and a response back.
    expect(times.slice(1)).toEqual([2, 2, 2]);
    agent.destroy();
    httpServer.close();
    server.close();
  });
});
