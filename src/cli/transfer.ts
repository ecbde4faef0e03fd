// `send` and `recv`: a file transfer with progress and a sha256 on both sides.
// The receiver answers the sender's FIN with the digest it computed (a
// half-closed connection carries it back), so the sender can say 'match'.

import { createHash } from 'node:crypto';
import { closeSync, createReadStream, createWriteStream, openSync, readSync, statSync } from 'node:fs';
import { Readable, type Writable } from 'node:stream';
import { connect, createServer, type Server, type Socket } from 'reliable-dgram';
import { parse, parsePort, positionals, socketOptions, UsageError } from './args.js';
import { formatBytes, formatRate } from './format.js';
import { Progress, realTicker, type Ticker } from './progress.js';
import { delivered, exit, EXIT_NETWORK, EXIT_OK, failWith, log, onInterrupt, watchVerbose } from './runtime.js';
import { parseSimSpec, SimRig } from './sim.js';

/** A file as a stream of 64 KiB chunks read with readSync: no pending I/O between them. */
function syncFileStream(file: string): Readable {
  let fd: number | null = null;
  return new Readable({
    read() {
      try {
        fd ??= openSync(file, 'r');
        const buf = Buffer.allocUnsafe(64 * 1024);
        const n = readSync(fd, buf, 0, buf.length, null);
        if (n > 0) {
          this.push(n === buf.length ? buf : buf.subarray(0, n));
          return;
        }
        closeSync(fd);
        fd = null;
        this.push(null);
      } catch (e) {
        this.destroy(e as Error);
      }
    },
    destroy(err, cb) {
      if (fd !== null) closeSync(fd);
      fd = null;
      cb(err);
    },
  });
}

/** Bytes the peer has acknowledged: what we handed the socket, less what it still holds. */
function acked(s: Socket, fed: number): number {
  return Math.max(0, fed - s.writableLength - (s.getStats()?.sendBuffered ?? 0));
}

interface Received {
  bytes: number;
  sha256: string;
  ms: number;
}

/**
 * The receiving side of one connection: bytes to `out` (if any) and into the
 * digest; on the peer's FIN, the digest goes back and our side closes.
 */
function receive(s: Socket, out: Writable | null, ticker: Ticker, onDone: (r: Received) => void): void {
  const hash = createHash('sha256');
  const t0 = ticker.now();
  let bytes = 0;
  s.on('data', (d: Buffer) => {
    hash.update(d);
    bytes += d.length;
    if (out && !out.write(d)) {
      s.pause();
      out.once('drain', () => s.resume());
    }
  });
  s.on('end', () => {
    const sha256 = hash.digest('hex');
    s.end(`${sha256}\n`);
    const r = { bytes, sha256, ms: ticker.now() - t0 };
    if (out && out !== process.stdout) out.end(() => onDone(r));
    else onDone(r);
  });
}

function summary(verb: string, r: Received): string {
  return `${verb} ${r.bytes} bytes (${formatBytes(r.bytes)}) in ${(r.ms / 1000).toFixed(2)} s, ${formatRate(r.bytes, r.ms)}, sha256 ${r.sha256}`;
}

export function recv(args: string[]): void {
  const { values, positionals: got } = parse('recv', args, { host: { type: 'string' } });
  if (values.sim !== undefined) throw new UsageError('--sim runs both ends in one process: use it with send', 'recv');
  const [portArg, file] = positionals('recv', got, ['PORT', 'FILE?']);
  const port = parsePort('recv', portArg);
  const out: Writable = file === undefined || file === '-' ? process.stdout : createWriteStream(file);
  out.on('error', (e) => failWith(e));
  const server: Server = createServer({ ...socketOptions('recv', values), allowHalfOpen: true });
  let current: Socket | null = null;
  let progress: Progress | null = null;
  let result: Received | null = null;
  server.on('error', failWith);
  server.on('listening', () => {
    const a = server.address();
    if (a && typeof a === 'object') log(`reliable-dgram: listening on ${a.address}:${a.port}`);
  });
  server.on('connection', (s: Socket) => {
    if (current) return void s.resetAndDestroy(); // one transfer per run
    current = s;
    if (values.verbose) watchVerbose(s, 'recv');
    log(`reliable-dgram: receiving from ${s.remoteAddress}:${s.remotePort}`);
    progress = new Progress({ bytes: () => s.bytesRead, stats: () => s.getStats() }, realTicker, undefined).start();
    s.on('error', failWith);
    let written = (): void => {};
    const done = new Promise<void>((r) => {
      written = r;
    });
    receive(s, out, realTicker, (r) => {
      progress?.stop();
      result = r;
      log(summary('received', r));
      written();
    });
    s.on('close', (hadError: boolean) => {
      server.close();
      if (hadError) return;
      // Our digest reached the sender and, once the sender's FIN came, the file is written: the
      // connection can close first (the sender ends on the digest, the disk may still be writing).
      void Promise.all([delivered(s), s.readableEnded ? done : undefined]).then(() => exit(result ? EXIT_OK : EXIT_NETWORK));
    });
  });
  onInterrupt(() => {
    progress?.stop();
    current?.resetAndDestroy();
    server.close();
  });
  if (typeof values.host === 'string') server.listen(port, values.host);
  else server.listen(port);
}

