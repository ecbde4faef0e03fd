// The progress formats: a bar redrawn in place on a terminal, plain lines in a log.
import { describe, expect, it } from 'vitest';
import { barProgress, formatBytes, plainProgress } from '../../src/cli/format.js';
import { Progress, type Ticker } from '../../src/cli/progress.js';

const stats = { retransmittedSegments: 4, srtt: 12.5 } as never;

describe('progress formats', () => {
  it('terminal: \\r, clear line, a bar with %, bytes, rate, ETA, retrans and rtt', () => {
    const s = barProgress({ bytes: 512 * 1024, total: 1024 * 1024, elapsed: 1000, rate: (256 * 1024) / 1000, stats }, 10);
    expect(s).toBe('\r\x1b[2K[#####.....]  50% 512.00 KiB / 1.00 MiB  0.26 MB/s  ETA 2s  retrans 4  rtt 12.5 ms');
  });

  it('log: one line, no control characters; without a total, no % or ETA', () => {
    expect(plainProgress({ bytes: 3 << 20, elapsed: 2000, rate: 1500, stats: null })).toBe('2.0s 3.00 MiB, 1.50 MB/s');
    expect(formatBytes(1023)).toBe('1023 B');
  });

  it('Progress picks the bar on a terminal (redrawn 4 times a second) and lines otherwise (once a second)', () => {
    for (const tty of [true, false]) {
      const ticks: Array<{ ms: number; fn: () => void }> = [];
      let now = 0;
      const ticker: Ticker = {
        now: () => now,
        every: (ms, fn) => {
          ticks.push({ ms, fn });
          return () => undefined;
        },
      };
      let out = '';
      const p = new Progress({ bytes: () => now * 100, stats: () => null }, ticker, 1e6, tty, (s) => (out += s)).start();
      expect(ticks[0]?.ms).toBe(tty ? 250 : 1000);
      now = 1000;
      ticks[0]?.fn();
      p.stop();
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the progress bar's terminal escapes are the point
      if (tty) expect(out).toMatch(/^\r\x1b\[2K\[#+\.+\]\s+10% .*\n$/);
      else expect(out).toBe('1.0s 97.66 KiB / 976.56 KiB (10.0%), 0.10 MB/s, ETA 9s\n');
    }
  });
});
