// One segment per UDP datagram. Layout (big-endian), documented in docs/PROTOCOL.md:
//
//   0      version (1)
//   1      flags: FIN 0x01, SYN 0x02, RST 0x04, ACK 0x08, IMMEDIATE_ACK 0x10 (0xE0 reserved, must be 0)
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
/** The sender asks for an ACK at once, not delayed (as QUIC's IMMEDIATE_ACK frame): set on loss probes and retransmissions. */
export const IMMEDIATE_ACK = 0x10;
const KNOWN_FLAGS = FIN | SYN | RST | ACK | IMMEDIATE_ACK;

/** Option kinds. Unknown kinds are skipped on decode. */
export const OPT_MSS = 1;
export const OPT_SACK_PERMITTED = 2;
export const OPT_SACK = 3;
/** Path validation (after RFC 9000 §8.2): 8 unpredictable bytes, echoed in a response. Non-SYN segments only. */
export const OPT_PATH_CHALLENGE = 4;
export const OPT_PATH_RESPONSE = 5;
export const PATH_DATA_SIZE = 8;

/**
 * At most this many SACK blocks in one segment. TCP's 40 option bytes hold 4 (RFC 2018 §3);
 * we have room, and at high loss a large window has more holes than 4 blocks can describe.
 */
export const MAX_SACK_BLOCKS = 16;
/** A segment that carries data carries at most this many, so the room kept for options stays small. */
export const MAX_SACK_BLOCKS_ON_DATA = 4;
/** The largest header with options: MSS, SACK-permitted, the most SACK blocks, a path challenge and response. */
export const MAX_HEADER_SIZE = HEADER_SIZE + 4 + 2 + 2 + 8 * MAX_SACK_BLOCKS + 2 * (2 + PATH_DATA_SIZE);

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

/** Big-endian byte stores and loads on a plain Uint8Array: no DataView (nor any other object) per call. */
function put16(b: Uint8Array, p: number, v: number): void {
  b[p] = v >>> 8;
  b[p + 1] = v;
}

function put32(b: Uint8Array, p: number, v: number): void {
  b[p] = v >>> 24;
  b[p + 1] = v >>> 16;
  b[p + 2] = v >>> 8;
  b[p + 3] = v;
}

function get16(b: Uint8Array, p: number): number {
  return (b[p]! << 8) | b[p + 1]!;
}

function get32(b: Uint8Array, p: number): number {
  return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
}

function putPathData(buf: Uint8Array, p: number, kind: number, data: Uint8Array): number {
  buf[p] = kind;
  buf[p + 1] = PATH_DATA_SIZE;
  for (let i = 0; i < PATH_DATA_SIZE; i++) buf[p + 2 + i] = data[i] ?? 0;
  return p + 2 + PATH_DATA_SIZE;
}

/**
 * Encode into `out` (which must hold `encodedSize(s)` bytes) or into a new buffer.
 * Returns the bytes written as a view of the target. Every byte of the result
 * is written, so `out` may be uninitialised memory (a pooled buffer).
 */
export function encode(s: Segment, out?: Uint8Array): Uint8Array {
  const size = encodedSize(s);
  const buf = out ?? new Uint8Array(size);
  encodeAt(s, buf, 0);
  return size === buf.length ? buf : buf.subarray(0, size);
}

/**
 * Encode into `buf` from offset `at` (which must leave `encodedSize(s)` bytes); returns that size.
 * No view of the result is made: the output path sends from a shared chunk and makes its own.
 */
export function encodeAt(s: Segment, buf: Uint8Array, at: number): number {
  const opt = optionsSize(s);
  const size = HEADER_SIZE + opt + s.payload.length;
  if (buf.length - at < size) throw new RangeError(`encode: buffer of ${buf.length - at} bytes, need ${size}`);
  buf[at] = VERSION;
  buf[at + 1] = s.flags & KNOWN_FLAGS;
  put16(buf, at + 2, opt);
  put32(buf, at + 4, s.dstId);
  put32(buf, at + 8, s.srcId);
  put32(buf, at + 12, s.seq);
  put32(buf, at + 16, s.ack);
  put32(buf, at + 20, s.window);
  put32(buf, at + 24, s.tsVal);
  put32(buf, at + 28, s.tsEcr);
  let p = at + HEADER_SIZE;
  if (opt > 0) {
    if (s.mss !== undefined) {
      buf[p] = OPT_MSS;
      buf[p + 1] = 2;
      put16(buf, p + 2, s.mss);
      p += 4;
    }
    if (s.sackPermitted) {
      buf[p] = OPT_SACK_PERMITTED;
      buf[p + 1] = 0;
      p += 2;
    }
    const sack = s.sack;
    if (sack && sack.length > 0) {
      const n = Math.min(sack.length, MAX_SACK_BLOCKS);
      buf[p] = OPT_SACK;
      buf[p + 1] = 8 * n;
      p += 2;
      for (let i = 0; i < n; i++) {
        const b = sack[i]!;
        put32(buf, p, b.start);
        put32(buf, p + 4, b.end);
        p += 8;
      }
    }
    if (s.pathChallenge) p = putPathData(buf, p, OPT_PATH_CHALLENGE, s.pathChallenge);
    if (s.pathResponse) p = putPathData(buf, p, OPT_PATH_RESPONSE, s.pathResponse);
  }
  if (s.payload.length > 0) buf.set(s.payload, p);
  return size;
}

