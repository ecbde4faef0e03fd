// Send and receive buffers that grow with the path (after Linux's autotuning and dynamic
// right-sizing): a window of `rcvBuf` per RTT would cap a long fat path at rcvBuf / RTT.
import { describe, expect, it } from 'vitest';
import { ReceiveBuffer } from '../../src/protocol/receive/receive-buffer.js';
import { DEFAULT_OPTIONS, type ConnectionOptions } from '../../src/protocol/options.js';
import { simTransfer } from '../helpers/sim-transfer.js';

const MiB = 1 << 20;

describe('buffer growth on a long fat path (100 ms RTT, 50 MB/s)', () => {
  const link = { delay: [50, 50] as [number, number], bandwidth: 50e6 };
  const run = (conn: Partial<ConnectionOptions>) => simTransfer(24 * MiB, { link, conn, until: 60_000 });

  it('grows the window past rcvBuf and finishes far sooner than rcvBuf per RTT allows', () => {
    const fixed = run({ maxSndBuf: MiB, maxRcvBuf: MiB });
    const grown = run({});
    expect(fixed.doneAt).toBeGreaterThan(0);
    expect(grown.doneAt).toBeGreaterThan(0);
    // Held to 1 MiB per 100 ms: at least 2.4 s. Grown: slow start (8 RTTs to 1 MiB) then the window doubles per RTT.
    expect(fixed.doneAt).toBeGreaterThan(2400);
    expect(grown.doneAt).toBeLessThan(0.6 * fixed.doneAt);
    expect(fixed.client.sndWnd).toBeLessThanOrEqual(MiB);
    expect(grown.client.sndWnd).toBeGreaterThan(2 * MiB);
    expect(grown.client.sndWnd).toBeLessThanOrEqual(DEFAULT_OPTIONS.maxRcvBuf);
  });

  it('a buffer size given without a ceiling stays put (as SO_RCVBUF locks Linux autotuning)', () => {
    const r = run({ sndBuf: MiB, rcvBuf: MiB });
    expect(r.doneAt).toBeGreaterThan(2400);
    expect(r.client.sndWnd).toBeLessThanOrEqual(MiB);
  });
});

describe('ReceiveBuffer right-sizing', () => {
  const opts = { ...DEFAULT_OPTIONS, rcvBuf: 64 * 1024, maxRcvBuf: MiB };

  it('offers twice what the app read in an RTT when that is more than half the buffer', () => {
    const r = new ReceiveBuffer(opts);
    r.rttSample(10, 0);
    expect(r.space).toBe(64 * 1024);
    r.onRead(50_000, 5); // within the first RTT: not judged yet
    expect(r.space).toBe(64 * 1024);
    r.onRead(10_000, 10); // one RTT: 60 000 read, over half of 65 536
    expect(r.space).toBe(120_000);
    for (let t = 20; t <= 100; t += 10) r.onRead(2_000_000, t);
    expect(r.space).toBe(MiB); // the ceiling
  });

  it('the period is the least RTT seen: queueing the window itself causes does not stretch it', () => {
    // A CPU-bound peer: samples climb from 1 ms to 40 ms as its queue fills. Per 1 ms the app
    // reads 20 000 bytes, under half the buffer: no growth. Judged per 40 ms it would be 800 000.
    const r = new ReceiveBuffer(opts);
    r.rttSample(1, 0);
    for (let t = 1; t <= 400; t++) {
      r.rttSample(Math.min(40, t), t);
      r.onRead(20_000, t);
    }
    expect(r.space).toBe(64 * 1024);
  });

  it('a slow reader never grows it, and nothing grows without an RTT sample', () => {
    const slow = new ReceiveBuffer(opts);
    slow.rttSample(10, 0);
    for (let t = 10; t <= 1000; t += 10) slow.onRead(20_000, t); // under half the buffer per RTT
    expect(slow.space).toBe(64 * 1024);
    const blind = new ReceiveBuffer(opts);
    for (let t = 10; t <= 1000; t += 10) blind.onRead(1_000_000, t);
    expect(blind.space).toBe(64 * 1024);
  });
});
