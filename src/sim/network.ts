// SimNetwork: a deterministic datagram network on a virtual clock. Hosts are
// IP strings; each direction between two hosts is a link with its own loss,
// duplication, reordering, delay, corruption, MTU, bandwidth and queue.

import type { Address, Transport, TimerHandle } from '../endpoint/types.js';
import { VirtualClock } from './clock.js';
import { Prng } from './prng.js';

export interface LinkOptions {
  loss: number; // probability a datagram is lost
  duplicate: number; // probability it is delivered twice
  reorder: number; // probability it is held back by reorderDelay
  reorderDelay: number; // ms of extra delay for a reordered datagram
  delay: [number, number]; // one-way delay in ms, uniform in [min, max] per datagram
  corrupt: number; // probability 1..3 random bits are flipped
  mtu: number; // larger datagrams (bytes) are dropped
  bandwidth: number; // bytes per second, 0 = unlimited
  queueBytes: number; // bytes allowed to wait for the bandwidth, then tail drop; 0 = unlimited
  blackhole: boolean; // drop everything
}

export const DEFAULT_LINK: Readonly<LinkOptions> = Object.freeze({
  loss: 0,
  duplicate: 0,
  reorder: 0,
  reorderDelay: 10,
  delay: [1, 1] as [number, number],
  corrupt: 0,
  mtu: 65507,
  bandwidth: 0,
  queueBytes: 0,
  blackhole: false,
});

export type DatagramEventKind = 'send' | 'deliver' | 'drop' | 'dup' | 'corrupt' | 'reorder' | 'mtu-drop' | 'queue-drop' | 'unreachable';

export interface DatagramEvent {
  t: number;
  kind: DatagramEventKind;
  from: string;
  to: string;
  size: number;
}

/** Anything another layer logged through `SimNetwork.record`. */
export interface RecordedEvent {
  t: number;
  kind: string;
  [k: string]: unknown;
}

export type TraceEvent = DatagramEvent | RecordedEvent;

export interface SimStats {
  sent: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  corrupted: number;
  reordered: number;
  mtuDropped: number;
  queueDropped: number;
  unreachable: number;
}

export interface SimNetworkOptions {
  seed?: number;
  link?: Partial<LinkOptions>;
  /** Record datagram events in `trace` (default true). */
  trace?: boolean;
  /** Report a datagram to an unbound port to its sender as ECONNREFUSED (default false). */
  icmpUnreachable?: boolean;
}

export interface RunOptions {
  /** Stop before any event later than this time, and leave the clock exactly here. */
  until?: number;
  /** Stop after this many events. */
  maxEvents?: number;
}

/** Per-direction link state. */
interface LinkState {
  busyUntil: number;
}

function checkLink(o: LinkOptions): LinkOptions {
  for (const k of ['loss', 'duplicate', 'reorder', 'corrupt'] as const) {
    if (!(o[k] >= 0 && o[k] <= 1)) throw new RangeError(`link.${k} must be a probability in [0, 1], got ${o[k]}`);
  }
  for (const k of ['reorderDelay', 'mtu', 'bandwidth', 'queueBytes'] as const) {
    if (!(o[k] >= 0 && Number.isFinite(o[k]))) throw new RangeError(`link.${k} must be >= 0, got ${o[k]}`);
  }
  const [lo, hi] = o.delay;
  if (!(lo >= 0 && hi >= lo && Number.isFinite(hi))) throw new RangeError(`link.delay must be [min, max] with 0 <= min <= max`);
  return o;
}

function mergeLink(base: Readonly<LinkOptions>, over: Partial<LinkOptions> | undefined): LinkOptions {
  const o: LinkOptions = { ...base, ...over };
  o.delay = [o.delay[0], o.delay[1]];
  return checkLink(o);
}

function familyOf(host: string): 'IPv4' | 'IPv6' {
  return host.includes(':') ? 'IPv6' : 'IPv4';
}

