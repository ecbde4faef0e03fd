// Real randomness for the core: crypto.randomBytes, drawn from a 4 KiB pool
// so that random32() costs a syscall only once every 1024 calls.
import { randomBytes } from 'node:crypto';
import type { Env } from '../endpoint/types.js';

const POOL_SIZE = 4096;

export function nodeEnv(): Env {
  let pool = randomBytes(POOL_SIZE);
  let offset = 0;
  return {
    random32(): number {
      if (offset + 4 > POOL_SIZE) {
        pool = randomBytes(POOL_SIZE);
        offset = 0;
      }
      const v = pool.readUInt32LE(offset);
      offset += 4;
      return v;
    },
    // Datagram pool chunks: encode() writes every byte it hands out (a property test checks).
    allocUninitialized: (size) => Buffer.allocUnsafeSlow(size),
  };
}
