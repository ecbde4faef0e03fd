// The reliable-dgram side of the demo: the same file and messages, each over
// one connection, with the node:net-style API.
import type { AddressInfo } from 'node:net';
import { connect, createServer, type Address, type Socket } from 'reliable-dgram';
import { CountingTransport } from './counting.js';
import { parseMessageLines, scoreArrivals, sha256 } from './data.js';
import { isIntact, type SideInput, type SideOutcome } from './raw-udp.js';

/** Listen on 127.0.0.1; resolve with the address and a promise of everything one client sent. */
async function sink(transport: CountingTransport): Promise<{ addr: Address; received: Promise<{ data: Buffer; at: number }>; close: () => void }> {
  let done!: (v: { data: Buffer; at: number }) => void;
  let fail!: (e: Error) => void;
  const received = new Promise<{ data: Buffer; at: number }>((res, rej) => {
    done = res;
    fail = rej;
  });
  const server = createServer({ transport }, (sock: Socket) => {
    const parts: Buffer[] = [];
    sock.on('data', (d: Buffer) => parts.push(d));
    sock.on('end', () => done({ data: Buffer.concat(parts), at: performance.now() }));
    sock.on('error', fail);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const a = server.address() as AddressInfo;
  return { addr: { address: '127.0.0.1', port: a.port }, received, close: () => server.close() };
}

/** Connect to `to`, write `chunks` (respecting backpressure), end, and resolve when the socket closes. */
function send(to: Address, chunks: Iterable<Buffer>, transport: CountingTransport): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = connect({ port: to.port, host: to.address, transport }, () => {
      const it = chunks[Symbol.iterator]();
      const pump = (): void => {
        for (let n = it.next(); !n.done; n = it.next()) {
          if (!sock.write(n.value)) {
            sock.once('drain', pump);
            return;
          }
        }
        sock.end();
      };
      pump();
    });
    sock.on('error', reject);
    sock.resume(); // the servers send nothing, but let 'end' through
    sock.on('close', () => resolve());
  });
}

function* pieces(buf: Buffer, size: number): Generator<Buffer> {
  for (let off = 0; off < buf.length; off += size) yield buf.subarray(off, off + size);
}

export async function runReliable(opts: SideInput): Promise<SideOutcome> {
  const { file, chunk, msgs } = opts;
  // Every datagram either end sends goes through one of these four counters.
  const tx = await Promise.all([0, 1, 2, 3].map(() => CountingTransport.bind()));
  const fileSink = await sink(tx[0]!);
  const msgSink = await sink(tx[1]!);
  const [fileTo, msgTo] = await Promise.all([opts.route(fileSink.addr), opts.route(msgSink.addr)]);
  const t0 = performance.now();
  const [, , f, m] = await Promise.all([
    send(fileTo, pieces(file, 64 * 1024), tx[2]!),
    send(
      msgTo,
      msgs.map((s) => Buffer.from(`${s}\n`)),
      tx[3]!,
    ),
    fileSink.received,
    msgSink.received,
  ]);
  fileSink.close();
  msgSink.close();

  // Score the file by position: chunk i of what arrived against chunk i of the file.
  const nChunks = Math.ceil(file.length / chunk);
  const matched: number[] = [];
  let missing = 0;
  for (let i = 0; i < nChunks; i++) {
    const want = file.subarray(i * chunk, (i + 1) * chunk);
    if (want.equals(f.data.subarray(i * chunk, (i + 1) * chunk))) matched.push(i);
    else missing += want.length;
  }
  const score = scoreArrivals(parseMessageLines(m.data.toString('utf8')), msgs.length);
  return {
    file: {
      size: file.length,
      bytesReceived: f.data.length,
      bytesMissing: missing,
      chunks: scoreArrivals(matched, nChunks),
      sha256Match: sha256(f.data) === sha256(file),
    },
    messages: { score, intact: isIntact(score) },
    timeMs: Math.max(f.at, m.at) - t0,
    datagrams: { file: tx[0]!.sent + tx[2]!.sent, messages: tx[1]!.sent + tx[3]!.sent },
  };
}
