// Initial sequence numbers per RFC 6528: ISN = M + F(connection identity, secret),
// where M is a 4-microsecond clock and F a keyed hash. The secret is drawn once
// from injected randomness; time is passed in.

import { createHmac } from 'node:crypto';
import type { Env } from '../endpoint/types.js';

export class IsnGenerator {
  private readonly key: Buffer;

  constructor(env: Env) {
    const k = Buffer.alloc(16);
    for (let i = 0; i < 16; i += 4) k.writeUInt32BE(env.random32(), i);
    this.key = k;
  }

  /** `now` in ms; `identity` names the connection (addresses and ids). */
  isn(now: number, identity: string): number {
    const f = createHmac('sha256', this.key).update(identity).digest().readUInt32BE(0);
    const m = Math.floor(now * 250); // 4 µs ticks (RFC 6528 §3)
    return (f + m) >>> 0;
  }

  /** A keyed 32-bit MAC, for SYN cookies and similar. */
  mac(data: string): number {
    return createHmac('sha256', this.key).update(data).digest().readUInt32BE(4);
  }
}
