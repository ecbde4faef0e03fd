// Issue 14: with default settings, a 256 KiB echo over a hostile link (30-50 % loss each way,
// 30 % reordering, 10 % duplication) completes intact, every seed (liveness, invariants 1 and 8).
import { describe, expect, it } from 'vitest';
import { echo } from './lossy-echo.js';

describe('a hostile link with default settings', () => {
  it('a 256 KiB echo at 30-50 % loss each way, 30 % reordering and 10 % duplication completes intact (80 seeds)', () => {
    const failed: string[] = [];
    for (let seed = 1; seed <= 80; seed++) {
      const up = 0.3 + ((seed * 7919) % 21) / 100;
      const down = 0.3 + ((seed * 13 + 5) % 21) / 100;
      const r = echo(seed, { loss: up, reorder: 0.3, duplicate: 0.1, delay: [10, 50] }, 10 * 3_600_000, { loss: down });
      if (!r.intact) failed.push(`seed ${seed}: ${r.error ?? 'incomplete'}`);
    }
    expect(failed).toEqual([]);
  });
});
