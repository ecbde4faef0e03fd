// Loss inference on the send-side scoreboard: RACK ordering by transmission,
// and where DupThresh defers to RACK (RFC 8985 §6.2, RFC 6675 §5).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RTO, RttEstimator } from '../../src/protocol/recovery/rtt.js';
import { Rack } from '../../src/protocol/recovery/rack.js';
import { DUP_THRESH, Scoreboard } from '../../src/protocol/recovery/scoreboard.js';
import { ACK } from '../../src/wire/segment.js';

const MSS = 100;

function board(minRtt = 1): Scoreboard {
  const rtt = new RttEstimator(DEFAULT_RTO);
  rtt.sample(minRtt);
  return new Scoreboard(rtt, { probeAcked() {}, probeLost() {} });
}

/** Send segments 0..n-1 of MSS bytes at `now`. */
function sendAll(sb: Scoreboard, from: number, n: number, now: number): void {
  for (let i = from; i < from + n; i++) sb.onSent(i * MSS, MSS, ACK, now, false);
}

const sack = (sb: Scoreboard, seg: number, nxt: number, now: number, count = 1) =>
  sb.onSack([{ start: seg * MSS, end: (seg + count) * MSS }], 0, nxt * MSS, now);

const lostSeqs = (sb: Scoreboard) => sb.entries.filter((e) => e.lost).map((e) => e.seq / MSS);

describe('scoreboard loss inference', () => {
  it('RFC 8985 §6.2: RACK orders by transmission, so a retransmission sent in the same tick after new data is not judged by it', () => {
    const sb = board();
    sendAll(sb, 0, 5, 0);
    sack(sb, 1, 5, 1.2, 4); // 1..4 delivered: 0 is lost (RACK, and DupThresh)
    expect(sb.detectLoss(10, MSS, true)).toBe(true);
    expect(lostSeqs(sb)).toEqual([0]);
    // In one clock tick: new data 5 goes out, then segment 0 is retransmitted.
    sendAll(sb, 5, 1, 20);
    sb.onRetransmit(sb.entries[0]!, 20, MSS);
    // 5 is SACKed; 0's retransmission left after it, so 5's arrival says nothing about it.
    sack(sb, 5, 6, 21);
    expect(sb.detectLoss(100, MSS, true)).toBe(false);
    expect(lostSeqs(sb)).toEqual([]);
    // Data sent after the retransmission and delivered does show it lost.
    sendAll(sb, 6, 1, 30);
    sack(sb, 6, 7, 31);
    expect(sb.detectLoss(100, MSS, true)).toBe(true);
    expect(lostSeqs(sb)).toEqual([0]);
  });

  it('RFC 6675 §5: DupThresh does not judge a retransmitted segment, even outside recovery', () => {
    // Segment 0 is lost; 1..4 go out at 4, then 0's retransmission at 5; 1..4 are SACKed at 6:
    // three MSS SACKed above 0, yet its retransmission left after them.
    const sb2 = board();
    sendAll(sb2, 0, 1, 0);
    sb2.markLost(sb2.entries[0]);
    sendAll(sb2, 1, 4, 4);
    sb2.onRetransmit(sb2.entries[0]!, 5, MSS);
    sack(sb2, 1, 5, 6, 4);
    expect(sb2.detectLoss(6.1, MSS, true)).toBe(false);
    expect(lostSeqs(sb2)).toEqual([]);
  });

  it('RFC 8985 §6.2: once reordering is seen, DupThresh stands aside and the reordering window decides', () => {
    // Without reordering seen, three SACKed segments above a hole mark it lost at once.
    const plain = board(4);
    sendAll(plain, 0, 5, 0);
    sack(plain, 1, 5, 0.1, 4);
    expect(plain.detectLoss(0.1, MSS, true)).toBe(true);
    // A retransmission acknowledged sooner than min_rtt answers the original: spurious, reordering.
    const sb = board(4);
    sendAll(sb, 0, 1, 0);
    sb.markLost(sb.entries[0]);
    sb.onRetransmit(sb.entries[0]!, 1, MSS);
    sb.ackTo(MSS, 1.5);
    sendAll(sb, 1, 5, 2);
    sack(sb, 2, 6, 2.1, 4);
    // Segment 1 has four segments SACKed above, but the reordering window (≥ min_rtt/4 = 1 ms) has not passed.
    expect(sb.detectLoss(2.1, MSS, true)).toBe(false);
    expect(sb.reorderAt).toBeGreaterThan(2.1);
    expect(sb.detectLoss(sb.reorderAt, MSS, true)).toBe(true);
    expect(lostSeqs(sb)).toEqual([1]);
  });
});

