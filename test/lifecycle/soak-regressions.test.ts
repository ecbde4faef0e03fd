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
});
