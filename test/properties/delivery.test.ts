// docs/ARCHITECTURE.md, invariants 1, 2 and 8 as fast-check properties over random fault
// schedules and application scripts on the simulated network. A failure prints
// the scenario (plain JSON): runScenario(it) replays it.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkDelivery, checkEnd, checkLiveness, checkTablesEmpty } from './checks.js';
import { lossy, runScenario, runs, scenarioArb } from './harness.js';

describe('properties: delivery, end of stream, liveness', () => {
  it('invariant 1: received bytes are always a prefix of written; with loss < 100% they become equal, exactly once, in order', () => {
    let complete = 0;
    let prefixOnly = 0;
    fc.assert(
      fc.property(scenarioArb({ destroy: true, noEnd: true, simultaneous: true }), (sc) => {
        const r = runScenario(sc);
        expect(checkDelivery(r)).toEqual([]);
        const aborted = r.sides.some((s) => s.destroyedAt !== undefined);
        if (aborted) prefixOnly++;
        else if (lossy(sc) && r.sides.some((s) => s.received > 0)) complete++;
      }),
      { numRuns: runs(1200) },
    );
    // The generator really produced lossy complete transfers and aborted (prefix-only) ones.
    expect(complete).toBeGreaterThan(0);
    expect(prefixOnly).toBeGreaterThan(0);
  });

  it("invariant 2: nothing is delivered after the FIN's sequence number; no data after 'end'", () => {
    let ends = 0;
    fc.assert(
      fc.property(scenarioArb({ noEnd: true, destroy: true }), (sc) => {
        const r = runScenario(sc);
        expect(checkEnd(r)).toEqual([]);
        ends += r.sides.filter((s) => s.endAt !== undefined && s.received > 0).length;
      }),
      { numRuns: runs(800) },
    );
    expect(ends).toBeGreaterThan(0);
  });

  it('invariant 8a: with loss < 100% every transfer completes (and closes) within bounded virtual time; nothing hangs', () => {
    fc.assert(
      fc.property(scenarioArb({ simultaneous: true }), (sc) => {
        const r = runScenario(sc);
        expect([...checkLiveness(r), ...checkDelivery(r), ...checkTablesEmpty(r)]).toEqual([]);
      }),
      { numRuns: runs(1200) },
    );
  });

  it('invariants 1 and 8 with path MTU probing (RFC 8899): links drop the larger probes, episodes change the MTU', () => {
    let probedUp = 0;
    let dropped = 0;
    fc.assert(
      fc.property(scenarioArb({ pmtu: true, simultaneous: true }), (sc) => {
        const r = runScenario(sc);
        expect([...checkLiveness(r), ...checkDelivery(r), ...checkTablesEmpty(r)]).toEqual([]);
        if (r.net.stats.mtuDropped > 0) dropped++;
        if (r.sides.some((s) => s.conn !== undefined && s.conn.mss > sc.conn.mss)) probedUp++;
      }),
      { numRuns: runs(300) },
    );
    // The generator really produced searches that went up, and probes the path dropped.
    expect(probedUp).toBeGreaterThan(0);
    expect(dropped).toBeGreaterThan(0);
  });

  it('invariant 8b: under total loss (blackhole forever) connections fail with ETIMEDOUT, never hang', () => {
    let timedOut = 0;
    fc.assert(
      fc.property(scenarioArb({ blackholeForever: true, simultaneous: true }), (sc) => {
        const r = runScenario(sc);
        expect(checkLiveness(r)).toEqual([]);
        timedOut += r.sides.filter((s) => s.events.some((e) => e.type === 'error' && e.code === 'ETIMEDOUT')).length;
      }),
      { numRuns: runs(600) },
    );
    expect(timedOut).toBeGreaterThan(0);
  });
});
