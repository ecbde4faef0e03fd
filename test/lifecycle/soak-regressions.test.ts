// Schedules the soak once failed on, replayed with every invariant checked.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkAll } from '../properties/checks.js';
import { runScenario, type Scenario } from '../properties/harness.js';

const load = (name: string): Scenario => JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8')) as Scenario;

describe('soak regressions', () => {
  it('a simultaneous open whose SYN-ACK budget runs out between two timers still ends in ETIMEDOUT (soak #7966: it hung in SYN_RECEIVED)', () => {
    const r = runScenario(load('soak-7966.json'));
    expect(checkAll(r)).toEqual([]);
    expect(r.sides.every((s) => s.conn?.state === 'CLOSED')).toBe(true);
  });

  it('an echo under one tick while the RTO is backed off is a 1 ms sample, and the RTT check accepts it (soak seed 777 #1747: the check took it for a sample of nothing)', () => {
    const r = runScenario(load('soak-777-1747.json'));
    expect(checkAll(r)).toEqual([]);
    // The schedule does take such a sample: its echo's age is 0 whole ticks.
    const floored = r.sides.flatMap((s) => {
      const sentAt = new Map(s.tx.map((x) => [x.tsVal, x.t] as const));
      return s.samples.filter((m) => m.r === 1 && m.tsEcr !== undefined && Math.floor(m.t) === Math.floor(sentAt.get(m.tsEcr) ?? -1));
    });
    expect(floored.length).toBeGreaterThan(0);
  });
});
