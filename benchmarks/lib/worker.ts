// A benchmark child process: plays one role (roles.ts) for one implementation,
// reports 'ready' with its port, starts on 'go', and sends one 'result'.
//   node --import tsx benchmarks/lib/worker.ts '<RoleSpec JSON>'
import type dgram from 'node:dgram';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { pipeline, type Duplex } from 'node:stream';
import { dirname } from 'node:path';
import { Session } from 'node:inspector';
import { BIN_MS, CHUNK, CPU_SAMPLE_MS, cpuMs, isRaw, pattern, wallMs } from './common.js';
import { startRelay } from './delay-relay.js';
import { loadImpl, type Pipe } from './impls.js';
import { connectTo, dgramEcho, dgramMinSink, dgramPing, dgramSink, dgramSource, minConnect, minListen, udpSocket } from './raw-dgram.js';
import type { FileSinkResult, FileSourceResult, FromChild, PingResult, RoleSpec, SetupResult, SinkResult, SourceResult, ToChild } from './roles.js';
import { percentile } from './stats.js';

function send(m: FromChild): Promise<void> {
  return new Promise((res) => {
    if (!process.send || !process.connected) return res();
    process.send(m, undefined, {}, () => res());
  });
}

async function fail(e: unknown): Promise<never> {
  await send({ t: 'error', message: e instanceof Error ? `${e.message}` : String(e) });
  process.exit(1);
}
process.on('uncaughtException', (e) => void fail(e));
process.on('unhandledRejection', (e) => void fail(e));
// The coordinator going away ends us too.
process.on('disconnect', () => process.exit(0));

let onGo: (m: Extract<ToChild, { t: 'go' }>) => void = () => {};
let onStop: () => void = () => process.exit(0);
process.on('message', (m: ToChild) => {
  if (m.t === 'go') onGo(m);
  else onStop();
});

/** CPU profile of this thread between start() and stop() (go → result), written to `file`. */
function profiler(file: string | undefined): { start(): void; stop(): Promise<void> } {
  if (!file) return { start() {}, stop: async () => {} };
  const s = new Session();
  s.connect();
  // biome-ignore lint/suspicious/noExplicitAny: the inspector protocol's replies are untyped
  const post = (m: string, p?: object): Promise<any> => new Promise((res, rej) => s.post(m, p ?? {}, (e, r) => (e ? rej(e) : res(r))));
  let started: Promise<unknown> = Promise.resolve();
  return {
    start() {
      started = post('Profiler.enable')
        .then(() => post('Profiler.setSamplingInterval', { interval: 100 }))
        .then(() => post('Profiler.start'));
    },
    async stop() {
      await started;
      const { profile } = (await post('Profiler.stop')) as { profile: unknown };
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, JSON.stringify(profile));
    },
  };
}

async function finishWith(data: unknown): Promise<void> {
  await send({ t: 'result', data });
}

function pingResult(rtts: number[]): PingResult {
  rtts.sort((a, b) => a - b);
  return { p50: percentile(rtts, 0.5), p99: percentile(rtts, 0.99), mean: rtts.reduce((s, x) => s + x, 0) / rtts.length, count: rtts.length };
}

