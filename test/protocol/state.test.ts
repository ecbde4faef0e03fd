// Every edge of RFC 9293 Fig. 5 (as listed by allEdges) is taken by at least
// one scripted scenario, and no scenario takes a transition off the diagram.

import { describe, expect, it } from 'vitest';
import { allEdges, isEdge } from '../../src/protocol/state.js';
import { activeOpen, passiveOpen, script, type Script } from '../helpers/script.js';

const MSL = 100;
const init = { options: { msl: MSL } };

/** Our FIN is ACKed by the peer's segment at relative ack 2 (no data was sent). */
const scenarios: Record<string, () => Script> = {
  'active close: FIN_WAIT_1 → FIN_WAIT_2 → TIME_WAIT → CLOSED': () => {
    const s = activeOpen(init);
    s.shutdown().inject({ flags: 'A', seq: 1, ack: 2 });
    s.inject({ flags: 'FA', seq: 1, ack: 2 });
    s.wait(2 * MSL);
    return s;
  },
  'passive close: CLOSE_WAIT → LAST_ACK → CLOSED': () => {
    const s = passiveOpen(init);
    s.inject({ flags: 'FA', seq: 1, ack: 1 });
    s.shutdown().inject({ flags: 'A', seq: 2, ack: 2 });
    return s;
  },
  'simultaneous open, then close in SYN_RECEIVED': () => {
    const s = script(init);
    s.connect().inject({ flags: 'S', seq: 0 });
    s.shutdown(); // SYN_RECEIVED → FIN_WAIT_1
    return s;
  },
  'simultaneous close: CLOSING → TIME_WAIT': () => {
    const s = activeOpen(init);
    s.shutdown().inject({ flags: 'FA', seq: 1, ack: 1 });
    s.inject({ flags: 'A', seq: 2, ack: 2 });
    return s;
  },
  'FIN_WAIT_1 → TIME_WAIT on FIN+ACK': () => {
    const s = activeOpen(init);
    s.shutdown().inject({ flags: 'FA', seq: 1, ack: 2 });
    return s;
  },
  'close in LISTEN': () => script(init).listen().close(),
  'connect from LISTEN': () => script(init).listen().connect(),
  'RST in a passive SYN_RECEIVED: back to LISTEN': () => {
    const s = script(init);
    s.listen().inject({ flags: 'S', seq: 0 }).inject({ flags: 'R', seq: 1 });
    return s;
  },
  'RST in SYN_SENT: refused': () => {
    const s = script(init);
    s.connect().inject({ flags: 'RA', seq: 0, ack: 1 });
    return s;
  },
  'SYN-ACK retries exhausted in SYN_RECEIVED': () => {
    const s = script({ options: { msl: MSL, synRetries: 1 } });
    s.listen().inject({ flags: 'S', seq: 0 });
    s.wait(10_000);
    return s;
  },
  'RST in ESTABLISHED': () => activeOpen(init).inject({ flags: 'R', seq: 1 }),
  'abort in FIN_WAIT_1': () => activeOpen(init).shutdown().abort(),
  'RST in FIN_WAIT_2': () => {
    const s = activeOpen(init);
    s.shutdown().inject({ flags: 'A', seq: 1, ack: 2 }).inject({ flags: 'R', seq: 1 });
    return s;
  },
  'abort in CLOSE_WAIT': () => activeOpen(init).inject({ flags: 'FA', seq: 1, ack: 1 }).abort(),
  'RST in CLOSING': () => {
    const s = activeOpen(init);
    s.shutdown().inject({ flags: 'FA', seq: 1, ack: 1 }).inject({ flags: 'R', seq: 2 });
    return s;
  },
};

const key = ([from, to]: readonly [string, string]) => `${from} → ${to}`;

describe('RFC 9293 §3.3.2 Fig. 5: state transitions', () => {
  for (const [name, run] of Object.entries(scenarios)) {
    it(`scenario "${name}" stays on the diagram`, () => {
      const s = run();
      expect(s.transitions.length).toBeGreaterThan(0);
      for (const t of s.transitions) expect(isEdge(t[0], t[1]), key(t)).toBe(true);
      expect(s.conn.stats.invalidTransitions).toBe(0);
    });
  }

  it('every edge listed by allEdges() is reached by some scenario', () => {
    const seen = new Set<string>();
    for (const run of Object.values(scenarios)) for (const t of run().transitions) seen.add(key(t));
    const missing = allEdges()
      .map(key)
      .filter((e) => !seen.has(e));
    expect(missing).toEqual([]);
  });

  it('isEdge rejects transitions that are not on the diagram', () => {
    expect(isEdge('CLOSED', 'ESTABLISHED')).toBe(false);
    expect(isEdge('TIME_WAIT', 'ESTABLISHED')).toBe(false);
    expect(isEdge('LAST_ACK', 'TIME_WAIT')).toBe(false);
    expect(isEdge('FIN_WAIT_2', 'CLOSING')).toBe(false);
  });
});