/** "1.2.3.4:80" or "[::1]:80". */
export function formatAddress(a: Address): string {
  return a.address.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

function errno(code: string, message: string, extra: Record<string, unknown> = {}): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code, ...extra });
}

const EPHEMERAL_LO = 49152;
const EPHEMERAL_HI = 65535;
const RANDOM_DRAWS_PER_DATAGRAM = 10;

/** A datagram socket attached to a SimNetwork. Create with `SimNetwork.bind`. */
export class SimTransport implements Transport {
  onMessage: ((data: Uint8Array, from: Address) => void) | null = null;
  onError: ((err: NodeJS.ErrnoException, peer?: Address) => void) | null = null;
  private closed = false;

  constructor(
    private readonly net: SimNetwork,
    private readonly addr: Address,
  ) {}

  get isClosed(): boolean {
    return this.closed;
  }

  send(data: Uint8Array, to: Address): void {
    if (this.closed) return;
    this.net._send(this, data, to);
  }

  address(): Address {
    return { address: this.addr.address, port: this.addr.port, family: familyOf(this.addr.address) };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.net._unbind(this, this.addr);
  }

  ref(): void {}
  unref(): void {}
}

export class SimNetwork {
  readonly clock: VirtualClock;
  readonly seed: number;
  readonly defaultLink: Readonly<LinkOptions>;
  readonly icmpUnreachable: boolean;
  readonly traceEnabled: boolean;
  readonly trace: TraceEvent[] = [];
  readonly stats: SimStats = {
    sent: 0,
    delivered: 0,
    dropped: 0,
    duplicated: 0,
    corrupted: 0,
    reordered: 0,
    mtuDropped: 0,
    queueDropped: 0,
    unreachable: 0,
  };

  /** The network's random stream; fork it for anything else that needs randomness. */
  readonly prng: Prng;
  private readonly links = new Map<string, LinkOptions>();
  private readonly linkState = new Map<string, LinkState>();
  private readonly bound = new Map<string, SimTransport>();
  private nextEphemeral = EPHEMERAL_LO;

  constructor(opts: SimNetworkOptions = {}) {
    this.prng = new Prng(opts.seed ?? 1);
    this.seed = this.prng.seed;
    this.clock = new VirtualClock(0);
    this.defaultLink = Object.freeze(mergeLink(DEFAULT_LINK, opts.link));
    this.traceEnabled = opts.trace ?? true;
    this.icmpUnreachable = opts.icmpUnreachable ?? false;
  }

  get now(): number {
    return this.clock.now();
  }

  // --- links ---

  /** Configure the `fromHost` → `toHost` direction (merged over the default link). */
  setLink(fromHost: string, toHost: string, opts: Partial<LinkOptions>): void {
    this.links.set(`${fromHost}>${toHost}`, mergeLink(this.defaultLink, opts));
  }

  /** Configure both directions between `a` and `b`. */
  setLinkBoth(a: string, b: string, opts: Partial<LinkOptions>): void {
    this.setLink(a, b, opts);
    this.setLink(b, a, opts);
  }

  /** The options currently in force for `fromHost` → `toHost`. */
  link(fromHost: string, toHost: string): Readonly<LinkOptions> {
    return this.links.get(`${fromHost}>${toHost}`) ?? this.defaultLink;
  }

  // --- sockets ---

