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
  | { k: 'data'; len: number; gap: number; fin: boolean; immediate: boolean; tsBack: number; win: number; ackOurs: boolean; ackOff: number }
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
      // From what we acknowledged, as a peer that goes back to retransmit does.
      const seq = Math.max(1, seqDiff(s.conn.rcvNxt, s.peerIss) + op.gap);
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