async function sink(spec: Extract<RoleSpec, { role: 'sink' }>): Promise<void> {
  const transfers = spec.transfers ?? 1;
  /** The transfer being counted (0-based); a connection belongs to the transfer it was accepted for. */
  let transfer = -1;
  let bytes = 0;
  let tFirst = 0;
  let tHalf = 0;
  let bytesHalf = 0;
  let cpuHalf = 0;
  let t0 = 0;
  let cpu0 = 0;
  let bins: number[] = [];
  let done = true;
  let capTimer: NodeJS.Timeout | undefined;
  const prof = profiler(spec.profile);
  const finish = (capped: boolean): void => {
    if (done) return;
    done = true;
    clearTimeout(capTimer);
    const r: SinkResult = { bytes, tFirst, tEnd: wallMs(), t0, bins, capped, cpuMs: cpuMs() - cpu0, tHalf, bytesHalf, cpuHalf };
    // The profile covers the first transfer only.
    void (transfer === 0 ? prof.stop() : Promise.resolve()).then(() => finishWith(r));
  };
  const count = (n: number, of: number): void => {
    if (done || of !== transfer) return;
    const now = wallMs();
    if (bytes === 0) tFirst = now;
    bytes += n;
    if (tHalf === 0 && spec.bytes !== undefined && bytes >= spec.bytes / 2) {
      tHalf = now;
      bytesHalf = bytes;
      cpuHalf = cpuMs() - cpu0;
    }
    const i = Math.floor((now - t0) / BIN_MS);
    if (i >= 0) {
      while (bins.length <= i) bins.push(0);
      bins[i]! += n;
    }
    if (spec.bytes !== undefined && bytes >= spec.bytes) finish(false);
  };
  /** Arm the next transfer: fresh counters, its own cap. Later transfers say 'ready' once armed. */
  const start = (m: Extract<ToChild, { t: 'go' }>): boolean => {
    if (transfer + 1 >= transfers) return false;
    transfer++;
    bytes = tFirst = tHalf = bytesHalf = cpuHalf = 0;
    bins = [];
    done = false;
    t0 = m.t0 ?? wallMs();
    if (transfer === 0) prof.start();
    cpu0 = cpuMs();
    capTimer = setTimeout(() => finish(true), spec.capMs);
    capTimer.unref();
    return true;
  };
  const armed = (): Promise<void> => (transfer > 0 ? send({ t: 'ready', port: 0 }) : Promise.resolve());
  onStop = () => {
    finish(true);
    setTimeout(() => process.exit(0), 200);
  };
  if (isRaw(spec.impl)) {
    const sock = await udpSocket();
    const mkSink = spec.impl === 'dgram-min' ? dgramMinSink : dgramSink;
    let rx: { reset(): void } | null = null;
    onGo = (m) => {
      if (!start(m)) return;
      // The same source socket sends every transfer, from sequence 0.
      if (rx) rx.reset();
      else rx = mkSink(sock, (n) => count(n, transfer));
      void armed();
    };
    return send({ t: 'ready', port: sock.address().port });
  }
  const impl = await loadImpl(spec.impl, spec.payload);
  let accepted = 0;
  const l = await impl.listen((s: Pipe) => {
    const of = accepted++;
    s.on('data', (d: Buffer) => count(d.length, of));
    s.on('end', () => {
      if (spec.bytes !== undefined && of === transfer) finish(false);
      s.end();
    });
    s.on('error', () => {});
  }, {});
  onGo = (m) => {
    if (!start(m)) return;
    if (l.setPeer && m.peerPort) l.setPeer(m.peerPort);
    void armed();
  };
  await send({ t: 'ready', port: l.port });
}

function writeAll(s: Pipe, total: number, progress: (n: number) => void): void {
  const buf = pattern(CHUNK);
  let written = 0;
  const pump = (): void => {
    while (written < total) {
      const n = Math.min(CHUNK, total - written);
      written += n;
      progress(written);
      if (!s.write(n === CHUNK ? buf : buf.subarray(0, n))) {
        s.once('drain', pump);
        return;
      }
    }
    s.end();
  };
  pump();
}