/**
 * Decode one datagram. Never throws: malformed input yields `{ ok: false, reason }`.
 * The payload is a view of `buf`, not a copy.
 */
export function decode(buf: Uint8Array): DecodeResult {
  const seg = emptySegment();
  const reason = decodeInto(buf, seg);
  return reason === undefined ? { ok: true, segment: seg } : { ok: false, reason };
}

/** A segment with every field present (one object shape), to decode into. */
export function emptySegment(): Segment {
  return {
    flags: 0,
    dstId: 0,
    srcId: 0,
    seq: 0,
    ack: 0,
    window: 0,
    tsVal: 0,
    tsEcr: 0,
    mss: undefined,
    sackPermitted: undefined,
    sack: undefined,
    pathChallenge: undefined,
    pathResponse: undefined,
    payload: EMPTY,
  };
}

/** Drop every option from a reused segment (the fields stay, as `undefined`: one object shape). */
export function clearOptions(seg: Segment): void {
  seg.mss = undefined;
  seg.sackPermitted = undefined;
  seg.sack = undefined;
  seg.pathChallenge = undefined;
  seg.pathResponse = undefined;
}

/**
 * `decode` into an existing object, every field overwritten (a receive loop reuses one): undefined
 * when `buf` is a valid segment, else why not (`seg` then holds no meaning).
 */
export function decodeInto(buf: Uint8Array, seg: Segment): DecodeError | undefined {
  if (buf.length < HEADER_SIZE) return 'short';
  if (buf[0] !== VERSION) return 'version';
  const flags = buf[1]!;
  if (flags & ~KNOWN_FLAGS) return 'reserved-flags';
  const isSyn = (flags & SYN) !== 0;
  const isRst = (flags & RST) !== 0;
  // Combinations that have no meaning: SYN with RST or FIN; no SYN, RST or ACK at all.
  if ((isSyn && (flags & (RST | FIN)) !== 0) || (flags & (SYN | RST | ACK)) === 0) return 'bad-flags';
  const optLen = get16(buf, 2);
  if (HEADER_SIZE + optLen > buf.length) return 'options-length';
  seg.flags = flags;
  seg.dstId = get32(buf, 4);
  seg.srcId = get32(buf, 8);
  seg.seq = get32(buf, 12);
  seg.ack = get32(buf, 16);
  seg.window = get32(buf, 20);
  seg.tsVal = get32(buf, 24);
  seg.tsEcr = get32(buf, 28);
  clearOptions(seg);
  seg.payload = EMPTY;
  if (isSyn && !(flags & ACK) && seg.dstId !== 0) return 'syn-with-dst';
  let p = HEADER_SIZE;
  const end = HEADER_SIZE + optLen;
  while (p < end) {
    if (p + 2 > end) return 'option-truncated';
    const kind = buf[p]!;
    const len = buf[p + 1]!;
    const v = p + 2;
    if (v + len > end) return 'option-truncated';
    switch (kind) {
      case OPT_MSS:
        if (len !== 2) return 'option-length';
        if (!isSyn) return 'syn-option-on-non-syn';
        seg.mss = get16(buf, v);
        break;
      case OPT_SACK_PERMITTED:
        if (len !== 0) return 'option-length';
        if (!isSyn) return 'syn-option-on-non-syn';
        seg.sackPermitted = true;
        break;
      case OPT_SACK: {
        if (len === 0 || len % 8 !== 0 || len / 8 > MAX_SACK_BLOCKS) return 'option-length';
        const blocks: SackBlock[] = [];
        for (let q = v; q < v + len; q += 8) blocks.push({ start: get32(buf, q), end: get32(buf, q + 4) });
        seg.sack = blocks;
        break;
      }
      case OPT_PATH_CHALLENGE:
      case OPT_PATH_RESPONSE:
        if (len !== PATH_DATA_SIZE) return 'option-length';
        if (isSyn) return 'path-option-on-syn';
        if (kind === OPT_PATH_CHALLENGE) seg.pathChallenge = buf.slice(v, v + len);
        else seg.pathResponse = buf.slice(v, v + len);
        break;
      default:
        break; // unknown option: skip
    }
    p = v + len;
  }
  if (end < buf.length) {
    if (isRst) return 'rst-with-payload';
    seg.payload = buf.subarray(end);
  }
  return undefined;
}

export function flagsToString(flags: number): string {
  const parts: string[] = [];
  if (flags & SYN) parts.push('SYN');
  if (flags & FIN) parts.push('FIN');
  if (flags & RST) parts.push('RST');
  if (flags & ACK) parts.push('ACK');
  if (flags & IMMEDIATE_ACK) parts.push('IMM');
  return parts.join('|') || '-';
}