export async function send(args: string[]): Promise<void> {
  const { values, positionals: got } = parse('send', args);
  const sim = typeof values.sim === 'string' ? new SimRig(parseSimSpec('send', values.sim)) : null;
  const [file = '', host, portArg] = positionals('send', got, sim ? ['FILE'] : ['FILE', 'HOST', 'PORT']);
  const base = { ...socketOptions('send', values), allowHalfOpen: true };
  let total: number | undefined;
  let input: Readable;
  if (file === '-') input = process.stdin;
  else {
    try {
      const st = statSync(file);
      if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EISDIR' });
      total = st.size;
    } catch (e) {
      log(`reliable-dgram send: cannot read '${file}': ${(e as Error).message}`);
      return exit(EXIT_NETWORK);
    }
    // On the simulator the file is read synchronously: an asynchronous read is real time, and
    // virtual time would run on (to the next progress line, a timer) while it is pending.
    input = sim ? syncFileStream(file) : createReadStream(file);
  }
  const ticker: Ticker = sim ? { now: sim.now, every: (ms, fn) => sim.every(ms, fn) } : realTicker;
  const s = sim ? connect(sim.client(base)) : connect({ ...base, port: parsePort('send', portArg), host: host ?? '' });
  if (values.verbose) watchVerbose(s, 'send', ticker.now);

  if (sim) {
    // The receiver, in this process: it hashes and answers, as `recv` does.
    const server = createServer(sim.server({ ...base }), (r: Socket) => receive(r, null, ticker, () => server.close()));
    server.listen();
  }

  const hash = createHash('sha256');
  let fed = 0;
  let sentAll = false;
  const t0 = ticker.now();
  let t1 = t0;
  const progress = new Progress({ bytes: () => acked(s, fed), stats: () => s.getStats() }, ticker, total);
  input.on('error', (e) => failWith(e));
  input.on('data', (d: Buffer) => {
    hash.update(d);
    fed += d.length;
    if (!s.write(d)) input.pause();
  });
  s.on('drain', () => input.resume());
  input.on('end', () => {
    sentAll = true;
    s.end();
  });
  input.pause();
  s.on('connect', () => {
    progress.start();
    input.resume();
  });
  s.on('end', () => (t1 = ticker.now())); // the receiver's digest and FIN come after it has everything
  let reply = '';
  s.on('data', (d: Buffer) => (reply += d.toString('latin1')));
  s.on('error', (e: Error) => {
    progress.stop();
    failWith(e);
  });
  let closed = false;
  s.on('close', (hadError: boolean) => {
    closed = true;
    progress.stop();
    if (hadError) return;
    if (sim) report();
    else void delivered(s).then(report); // a peer that closed first may not have all of it yet
  });
  const report = (): void => {
    const mine = { bytes: fed, sha256: hash.digest('hex'), ms: (t1 > t0 ? t1 : ticker.now()) - t0 };
    log(summary('sent', mine));
    const theirs = reply.trim();
    if (!sentAll) {
      log('reliable-dgram send: the connection closed before the input ended');
      exit(EXIT_NETWORK);
      return;
    }
    if (/^[0-9a-f]{64}$/.test(theirs)) {
      if (theirs === mine.sha256) log('receiver sha256 match');
      else {
        log(`receiver sha256 MISMATCH: ${theirs}`);
        exit(EXIT_NETWORK);
        return;
      }
    } else log('the peer sent no sha256 back (not a `reliable-dgram recv`?)');
    if (sim) log(`simulated: ${(sim.net.now / 1000).toFixed(2)} virtual seconds`);
    exit(EXIT_OK);
  };
  onInterrupt(() => {
    progress.stop();
    s.resetAndDestroy();
  });
  if (sim) {
    await sim.run(() => closed);
    if (!closed) failWith(Object.assign(new Error('simulation stopped before the transfer ended'), { code: 'ETIMEDOUT' }));
  }
}