async function source(spec: Extract<RoleSpec, { role: 'source' }>): Promise<void> {
  const total = spec.bytes ?? Infinity;
  const transfers = spec.transfers ?? 1;
  let transfer = -1;
  let tStart = 0;
  let cpu0 = 0;
  let written = 0;
  let stopSource = (): void => {};
  const prof = profiler(spec.profile);
  // The CPU so far, sampled: the coordinator reads it off at the sink's half-way and end times.
  let cpuAt: Array<[number, number]> = [];
  let sampler: NodeJS.Timeout | undefined;
  const begin = (): boolean => {
    if (transfer + 1 >= transfers) return false;
    transfer++;
    if (transfer === 0) prof.start();
    tStart = wallMs();
    cpu0 = cpuMs();
    written = 0;
    cpuAt = [[tStart, 0]];
    sampler = setInterval(() => cpuAt.push([wallMs(), cpuMs() - cpu0]), CPU_SAMPLE_MS);
    return true;
  };
  /** Resolves once the current connection has closed by itself (both FINs), or after 5 s. */
  let closed: Promise<void> = Promise.resolve();
  onStop = () => {
    const last = transfer + 1 >= transfers;
    clearInterval(sampler);
    const cpu = cpuMs() - cpu0;
    cpuAt.push([wallMs(), cpu]);
    const r: SourceResult = { tStart, written, cpuMs: cpu, cpuAt };
    // Before a later transfer, the connection closes as an application's would (end() on both sides),
    // so that no half-closed connection is still working while the next one is timed.
    const wait = last ? Promise.resolve() : Promise.race([closed, new Promise<void>((res) => setTimeout(res, 5000))]);
    void wait
      .then(() => {
        stopSource();
        stopSource = () => {};
      })
      .then(() => (transfer === 0 ? prof.stop() : undefined))
      .then(() => finishWith(r))
      .then(() => {
        if (last) process.exit(0);
      });
  };
  if (isRaw(spec.impl)) {
    const sock = await udpSocket();
    const connected = connectTo(sock, spec.port);
    const wire = spec.impl === 'dgram-min';
    onGo = () => {
      if (!begin()) return;
      void connected.then(() => {
        const src = dgramSource(sock, total, spec.payload, wire);
        stopSource = () => {
          written = src.sent();
          src.stop();
        };
      });
    };
    return send({ t: 'ready', port: sock.address().port });
  }
  const impl = await loadImpl(spec.impl, spec.payload);
  const c = await impl.client(spec.port, {});
  onGo = () => {
    if (!begin()) return;
    const mine = transfer;
    void c.open().then((s) => {
      if (mine !== transfer) return s.destroy();
      stopSource = () => s.destroy();
      closed = new Promise((res) => s.once('close', () => res()));
      // RD_BENCH_STATS=file (diagnostics, README): the sending socket's getStats() as JSON lines every 50 ms.
      const statsFile = process.env.RD_BENCH_STATS;
      const getStats = (s as { getStats?: () => unknown }).getStats;
      if (statsFile && getStats) {
        const iv = setInterval(() => writeFileSync(statsFile, `${JSON.stringify(getStats.call(s))}\n`, { flag: 'a' }), 50);
        iv.unref();
        s.on('close', () => clearInterval(iv));
      }
      s.on('data', () => {});
      s.on('error', () => {});
      writeAll(s, total, (n) => {
        if (mine === transfer) written = n;
      });
    });
  };
  await send({ t: 'ready', port: c.port });
}

/** The app-level receiver: pipeline(socket, fs.createWriteStream(file)), sha256 of the bytes on their way. */
async function fileSink(spec: Extract<RoleSpec, { role: 'filesink' }>): Promise<void> {
  if (isRaw(spec.impl)) return fail('raw dgram is not a stream');
  const impl = await loadImpl(spec.impl);
  const hash = createHash('sha256');
  let bytes = 0;
  let cpu0 = 0;
  let done = false;
  const finish = (capped: boolean, error?: string): void => {
    if (done) return;
    done = true;
    const tEnd = wallMs();
    const cpu = cpuMs() - cpu0;
    let fileBytes = -1;
    try {
      fileBytes = statSync(spec.file).size;
    } catch {
      /* not written */
    }
    const r: FileSinkResult = { bytes, fileBytes, tEnd, capped, cpuMs: cpu, sha256: hash.digest('hex'), ...(error ? { error } : {}) };
    void finishWith(r);
  };
  let accepted = false;
  await impl
    .listen((s: Pipe) => {
      if (accepted) return s.destroy();
      accepted = true;
      const sock = s as unknown as Duplex;
      sock.on('data', (d: Buffer) => {
        bytes += d.length;
        hash.update(d);
      });
      pipeline(sock, createWriteStream(spec.file), (err) => finish(false, err ? `receiver pipeline: ${err.message}` : undefined));
    }, {})
    .then((l) => {
      onGo = () => {
        cpu0 = cpuMs();
        setTimeout(() => finish(true), spec.capMs).unref();
      };
      return send({ t: 'ready', port: l.port });
    });
}

