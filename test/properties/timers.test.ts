// docs/ARCHITECTURE.md, invariants 6 and 7 as fast-check properties on the simulated
// network: the retransmission timer and the two windows that bound the flight.
// A failure prints the scenario (plain JSON): runScenario(it) replays it.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkFlight, checkRto } from './checks.js';
import { runScenario, runs, scenarioArb } from './harness.js';

describe('properties: RTO and flight size', () => {
  it("invariant 6: RTO stays within [rtoMin, rtoMax], doubles per consecutive timeout, and every RTT sample is exact (send times under Karn's rule, else timestamps)", () => {
    let timeouts = 0;
    let samples = 0;
    fc.assert(
      fc.property(scenarioArb({ simultaneous: true }), (sc) => {
        const r = runScenario(sc);
        expect(checkRto(r)).toEqual([]);
        for (const s of r.sides) {
          timeouts += s.timeouts.length;
          samples += s.samples.length;
        }
      }),
      { numRuns: runs(1200) },
    );
    expect(timeouts).toBeGreaterThan(0);
    expect(samples).toBeGreaterThan(0);
  });

  it('invariant 7: bytes in flight ≤ min(cwnd, peer window) at every segment sent, except a one-byte window probe', () => {
    let probes = 0;
    fc.assert(
      fc.property(scenarioArb({ simultaneous: true }), (sc) => {
        const r = runScenario(sc);
        expect(checkFlight(r)).toEqual([]);
        probes += r.sides.reduce((n, s) => n + s.tx.filter((x) => x.sndWnd === 0 && x.payload === 1).length, 0);
      }),
      { numRuns: runs(1200) },
    );
    // Read stalls closed the window often enough to exercise the probe.
    expect(probes).toBeGreaterThan(0);
  });
});
