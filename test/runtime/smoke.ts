// The smoke suite for runtimes other than the Node versions the unit suite runs on
// (Bun, Deno): it loads the built package (dist/, what users install) and checks,
// over loopback, what a user does first. Plain script, no test framework, so that
// every runtime runs it the same way:
//
//   bun test/runtime/smoke.ts --json out.json
//   deno run -A test/runtime/smoke.ts --json out.json
//   npx tsx test/runtime/smoke.ts
//
// The JSON report has vitest's count fields (numPassedTests, numFailedTests,
// numPendingTests), which .ci/run adds up. Exit status 0 when every test passed.
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generate } from 'selfsigned';

type Lib = typeof import('../../src/index.js');
type SimLib = typeof import('../../src/sim.js');

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const lib = (await import(pathToFileURL(resolve(ROOT, 'dist/index.js')).href)) as Lib;
const sim = (await import(pathToFileURL(resolve(ROOT, 'dist/sim.js')).href)) as SimLib;
const { connect, createServer } = lib;

declare const Bun: { version: string } | undefined;
declare const Deno: { version: { deno: string } } | undefined;
const runtime = typeof Bun !== 'undefined' ? `bun ${Bun.version}` : typeof Deno !== 'undefined' ? `deno ${Deno.version.deno}` : `node ${process.versions.node}`;

const TEST_TIMEOUT = 120_000;
/**
 * Deno 2.9's node:dgram loses most datagrams that arrive in a burst (164 of 3000 sent at 20 per
 * ms, whatever SO_RCVBUF; all of them at 1 per ms): transfers there are intact but run on
 * retransmissions (a 4 MiB echo took 17 to over 120 s), so Deno echoes 2 MiB.
 */
const ECHO_MIB = typeof Deno !== 'undefined' ? 2 : 4;

interface Result {
  name: string;
  status: 'passed' | 'failed';
  durationMs: number;
  error?: string;
}

function check(cond: boolean, what: string): void {
  if (!cond) throw new Error(what);
}

function listen(server: ReturnType<Lib['createServer']>): Promise<number> {
  return new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => done((server.address() as AddressInfo).port));
  });
}

function closeServer(server: ReturnType<Lib['createServer']>): Promise<void> {
  return new Promise((done) => server.close(() => done()));
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Echo `size` random bytes through a server that pipes back; resolve with what came back. */
async function echo(size: number): Promise<void> {
  const server = createServer((s) => s.pipe(s));
  const port = await listen(server);
  const data = randomBytes(size);
  const got = await new Promise<Buffer>((done, fail) => {
    const chunks: Buffer[] = [];
    const c = connect(port, '127.0.0.1', () => {
      for (let off = 0; off < size; off += 64 * 1024) c.write(data.subarray(off, off + 64 * 1024));
      c.end();
    });
    c.on('data', (d: Buffer) => chunks.push(d));
    c.on('error', fail);
    c.on('close', () => done(Buffer.concat(chunks)));
  });
  await closeServer(server);
  check(got.length === size, `echoed ${got.length} of ${size} bytes`);
  check(sha(got) === sha(data), 'echoed bytes differ from those sent');
}

class DgramAgent extends http.Agent {
  override createConnection(options: http.ClientRequestArgs): Duplex {
    return connect({ port: Number(options.port), host: options.hostname ?? '127.0.0.1' });
  }
}

async function httpOverIt(): Promise<void> {
  const httpServer = http.createServer((req, res) => {
    let n = 0;
    req.on('data', (d: Buffer) => (n += d.length));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(req.method === 'POST' ? `got ${n} bytes` : `hello ${req.url ?? ''}`);
    });
  });
  const server = createServer((s) => httpServer.emit('connection', s));
  const port = await listen(server);
  const agent = new DgramAgent({ keepAlive: true });
  const request = (method: string, path: string, body?: Buffer): Promise<{ status: number; body: string }> =>
    new Promise((done, fail) => {
      const req = http.request({ host: '127.0.0.1', port, method, path, agent }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => done({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', fail);
      req.end(body);
    });
  const a = await request('GET', '/one');
  check(a.status === 200 && a.body === 'hello /one', `GET: ${a.status} ${a.body}`);
  const b = await request('POST', '/big', randomBytes(300_000));
  check(b.status === 200 && b.body === 'got 300000 bytes', `POST: ${b.status} ${b.body}`);
  agent.destroy();
  httpServer.close();
  await closeServer(server);
}

async function tlsOverIt(): Promise<void> {
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }] }],
  });
  const tlsServer = tls.createServer({ key: pems.private, cert: pems.cert }, (s) => s.pipe(s));
  const server = createServer((sock) => tlsServer.emit('connection', sock));
  const port = await listen(server);
  const data = randomBytes(256 * 1024);
  const got = await new Promise<{ authorized: boolean; bytes: Buffer }>((done, fail) => {
    // Ends once everything came back (a request/response exchange, as examples/tls.ts does).
    const s = tls.connect({ socket: connect(port, '127.0.0.1'), ca: pems.cert, servername: 'localhost' }, () => s.write(data));
    const chunks: Buffer[] = [];
    let n = 0;
    s.on('data', (d: Buffer) => {
      chunks.push(d);
      if ((n += d.length) >= data.length) s.end();
    });
    s.on('end', () => done({ authorized: s.authorized, bytes: Buffer.concat(chunks) }));
    s.on('error', fail);
  });
  tlsServer.close();
  await closeServer(server);
  check(got.authorized, 'TLS peer not authorized');
  check(got.bytes.length === data.length && sha(got.bytes) === sha(data), `TLS echo: ${got.bytes.length} of ${data.length} bytes, or different`);
}