/** The app-level sender: pipeline(fs.createReadStream(file), socket), sha256 of what is read. */
async function fileSource(spec: Extract<RoleSpec, { role: 'filesource' }>): Promise<void> {
  if (isRaw(spec.impl)) return fail('raw dgram is not a stream');
  const impl = await loadImpl(spec.impl);
  const c = await impl.client(spec.port, {});
  const hash = createHash('sha256');
  let bytes = 0;
  let tStart = 0;
  let tDone = 0;
  let cpu0 = 0;
  let error: string | undefined;
  let sock: Pipe | null = null;
  onStop = () => {
    const r: FileSourceResult = { tStart, tDone, bytes, cpuMs: cpuMs() - cpu0, sha256: hash.digest('hex'), ...(error ? { error } : {}) };
    sock?.destroy();
    void finishWith(r).then(() => process.exit(0));
  };
  onGo = () => {
    tStart = wallMs();
    cpu0 = cpuMs();
    void c.open().then(
      (s) => {
        sock = s;
        s.on('data', () => {});
        const rs = createReadStream(spec.file);
        rs.on('data', (d) => {
          bytes += d.length;
          hash.update(d);
        });
        pipeline(rs, s as unknown as Duplex, (err) => {
          tDone = wallMs();
          if (err) error = `sender pipeline: ${err.message}`;
        });
      },
      (e: unknown) => {
        error = `connect: ${e instanceof Error ? e.message : String(e)}`;
      },
    );
  };
  await send({ t: 'ready', port: c.port });
}

/** The stream echo: every chunk written back. */
function echoStream(s: Pipe): void {
  s.on('data', (d: Buffer) => s.write(d));
  s.on('end', () => s.end());
  s.on('error', () => {});
}

async function echo(spec: Extract<RoleSpec, { role: 'echo' }>): Promise<void> {
  if (isRaw(spec.impl)) {
    const sock = await udpSocket();
    // dgram-min: our header under a stream.Duplex, echoed as the streams are.
    if (spec.impl === 'dgram-min') minListen(sock, echoStream);
    else dgramEcho(sock);
    return send({ t: 'ready', port: sock.address().port });
  }
  const impl = await loadImpl(spec.impl);
  const l = await impl.listen(echoStream, { noDelay: true });
  onGo = (m) => {
    if (l.setPeer && m.peerPort) l.setPeer(m.peerPort);
  };
  await send({ t: 'ready', port: l.port });
}

/**
 * `n` round trips of `size` bytes over a stream; resolves with their RTTs in µs.
 * `lost` (dgram-min, no retransmission of its own): called, and the RTT restarted, when no reply came in 200 ms, as dgramPing re-sends.
 */
function streamPing(s: Pipe, size: number, n: number, lost?: () => void): Promise<number[]> {
  const msg = pattern(size);
  const rtts: number[] = [];
  return new Promise((res) => {
    let got = 0;
    let t = 0n;
    let timer: NodeJS.Timeout | undefined;
    const again = (): void => {
      t = process.hrtime.bigint();
      lost?.();
      timer = setTimeout(again, 200);
    };
    const fire = (): void => {
      got = 0;
      t = process.hrtime.bigint();
      s.write(msg);
      if (lost) {
        clearTimeout(timer);
        timer = setTimeout(again, 200);
      }
    };
    const onData = (d: Buffer): void => {
      got += d.length;
      if (got < size) return;
      rtts.push(Number(process.hrtime.bigint() - t) / 1000);
      if (rtts.length >= n) {
        clearTimeout(timer);
        s.off?.('data', onData);
        res(rtts);
      } else fire();
    };
    s.on('data', onData);
    fire();
  });
}

