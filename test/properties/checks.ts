// The invariants of docs/ARCHITECTURE.md as checks over a RunResult. Each returns the
// list of violations (empty when the invariant holds), so a property can assert
// on it and the soak can print it.

import { DEFAULT_OPTIONS } from '../../src/protocol/options.js';
import { isEdge, State } from '../../src/protocol/state.js';
import { FIN, SYN } from '../../src/wire/segment.js';
import { seqAdd, seqDiff, seqGe, seqLe, seqLt } from '../../src/wire/seq.js';
import type { RunResult, Side } from './harness.js';

const EPS = 1e-6;

function dirs(res: RunResult): Array<{ w: Side; r: Side }> {
  const out: Array<{ w: Side; r: Side }> = [];
  for (let i = 0; i < res.sides.length; i += 2) {
    const c = res.sides[i]!;
    const s = res.sides[i + 1]!;
    out.push({ w: c, r: s }, { w: s, r: c });
  }
  return out;
}

const peerOf = (res: RunResult, s: Side): Side => res.sides.find((x) => x.pair === s.pair && x !== s)!;
const errors = (s: Side) => s.events.filter((e) => e.type === 'error').map((e) => e.code);
const destroyedPair = (res: RunResult, s: Side) => s.destroyedAt !== undefined || peerOf(res, s).destroyedAt !== undefined;
/** Loss stays below 100% and nobody aborts: every transfer must complete and close. */
export function mustComplete(res: RunResult, s: Side): boolean {
  return res.sc.faults.blackholeForeverAt === undefined && !destroyedPair(res, s) && s.conn !== undefined;
}

/** Invariant 1: received bytes are a prefix of written; with loss < 100% they become equal, once, in order. */
export function checkDelivery(res: RunResult): string[] {
  const v: string[] = [];
  for (const { w, r } of dirs(res)) {
    if (r.mismatchAt >= 0) v.push(`${r.name}: byte ${r.mismatchAt} is not what ${w.name} wrote there`);
    if (r.received > w.written) v.push(`${r.name}: received ${r.received} > ${w.written} written by ${w.name}`);
    if (!mustComplete(res, w)) continue;
    if (w.written !== w.intended) v.push(`${w.name}: only ${w.written} of ${w.intended} bytes accepted by write()`);
    if (r.received !== w.written) v.push(`${r.name}: received ${r.received} of ${w.written} bytes from ${w.name}`);
    if (w.shutdownAt !== undefined && r.endAt === undefined) v.push(`${r.name}: no 'end' although ${w.name} called shutdown`);
    for (const code of errors(w).concat(errors(r))) v.push(`${w.name}/${r.name}: error ${code} without abort or total loss`);
  }
  return v;
}

/** Invariant 2: nothing delivered after the FIN's sequence number; no data after 'end'. */
export function checkEnd(res: RunResult): string[] {
  const v: string[] = [];
  for (const { w, r } of dirs(res)) {
    if (r.endAt === undefined) continue;
    if (w.shutdownAt === undefined) v.push(`${r.name}: 'end' but ${w.name} never shut down`);
    if (r.readableAfterEnd > 0) v.push(`${r.name}: ${r.readableAfterEnd} 'readable' events after 'end'`);
    if (r.totalAtEnd !== w.written) v.push(`${r.name}: FIN after ${r.totalAtEnd} bytes, ${w.name} wrote ${w.written}`);
    if (r.received > r.totalAtEnd!) v.push(`${r.name}: read ${r.received} bytes, more than the ${r.totalAtEnd} before the FIN`);
    const fc = r.finCheck!;
    if (fc.rcvNxt !== seqAdd(fc.irs, r.totalAtEnd! + 2)) v.push(`${r.name}: RCV.NXT ${fc.rcvNxt} at 'end', expected IRS+1+${r.totalAtEnd}+1`);
    for (const s of r.snaps) if (s.t > r.endAt && s.rcvNxt !== fc.rcvNxt) v.push(`${r.name}: RCV.NXT moved to ${s.rcvNxt} after the FIN at t=${s.t}`);
  }
  return v;
}

