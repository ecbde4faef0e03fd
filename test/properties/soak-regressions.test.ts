// Schedules the soak (test/soak.ts) found, kept as fixed scenarios: each ran into a defect once.
import { describe, expect, it } from 'vitest';
import { checkAll } from './checks.js';
import { runScenario, type Scenario } from './harness.js';

describe('soak regressions', () => {
  it('seed 1, #22817 (no SACK, a 20 kB/s link down, 27 % loss each way): a timeout without a queue resends no more than the path carries, so no spurious-RTO loop', () => {
    // With 4 segments after every such RTO, the burst took longer to cross the slow link than the
    // RTO, timestamp samples from its first segment kept resetting the backoff, and the server
    // timed out 6,516 times (50,000 events); with the window capped to what the path delivers, 23.
    const sc = {
      seed: 196249496,
      open: 'listen',
      clientHosts: 1,
      pairs: [
        {
          client: {
            ops: [
              { op: 'end', after: 6 },
              { op: 'write', after: 235, size: 41348 },
            ],
            readChunk: 0,
          },
          server: {
            ops: [
              { op: 'write', after: 204, size: 541 },
              { op: 'write', after: 191, size: 38951 },
              { op: 'stall', after: 12, ms: 2993 },
              { op: 'write', after: 190, size: 9660 },
              { op: 'write', after: 12, size: 0 },
              { op: 'write', after: 119, size: 0 },
              { op: 'end', after: 127 },
            ],
            readChunk: 5,
          },
          host: 0,
        },
      ],
      conn: {
        mss: 887,
        sndBuf: 7087,
        rcvBuf: 21427,
        maxSndBuf: 21310,
        maxRcvBuf: 5,
        msl: 300000,
        rto: { rtoMin: 50, maxAckDelay: 25, rtoMax: 60000, rtoInitial: 1000, granularity: 1 },
        synRetries: 25,
        maxRetries: 15,
        delayedAck: 3,
        noDelay: true,
        sack: false,
        keepAlive: true,
      },
      faults: {
        up: { loss: 0.27, duplicate: 0.08, reorder: 0.26, reorderDelay: 0, delay: [0, 31], corrupt: 0, mtu: 1500, bandwidth: 0, queueBytes: 24236 },
        down: { loss: 0.26, duplicate: 0.09, reorder: 0.28, reorderDelay: 5, delay: [5, 9], corrupt: 0, mtu: 1500, bandwidth: 20007, queueBytes: 0 },
        episodes: [],
      },
      injections: [],
    } as Scenario;
    const r = runScenario(sc);
    expect(checkAll(r)).toEqual([]);
    const server = r.sides.find((s) => s.name === 's0')!.conn!;
    expect(server.stats.rtoTimeouts).toBeLessThan(100);
    expect(r.events).toBeLessThan(2_000);
  });
});
