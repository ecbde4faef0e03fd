// `perf server` / `perf client`: an iperf-style throughput test. The client
// opens with one JSON line ({ reverse, time, bytes }); then one side sends
// zeros until the time or byte budget is spent and half-closes. In the
// forward direction the server answers the FIN with what it received.

import { connect, createServer, type Server, type Socket } from 'reliable-dgram';
import { parse, parseCount, parsePort, parseSeconds, parseSize, positionals, socketOptions, UsageError } from './args.js';
import { formatBytes, formatMs } from './format.js';
import { realTicker, type Ticker } from './progress.js';
import { exit, EXIT_NETWORK, EXIT_OK, failWith, log, onInterrupt, watchVerbose } from './runtime.js';
import { parseSimSpec, SimRig } from './sim.js';

interface Header {
  reverse: boolean;
  /** ms to send, or null. */
  time: number | null;
  /** bytes to send, or null. */
  bytes: number | null;
}

interface ServerReport {
  bytes: number;
  ms: number;
}

const CHUNK = Buffer.alloc(64 * 1024);
const MAX_HEADER = 1024;

/** Send zeros until `budget` says stop, then end. */
function blast(s: Socket, ticker: Ticker, h: Header): { sent: () => number } {
  let sent = 0;
  const t0 = ticker.now();
  let stop = false;
  let cancel: (() => void) | null = null;
  if (h.time !== null) cancel = ticker.every(h.time, () => (stop = true));
  const pump = (): void => {
    for (;;) {
      if (stop || s.destroyed || (h.bytes !== null && sent >= h.bytes) || (h.time !== null && ticker.now() - t0 >= h.time)) {
        cancel?.();
        if (!s.writableEnded && !s.destroyed) s.end();
        return;
      }
      const n = h.bytes !== null ? Math.min(CHUNK.length, h.bytes - sent) : CHUNK.length;
      sent += n;
      if (!s.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) return void s.once('drain', pump);
    }
  };
  pump();
  return { sent: () => sent };
}

/** Answer perf clients on `server`; returns the open connections. */
function serve(server: Server, ticker: Ticker, verbose: boolean, quiet: boolean): Set<Socket> {
  const open = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    open.add(s);
    s.on('close', () => open.delete(s));
    const who = `${s.remoteAddress}:${s.remotePort}`;
    if (verbose) watchVerbose(s, `perf ${who}`, ticker.now);
    let head = '';
    let header: Header | null = null;
    let bytes = 0;
    let t0 = 0;
    s.on('error', (e: Error) => {
      if (!quiet) log(`perf server: ${who}: ${e.message}`);
    });
    s.on('data', (d: Buffer) => {
      if (header) return void (bytes += d.length);
      head += d.toString('latin1');
      const nl = head.indexOf('\n');
      if (nl < 0) {
        if (head.length > MAX_HEADER) s.destroy();
        return;
      }
      try {
        const h = JSON.parse(head.slice(0, nl)) as Partial<Header>;
        header = { reverse: h.reverse === true, time: typeof h.time === 'number' ? h.time : null, bytes: typeof h.bytes === 'number' ? h.bytes : null };
      } catch {
        return void s.destroy();
      }
      t0 = ticker.now();
      bytes = head.length - nl - 1;
      if (header.reverse) blast(s, ticker, header);
    });
    s.on('end', () => {
      const ms = ticker.now() - t0;
      if (header && !header.reverse) {
        s.end(`${JSON.stringify({ bytes, ms } satisfies ServerReport)}\n`);
        if (!quiet) log(`perf server: ${who}: received ${formatBytes(bytes)} in ${(ms / 1000).toFixed(2)} s, ${mbps(bytes, ms).toFixed(2)} MB/s`);
      } else s.end();
    });
  });
  return open;
}

function mbps(bytes: number, ms: number): number {
  return ms > 0 ? bytes / ms / 1000 : 0;
}

export function perf(args: string[]): Promise<void> | void {
  const [role, ...rest] = args;
  if (role === 'server') return perfServer(rest);
  if (role === 'client') return perfClient(rest);
  throw new UsageError(role === undefined ? 'missing server or client' : `unknown perf role '${role}': expected server or client`, 'perf');
}

function perfServer(args: string[]): void {
  const { values, positionals: got } = parse('perf', args, { host: { type: 'string' } });
  if (values.sim !== undefined) throw new UsageError('--sim runs both ends in one process: use it with perf client', 'perf');
  const [portArg] = positionals('perf', got, ['PORT']);
  const port = parsePort('perf', portArg);
  const server = createServer({ ...socketOptions('perf', values), allowHalfOpen: true });
  server.on('error', failWith);
  const open = serve(server, realTicker, values.verbose === true, false);
  server.on('listening', () => {
    const a = server.address();
    if (a && typeof a === 'object') log(`reliable-dgram: perf server listening on ${a.address}:${a.port}`);
  });
  onInterrupt(() => {
    for (const s of open) s.resetAndDestroy();
    server.close();
  });
  if (typeof values.host === 'string') server.listen(port, values.host);
  else server.listen(port);
}