/** Invariant 3: every state change is an edge of RFC 9293 Fig. 5, in one unbroken chain from CLOSED. */
export function checkStates(res: RunResult): string[] {
  const v: string[] = [];
  for (const s of [...res.sides, ...res.extra]) {
    let at: State = State.CLOSED;
    for (const e of s.events) {
      if (e.type !== 'state') continue;
      if (e.from !== at) v.push(`${s.name}: change from ${e.from} while in ${at}`);
      if (!isEdge(e.from!, e.to!)) v.push(`${s.name}: ${e.from} → ${e.to} is not an edge of Fig. 5`);
      at = e.to!;
    }
    if (s.conn && s.conn.stats.invalidTransitions !== 0) v.push(`${s.name}: stats.invalidTransitions = ${s.conn.stats.invalidTransitions}`);
  }
  return v;
}

const SYNCED = new Set<State>([
  State.SYN_RECEIVED,
  State.ESTABLISHED,
  State.FIN_WAIT_1,
  State.FIN_WAIT_2,
  State.CLOSE_WAIT,
  State.CLOSING,
  State.LAST_ACK,
  State.TIME_WAIT,
]);

/** Invariant 4: SND.UNA ≤ SND.NXT (mod 2^32) at every step, neither moves back; RCV.NXT only moves forward. */
export function checkSeq(res: RunResult): string[] {
  const v: string[] = [];
  for (const s of res.sides) {
    if (!s.conn) continue;
    if (res.sc.iss) {
      const want = s.role === 'client' ? res.sc.iss.client : res.sc.iss.server;
      if (s.conn.iss !== want) v.push(`${s.name}: ISS ${s.conn.iss}, forced ${want}`);
    }
    let prev: (typeof s.snaps)[number] | undefined;
    let rcv: number | undefined;
    for (const n of s.snaps) {
      if (!seqLe(n.sndUna, n.sndNxt)) v.push(`${s.name}: SND.UNA ${n.sndUna} > SND.NXT ${n.sndNxt} at t=${n.t}`);
      if (seqDiff(n.sndNxt, n.sndUna) > Math.max(res.sc.conn.sndBuf, res.sc.conn.maxSndBuf) + 2)
        v.push(`${s.name}: ${seqDiff(n.sndNxt, n.sndUna)} in flight > send buffer at t=${n.t}`);
      if (prev && !seqGe(n.sndUna, prev.sndUna)) v.push(`${s.name}: SND.UNA moved back ${prev.sndUna} → ${n.sndUna} at t=${n.t}`);
      if (prev && !seqGe(n.sndNxt, prev.sndNxt)) v.push(`${s.name}: SND.NXT moved back ${prev.sndNxt} → ${n.sndNxt} at t=${n.t}`);
      if (rcv !== undefined && !seqGe(n.rcvNxt, rcv)) v.push(`${s.name}: RCV.NXT moved back ${rcv} → ${n.rcvNxt} at t=${n.t}`);
      if (rcv !== undefined || SYNCED.has(n.state)) rcv = n.rcvNxt;
      prev = n;
    }
  }
  return v;
}

/** True if this side's SND.NXT crossed 2^32 during the run. */
export function wrapped(s: Side): boolean {
  return s.conn !== undefined && s.conn.sndNxt < s.conn.iss;
}

function hostOfSide(res: RunResult, s: Side) {
  return res.hosts[s.role === 'server' ? 0 : 1 + (res.sc.open === 'simultaneous' ? 0 : s.host)]!;
}