/** The README's simulator example, as written there. */
async function simulatorExample(): Promise<void> {
  const { SimNetwork, prngEnv, settle } = sim;
  const net = new SimNetwork({ seed: 42, link: { loss: 0.2, reorder: 0.1, delay: [5, 40] } });
  const on = (address: string) => ({ transport: net.bind({ address, port: 7000 }), clock: net.clock, env: prngEnv(net.prng.fork()) });
  createServer(on('127.0.0.1'), (s) => s.pipe(s)).listen();
  const c = connect({ ...on('127.0.0.2'), port: 7000, host: '127.0.0.1' });
  let echoed = 0;
  c.on('data', (d: Buffer) => (echoed += d.length));
  c.end('x'.repeat(65536));
  await settle(net, { done: () => c.destroyed });
  check(echoed === 65536, `simulator: ${echoed} of 65536 bytes echoed by ${net.now} virtual ms`);
}

/** Under Bun, servers get Bun.udpSocket (sendMany); elsewhere, or with RD_UDP=dgram, node:dgram. */
async function transportChoice(): Promise<void> {
  const server = createServer();
  await listen(server);
  const t = server.endpoint?.transport;
  const native = typeof Bun !== 'undefined' && process.env.RD_UDP !== 'dgram';
  await closeServer(server);
  check(
    t instanceof (native ? lib.BunUdpTransport : lib.UdpTransport),
    `server transport: ${t?.constructor.name ?? 'none'}, wanted ${native ? 'BunUdpTransport' : 'UdpTransport'}`,
  );
}

type Sock = { sendMany(p: unknown[]): number };
const sockOf = (t: Awaited<ReturnType<Lib['BunUdpTransport']['bind']>>): Sock => (t as unknown as { socket: Sock }).socket;

/** Bun only: the datagrams of one run leave in one sendMany per 64; bad input never throws; the queue is bounded. */
async function bunTransport(): Promise<void> {
  const { BunUdpTransport } = lib;
  const a = await BunUdpTransport.bind({ address: '127.0.0.1' });
  const b = await BunUdpTransport.bind({ address: '127.0.0.1', maxQueued: 10 });
  let got = 0;
  const all = new Promise<void>((resolve) => {
    b.onMessage = () => {
      if (++got === 200) resolve();
    };
  });
  const s = sockOf(a);
  const sendMany = s.sendMany.bind(s);
  let calls = 0;
  s.sendMany = (p) => {
    calls++;
    return sendMany(p);
  };
  for (let i = 0; i < 200; i++) a.send(new Uint8Array(100).fill(i), b.address());
  await all;
  check(calls <= 4, `200 datagrams took ${calls} sendMany calls`);
  check(a.stats.sent === 200 && a.stats.sendErrors === 0, `stats ${JSON.stringify(a.stats)}`);
  a.send(new Uint8Array(1), { address: 'not-an-ip', port: 1 });
  a.send(new Uint8Array(1), { address: '127.0.0.1', port: 0 });
  check(a.released() && a.stats.sendErrors === 2, `bad destinations: ${JSON.stringify(a.stats)}`);
  for (let i = 0; i < 20; i++) b.send(new Uint8Array(1), a.address());
  check(b.stats.queued === 10 && b.stats.sendErrors === 10, `bounded queue: ${JSON.stringify(b.stats)}`);
  check(b.released() && b.stats.queued === 0 && b.stats.sent === 10, `released() flushes: ${JSON.stringify(b.stats)}`);
  a.close();
  b.close();
}

const tests: Array<[string, () => Promise<void>]> = [
  [`loopback echo of ${ECHO_MIB} MiB arrives intact`, () => echo(ECHO_MIB * 1024 * 1024)],
  [
    '8 concurrent connections each echo 32 KiB',
    async () => {
      await Promise.all(Array.from({ length: 8 }, () => echo(32 * 1024)));
    },
  ],
  ['node:http over it: GET and a 300 kB POST on a kept-alive agent', httpOverIt],
  ['node:tls over it: authorized, 256 KiB echoed intact', tlsOverIt],
  ['the README simulator example echoes 64 KiB over a lossy virtual link', simulatorExample],
  ['servers run on Bun.udpSocket under Bun (RD_UDP=dgram: node:dgram), on node:dgram elsewhere', transportChoice],
  ...(typeof Bun !== 'undefined'
    ? [['BunUdpTransport: one sendMany per 64 datagrams, bad destinations counted not thrown, bounded queue', bunTransport] as [string, () => Promise<void>]]
    : []),
];

const results: Result[] = [];
for (const [name, fn] of tests) {
  const t0 = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([fn(), new Promise((_, fail) => (timer = setTimeout(() => fail(new Error(`timed out after ${TEST_TIMEOUT} ms`)), TEST_TIMEOUT)))]);
    results.push({ name, status: 'passed', durationMs: Math.round(performance.now() - t0) });
  } catch (err) {
    results.push({
      name,
      status: 'failed',
      durationMs: Math.round(performance.now() - t0),
      error: err instanceof Error ? (err.stack ?? err.message) : String(err),
    });
  } finally {
    clearTimeout(timer);
  }
  const r = results[results.length - 1]!;
  console.log(`${r.status === 'passed' ? '✓' : '✗'} ${name} (${r.durationMs} ms)${r.error ? `\n  ${r.error}` : ''}`);
}

const passed = results.filter((r) => r.status === 'passed').length;
const failed = results.length - passed;
const report = { runtime, numTotalTests: results.length, numPassedTests: passed, numFailedTests: failed, numPendingTests: 0, testResults: results };
const jsonAt = process.argv.indexOf('--json');
const out = jsonAt > 0 ? process.argv[jsonAt + 1] : undefined;
if (out !== undefined) writeFileSync(out, JSON.stringify(report, null, 2));
console.log(`${runtime} smoke: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
