// The eleven states of RFC 9293 §3.3.2 and the edges of its Figure 5.

export const State = {
  CLOSED: 'CLOSED',
  LISTEN: 'LISTEN',
  SYN_SENT: 'SYN_SENT',
  SYN_RECEIVED: 'SYN_RECEIVED',
  ESTABLISHED: 'ESTABLISHED',
  FIN_WAIT_1: 'FIN_WAIT_1',
  FIN_WAIT_2: 'FIN_WAIT_2',
  CLOSE_WAIT: 'CLOSE_WAIT',
  CLOSING: 'CLOSING',
  LAST_ACK: 'LAST_ACK',
  TIME_WAIT: 'TIME_WAIT',
} as const;
export type State = (typeof State)[keyof typeof State];

const S = State;

/** Figure 5 edges, plus the aborts its text allows (RST, abort, retry budget spent: any state to CLOSED). */
const EDGES: Record<State, readonly State[]> = {
  CLOSED: [S.LISTEN, S.SYN_SENT],
  LISTEN: [S.SYN_RECEIVED, S.SYN_SENT, S.CLOSED],
  SYN_SENT: [S.SYN_RECEIVED, S.ESTABLISHED, S.CLOSED],
  SYN_RECEIVED: [S.ESTABLISHED, S.FIN_WAIT_1, S.LISTEN, S.CLOSED],
  ESTABLISHED: [S.FIN_WAIT_1, S.CLOSE_WAIT, S.CLOSED],
  FIN_WAIT_1: [S.FIN_WAIT_2, S.CLOSING, S.TIME_WAIT, S.CLOSED],
  FIN_WAIT_2: [S.TIME_WAIT, S.CLOSED],
  CLOSE_WAIT: [S.LAST_ACK, S.CLOSED],
  CLOSING: [S.TIME_WAIT, S.CLOSED],
  LAST_ACK: [S.CLOSED],
  TIME_WAIT: [S.CLOSED],
};

export function isEdge(from: State, to: State): boolean {
  return EDGES[from].includes(to);
}

export function allEdges(): Array<[State, State]> {
  const out: Array<[State, State]> = [];
  for (const from of Object.keys(EDGES) as State[]) for (const to of EDGES[from]) out.push([from, to]);
  return out;
}

/** States in which both sequence spaces are known (RFC 9293 §3.10.7.4 applies). */
export function isSynchronized(s: State): boolean {
  return s !== S.CLOSED && s !== S.LISTEN && s !== S.SYN_SENT;
}