/** Invariant 5: only active closers enter TIME_WAIT; it lasts exactly 2·MSL from the last FIN seen. */
export function checkTimeWait(res: RunResult): string[] {
  const v: string[] = [];
  const twoMsl = 2 * res.sc.conn.msl;
  for (const s of res.sides) {
    if (!s.conn) continue;
    const path = s.events.filter((e) => e.type === 'state').map((e) => e.to);
    const tw = s.events.find((e) => e.type === 'state' && e.to === State.TIME_WAIT);
    const active = path.includes(State.FIN_WAIT_1);
    if (tw && !active) v.push(`${s.name}: TIME_WAIT without having sent the first FIN (path ${path.join('→')})`);
    if (tw && path.includes(State.CLOSE_WAIT)) v.push(`${s.name}: passive closer in TIME_WAIT`);
    const peer = peerOf(res, s);
    if (active && !tw && res.idle && mustComplete(res, s) && peer.shutdownAt !== undefined)
      v.push(`${s.name}: active closer never reached TIME_WAIT (path ${path.join('→')})`);
    if (!tw) continue;
    const host = hostOfSide(res, s);
    const id = s.conn.localId;
    const end = host.twEnd.find((e) => e.id === id);
    if (!end) {
      if (res.idle) v.push(`${s.name}: TIME_WAIT record never expired`);
      continue;
    }
    // FINs that restart the record: from the peer's address, at or below its FIN (RFC 9293 §3.10.7.4).
    const remote = hostOfSide(res, peerOf(res, s)).addr;
    const fromKey = `${remote.address}|${remote.port}`;
    const fins = host.twFins.filter((f) => f.id === id && f.t >= tw.t && f.t <= end.t && f.from === fromKey && seqLt(f.seq, s.conn!.rcvNxt)).map((f) => f.t);
    const from = Math.max(tw.t, ...fins);
    if (Math.abs(end.t - (from + twoMsl)) > EPS) {
      v.push(`${s.name}: TIME_WAIT from ${tw.t} ended at ${end.t}; expected ${from} + 2·MSL = ${from + twoMsl} (${fins.length} FIN restarts)`);
    }
  }
  return v;
}

/** How many retransmitted FINs restarted a TIME_WAIT record in this run. */
export function timeWaitRestarts(res: RunResult): number {
  return res.hosts.reduce((n, h) => n + h.twFins.length, 0);
}

/** Invariant 6: RTO within [rtoMin, rtoMax], doubles per consecutive timeout; RTT samples are exact (send times, Karn; else timestamps). */
export function checkRto(res: RunResult): string[] {
  const v: string[] = [];
  const { rtoMin, rtoMax } = res.sc.conn.rto;
  for (const s of [...res.sides, ...res.extra]) {
    for (const n of s.snaps) if (n.rto < rtoMin - EPS || n.rto > rtoMax + EPS) v.push(`${s.name}: RTO ${n.rto} outside [${rtoMin}, ${rtoMax}] at t=${n.t}`);
    for (const t of s.timeouts) {
      const want = Math.min(rtoMax, 2 * t.before);
      if (Math.abs(t.after - want) > EPS) v.push(`${s.name}: RTO ${t.before} → ${t.after} on a timeout at t=${t.t}, expected ${want}`);
    }
    const sentAt = new Map<number, number>();
    for (const x of s.tx) if (!sentAt.has(x.tsVal)) sentAt.set(x.tsVal, x.t);
    // Karn: first transmissions of a sequence number, by send time.
    const firstSends: number[] = [];
    const seen = new Set<number>();
    for (const x of s.tx) {
      if (x.len === 0) continue;
      if (!seen.has(x.seq)) firstSends.push(x.t);
      seen.add(x.seq);
    }
    for (const m of s.samples) {
      const t0 = m.tsEcr === undefined ? undefined : sentAt.get(m.tsEcr);
      if (t0 === undefined || t0 > m.t) {
        v.push(`${s.name}: RTT sample ${m.r} at t=${m.t} echoes TSval ${m.tsEcr}, which it never sent`);
        continue;
      }
      // Exact: the time since a first transmission (the newest one the ACK delivers), or, when the ACK
      // delivers only retransmissions, the echoed timestamp's age in whole ticks, at least one (an echo
      // under one tick counts as one while the RTO is backed off: AckPath.onAck).
      const fromSend = firstSends.some((t) => Math.abs(m.t - m.r - t) < 1e-9);
      const fromTs = m.r === Math.max(1, Math.floor(m.t) - Math.floor(t0));
      // A resent SYN (or SYN-ACK) answered by its own TSval (RFC 7323 §4.1): the time since that copy.
      const fromSynEcho = s.tx.some((x) => (x.flags & SYN) !== 0 && x.tsVal === m.tsEcr && Math.abs(m.t - m.r - x.t) < 1e-9);
      if (!fromSend && !fromTs && !fromSynEcho)
        v.push(`${s.name}: RTT sample ${m.r} at t=${m.t} matches no first transmission, nor TSval ${m.tsEcr} sent at ${t0}`);
    }
  }
  return v;
}

