// End to end on the simulator: at a few per cent loss with hundreds of segments in flight
// (many holes at once) on a FIFO link, the sender retransmits exactly what was lost.
import { describe, expect, it } from 'vitest';
import { bbr } from '../../src/protocol/cc/bbr.js';
import type { CongestionFactory } from '../../src/protocol/cc/congestion.js';
import { cubic } from '../../src/protocol/cc/cubic.js';
import { Prng } from '../../src/sim/prng.js';
import { decode } from '../../src/wire/segment.js';
import { simTransfer } from '../helpers/sim-transfer.js';

/**
 * Drop `p` of the client's data segments (seeded). A retransmission of a sequence number none
 * of whose earlier copies was dropped is needless: with no ACK loss and no reordering, the
 * SACK reports and the loss rules should have shown the receiver held it or would soon.
 */
function run(p: number, seed: number, congestion: CongestionFactory) {
  const prng = new Prng(seed);
  const allDropped = new Map<number, boolean>(); // seq -> every copy so far dropped
  let needless = 0;
  let dropped = 0;
  const r = simTransfer(4 << 20, {
    link: { delay: [1, 1], bandwidth: 100e6, queueBytes: 1_000_000 },
    conn: { congestion },
    seed,
    onSend: (d) => {
      const seg = decode(d);
      if (!seg.ok || seg.segment.payload.length === 0) return false;
      const seq = seg.segment.seq;
      const drop = prng.next() < p;
      const prev = allDropped.get(seq);
      if (prev === false) needless++;
      allDropped.set(seq, prev === false ? false : drop);
      if (drop) dropped++;
      return drop;
    },
  });
  return { needless, dropped, r };
}

describe('retransmissions under many holes (RFC 6675, RFC 8985)', () => {
  for (const [name, cc] of [
    ['bbr', bbr],
    ['cubic', cubic],
  ] as const) {
    it(`${name}: at 5 % data loss, every retransmission replaces a dropped copy`, () => {
      for (const seed of [1, 2, 3]) {
        const { needless, dropped, r } = run(0.05, seed, cc);
        expect(r.doneAt, `seed ${seed}`).toBeGreaterThan(0);
        expect(r.net.stats.queueDropped).toBe(0); // every loss is one of ours
        expect(dropped, `seed ${seed}`).toBeGreaterThan(100);
        expect(needless, `seed ${seed}`).toBe(0);
        expect(r.client.stats.dsacksReceived, `seed ${seed}`).toBe(0);
      }
    });
  }
});
