// connect() with autoSelectFamily (net's default on Node 20): the name's
// addresses are tried one after another, families alternating, the first
// family first (RFC 8305 §4, as net orders them). An attempt that fails moves
// on at once; one that has not connected after the attempt timeout is
// abandoned for the next (the last has no timeout). When every attempt fails,
// the socket fails with an AggregateError of their errors, as net's does.

import type { Clock, TimerHandle } from '../endpoint/types.js';

export interface Candidate {
  address: string;
  family: 4 | 6;
}

/** Alternate families, starting with the family of the first address (as net sorts them). */
export function interleave(addrs: readonly Candidate[]): Candidate[] {
  const first = addrs[0]?.family ?? 6;
  const a = addrs.filter((x) => x.family === first);
  const b = addrs.filter((x) => x.family !== first);
  const out: Candidate[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (i < a.length) out.push(a[i]!);
    if (i < b.length) out.push(b[i]!);
  }
  return out;
}

export interface AttemptHooks {
  /** Start connecting to this address. */
  start(c: Candidate): void;
  /** Drop the attempt in progress (its connection and UDP port). */
  abandon(): void;
}

export class AddressAttempts {
  /** `ip:port` of every address tried so far (net's autoSelectFamilyAttemptedAddresses). */
  readonly attempted: string[] = [];
  private readonly errors: Error[] = [];
  private next = 0;
  private timer: TimerHandle | null = null;

  constructor(
    private readonly candidates: readonly Candidate[],
    private readonly port: number,
    private readonly timeoutMs: number,
    private readonly clock: Clock,
    private readonly hooks: AttemptHooks,
  ) {}

  /** Start the next address; false when none is left. */
  tryNext(): boolean {
    const c = this.candidates[this.next++];
    if (!c) return false;
    this.attempted.push(`${c.address}:${this.port}`);
    if (this.next < this.candidates.length) {
      this.timer = this.clock.setTimer(this.clock.now() + this.timeoutMs, () => {
        this.timer = null;
        this.hooks.abandon();
        this.tryNext();
      });
    }
    this.hooks.start(c);
    return true;
  }

  /** The attempt in progress failed: null when the next one started, else the error the socket fails with. */
  failed(err: Error): Error | null {
    this.errors.push(err);
    this.stop();
    this.hooks.abandon();
    if (this.tryNext()) return null;
    if (this.errors.length === 1) return err;
    const agg = new AggregateError(this.errors) as AggregateError & { code?: string };
    agg.code = (this.errors[0] as NodeJS.ErrnoException).code;
    return agg;
  }

  /** Connected, or the socket went away: no more attempts. */
  stop(): void {
    this.timer?.cancel();
    this.timer = null;
  }
}