/** Invariant 7: at every data segment sent, bytes in flight ≤ min(cwnd, peer window), except a one-byte window probe. */
export function checkFlight(res: RunResult): string[] {
  const v: string[] = [];
  for (const s of res.sides) {
    let tlp = 0;
    let frx = 0;
    for (const x of s.tx) {
      const isTlp = x.tlp > tlp;
      const isFrx = x.frx > frx;
      tlp = x.tlp;
      frx = x.frx;
      if (x.payload === 0 && !(x.flags & FIN)) continue;
      if (x.flags & SYN) continue;
      const fin = x.flags & FIN ? 1 : 0;
      const extent = seqDiff(seqAdd(x.seq, x.len), x.sndUna);
      const fresh = x.seq === x.sndNxt;
      const probe = x.sndWnd === 0 && x.len - fin <= 1 && extent - fin <= 1;
      // The peer window governs new data (RFC 9293 §3.8.6.2.1: SND.UNA + SND.WND - SND.NXT); a retransmission
      // resends bytes it already admitted (its view of the window may have shrunk through reordered ACKs).
      if (fresh && x.payload > 0 && extent - fin > x.sndWnd && !probe)
        v.push(`${s.name}: sent up to SND.UNA+${extent} with peer window ${x.sndWnd} at t=${x.t}`);
      // Exempt from cwnd: the retransmission of SND.UNA's segment (RFC 5681 §3.1 on RTO), the first retransmission
      // on entering recovery (RFC 5681 §3.2 step 3, RFC 6675 §5 (4.3)), a tail loss probe (RFC 8985 §7.3).
      const head = x.seq === x.sndUna && !fresh;
      if (x.pipe - fin > x.cwnd && !head && !(isFrx && !fresh) && !isTlp && !probe)
        v.push(`${s.name}: ${x.pipe} in flight > cwnd ${x.cwnd} at t=${x.t} (seq ${x.seq}, len ${x.len})`);
    }
  }
  return v;
}

/**
 * A bound on when everything must be done: after the last scripted event, a full retry budget at rtoMax,
 * two more rtoMax per segment of data (each may be lost and time out), and TIME_WAIT.
 */
export function livenessBound(res: RunResult): number {
  const c = res.sc.conn;
  const bytes = res.sides.reduce((n, s) => n + s.intended, 0);
  const segments = Math.ceil(bytes / Math.min(c.mss, 536)) + 4 * res.sides.length;
  const retransmissions = (Math.max(c.synRetries, c.maxRetries) + 4 + 2 * segments) * c.rto.rtoMax;
  return res.quietAt + Math.max(retransmissions, keepAliveBudget() + c.rto.rtoMax) + 4 * c.msl;
}

/** How long the default keepalive takes to give up on a silent peer. */
function keepAliveBudget(): number {
  return DEFAULT_OPTIONS.keepAliveIdle + DEFAULT_OPTIONS.keepAliveProbes * DEFAULT_OPTIONS.keepAliveInterval;
}

