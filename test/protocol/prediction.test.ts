// Header prediction (Connection.predicted): the short way for in-order data must end exactly where
// the general path (RFC 9293 §3.10.7.4's steps) ends. Two scripted connections take the same
// segments, app calls and time, one with prediction and one without, and must agree on everything.

import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { Connection } from '../../src/protocol/connection.js';
import { IMMEDIATE_ACK } from '../../src/wire/segment.js';
import { seqDiff } from '../../src/wire/seq.js';
import { activeOpen, type Script, type ScriptInit } from '../helpers/script.js';

type Op =
  | { k: 'data'; len: number; gap: number; fromTop: boolean; fin: boolean; immediate: boolean; tsBack: number; win: number; ackOurs: boolean; ackOff: number }
  | { k: 'write'; n: number }
  | { k: 'read'; max: number }
  | { k: 'wait'; ms: number }
  | { k: 'endBatch' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 16,
    arbitrary: fc.record({
      k: fc.constant('data' as const),
      len: fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.constant(1000), fc.integer({ min: 0, max: 3000 })),
      // Mostly at RCV.NXT; sometimes above a hole or a repeat of old data.
      gap: fc.oneof(
        { weight: 20, arbitrary: fc.constant(0) },
        { weight: 1, arbitrary: fc.integer({ min: 1, max: 3000 }) },
        { weight: 1, arbitrary: fc.integer({ min: -3000, max: -1 }) },
      ),
      // The peer's next new data (after a loss, above the hole) rather than from RCV.NXT.
      fromTop: fc.boolean(),
      fin: fc.oneof({ weight: 80, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }), // ends prediction
      immediate: fc.boolean(),
      tsBack: fc.oneof({ weight: 20, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 50 }) }),
      win: fc.oneof({ weight: 6, arbitrary: fc.constant(65535) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 70000 }) }),
      ackOurs: fc.boolean(),
      // Mostly a valid ACK; sometimes one from before SND.UNA or past SND.NXT.
      ackOff: fc.oneof({ weight: 20, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -3000, max: 3000 }) }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('write' as const), n: fc.integer({ min: 1, max: 5000 }) }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('read' as const), max: fc.oneof(fc.constant(Infinity), fc.integer({ min: 1, max: 4000 })) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 400 }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('endBatch' as const) }) },
);

/** Run `f` with header prediction on or off. */
function withPrediction<T>(on: boolean, f: () => T): T {
  const was = Connection.prediction;
  Connection.prediction = on;
  try {
    return f();
  } finally {
    Connection.prediction = was;
  }
}

function apply(s: Script, op: Op, peerNow: { t: number }): void {
  switch (op.k) {
    case 'data': {
      // From what we acknowledged, as a peer that goes back to retransmit does; or its next new data.
      const seq = op.fromTop ? s.peerNxt : Math.max(1, seqDiff(s.conn.rcvNxt, s.peerIss) + op.gap);
      const seg = s.build({
        flags: op.fin ? 'AF' : 'A',
        seq,
        len: op.len,
        win: op.win,
        tsVal: Math.max(0, peerNow.t - op.tsBack),
        ack: seqDiff(op.ackOurs ? s.conn.sndNxt : s.conn.sndUna, s.iss) + op.ackOff,
      });
      if (op.immediate) seg.flags |= IMMEDIATE_ACK;
      s.peerNxt = Math.max(s.peerNxt, seq + op.len);
      s.conn.handleSegment(seg, s.now);
      s.drain();
      break;
    }
    case 'write':
      s.write(op.n);
      break;
    case 'read':
      s.read(op.max);
      break;
    case 'wait':
      s.wait(op.ms);
      peerNow.t += op.ms;
      break;
    case 'endBatch':
      s.endBatch();
      break;
  }
}

/** Everything observable about a scripted connection. */
function observe(s: Script, peerNow: number): unknown {
  const { predictedSegments: _, ...stats } = s.conn.stats;
  return {
    // Timestamps heard (TS.Recent and the newest TSval): whether a segment stamped now would look fresh.
    fresh: s.conn.acceptsFresh(s.build({ flags: 'A', seq: seqDiff(s.conn.rcvNxt, s.peerIss), tsVal: peerNow })),
    state: s.state,
    sent: s.discard().map((seg) => s.describe(seg)),
    events: s.events.length,
    timeout: s.conn.pollTimeout(),
    readable: s.conn.readableLength,
    sndWnd: s.conn.sndWnd,
    stats,
  };
}

const open = (init: ScriptInit): Script => activeOpen(init, { win: 65535 });

afterEach(() => {
  Connection.prediction = true;
});