describe('entry reuse (no object per segment)', () => {
  it('an acknowledged entry serves a later send, of this connection or another, with nothing left of its past', () => {
    const a = board();
    sendAll(a, 0, 2, 0);
    sendAll(a, 2, 1, 0);
    const used = [...a.entries];
    a.markLost(used[1]!); // lost, and still so when acknowledged
    a.markLost(used[2]!);
    a.onRetransmit(used[2]!, 1, MSS); // retransmitted, then SACKed
    a.onSack([{ start: 2 * MSS, end: 3 * MSS }], 0, 3 * MSS, 1.5);
    a.ackTo(3 * MSS, 2); // all three acknowledged and retired
    expect(a.length).toBe(0);
    const b = board(); // another connection
    b.onSent(7 * MSS, MSS, ACK, 3, true); // a probe now
    b.onSent(8 * MSS, MSS, ACK, 4, false);
    const [e7, e8] = b.entries;
    expect([e7, e8]).toEqual([used[2], used[1]]); // the retired objects, not new ones
    expect(e7).toBe(used[2]);
    const fresh = { len: MSS, flags: ACK, retransmits: 0, sacked: false, lost: false, inPipe: true, probe: false };
    expect(e7).toMatchObject({ ...fresh, seq: 7 * MSS, sentAt: 3, probe: true });
    expect(e8).toMatchObject({ ...fresh, seq: 8 * MSS, sentAt: 4 });
    expect(b.pipe).toBe(2 * MSS);
    expect(b.lostCount + b.sackedCount).toBe(0);
    expect(a.pipe).toBe(0);
    // In b's transmission-order list, in order: RACK judges 7 from 8's delivery.
    b.onSack([{ start: 8 * MSS, end: 9 * MSS }], 7 * MSS, 9 * MSS, 5);
    // 7 is lost; being a path MTU probe, that is no sign of congestion (RFC 8899 §4.1): false.
    expect(b.detectLoss(100, MSS, true)).toBe(false);
    expect(b.entries.filter((x) => x.lost).map((x) => x.seq / MSS)).toEqual([7]);
  });
});

describe('RACK reordering window (RFC 8985 §6.2 step 4)', () => {
  /** One spurious retransmission per round trip: SND.UNA has passed the previous round's SND.NXT. */
  const spuriousRounds = (r: Rack, n: number, from = 0) => {
    for (let i = from; i < from + n; i++) r.onSpurious(i * 1000, (i + 1) * 1000);
    return from + n;
  };

  it('widens by a quarter min_RTT per round with a spurious retransmission until SRTT bounds it, not at a fixed multiple', () => {
    const r = new Rack();
    expect(r.reoWnd(0.25, 6)).toBe(0.0625);
    const at = spuriousRounds(r, 15);
    expect(r.reoWnd(0.25, 6)).toBe(1); // 16 quarters
    // Loopback under load: min_RTT 0.25 ms, reordering of several ms, SRTT 6 ms. The window keeps growing to SRTT.
    spuriousRounds(r, 100, at);
    expect(r.reoWnd(0.25, 6)).toBe(6);
    expect(r.reoWnd(Infinity, 6)).toBe(0); // no RTT sample yet: no window
  });

  it('widens at most once per round trip: D-SACKs for one window count once (RACK.dsack_round)', () => {
    const r = new Rack();
    r.onSpurious(0, 1000); // SND.NXT 1000 ends the round
    r.onSpurious(400, 1200);
    r.onSpurious(999, 1500);
    expect(r.reoMult).toBe(2);
    r.onSpurious(1000, 2000); // SND.UNA reached the round's end: a new round
    expect(r.reoMult).toBe(3);
  });

  it('narrows back to one quarter after 16 recoveries without a spurious retransmission (RACK.reo_wnd_persist)', () => {
    const r = new Rack();
    const at = spuriousRounds(r, 3);
    for (let i = 0; i < 15; i++) r.onRecoveryEnd();
    expect(r.reoMult).toBe(4);
    spuriousRounds(r, 1, at); // a spurious retransmission starts the count again
    for (let i = 0; i < 15; i++) r.onRecoveryEnd();
    expect(r.reoMult).toBe(5);
    r.onRecoveryEnd();
    expect(r.reoMult).toBe(1);
  });
});

