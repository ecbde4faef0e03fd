// One segment per UDP datagram. Layout (big-endian), documented in docs/PROTOCOL.md:
//
//   0      version (1)
//   1      flags: FIN 0x01, SYN 0x02, RST 0x04, ACK 0x08 (0xF0 reserved, must be 0)
//   2..3   length of the options area in bytes
//   4..7   destination connection id (0 in a SYN: the receiver has not chosen one)
//   8..11  source connection id
//   12..15 sequence number
//   16..19 acknowledgment number
//   20..23 receive window in bytes
//   24..27 TSval     28..31 TSecr (RFC 7323 §3)
//   32..   options (kind, length, value), then payload

export const VERSION = 1;
export const HEADER_SIZE = 32;

export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const ACK = 0x08;
const KNOWN_FLAGS = FIN | SYN | RST | ACK;

/** Option kinds. Unknown kinds are skipped on decode. */
export const OPT_MSS = 1;
export const OPT_SACK_PERMITTED = 2;
export const OPT_SACK = 3;
/** Path validation (after RFC 9000 §8.2): 8 unpredictable bytes, echoed in a response. Non-SYN segments only. */
export const OPT_PATH_CHALLENGE = 4;
export const OPT_PATH_RESPONSE = 5;
export const PATH_DATA_SIZE = 8;

/** At most this many SACK blocks fit one segment (RFC 2018 §3 allows 4 with timestamps in TCP's 40 bytes; we have room, keep 4). */
export const MAX_SACK_BLOCKS = 4;

export interface SackBlock {
  /** First sequence number of the block. */
  start: number;
  /** Sequence number just past the block. */
  end: number;
}

export interface Segment {
  flags: number;
  dstId: number;
  srcId: number;
  seq: number;
  ack: number;
  window: number;
  tsVal: number;
  tsEcr: number;
  /** MSS option, SYN only: the largest payload the sender of this segment accepts. */
  mss?: number | undefined;
  /** SACK-permitted option, SYN only. */
  sackPermitted?: boolean | undefined;
  /** SACK blocks (RFC 2018). */
  sack?: SackBlock[] | undefined;
  /** PATH_CHALLENGE data (8 bytes). */
  pathChallenge?: Uint8Array | undefined;
  /** PATH_RESPONSE data (8 bytes): the challenge's, echoed. */
  pathResponse?: Uint8Array | undefined;
  payload: Uint8Array;
}

export type DecodeError =
  | 'short'
  | 'version'
  | 'reserved-flags'
  | 'bad-flags'
  | 'options-length'
  | 'option-truncated'
  | 'option-length'
  | 'syn-option-on-non-syn'
  | 'path-option-on-syn'
  | 'rst-with-payload'
  | 'syn-with-dst';

export type DecodeResult = { ok: true; segment: Segment } | { ok: false; reason: DecodeError };

const EMPTY = new Uint8Array(0);

/** Number of sequence numbers a segment occupies: payload, plus one each for SYN and FIN. */
export function segmentLength(s: Pick<Segment, 'flags' | 'payload'>): number {
  return s.payload.length + (s.flags & SYN ? 1 : 0) + (s.flags & FIN ? 1 : 0);
}

function optionsSize(s: Segment): number {
  let n = 0;
  if (s.mss !== undefined) n += 4;
  if (s.sackPermitted) n += 2;
  if (s.sack && s.sack.length > 0) n += 2 + 8 * Math.min(s.sack.length, MAX_SACK_BLOCKS);
  if (s.pathChallenge) n += 2 + PATH_DATA_SIZE;
  if (s.pathResponse) n += 2 + PATH_DATA_SIZE;
  return n;
}

/** Encoded size of a segment in bytes. */
export function encodedSize(s: Segment): number {
  return HEADER_SIZE + optionsSize(s) + s.payload.length;
}

/**
 * Encode into `out` (which must hold `encodedSize(s)` bytes) or into a new buffer.
 * Returns the bytes written as a view of the target.
 */
