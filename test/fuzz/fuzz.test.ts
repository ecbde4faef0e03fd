import { describe, expect, it } from 'vitest';
import { decode } from '../../src/wire/segment.js';
import { State } from '../../src/protocol/state.js';
import { Prng } from '../../src/sim/prng.js';
import { runFuzz } from './fuzzer.js';
import { loadCorpus, replayOne } from './corpus.js';
import { MONITOR_BYTES, TARGET_LIMITS, buildZoo, finishMonitor, zooStates } from './zoo.js';

const ALL_STATES = [
  State.SYN_SENT,
  State.SYN_RECEIVED,
  State.ESTABLISHED,
  State.FIN_WAIT_1,
  State.FIN_WAIT_2,
  State.CLOSE_WAIT,
  State.CLOSING,
  State.LAST_ACK,
  State.TIME_WAIT,
];

describe('fuzzing (docs/ARCHITECTURE.md, invariants 9 and 11)', () => {
  it('the zoo holds a connection in every state at once, built from real traffic', () => {
    const zoo = buildZoo(7);
    const states = zooStates(zoo);
    for (const s of ALL_STATES) expect(states, s).toContain(s);
    expect(zoo.captured.length).toBeGreaterThan(40);
    finishMonitor(zoo);
    expect(zoo.monitor).toMatchObject({ got: MONITOR_BYTES, corrupt: false, done: true });
  });

  it('decode never throws on 20,000 random byte strings', () => {
    const r = new Prng(Number(process.env.FC_SEED ?? 42));
    let ok = 0;
    for (let i = 0; i < 20_000; i++) {
      const b = new Uint8Array(r.int(0, 200));
      for (let k = 0; k < b.length; k++) b[k] = r.u32() & 255;
      if (i % 3 === 0 && b.length > 4) {
        // Plausible header: right version, known flags, a short options area.
        b[0] = 1;
        b[1]! &= 0x0f;
        b[2] = 0;
        b[3]! &= 0x1f;
      }
      const res = decode(b);
      if (res.ok) ok++;
      else expect(typeof res.reason).toBe('string');
    }
    expect(ok).toBeGreaterThan(0);
  });

  it('20,000 mutated datagrams: nothing throws, tables stay bounded, edges stay in Figure 5, the monitored echo is byte-exact', () => {
    const report = runFuzz({ seed: Number(process.env.FC_SEED ?? 42), inputs: 20_000 });
    expect(report.crashes.map((c) => `${c.kind}@${c.index}: ${c.message.split('\n')[0]}`)).toEqual([]);
    expect(report.inputs).toBe(20_000);
    // Every state was under fire for a good part of the run.
    for (const s of ALL_STATES) expect(report.stateHits[s] ?? 0, s).toBeGreaterThan(2_000);
    // A real share of the inputs got past decode into the connection logic.
    expect(report.decodeOk).toBeGreaterThan(4_000);
    expect(report.maxConnections).toBeLessThanOrEqual(TARGET_LIMITS.maxConnections);
    expect(report.maxTimeWait).toBeLessThanOrEqual(TARGET_LIMITS.maxTimeWait);
    expect(report.monitoredBytes).toBe(report.zoos * MONITOR_BYTES);
  });

  it('replays the committed corpus (test/fuzz/corpus) against decode and every connection of a zoo', () => {
    const corpus = loadCorpus();
    expect(corpus.length).toBeGreaterThanOrEqual(30);
    const zoo = buildZoo(11);
    for (const { name, data } of corpus) expect(replayOne(zoo, data), name).toBeUndefined();
    finishMonitor(zoo);
    expect(zoo.monitor).toMatchObject({ got: MONITOR_BYTES, corrupt: false, done: true });
  });
});
