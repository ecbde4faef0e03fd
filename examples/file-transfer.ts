// Send a file (or generated data) over one reliable-dgram connection, with a
// progress line, and check its SHA-256 on arrival.
//
//   npx tsx examples/file-transfer.ts              8 MiB of generated data
//   npx tsx examples/file-transfer.ts --size 32MiB
//   npx tsx examples/file-transfer.ts path/to/file
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { connect, createServer } from 'reliable-dgram';
import { formatBytes, makeData, sha256 } from './lib/data.js';
import { run } from './lib/guard.js';

function parseArgs(argv: string[]): { data: Buffer; name: string } {
  const i = argv.indexOf('--size');
  if (i >= 0) {
    const m = /^(\d+)(k|kib|m|mib)?$/i.exec(argv[i + 1] ?? '');
    if (!m) throw new Error('--size takes e.g. 512k or 32MiB');
    const unit = (m[2] ?? '').toLowerCase()[0];
    const n = Number(m[1]) * (unit === 'm' ? 1 << 20 : unit === 'k' ? 1024 : 1);
    return { data: makeData(n, 7), name: `${formatBytes(n)} of generated data` };
  }
  const path = argv.find((a) => !a.startsWith('--'));
  if (path) return { data: readFileSync(path), name: path };
  return { data: makeData(8 << 20, 7), name: `${formatBytes(8 << 20)} of generated data` };
}

run('file-transfer', async () => {
  const { data, name } = parseArgs(process.argv.slice(2));
  const expected = sha256(data);
  const tty = process.stdout.isTTY;

  // Receiver: hash as it arrives.
  let received = 0;
  const result = new Promise<{ hash: string; bytes: number }>((resolve, reject) => {
    const server = createServer((sock) => {
      const h = createHash('sha256');
      sock.on('data', (d: Buffer) => {
        h.update(d);
        received += d.length;
      });
      sock.on('end', () => {
        resolve({ hash: h.digest('hex'), bytes: received });
        server.close();
      });
      sock.on('error', reject);
    });
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => send((server.address() as AddressInfo).port).catch(reject));
  });

  const t0 = performance.now();
  let lastLine = -1;
  const progress = (final = false): void => {
    const s = (performance.now() - t0) / 1000;
    const line = `received ${formatBytes(received)} / ${formatBytes(data.length)} (${((100 * received) / Math.max(1, data.length)).toFixed(1)}%), ${(received / (1 << 20) / Math.max(s, 1e-3)).toFixed(1)} MiB/s`;
    if (tty) process.stdout.write(`\r${line}${final ? '\n' : ''}`);
    else if (final || Math.floor(s * 2) !== lastLine) console.log(line); // twice a second when piped
    lastLine = Math.floor(s * 2);
  };
  const ticker = setInterval(progress, 250);

  async function send(port: number): Promise<void> {
    console.log(`sending ${name} (${data.length} bytes, sha256 ${expected.slice(0, 16)}…) to udp 127.0.0.1:${port}`);
    const sock = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    });
    for (let off = 0; off < data.length; off += 64 * 1024) {
      if (!sock.write(data.subarray(off, off + 64 * 1024))) await new Promise((r) => sock.once('drain', r));
    }
    sock.end();
    sock.resume();
  }

  const got = await result;
  clearInterval(ticker);
  progress(true);
  const secs = (performance.now() - t0) / 1000;
  const ok = got.hash === expected && got.bytes === data.length;
  console.log(`sent     sha256 ${expected}`);
  console.log(`received sha256 ${got.hash}`);
  console.log(`sha256 ${ok ? 'match' : 'MISMATCH'}: ${got.bytes} bytes in ${secs.toFixed(2)} s (${(got.bytes / (1 << 20) / secs).toFixed(1)} MiB/s)`);
  if (!ok) process.exitCode = 1;
});
