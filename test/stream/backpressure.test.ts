// Backpressure end to end: a paused reader stops reading from the connection,
// its receive window closes (RFC 9293 §3.8.6), the writer's send buffer fills,
// write() returns false and 'drain' stops coming; resuming lets every byte through.
import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { connect, createServer, type Socket } from '../../src/index.js';
import { HOST, listen, once, pattern, sha256, sleep } from './helpers.js';

const BUF = 64 * 1024;
const CHUNK = 64 * 1024;

describe('backpressure', () => {
  test('a paused reader bounds what the writer can push; after resume all 8 MiB arrive intact', async () => {
    const conn = { sndBuf: BUF, rcvBuf: BUF };
    const server = createServer({ pauseOnConnect: true, connection: conn });
    const port = await listen(server);
    const accepted = once(server, 'connection');
    const c = connect({ port, host: HOST, connection: conn });
    const [s] = (await accepted) as [Socket];
    const data = pattern(8 << 20, 3);

    let written = 0;
    /** Write until done, or until 'drain' has not come for `stallMs`. */
    const writeUntilStall = async (stallMs: number): Promise<'done' | 'stalled'> => {
      while (written < data.length) {
        const ok = c.write(data.subarray(written, written + CHUNK));
        written += Math.min(CHUNK, data.length - written);
        if (!ok) {
          const drained = await Promise.race([once(c, 'drain', 60_000).then(() => true), sleep(stallMs).then(() => false)]);
          if (!drained) return 'stalled';
        }
      }
      return 'done';
    };

    expect(await writeUntilStall(300)).toBe('stalled');
    // What left the writer: its send buffer, the reader's receive buffer, and what one write() may queue.
    const bound = BUF + BUF + CHUNK + c.writableHighWaterMark;
    expect(written).toBeLessThanOrEqual(bound);
    expect(c.writableLength).toBeLessThanOrEqual(CHUNK + c.writableHighWaterMark);
    expect(c.writableNeedDrain).toBe(true);
    const ws = c.getStats()!;
    const rs = s.getStats()!;
    expect(rs.receiveBuffered).toBe(BUF); // the reader's buffer is full ...
    expect(ws.sendWindow).toBe(0); // ... so it advertises a zero window
    expect(ws.sendBuffered).toBe(BUF); // and the writer's send buffer is full
    await sleep(300);
    expect(s.bytesRead).toBe(0); // nothing moved into the paused stream

    const hash = createHash('sha256');
    let got = 0;
    s.on('data', (d: Buffer) => {
      hash.update(d);
      got += d.length;
    });
    const ended = once(s, 'end', 30_000);
    s.resume();
    expect(await writeUntilStall(10_000)).toBe('done');
    c.end();
    await ended;
    expect(got).toBe(data.length);
    expect(hash.digest('hex')).toBe(sha256(data));
    expect(c.bytesWritten).toBe(data.length);
    c.destroy();
    server.close();
  }, 30_000);
});
