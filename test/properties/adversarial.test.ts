// docs/ARCHITECTURE.md, invariants 9 and 10 as fast-check properties on the simulated
// network: forged datagrams, and many connections sharing one endpoint.
// A failure prints the scenario (plain JSON): runScenario(it) replays it.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkDelivery, checkStates, checkTablesEmpty, checkUnharmed } from './checks.js';
import { runScenario, runs, scenarioArb } from './harness.js';

describe('properties: off-path injection, connection isolation', () => {
  it('invariant 9: forged RST/SYN/ACK/data with wrong connection ids or out-of-window sequence numbers, from the peer address or another, never abort or corrupt a connection', () => {
    let injected = 0;
    fc.assert(
      fc.property(scenarioArb({ injections: true, maxPairs: 2, maxClientHosts: 2 }), (sc) => {
        const r = runScenario(sc);
        expect([...checkUnharmed(r), ...checkStates(r)]).toEqual([]);
        injected += r.sides.reduce((n, s) => n + s.injected, 0);
      }),
      { numRuns: runs(1200) },
    );
    // Most forged datagrams hit live, synchronized connections.
    expect(injected).toBeGreaterThan(runs(1200));
  });

  it("invariant 10: connections on one endpoint never see each other's bytes; the connection and TIME_WAIT tables are empty again after TIME_WAIT", () => {
    let shared = 0;
    fc.assert(
      fc.property(scenarioArb({ maxPairs: 4, maxClientHosts: 2, maxBytes: 16 * 1024, maxOps: 4 }), (sc) => {
        const r = runScenario(sc);
        // Distinct byte patterns per stream: a byte from another connection shows as a mismatch.
        expect([...checkDelivery(r), ...checkTablesEmpty(r)]).toEqual([]);
        expect(r.idle).toBe(true);
        if (sc.pairs.length > 1) shared++;
      }),
      { numRuns: runs(600) },
    );
    expect(shared).toBeGreaterThan(0);
  });
});
