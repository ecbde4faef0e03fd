// --sim SPEC: both ends in one process over the deterministic simulator, on
// virtual time (a lossy minute passes in a second or two of real time).

import type { ServerOptions, SocketOptions } from 'reliable-dgram';
import { prngEnv, settle, SimNetwork, type LinkOptions } from 'reliable-dgram/sim';
import { UsageError } from './args.js';

export interface SimSpec {
  seed: number;
  link: Partial<LinkOptions>;
}

const PROBABILITIES = ['loss', 'duplicate', 'reorder', 'corrupt'] as const;
const NUMBERS = ['reorderDelay', 'mtu', 'bandwidth', 'queueBytes'] as const;
const KEYS = ['seed', 'delay', ...PROBABILITIES, ...NUMBERS].join(', ');

/** 'loss=0.05,delay=20-80,reorder=0.1,seed=7' → link options. */
export function parseSimSpec(command: string, spec: string): SimSpec {
  const out: SimSpec = { seed: 42, link: {} };
  const bad = (msg: string): never => {
    throw new UsageError(`invalid --sim '${spec}': ${msg}`, command);
  };
  for (const item of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [key = '', value, extra] = item.split('=');
    if (value === undefined || extra !== undefined || value === '') bad(`expected key=value, got '${item}'`);
    const v = value as string;
    const num = (): number => {
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) bad(`${key} must be a number >= 0, got '${v}'`);
      return n;
    };
    if (key === 'seed') out.seed = num();
    else if (key === 'delay') {
      const m = /^(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))?$/.exec(v);
      if (!m) bad(`delay must be ms or a range MIN-MAX, got '${v}'`);
      const lo = Number(m?.[1]);
      const hi = m?.[2] === undefined ? lo : Number(m[2]);
      if (hi < lo) bad(`delay range ${v} goes down`);
      out.link.delay = [lo, hi];
    } else if ((PROBABILITIES as readonly string[]).includes(key)) {
      const p = num();
      if (p > 1) bad(`${key} is a probability from 0 to 1, got '${v}'`);
      out.link[key as (typeof PROBABILITIES)[number]] = p;
    } else if ((NUMBERS as readonly string[]).includes(key)) out.link[key as (typeof NUMBERS)[number]] = num();
    else bad(`unknown key '${key}' (known: ${KEYS})`);
  }
  return out;
}

export const SIM_SERVER = '10.0.0.1';
export const SIM_CLIENT = '10.0.0.2';
export const SIM_PORT = 7000;

/** A simulated network with the spec's link both ways, and options that put each end on it. */
export class SimRig {
  readonly net: SimNetwork;
  constructor(spec: SimSpec) {
    this.net = new SimNetwork({ seed: spec.seed, link: spec.link, trace: false });
  }

  private on(address: string, port: number): Required<Pick<SocketOptions, 'transport' | 'clock' | 'env'>> {
    return { transport: this.net.bind({ address, port }), clock: this.net.clock, env: prngEnv(this.net.prng.fork()) };
  }

  server(base: ServerOptions): ServerOptions {
    return { ...base, ...this.on(SIM_SERVER, SIM_PORT) };
  }

  client(base: SocketOptions): SocketOptions & { port: number; host: string } {
    return { ...base, ...this.on(SIM_CLIENT, 0), port: SIM_PORT, host: SIM_SERVER };
  }

  now = (): number => this.net.now;

  /** Run until `done()` (virtual time; at most `limitMs` of it). */
  run(done: () => boolean, limitMs = 3_600_000): Promise<number> {
    return settle(this.net, { done, until: limitMs });
  }

  /** Call `fn` every `ms` of virtual time until the returned function is called. */
  every(ms: number, fn: () => void): () => void {
    let stopped = false;
    const arm = (at: number): void => {
      this.net.clock.setTimer(at, () => {
        if (stopped) return;
        fn();
        arm(at + ms);
      });
    };
    arm(this.net.now + ms);
    return () => (stopped = true);
  }
}