async function pinger(spec: Extract<RoleSpec, { role: 'pinger' }>): Promise<void> {
  if (spec.impl === 'dgram') {
    const sock: dgram.Socket = await udpSocket();
    onGo = () => {
      void connectTo(sock, spec.port)
        .then(() => dgramPing(sock, spec.size, spec.warmup, spec.count))
        .then((rtts) => finishWith(pingResult(rtts)));
    };
    return send({ t: 'ready', port: sock.address().port });
  }
  if (spec.impl === 'dgram-min') {
    // The stream pingers' loop over the floor's Duplex, on a socket connected to the echo (as dgram's).
    const sock: dgram.Socket = await udpSocket();
    onGo = () => {
      void connectTo(sock, spec.port)
        .then(() => {
          const c = minConnect(sock);
          return streamPing(c.duplex, spec.size, spec.warmup + spec.count, () => c.resend());
        })
        .then((all) => finishWith(pingResult(all.slice(spec.warmup))));
    };
    return send({ t: 'ready', port: sock.address().port });
  }
  const impl = await loadImpl(spec.impl);
  const c = await impl.client(spec.port, { noDelay: true });
  onGo = () => {
    void c.open().then(async (s) => {
      s.on('error', () => {});
      const all = await streamPing(s, spec.size, spec.warmup + spec.count);
      await finishWith(pingResult(all.slice(spec.warmup)));
    });
  };
  await send({ t: 'ready', port: c.port });
}

async function setup(spec: Extract<RoleSpec, { role: 'setup' }>): Promise<void> {
  if (isRaw(spec.impl)) return fail('raw dgram has no connections');
  const impl = await loadImpl(spec.impl);
  const c = await impl.client(spec.port, { shared: !!spec.shared });
  const msg = pattern(spec.size);
  const once = async (): Promise<void> => {
    const s = await c.open();
    await new Promise<void>((res, rej) => {
      let got = 0;
      s.on('error', rej);
      s.on('data', (d: Buffer) => {
        got += d.length;
        if (got >= spec.size) s.end();
      });
      // Done when the close handshake is: the peer's FIN arrived after ours ('end'), or 'close'.
      const done = (): void => (got >= spec.size ? res() : rej(new Error(`closed after ${got} bytes`)));
      s.on('end', done);
      s.on('close', done);
      s.write(msg);
    });
  };
  onGo = () => {
    const cpu0 = cpuMs();
    const t0 = wallMs();
    void (async () => {
      let i = 0;
      for (; i < spec.iterations && wallMs() - t0 < spec.capMs; i++) await once();
      const r: SetupResult = { iterations: i, elapsedMs: wallMs() - t0, cpuMs: cpuMs() - cpu0 };
      await finishWith(r);
    })().catch((e: unknown) => fail(e));
  };
  await send({ t: 'ready', port: 0 });
}

async function relay(spec: Extract<RoleSpec, { role: 'relay' }>): Promise<void> {
  const cpu0 = cpuMs();
  const r = await startRelay({ port: spec.port, rttMs: spec.rttMs, rateMbit: spec.rateMbit, queueMs: spec.queueMs });
  onStop = () => {
    void finishWith({ ...r.stats(), cpuMs: cpuMs() - cpu0 }).then(() => process.exit(0));
  };
  await send({ t: 'ready', port: r.clientPort, port2: r.serverSidePort });
}

const spec = JSON.parse(process.argv[2] ?? '{}') as RoleSpec;
switch (spec.role) {
  case 'sink':
    await sink(spec);
    break;
  case 'source':
    await source(spec);
    break;
  case 'echo':
    await echo(spec);
    break;
  case 'pinger':
    await pinger(spec);
    break;
  case 'setup':
    await setup(spec);
    break;
  case 'relay':
    await relay(spec);
    break;
  case 'filesink':
    await fileSink(spec);
    break;
  case 'filesource':
    await fileSource(spec);
    break;
  default:
    await fail(`unknown role ${JSON.stringify(spec)}`);
}