/** Send segments of `lens` bytes from `iss` on a fresh board; the entries' ranges, SND.NXT, and "covered by a valid block" as a model. */
function sentBoard(iss: number, lens: readonly number[]) {
  const sb = board();
  let seq = iss;
  const ents: Array<{ seq: number; end: number }> = [];
  for (const len of lens) {
    sb.onSent(seq, len, ACK, 0, false);
    ents.push({ seq, end: (seq + len) >>> 0 });
    seq = (seq + len) >>> 0;
  }
  const nxt = seq;
  const d = (x: number) => (x - iss) >>> 0; // offset from SND.UNA (= iss): comparisons in a window < 2^31
  /** Per entry: does one valid block (inside (una, nxt], non-empty) cover it whole? */
  const covered = (blocks: ReadonlyArray<{ start: number; end: number }>) => {
    const valid = blocks.filter((b) => d(b.start) < d(b.end) && d(b.start) > 0 && d(b.end) <= d(nxt));
    return ents.map((e) => valid.some((b) => d(b.start) <= d(e.seq) && d(e.end) <= d(b.end)));
  };
  return { sb, nxt, covered };
}

describe('SACK marking', () => {
  it('property: an entry is SACKed exactly when one valid block covers it whole (blocks found by binary search)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 32 - 1 }), // first sequence number: wraps often
        fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 60 }),
        fc.array(fc.tuple(fc.integer({ min: -50, max: 9000 }), fc.integer({ min: 0, max: 2000 })), { maxLength: 16 }),
        (iss, lens, raw) => {
          const { sb, nxt, covered } = sentBoard(iss, lens);
          const blocks = raw.map(([off, n]) => ({ start: (iss + off) >>> 0, end: (iss + off + n) >>> 0 }));
          sb.onSack(blocks, iss, nxt, 1);
          expect(sb.entries.map((e) => e.sacked)).toEqual(covered(blocks));
        },
      ),
      { seed: 4242, numRuns: 300 },
    );
  });
});

describe('SACK marking across ACKs', () => {
  it('property: blocks reported again, grown, or after a timeout mark exactly what a fresh walk would', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 40 }),
        fc.array(
          fc.oneof(
            fc.record({
              k: fc.constant('sack' as const),
              blocks: fc.array(fc.tuple(fc.integer({ min: 1, max: 6000 }), fc.integer({ min: 1, max: 1500 })), { maxLength: 6 }),
            }),
            fc.record({ k: fc.constant('grow' as const), by: fc.integer({ min: 1, max: 900 }) }),
            fc.record({ k: fc.constant('timeout' as const) }),
          ),
          { maxLength: 12 },
        ),
        (iss, lens, steps) => {
          const { sb, nxt, covered } = sentBoard(iss, lens);
          let model = lens.map(() => false);
          let last: Array<{ start: number; end: number }> = [];
          const apply = (blocks: Array<{ start: number; end: number }>) => {
            sb.onSack(blocks, iss, nxt, 1);
            const now = covered(blocks);
            model = model.map((m, i) => m || now[i]!);
            last = blocks;
          };
          for (const st of steps) {
            if (st.k === 'sack') apply(st.blocks.map(([off, n]) => ({ start: (iss + off) >>> 0, end: (iss + off + n) >>> 0 })));
            else if (st.k === 'grow') apply(last.map((b) => ({ start: b.start, end: (b.end + st.by) >>> 0 })));
            else {
              sb.onTimeout();
              model = model.map(() => false);
            }
            expect(sb.entries.map((e) => e.sacked)).toEqual(model);
          }
        },
      ),
      { seed: 4244, numRuns: 300 },
    );
  });
});

