// The committed corpus (test/fuzz/corpus/*.bin, one datagram per file): captured
// real traffic of every kind plus hand-made edge cases, and any crash the fuzzer
// ever found. Replayed in CI against `decode` and against a zoo, both as is and
// with its ids rewritten to hit every connection of the zoo.

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  ACK,
  FIN,
  HEADER_SIZE,
  OPT_MSS,
  OPT_PATH_CHALLENGE,
  OPT_PATH_RESPONSE,
  OPT_SACK,
  OPT_SACK_PERMITTED,
  RST,
  SYN,
  VERSION,
  decode,
  flagsToString,
} from '../../src/wire/segment.js';
import { MONITOR, type Zoo } from './zoo.js';
import { checkZoo, feed } from './fuzzer.js';

export const CORPUS_DIR = new URL('./corpus/', import.meta.url).pathname;

export function loadCorpus(dir = CORPUS_DIR): Array<{ name: string; data: Uint8Array }> {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.bin'))
    .sort()
    .map((name) => ({ name, data: new Uint8Array(readFileSync(join(dir, name))) }));
}

/** Feed one corpus datagram to `zoo` every way; returns the first invariant broken, if any. */
export function replayOne(zoo: Zoo, data: Uint8Array): string | undefined {
  decode(data);
  for (const from of zoo.addresses) {
    feed(zoo, data, from);
    const bad = checkZoo(zoo);
    if (bad) return bad;
  }
  if (data.length < HEADER_SIZE) return undefined;
  const ep = zoo.target.endpoint;
  for (const c of [...ep.connections()]) {
    const remote = ep.remoteOf(c);
    if (!remote || remote.address === MONITOR.address) continue; // that one only an on-path attacker could hit
    const b = data.slice();
    const dv = new DataView(b.buffer);
    dv.setUint32(4, c.localId);
    dv.setUint32(8, c.remoteId);
    feed(zoo, b, remote);
    const bad = checkZoo(zoo);
    if (bad) return bad;
  }
  zoo.net.runFor(20);
  return checkZoo(zoo);
}

function header(flags: number, optLen: number, extra: number[] = [], version = VERSION): Uint8Array {
  const b = new Uint8Array(HEADER_SIZE + extra.length);
  const dv = new DataView(b.buffer);
  dv.setUint8(0, version);
  dv.setUint8(1, flags);
  dv.setUint16(2, optLen);
  dv.setUint32(4, flags & SYN && !(flags & ACK) ? 0 : 0x01020304);
  dv.setUint32(8, 0x05060708);
  dv.setUint32(12, 1000);
  dv.setUint32(16, 2000);
  dv.setUint32(20, 65535);
  dv.setUint32(24, 5);
  dv.setUint32(28, 6);
  b.set(extra, HEADER_SIZE);
  return b;
}

/** Hand-made edge cases of the wire format. */
export function edgeCases(): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {
    'edge-empty': new Uint8Array(0),
    'edge-one-byte': new Uint8Array([VERSION]),
    'edge-header-minus-one': header(ACK, 0).subarray(0, HEADER_SIZE - 1),
    'edge-version-0': header(ACK, 0, [], 0),
    'edge-version-255': header(ACK, 0, [], 255),
    'edge-reserved-flags': header(0xf8, 0),
    'edge-no-flags': header(0, 0),
    'edge-fin-only': header(FIN, 0),
    'edge-syn-rst': header(SYN | RST, 0),
    'edge-syn-fin': header(SYN | FIN, 0),
    'edge-rst-payload': header(RST, 0, [1, 2, 3]),
    'edge-optlen-overflow': header(ACK, 0xffff),
    'edge-optlen-odd': header(ACK, 1, [0]),
    'edge-option-truncated': header(ACK, 4, [OPT_SACK, 16, 0, 0]),
    'edge-mss-on-ack': header(ACK, 4, [OPT_MSS, 2, 4, 0]),
    'edge-mss-len3': header(SYN, 5, [OPT_MSS, 3, 4, 0, 0]),
    'edge-mss-zero': header(SYN, 4, [OPT_MSS, 2, 0, 0]),
    'edge-sackperm-len1': header(SYN, 3, [OPT_SACK_PERMITTED, 1, 0]),
    'edge-sack-len0': header(ACK, 2, [OPT_SACK, 0]),
    'edge-sack-len7': header(ACK, 9, [OPT_SACK, 7, 0, 0, 0, 0, 0, 0, 0]),
    'edge-sack-five-blocks': header(ACK, 42, [OPT_SACK, 40, ...new Array<number>(40).fill(0x11)]),
    'edge-sack-reversed': header(ACK, 10, [OPT_SACK, 8, 0, 0, 0x10, 0, 0, 0, 0, 1]),
    'edge-challenge-len7': header(ACK, 9, [OPT_PATH_CHALLENGE, 7, 1, 2, 3, 4, 5, 6, 7]),
    'edge-challenge-on-syn': header(SYN, 10, [OPT_PATH_CHALLENGE, 8, 1, 2, 3, 4, 5, 6, 7, 8]),
    'edge-response-and-data': header(ACK, 10, [OPT_PATH_RESPONSE, 8, 1, 2, 3, 4, 5, 6, 7, 8, 42, 42]),
    'edge-challenge-twice': header(ACK, 20, [OPT_PATH_CHALLENGE, 8, 1, 2, 3, 4, 5, 6, 7, 8, OPT_PATH_CHALLENGE, 8, 8, 7, 6, 5, 4, 3, 2, 1]),
    'edge-unknown-option-255': header(ACK, 4, [255, 2, 0, 0]),
    'edge-unknown-option-overrun': header(ACK, 3, [99, 200, 0]),
    'edge-synack-dst0': (() => {
      const b = header(SYN | ACK, 0);
      new DataView(b.buffer).setUint32(4, 0);
      return b;
    })(),
    'edge-syn-with-dst': (() => {
      const b = header(SYN, 0);
      new DataView(b.buffer).setUint32(4, 9);
      return b;
    })(),
    'edge-big-payload': header(ACK | FIN, 0, new Array<number>(9000).fill(0x5a)),
  };
  return out;
}

/** One captured datagram of each kind (flags, options, payload or not). */
export function pickCaptured(zoo: Zoo, max = 24): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  for (const c of zoo.captured) {
    const d = decode(c.data);
    if (!d.ok) continue;
    const s = d.segment;
    const kind = [
      flagsToString(s.flags).replace(/\|/g, '-').toLowerCase(),
      s.payload.length > 0 ? 'data' : '',
      s.sack ? 'sack' : '',
      s.mss !== undefined ? 'mss' : '',
    ]
      .filter(Boolean)
      .join('-');
    const name = `captured-${kind}`;
    if (!(name in out) && Object.keys(out).length < max) out[name] = c.data;
  }
  return out;
}
