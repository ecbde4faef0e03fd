// TIME_WAIT as a compact record (RFC 9293 §3.6.1): what is left of a connection
// once both FINs are exchanged. Shared by Connection and the endpoint's table.

import { ACK, FIN, RST, SYN, type Segment } from '../wire/segment.js';
import { seqAdd, seqLt } from '../wire/seq.js';

export interface TimeWaitRecord {
  localId: number;
  remoteId: number;
  /** SND.NXT: one past our FIN. */
  sndNxt: number;
  /** RCV.NXT: one past the peer's FIN. */
  rcvNxt: number;
  tsOffset: number;
  tsRecent: number;
  /** When the record expires (2·MSL after the last FIN seen). */
  expiresAt: number;
}

export type TimeWaitVerdict = { reply: Segment | null; restarted: boolean };

/**
 * A segment for a connection in TIME_WAIT. A retransmitted FIN is acknowledged
 * and restarts the 2·MSL timer (RFC 9293 §3.10.7.4, eighth step); an RST is
 * ignored (RFC 1337); an unacceptable segment (old data, a wrong sequence number) gets our ACK back.
 */
export function timeWaitInput(r: TimeWaitRecord, seg: Segment, now: number, twoMsl: number): TimeWaitVerdict {
  if (seg.flags & RST) return { reply: null, restarted: false };
  let restarted = false;
  if (seg.flags & FIN && seqLt(seg.seq, r.rcvNxt)) {
    r.expiresAt = now + twoMsl;
    restarted = true;
  }
  if (seg.flags & SYN && !(seg.flags & ACK)) return { reply: null, restarted };
  // An acceptable bare ACK is not answered (RFC 9293 §3.10.7.4): with both ends in TIME_WAIT
  // (simultaneous close) each would otherwise answer the other's ACK forever.
  if (!restarted && seg.payload.length === 0 && seg.seq === r.rcvNxt) return { reply: null, restarted };
  return { reply: timeWaitAck(r, now), restarted };
}

export function timeWaitAck(r: TimeWaitRecord, now: number): Segment {
  return {
    flags: ACK,
    dstId: r.remoteId,
    srcId: r.localId,
    seq: r.sndNxt,
    ack: r.rcvNxt,
    window: 0,
    tsVal: seqAdd(Math.floor(now), r.tsOffset),
    tsEcr: r.tsRecent,
    payload: new Uint8Array(0),
  };
}