export function encode(s: Segment, out?: Uint8Array): Uint8Array {
  const opt = optionsSize(s);
  const size = HEADER_SIZE + opt + s.payload.length;
  const buf = out ?? new Uint8Array(size);
  if (buf.length < size) throw new RangeError(`encode: buffer of ${buf.length} bytes, need ${size}`);
  const dv = new DataView(buf.buffer, buf.byteOffset, size);
  dv.setUint8(0, VERSION);
  dv.setUint8(1, s.flags & KNOWN_FLAGS);
  dv.setUint16(2, opt);
  dv.setUint32(4, s.dstId >>> 0);
  dv.setUint32(8, s.srcId >>> 0);
  dv.setUint32(12, s.seq >>> 0);
  dv.setUint32(16, s.ack >>> 0);
  dv.setUint32(20, s.window >>> 0);
  dv.setUint32(24, s.tsVal >>> 0);
  dv.setUint32(28, s.tsEcr >>> 0);
  let p = HEADER_SIZE;
  if (s.mss !== undefined) {
    dv.setUint8(p, OPT_MSS);
    dv.setUint8(p + 1, 2);
    dv.setUint16(p + 2, s.mss);
    p += 4;
  }
  if (s.sackPermitted) {
    dv.setUint8(p, OPT_SACK_PERMITTED);
    dv.setUint8(p + 1, 0);
    p += 2;
  }
  if (s.sack && s.sack.length > 0) {
    const n = Math.min(s.sack.length, MAX_SACK_BLOCKS);
    dv.setUint8(p, OPT_SACK);
    dv.setUint8(p + 1, 8 * n);
    p += 2;
    for (let i = 0; i < n; i++) {
      const b = s.sack[i]!;
      dv.setUint32(p, b.start >>> 0);
      dv.setUint32(p + 4, b.end >>> 0);
      p += 8;
    }
  }
  for (const [kind, data] of [[OPT_PATH_CHALLENGE, s.pathChallenge], [OPT_PATH_RESPONSE, s.pathResponse]] as const) {
    if (!data) continue;
    dv.setUint8(p, kind);
    dv.setUint8(p + 1, PATH_DATA_SIZE);
    for (let i = 0; i < PATH_DATA_SIZE; i++) buf[p + 2 + i] = data[i] ?? 0;
    p += 2 + PATH_DATA_SIZE;
  }
  buf.set(s.payload, p);
  return size === buf.length ? buf : buf.subarray(0, size);
}

/**
 * Decode one datagram. Never throws: malformed input yields `{ ok: false, reason }`.
 * The payload is a view of `buf`, not a copy.
 */
export function decode(buf: Uint8Array): DecodeResult {
  if (buf.length < HEADER_SIZE) return { ok: false, reason: 'short' };
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.length);
  if (dv.getUint8(0) !== VERSION) return { ok: false, reason: 'version' };
  const flags = dv.getUint8(1);
  if (flags & ~KNOWN_FLAGS) return { ok: false, reason: 'reserved-flags' };
  const isSyn = (flags & SYN) !== 0;
  const isRst = (flags & RST) !== 0;
  // Combinations that have no meaning: SYN with RST or FIN; no SYN, RST or ACK at all.
  if ((isSyn && (flags & (RST | FIN)) !== 0) || (flags & (SYN | RST | ACK)) === 0) {
    return { ok: false, reason: 'bad-flags' };
  }
  const optLen = dv.getUint16(2);
  if (HEADER_SIZE + optLen > buf.length) return { ok: false, reason: 'options-length' };
  const seg: Segment = {
    flags,
    dstId: dv.getUint32(4),
    srcId: dv.getUint32(8),
    seq: dv.getUint32(12),
    ack: dv.getUint32(16),
    window: dv.getUint32(20),
    tsVal: dv.getUint32(24),
    tsEcr: dv.getUint32(28),
    payload: EMPTY,
  };
  if (isSyn && !(flags & ACK) && seg.dstId !== 0) return { ok: false, reason: 'syn-with-dst' };
  let p = HEADER_SIZE;
  const end = HEADER_SIZE + optLen;
  while (p < end) {
    if (p + 2 > end) return { ok: false, reason: 'option-truncated' };
    const kind = dv.getUint8(p);
    const len = dv.getUint8(p + 1);
    const v = p + 2;
    if (v + len > end) return { ok: false, reason: 'option-truncated' };
    switch (kind) {
      case OPT_MSS:
        if (len !== 2) return { ok: false, reason: 'option-length' };
        if (!isSyn) return { ok: false, reason: 'syn-option-on-non-syn' };
        seg.mss = dv.getUint16(v);
        break;
      case OPT_SACK_PERMITTED:
        if (len !== 0) return { ok: false, reason: 'option-length' };
        if (!isSyn) return { ok: false, reason: 'syn-option-on-non-syn' };
        seg.sackPermitted = true;
        break;
      case OPT_SACK: {
        if (len === 0 || len % 8 !== 0 || len / 8 > MAX_SACK_BLOCKS) return { ok: false, reason: 'option-length' };
        const blocks: SackBlock[] = [];
        for (let q = v; q < v + len; q += 8) blocks.push({ start: dv.getUint32(q), end: dv.getUint32(q + 4) });
        seg.sack = blocks;
        break;
      }
      case OPT_PATH_CHALLENGE:
      case OPT_PATH_RESPONSE:
        if (len !== PATH_DATA_SIZE) return { ok: false, reason: 'option-length' };
        if (isSyn) return { ok: false, reason: 'path-option-on-syn' };
        if (kind === OPT_PATH_CHALLENGE) seg.pathChallenge = buf.slice(v, v + len);
        else seg.pathResponse = buf.slice(v, v + len);
        break;
      default:
        break; // unknown option: skip
    }
    p = v + len;
  }
  if (end < buf.length) {
    if (isRst) return { ok: false, reason: 'rst-with-payload' };
    seg.payload = buf.subarray(end);
  }
  return { ok: true, segment: seg };
}

export function flagsToString(flags: number): string {
  const parts: string[] = [];
  if (flags & SYN) parts.push('SYN');
  if (flags & FIN) parts.push('FIN');
  if (flags & RST) parts.push('RST');
  if (flags & ACK) parts.push('ACK');
  return parts.join('|') || '-';
}