describe('header prediction', () => {
  it('takes in-order data of a one-way transfer, and only that', () => {
    const s = open({ batchAcks: true });
    s.inject({ flags: 'A', len: 1000 }).inject({ flags: 'A', len: 1000 });
    expect(s.conn.stats.predictedSegments).toBe(2);
    const hole = s.peerNxt;
    s.inject({ flags: 'A', seq: hole + 1000, len: 1000 }); // above a hole
    s.inject({ flags: 'A', seq: hole, len: 1000 }); // fills it: the general path
    s.inject({ flags: 'AF', len: 10 }); // a FIN
    expect(s.conn.stats.predictedSegments).toBe(2);
    expect(s.read().length).toBe(4010);
  });

  it('takes data that extends the highest bytes held above a hole, and only that', () => {
    const s = open({ batchAcks: true });
    const hole = s.peerNxt;
    s.inject({ flags: 'A', seq: hole + 1000, len: 1000 }); // opens the hole: the general path
    s.inject({ flags: 'A', seq: hole + 2000, len: 1000 }); // extends the top
    s.inject({ flags: 'A', seq: hole + 3000, len: 500 }); // again
    expect(s.conn.stats.predictedSegments).toBe(2);
    expect(s.conn.stats.outOfOrderSegments).toBe(3);
    s.inject({ flags: 'A', seq: hole + 4000, len: 1000 }); // above a second hole: the general path
    s.inject({ flags: 'A', seq: hole + 3500, len: 100 }); // inside it, not at the top: the general path
    expect(s.conn.stats.predictedSegments).toBe(2);
    s.endBatch();
    // One ACK for the batch, with both blocks (the last segment joined the first), newest first.
    const ack = s.expect({ flags: 'A', ack: hole });
    expect(s.describe(ack).sack).toEqual([
      [hole + 1000, hole + 3600],
      [hole + 4000, hole + 5000],
    ]);
    s.inject({ flags: 'A', seq: hole, len: 1000 }); // fills the first hole
    expect(s.read().length).toBe(3600);
  });

  it('above a hole, reports at once when the blocks changed since the last report reach half of what an ACK carries', () => {
    const s = open({ batchAcks: true });
    const hole = s.peerNxt;
    s.inject({ flags: 'A', seq: hole + 1000, len: 500 }); // block L
    s.endBatch();
    expect(s.discard()).toHaveLength(1); // reports L
    s.inject({ flags: 'A', seq: hole + 20_000, len: 500 }); // block T, the top: not reported yet
    // L and T grow in turn: each time T grows it becomes the newest change again, unreported.
    const quiet: boolean[] = [];
    for (let k = 0; k < 7; k++) {
      s.inject({ flags: 'A', seq: hole + 1500 + 500 * k, len: 500 });
      s.inject({ flags: 'A', seq: hole + 20_500 + 500 * k, len: 500 });
      quiet.push(s.conn.quietInput);
    }
    expect(s.conn.stats.predictedSegments).toBe(7);
    // The 7th brings the count to 8 (MAX_SACK_BLOCKS / 2): an ACK now, not at the batch's end.
    expect(quiet).toEqual([true, true, true, true, true, true, false]);
    expect(s.pending).toHaveLength(1);
  });

  it('above a hole, takes only data that fits the window', () => {
    const s = open({ batchAcks: true, options: { rcvBuf: 8000, maxRcvBuf: 8000 } });
    const hole = s.peerNxt;
    s.inject({ flags: 'A', seq: hole + 1000, len: 1000 });
    s.inject({ flags: 'A', seq: hole + 2000, len: 5000 }); // up to the window's edge
    expect(s.conn.stats.predictedSegments).toBe(1);
    s.inject({ flags: 'A', seq: hole + 7000, len: 1500 }); // past it: the general path trims it
    expect(s.conn.stats.predictedSegments).toBe(1);
    s.inject({ flags: 'A', seq: hole, len: 1000 });
    expect(s.read().length).toBe(8000);
  });

  it('leaves the segment to the general path while data of ours is in flight', () => {
    const s = open({});
    s.write(500);
    s.inject({ flags: 'A', len: 1000, ack: 1 });
    expect(s.conn.stats.predictedSegments).toBe(0);
    s.inject({ flags: 'A', len: 1000, ack: 501 });
    s.inject({ flags: 'A', len: 1000, ack: 501 });
    expect(s.conn.stats.predictedSegments).toBe(1);
  });

  it('ends where the general path ends, whatever the segments, app calls and timing (property)', () => {
    let predicted = 0;
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 80, size: 'max' }), fc.boolean(), (ops, batchAcks) => {
        const init: ScriptInit = { batchAcks, options: { rcvBuf: 16_000, maxRcvBuf: 16_000 } };
        const a = withPrediction(true, () => open(init));
        const b = withPrediction(false, () => open(init));
        const ta = { t: a.now };
        const tb = { t: b.now };
        for (const op of ops) {
          withPrediction(true, () => apply(a, op, ta));
          withPrediction(false, () => apply(b, op, tb));
          expect(observe(a, ta.t)).toEqual(observe(b, tb.t));
        }
        const ra = withPrediction(true, () => a.read());
        const rb = withPrediction(false, () => b.read());
        expect(Buffer.from(ra).equals(Buffer.from(rb))).toBe(true);
        expect(b.conn.stats.predictedSegments).toBe(0);
        predicted += a.conn.stats.predictedSegments;
      }),
    );
    expect(predicted).toBeGreaterThan(300); // the property exercised the short way
  });
});