/** Invariant 8: transfers complete in bounded virtual time; under total loss connections fail with ETIMEDOUT; nothing hangs. */
export function checkLiveness(res: RunResult): string[] {
  const v: string[] = [];
  if (!res.idle) v.push(`still running at t=${res.endTime} after ${res.events} events`);
  if (res.endTime > livenessBound(res)) v.push(`finished at t=${res.endTime}, past the bound ${livenessBound(res)}`);
  for (const s of [...res.sides, ...res.extra]) {
    const h = s.snaps.find((n) => n.hang);
    if (h) v.push(`${s.name}: outstanding data and no timer armed at t=${h.t} in ${h.state}`);
  }
  const forever = res.sc.faults.blackholeForeverAt;
  const c = res.sc.conn;
  for (const s of res.sides) {
    if (!s.conn) continue;
    const st = s.conn.state;
    if (forever !== undefined) {
      for (const e of s.events) {
        if (e.type === 'error' && e.t > forever + 1000 && e.code !== 'ETIMEDOUT') v.push(`${s.name}: ${e.code} under total loss`);
        // By the retransmission budget, or for a connection with nothing outstanding by the keepalive probes (on by default).
        const budget = Math.max((Math.max(c.synRetries, c.maxRetries) + 4) * c.rto.rtoMax, keepAliveBudget() + c.rto.rtoMax);
        if (e.type === 'error' && e.t > Math.max(forever, res.quietAt) + budget) v.push(`${s.name}: ETIMEDOUT only at t=${e.t}`);
      }
      const open = st !== State.CLOSED && st !== State.TIME_WAIT;
      if (open && (s.conn.retransmitQueueLength > 0 || s.conn.bufferedAmount > 0)) v.push(`${s.name}: still ${st} with data outstanding under total loss`);
      continue;
    }
    if (!mustComplete(res, s)) continue;
    const peer = peerOf(res, s);
    if (s.shutdownAt !== undefined && peer.shutdownAt !== undefined && st !== State.CLOSED && st !== State.TIME_WAIT) {
      v.push(`${s.name}: both sides ended, still ${st}`);
    }
  }
  return v;
}

/** Invariant 10: the connection table (and TIME_WAIT table) is empty once every connection closed and TIME_WAIT passed. */
export function checkTablesEmpty(res: RunResult): string[] {
  const v: string[] = [];
  // After an abort whose RST was lost the peer may wait in FIN_WAIT_2 or ESTABLISHED for good (no FIN_WAIT_2 timer), so only clean closes count.
  const allClosed = res.sides.every((s) => s.shutdownAt !== undefined && s.destroyedAt === undefined) && res.sc.faults.blackholeForeverAt === undefined;
  if (!allClosed || !res.idle) return v;
  for (const h of res.hosts) {
    const ep = h.host.endpoint;
    if (ep.connectionCount !== 0) v.push(`${h.addr.address}: ${ep.connectionCount} connections left in the table`);
    if (ep.timeWaitCount !== 0) v.push(`${h.addr.address}: ${ep.timeWaitCount} TIME_WAIT records left`);
  }
  return v;
}

/** Invariant 9: forged datagrams never abort or corrupt: no error events, bytes identical. */
export function checkUnharmed(res: RunResult): string[] {
  const v = checkDelivery(res);
  for (const s of res.sides) for (const code of errors(s)) v.push(`${s.name}: error ${code} after forged datagrams`);
  return v;
}

/** The checks the soak runs on every schedule. */
export function checkAll(res: RunResult): string[] {
  return [
    ...checkDelivery(res),
    ...checkEnd(res),
    ...checkStates(res),
    ...checkSeq(res),
    ...checkTimeWait(res),
    ...checkRto(res),
    ...checkFlight(res),
    ...checkLiveness(res),
    ...checkTablesEmpty(res),
  ];
}