describe('loss inference without walking the window', () => {
  type Step =
    | { k: 'send'; lens: number[] }
    | { k: 'sack'; off: number; n: number }
    | { k: 'ack'; off: number }
    | { k: 'rtx' }
    | { k: 'tlp' }
    | { k: 'split' }
    | { k: 'timeout' }
    | { k: 'detect'; sack: boolean };
  /** Thousandths up to `max` (fc.double favours values near 0). */
  const permille = (max: number, min = 0) => fc.integer({ min, max }).map((n) => n / 1000);
  const step: fc.Arbitrary<Step> = fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({ k: fc.constant('send' as const), lens: fc.array(fc.integer({ min: 1, max: 250 }), { minLength: 1, maxLength: 8, size: 'max' }) }),
    },
    // Offsets and lengths as fractions of the window, so most blocks and ACKs land inside it.
    { weight: 4, arbitrary: fc.record({ k: fc.constant('sack' as const), off: permille(1100), n: permille(600) }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('ack' as const), off: permille(800) }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('rtx' as const) }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('tlp' as const) }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('split' as const) }) },
    { weight: 1, arbitrary: fc.constant({ k: 'timeout' as const }) },
    { weight: 4, arbitrary: fc.record({ k: fc.constant('detect' as const), sack: fc.boolean() }) },
  );

  it('property: RACK along the transmission-ordered pipe and DupThresh from a frontier mark exactly what the RFC rules, applied to every entry, would', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        // Time often stands still: RACK then cannot mask what DupThresh should have marked.
        fc.array(fc.tuple(step, fc.oneof(fc.constant(0), permille(3000, 50), permille(3000, 50))), { maxLength: 80, size: 'max' }),
        // Where a D-SACK shows reordering (DupThresh stands aside from then on), if anywhere.
        fc.option(fc.nat({ max: 80 })),
        // Frozen: the clock stands still and nothing is retransmitted, so RACK marks nothing and no
        // retransmission looks spurious: DupThresh alone, across many ACKs.
        fc.boolean(),
        (iss, steps, dsackAt, frozen) => {
          const rtt = new RttEstimator(DEFAULT_RTO);
          rtt.sample(0.05); // an ACK sooner than this after a retransmission makes it spurious, and DupThresh stand aside
          let stepNo = 0;
          const sb = new Scoreboard(rtt, { probeAcked() {}, probeLost() {} });
          const rack = (sb as unknown as { rack: Rack }).rack;
          const d = (x: number) => (x - una) >>> 0;
          let una = iss;
          let nxt = iss;
          let now = 0;
          /** The rules of RFC 8985 §6.2 step 5 and RFC 6675 §5, judged for each entry on its own. */
          const dueLost = (sack: boolean) => {
            const q = sb.entries;
            const reo = rack.reoWnd(rtt.minRtt, rtt.srtt);
            return q.map((e, i) => {
              if (e.sacked || e.lost) return false;
              if (rack.xmitTs > -Infinity && e.order < rack.order && e.sentAt + rack.rtt + reo <= now) return true;
              if (!sack || rack.reoMult > 1 || !e.inPipe || e.retransmits > 0) return false;
              const above = q.slice(i + 1).reduce((n, x) => n + (x.sacked ? x.len : 0), 0);
              return above >= DUP_THRESH * MSS;
            });
          };
          for (const [st, dt] of steps) {
            if (frozen && (st.k === 'rtx' || st.k === 'tlp')) continue;
            if (!frozen) now += dt;
            if (stepNo++ === dsackAt) sb.onDsack(una, nxt);
            const q = sb.entries;
            if (st.k === 'send') {
              for (const len of st.lens) {
                sb.onSent(nxt, len, ACK, now, false);
                nxt = (nxt + len) >>> 0;
              }
            } else if (st.k === 'sack') {
              const w = d(nxt);
              const start = (una + Math.floor(st.off * w)) >>> 0;
              sb.onSack([{ start, end: (start + Math.max(1, Math.ceil(st.n * w))) >>> 0 }], una, nxt, now);
            } else if (st.k === 'ack') {
              if (d(nxt) === 0) continue;
              una = (una + Math.max(1, Math.floor(st.off * d(nxt)))) >>> 0;
              sb.ackTo(una, now);
            } else if (st.k === 'rtx') {
              const e = sb.firstLost();
              if (e) sb.onRetransmit(e, now, MSS);
            } else if (st.k === 'tlp') {
              const e = sb.lastUnsacked();
              if (e?.inPipe) sb.onResend(e, now);
            } else if (st.k === 'split') {
              const e = q.find((x) => x.len > MSS);
              if (e) sb.splitOversized(e, MSS);
            } else if (st.k === 'timeout') {
              sb.onTimeout();
            } else {
              const before = q.map((e) => e.lost);
              const due = dueLost(st.sack);
              // The next RACK deadline: the earliest among entries a delivered later transmission can judge, not due yet.
              const reo = rack.reoWnd(rtt.minRtt, rtt.srtt);
              const pending = q.filter((e) => !e.sacked && !e.lost && e.order < rack.order).map((e) => e.sentAt + rack.rtt + reo);
              const nextAt = rack.xmitTs > -Infinity ? Math.min(Infinity, ...pending.filter((t) => t > now)) : Infinity;
              const any = sb.detectLoss(now, MSS, st.sack);
              const fresh = q.map((e, i) => e.lost && !before[i]);
              expect(fresh).toEqual(due);
              expect(any).toBe(due.some(Boolean));
              expect(sb.reorderAt).toBe(nextAt);
            }
            // Bookkeeping the hints rely on.
            expect(sb.pipe).toBe(q.reduce((n, e) => n + (e.inPipe ? e.len : 0), 0));
            expect(q.every((e) => Number(e.sacked) + Number(e.lost) + Number(e.inPipe) === 1)).toBe(true);
            const firstLost = q.findIndex((e) => e.lost);
            expect(sb.firstLostIndex()).toBe(firstLost < 0 ? q.length : firstLost);
          }
        },
      ),
      { seed: 4246, numRuns: Number(process.env.RUNS ?? 400) },
    );
  });
});
