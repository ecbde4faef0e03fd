// The Outbox's datagram pool: chunks start small and double, so a short exchange does not map
// 256 KiB per endpoint, and a released chunk is reused from its start.
import { describe, expect, it } from 'vitest';
import { Outbox } from '../src/endpoint/outbox.js';

const TO = { address: '10.0.0.2', port: 7 };

function recording() {
  const sizes: number[] = [];
  const ob = new Outbox((n) => {
    sizes.push(n);
    return new Uint8Array(n);
  });
  const queue = (n: number): void => {
    const room = ob.reserve(n);
    room.fill(1, ob.reservedAt, ob.reservedAt + n);
    ob.commit(room, n, TO);
  };
  return { ob, sizes, queue };
}

describe('Outbox datagram pool', () => {
  it('takes 16 KiB first and doubles each new chunk up to 256 KiB', () => {
    const { ob, sizes, queue } = recording();
    queue(100); // a SYN's worth
    expect(sizes).toEqual([16 * 1024]);
    for (let i = 0; i < 1000; i++) queue(1232);
    expect(sizes.slice(0, 6)).toEqual([16, 32, 64, 128, 256, 256].map((k) => k * 1024));
    expect(Math.max(...sizes)).toBe(256 * 1024);
    let n = 0;
    ob.transmitTo({ send: () => void n++ });
    expect(n).toBe(1001);
  });

  it('a datagram larger than the next chunk gets a chunk that holds it', () => {
    const { sizes, queue } = recording();
    queue(20_000);
    expect(sizes).toEqual([20_000]);
  });

  it('reuses the released chunk from its start instead of taking a new one', () => {
    const { ob, sizes, queue } = recording();
    const sent: Uint8Array[] = [];
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 10; i++) queue(1232);
      ob.transmitTo({ send: (d) => void sent.push(d), released: () => true });
    }
    expect(sent.length).toBe(500);
    expect(sizes).toEqual([16 * 1024]); // 10 datagrams a round fit in the first chunk, every round
  });
});
