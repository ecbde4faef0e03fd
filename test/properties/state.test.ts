// docs/ARCHITECTURE.md, invariants 3, 4 and 5 as fast-check properties on the simulated
// network: the state diagram, sequence-number order (with ISNs near 2^32) and
// TIME_WAIT. A failure prints the scenario (plain JSON): runScenario(it) replays it.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { State } from '../../src/protocol/state.js';
import { checkDelivery, checkSeq, checkStates, checkTimeWait, timeWaitRestarts, wrapped } from './checks.js';
import { runScenario, runs, scenarioArb } from './harness.js';

describe('properties: states, sequence numbers, TIME_WAIT', () => {
  it('invariant 3: every state change is an edge of RFC 9293 Fig. 5 and stats.invalidTransitions stays 0', () => {
    const seen = new Set<string>();
    fc.assert(
      // Corrupted datagrams too: the wire format has no checksum of its own, so bit flips reach the state machine.
      fc.property(scenarioArb({ destroy: true, noEnd: true, simultaneous: true, injections: true, corrupt: true }), (sc) => {
        const r = runScenario(sc);
        expect(checkStates(r)).toEqual([]);
        for (const s of [...r.sides, ...r.extra]) for (const e of s.events) if (e.type === 'state') seen.add(`${e.from}>${e.to}`);
      }),
      { numRuns: runs(1000) },
    );
    // The schedules reach the interesting corners of the diagram.
    for (const edge of ['SYN_SENT>SYN_RECEIVED', 'FIN_WAIT_1>CLOSING', 'CLOSING>TIME_WAIT', 'CLOSE_WAIT>LAST_ACK', 'ESTABLISHED>CLOSED']) {
      expect(seen).toContain(edge);
    }
  });

  it('invariant 4: SND.UNA ≤ SND.NXT (mod 2^32) at every step, RCV.NXT only moves forward, and ISNs near 2^32 wrap correctly', () => {
    let wraps = 0;
    fc.assert(
      fc.property(scenarioArb({ wrapIss: true, simultaneous: true, destroy: true }), (sc) => {
        const r = runScenario(sc);
        expect([...checkSeq(r), ...checkDelivery(r)]).toEqual([]);
        wraps += r.sides.filter(wrapped).length;
      }),
      { numRuns: runs(1000) },
    );
    expect(wraps).toBeGreaterThan(0);
  });

  it('invariant 5: only the active closer (both on simultaneous close) enters TIME_WAIT, for exactly 2·MSL, restarted by a retransmitted FIN', () => {
    let restarts = 0;
    let both = 0;
    fc.assert(
      fc.property(scenarioArb({ twBlackhole: true, simultaneous: true, maxPairs: 2 }), (sc) => {
        const r = runScenario(sc);
        expect(checkTimeWait(r)).toEqual([]);
        restarts += timeWaitRestarts(r);
        for (let i = 0; i < r.sides.length; i += 2) {
          const tw = (k: number) => r.sides[k]!.events.some((e) => e.type === 'state' && e.to === State.TIME_WAIT);
          if (tw(i) && tw(i + 1)) both++;
        }
      }),
      { numRuns: runs(800) },
    );
    expect(restarts).toBeGreaterThan(0);
    expect(both).toBeGreaterThan(0);
  });
});