interface StreamIv {
  bytes: number;
  mbps: number;
  retransmits: number;
  srtt: number;
  cwnd: number;
}

interface Interval {
  start: number;
  end: number;
  streams: StreamIv[];
  sum: { bytes: number; mbps: number; retransmits: number };
}

async function perfClient(args: string[]): Promise<void> {
  const own = {
    time: { type: 'string' },
    bytes: { type: 'string' },
    reverse: { type: 'boolean' },
    parallel: { type: 'string', short: 'P' },
    interval: { type: 'string', short: 'i' },
    json: { type: 'boolean' },
  } as const;
  const { values, positionals: got } = parse('perf', args, own);
  const sim = typeof values.sim === 'string' ? new SimRig(parseSimSpec('perf', values.sim)) : null;
  const [host, portArg] = positionals('perf', got, sim ? [] : ['HOST', 'PORT']);
  if (values.time !== undefined && values.bytes !== undefined) throw new UsageError('give --time or --bytes, not both', 'perf');
  const bytes = parseSize('perf', 'bytes', values.bytes) ?? null;
  const time = bytes !== null ? null : (parseSeconds('perf', 'time', values.time) ?? 10) * 1000;
  const parallel = parseCount('perf', 'parallel', values.parallel) ?? 1;
  if (parallel > 128) throw new UsageError(`invalid --parallel '${parallel}': at most 128`, 'perf');
  const intervalMs = (parseSeconds('perf', 'interval', values.interval) ?? 1) * 1000;
  const header: Header = { reverse: values.reverse === true, time, bytes: bytes === null ? null : Math.ceil(bytes / parallel) };
  const json = values.json === true;
  const base = { ...socketOptions('perf', values), allowHalfOpen: true };
  const ticker: Ticker = sim ? { now: sim.now, every: (ms, fn) => sim.every(ms, fn) } : realTicker;
  const port = sim ? 0 : parsePort('perf', portArg);
  const out = (line: string): void => {
    if (!json) process.stdout.write(`${line}\n`);
  };

  if (sim) {
    const server = createServer(sim.server(base));
    serve(server, ticker, false, true);
    server.listen();
  }

  interface Stream {
    s: Socket;
    counted: () => number;
    last: number;
    lastRetrans: number;
    report: ServerReport | null;
    t0: number;
    t1: number;
    closed: boolean;
  }
  const streams: Stream[] = [];
  const intervals: Interval[] = [];
  let t0 = 0;
  let lastT = 0;
  let stopIntervals: (() => void) | null = null;
  let failed: Error | null = null;

  const sample = (final: boolean): void => {
    const now = ticker.now();
    const dt = now - lastT;
    if (dt <= 0 || (final && dt < intervalMs * 0.1)) return;
    const iv: Interval = { start: (lastT - t0) / 1000, end: (now - t0) / 1000, streams: [], sum: { bytes: 0, mbps: 0, retransmits: 0 } };
    for (const st of streams) {
      const b = st.counted();
      const stats = st.s.getStats();
      const retr = stats?.retransmittedSegments ?? 0;
      const one = { bytes: b - st.last, mbps: mbps(b - st.last, dt), retransmits: retr - st.lastRetrans, srtt: stats?.srtt ?? 0, cwnd: stats?.cwnd ?? 0 };
      st.last = b;
      st.lastRetrans = retr;
      iv.streams.push(one);
      iv.sum.bytes += one.bytes;
      iv.sum.retransmits += one.retransmits;
    }
    iv.sum.mbps = mbps(iv.sum.bytes, dt);
    lastT = now;
    intervals.push(iv);
    const span = `[${iv.start.toFixed(1).padStart(5)}-${iv.end.toFixed(1).padStart(5)} s]`;
    iv.streams.forEach((one, i) => {
      const tag = parallel > 1 ? `[${String(i + 1).padStart(3)}] ` : '';
      // Reversed, this end only acknowledges: its retransmissions and cwnd say nothing about the flow.
      const sender = header.reverse ? '' : `  retr ${String(one.retransmits).padStart(4)}`;
      const cwnd = header.reverse ? '' : `  cwnd ${formatBytes(one.cwnd)}`;
      out(`${tag}${span} ${formatBytes(one.bytes).padStart(10)} ${one.mbps.toFixed(2).padStart(8)} MB/s${sender}  srtt ${formatMs(one.srtt)}${cwnd}`);
    });
    if (parallel > 1)
      out(
        `[SUM] ${span} ${formatBytes(iv.sum.bytes).padStart(10)} ${iv.sum.mbps.toFixed(2).padStart(8)} MB/s${header.reverse ? '' : `  retr ${String(iv.sum.retransmits).padStart(4)}`}`,
      );
  };

  let connected = 0;
  const onConnected = (): void => {
    if (++connected < parallel) return;
    t0 = lastT = ticker.now();
    for (const st of streams) st.t0 = t0;
    out(
      `${header.reverse ? 'receiving from' : 'sending to'} ${streams[0]?.s.remoteAddress}:${streams[0]?.s.remotePort}, ${parallel} stream(s), ${time !== null ? `${time / 1000} s` : `${formatBytes(bytes ?? 0)}`}`,
    );
    stopIntervals = ticker.every(intervalMs, () => sample(false));
    for (const st of streams) {
      st.s.write(`${JSON.stringify(header)}\n`);
      if (!header.reverse) {
        const b = blast(st.s, ticker, header);
        st.counted = () => Math.max(0, b.sent() - st.s.writableLength - (st.s.getStats()?.sendBuffered ?? 0));
      }
    }
  };

  for (let i = 0; i < parallel; i++) {
    const s = sim ? connect(sim.client(base)) : connect({ ...base, port, host: host ?? '' });
    const st: Stream = { s, counted: () => s.bytesRead, last: 0, lastRetrans: 0, report: null, t0: 0, t1: 0, closed: false };
    streams.push(st);
    if (values.verbose) watchVerbose(s, `stream ${i + 1}`, ticker.now);
    let reply = '';
    s.on('connect', onConnected);
    s.on('data', (d: Buffer) => {
      if (!header.reverse) reply += d.toString('latin1');
    });
    s.on('end', () => {
      st.t1 = ticker.now(); // everything is delivered: the peer's FIN comes after it
      if (header.reverse) s.end();
      else {
        try {
          st.report = JSON.parse(reply) as ServerReport;
        } catch {
          st.report = null;
        }
      }
    });
    s.on('error', (e: Error) => {
      failed ??= e;
      for (const o of streams) o.s.destroy();
    });
    s.on('close', () => {
      st.closed = true;
      if (streams.every((o) => o.closed)) finish();
    });
  }

  const finish = (): void => {
    stopIntervals?.();
    if (failed) {
      failWith(failed);
      return;
    }
    sample(true);
    const seconds = (Math.max(...streams.map((st) => st.t1 || ticker.now())) - t0) / 1000;
    const total = streams.reduce((a, st) => a + st.counted(), 0);
    const retransmits = streams.reduce((a, st) => a + (st.s.getStats()?.retransmittedSegments ?? 0), 0);
    const sender = { bytes: total, seconds, mbps: mbps(total, seconds * 1000), retransmits };
    let receiver: { bytes: number; seconds: number; mbps: number } | null = null;
    if (header.reverse) receiver = { bytes: total, seconds, mbps: sender.mbps };
    else if (streams.every((st) => st.report)) {
      const rb = streams.reduce((a, st) => a + (st.report?.bytes ?? 0), 0);
      const rs = Math.max(...streams.map((st) => st.report?.ms ?? 0)) / 1000;
      receiver = { bytes: rb, seconds: rs, mbps: mbps(rb, rs * 1000) };
    }
    const end = { sender: header.reverse ? null : sender, receiver, retransmits: header.reverse ? null : retransmits };
    if (json) {
      const doc = { start: { reverse: header.reverse, parallel, time, bytes, sim: sim ? values.sim : null }, intervals, end };
      process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    } else {
      out('- - - - - - - - - - - - - - - - - - - - - - - - -');
      if (!header.reverse)
        out(
          `[${'0.0'.padStart(5)}-${seconds.toFixed(1).padStart(5)} s] ${formatBytes(total).padStart(10)} ${sender.mbps.toFixed(2).padStart(8)} MB/s  retr ${retransmits}  sender`,
        );
      if (receiver)
        out(
          `[${'0.0'.padStart(5)}-${receiver.seconds.toFixed(1).padStart(5)} s] ${formatBytes(receiver.bytes).padStart(10)} ${receiver.mbps.toFixed(2).padStart(8)} MB/s  receiver`,
        );
      if (sim) out(`simulated: ${(sim.net.now / 1000).toFixed(2)} virtual seconds`);
    }
    exit(receiver ? EXIT_OK : EXIT_NETWORK);
  };

  onInterrupt(() => {
    stopIntervals?.();
    for (const st of streams) st.s.resetAndDestroy();
  });
  if (sim) await sim.run(() => streams.every((st) => st.closed));
}