  /** Attach a transport at `addr` (port 0 = next free ephemeral port). Throws EADDRINUSE. */
  bind(addr: Address): SimTransport {
    let port = addr.port;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`bad port ${port}`);
    if (port === 0) port = this.ephemeralPort(addr.address);
    const key = `${addr.address}|${port}`;
    if (this.bound.has(key)) {
      throw errno('EADDRINUSE', `bind EADDRINUSE ${formatAddress({ address: addr.address, port })}`, {
        errno: -98,
        syscall: 'bind',
        address: addr.address,
        port,
      });
    }
    const t = new SimTransport(this, { address: addr.address, port, family: familyOf(addr.address) });
    this.bound.set(key, t);
    return t;
  }

  private ephemeralPort(host: string): number {
    const span = EPHEMERAL_HI - EPHEMERAL_LO + 1;
    for (let i = 0; i < span; i++) {
      const p = this.nextEphemeral;
      this.nextEphemeral = p === EPHEMERAL_HI ? EPHEMERAL_LO : p + 1;
      if (!this.bound.has(`${host}|${p}`)) return p;
    }
    throw errno('EADDRINUSE', `no free ephemeral port on ${host}`, { syscall: 'bind' });
  }

  /** @internal */
  _unbind(t: SimTransport, addr: Address): void {
    const key = `${addr.address}|${addr.port}`;
    if (this.bound.get(key) === t) this.bound.delete(key);
  }

  /** The transport bound at `to`, or at the wildcard address on that port. */
  private lookup(to: Address): SimTransport | undefined {
    return this.bound.get(`${to.address}|${to.port}`) ?? this.bound.get(`${familyOf(to.address) === 'IPv6' ? '::' : '0.0.0.0'}|${to.port}`);
  }

  // --- datagrams ---

  /** @internal Called by SimTransport.send. */
  _send(src: SimTransport, data: Uint8Array, to: Address): void {
    const fromAddr = src.address();
    const from = formatAddress(fromAddr);
    const dest = formatAddress(to);
    const size = data.byteLength;
    const now = this.clock.now();
    this.stats.sent++;
    this.log('send', from, dest, size);

    // A fixed number of draws per datagram, in a fixed order, whatever the options.
    const r: number[] = [];
    for (let i = 0; i < RANDOM_DRAWS_PER_DATAGRAM; i++) r.push(this.prng.next());
    const [rLoss, rDup, rCorrupt, rReorder, rDelay, rDupDelay, rBits, ...rPos] = r as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];

    const link = this.link(fromAddr.address, to.address);
    if (link.blackhole) {
      this.stats.dropped++;
      this.log('drop', from, dest, size);
      return;
    }
    if (size > link.mtu) {
      this.stats.mtuDropped++;
      this.log('mtu-drop', from, dest, size);
      return;
    }

    // Serialisation through the bottleneck (lost datagrams still occupy it).
    let departure = now;
    if (link.bandwidth > 0) {
      const lkey = `${fromAddr.address}>${to.address}`;
      let st = this.linkState.get(lkey);
      if (st === undefined) this.linkState.set(lkey, (st = { busyUntil: now }));
      const start = Math.max(now, st.busyUntil);
      const waiting = ((start - now) * link.bandwidth) / 1000;
      if (link.queueBytes > 0 && waiting + size > link.queueBytes + 1e-9) {
        this.stats.queueDropped++;
        this.log('queue-drop', from, dest, size);
        return;
      }
      departure = start + (size * 1000) / link.bandwidth;
      st.busyUntil = departure;
    }

    if (rLoss < link.loss) {
      this.stats.dropped++;
      this.log('drop', from, dest, size);
      return;
    }

    const copy = new Uint8Array(data);
    if (rCorrupt < link.corrupt && size > 0) {
      const bits = size * 8;
      const n = 1 + Math.floor(rBits * 3);
      const flipped: number[] = [];
      for (let i = 0; i < n; i++) {
        const pos = Math.floor(rPos[i]! * bits);
        if (flipped.includes(pos)) continue; // never flip a bit back
        flipped.push(pos);
        copy[pos >> 3]! ^= 1 << (pos & 7);
      }
      this.stats.corrupted++;
      this.log('corrupt', from, dest, size);
    }

    const [dLo, dHi] = link.delay;
    let arrival = departure + dLo + rDelay * (dHi - dLo);
    if (rReorder < link.reorder) {
      arrival += link.reorderDelay;
      this.stats.reordered++;
      this.log('reorder', from, dest, size);
    }
    this.scheduleDelivery(arrival, src, fromAddr, copy, to);

    if (rDup < link.duplicate) {
      this.stats.duplicated++;
      this.log('dup', from, dest, size);
      const dupArrival = departure + dLo + rDupDelay * (dHi - dLo);
      this.scheduleDelivery(dupArrival, src, fromAddr, new Uint8Array(copy), to);
    }
  }

  private scheduleDelivery(at: number, src: SimTransport, fromAddr: Address, data: Uint8Array, to: Address): void {
    this.clock.setTimer(at, () => {
      const from = formatAddress(fromAddr);
      const dest = formatAddress(to);
      const dst = this.lookup(to);
      if (dst === undefined) {
        this.stats.unreachable++;
        this.log('unreachable', from, dest, data.byteLength);
        if (this.icmpUnreachable && !src.isClosed) {
          const err = errno('ECONNREFUSED', `recv ECONNREFUSED ${dest}`, {
            errno: -111,
            syscall: 'recv',
            address: to.address,
            port: to.port,
          });
          src.onError?.(err, { address: to.address, port: to.port, family: familyOf(to.address) });
        }
        return;
      }
      this.stats.delivered++;
      this.log('deliver', from, dest, data.byteLength);
      dst.onMessage?.(data, { ...fromAddr });
    });
  }

  // --- running ---

  /** Run events in time order; returns how many ran. */
  run(opts: RunOptions = {}): number {
    const until = opts.until;
    const max = opts.maxEvents ?? Infinity;
    let n = 0;
    while (n < max) {
      const t = this.clock.peekTime();
      if (t === undefined || (until !== undefined && t > until)) break;
      this.clock.runNext();
      n++;
    }
    if (until !== undefined) {
      const t = this.clock.peekTime();
      if (t === undefined || t > until) this.clock.advanceTo(until);
    }
    return n;
  }

  /** Run for `ms` of virtual time from now. */
  runFor(ms: number): number {
    return this.run({ until: this.clock.now() + ms });
  }

  /** Schedule an application action at absolute virtual time `time`. */
  at(time: number, fn: () => void): TimerHandle {
    return this.clock.setTimer(time, fn);
  }

  /** Schedule an application action `ms` from now. */
  after(ms: number, fn: () => void): TimerHandle {
    return this.clock.setTimer(this.clock.now() + ms, fn);
  }

  /** Nothing left to run. */
  idle(): boolean {
    return this.clock.pending() === 0;
  }

  // --- trace ---

  /** Log an event from another layer (stamped with the current time). */
  record(ev: { kind: string; [k: string]: unknown }): void {
    if (!this.traceEnabled) return;
    const e: RecordedEvent = { t: 0, ...ev };
    e.t = this.clock.now(); // keeps `t` as the first key
    this.trace.push(e);
  }

  private log(kind: DatagramEventKind, from: string, to: string, size: number): void {
    if (this.traceEnabled) this.trace.push({ t: this.clock.now(), kind, from, to, size });
  }

  /** FNV-1a 64 (hex) over the JSON of every trace event, in order. */
  traceHash(): string {
    let hi = 0xcbf29ce4;
    let lo = 0x84222325;
    const feed = (s: string): void => {
      for (let i = 0; i < s.length; i++) {
        lo = (lo ^ s.charCodeAt(i)) >>> 0;
        // (hi:lo) *= 0x100000001b3 = 2^40 + 0x1b3, modulo 2^64
        const a = lo * 0x1b3;
        const carry = Math.floor(a / 4294967296);
        hi = (Math.imul(hi, 0x1b3) + ((lo << 8) >>> 0) + carry) >>> 0;
        lo = a >>> 0;
      }
    };
    for (const ev of this.trace) feed(`${JSON.stringify(ev)}\n`);
    return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
  }
}
