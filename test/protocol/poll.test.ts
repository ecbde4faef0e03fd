// The Connection's poll interface (docs/ARCHITECTURE.md, "The poll interface").
import { describe, expect, it } from 'vitest';
import { Connection } from '../../src/protocol/connection.js';
import { decode, encode } from '../../src/wire/segment.js';

const make = (localId: number) => new Connection({ localId, iss: 1000 * localId, tsOffset: 7 });

describe('Connection.pollTransmit', () => {
  it('encodes the next segment into the caller buffer at its offset, the bytes pollSegment would give, then 0', () => {
    const a = make(1);
    const b = make(2);
    a.connect(0);
    const buf = new Uint8Array(64 + a.maxDatagramSize).fill(0xee);
    const n = a.pollTransmit(0, buf, false, 64);
    expect(n).toBeGreaterThan(0);
    expect(buf.subarray(0, 64).every((x) => x === 0xee)).toBe(true); // nothing before `at`
    const r = decode(buf.subarray(64, 64 + n));
    expect(r.ok && r.segment.flags).toBe(2); // SYN
    expect(a.pollTransmit(0, buf)).toBe(0);

    // The same bytes as encoding what pollSegment hands out, from an identical connection.
    const twin = make(1);
    twin.connect(0);
    expect(Array.from(encode(twin.pollSegment(0)!))).toEqual(Array.from(buf.subarray(64, 64 + n)));

    // A SYN-ACK built from the answer: the header carries RCV.NXT at poll time.
    b.listen();
    if (r.ok) b.handleSegment(r.segment, 1);
    const m = b.pollTransmit(1, buf);
    const sa = decode(buf.subarray(0, m));
    expect(sa.ok && sa.segment.ack).toBe(1001);
  });
});
