// A lossy, reordering, duplicating UDP relay in user space, driven by the
// simulator's link model (the per-datagram decisions of SimNetwork: loss,
// duplicate, reorder + reorderDelay, delay [min, max]) with a seeded Prng.
//
// Clients send to `relay.address`; each client address gets its own upstream
// socket towards `target` (like a NAT), so any number of connections, raw or
// reliable, can share one relay. Both directions are impaired independently.
import type dgram from 'node:dgram';
import type { Address } from 'reliable-dgram';
import { DEFAULT_LINK, Prng, type LinkOptions } from 'reliable-dgram/sim';
import { MinHeap } from '../../src/util/heap.js';
import { bindUdp } from './udp-socket.js';

export type RelayLink = Pick<LinkOptions, 'loss' | 'duplicate' | 'reorder' | 'reorderDelay' | 'delay'>;

export interface RelayStats {
  /** Datagrams that reached the relay, client → server and server → client. */
  fromClients: number;
  fromServer: number;
  forwarded: number;
  dropped: number;
  duplicated: number;
  reordered: number;
}

interface Pending {
  at: number;
  seq: number;
  data: Buffer;
  via: dgram.Socket;
  to: Address;
}

interface Session {
  client: Address;
  upstream: dgram.Socket | null;
  backlog: Buffer[];
}

export class Relay {
  readonly stats: RelayStats = { fromClients: 0, fromServer: 0, forwarded: 0, dropped: 0, duplicated: 0, reordered: 0 };
  readonly link: Readonly<RelayLink>;
  private readonly prng: Prng;
  private readonly sessions = new Map<string, Session>();
  private readonly queue = new MinHeap<Pending>((a, b) => a.at < b.at || (a.at === b.at && a.seq < b.seq));
  private seq = 0;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private closed = false;

  private constructor(
    private readonly front: dgram.Socket,
    private readonly target: Address,
    private readonly host: string,
    link: Partial<RelayLink>,
    seed: number,
  ) {
    this.link = { ...pickLink(DEFAULT_LINK), delay: [0, 0], ...link };
    this.prng = new Prng(seed);
    front.on('message', (msg, rinfo) => this.fromClient(msg, { address: rinfo.address, port: rinfo.port }));
  }

  /** Start a relay on `host` (default 127.0.0.1, ephemeral port) in front of `target`. */
  static async start(opts: { target: Address; link?: Partial<RelayLink>; seed?: number; host?: string }): Promise<Relay> {
    const host = opts.host ?? '127.0.0.1';
    const front = await bindUdp(host);
    return new Relay(front, opts.target, host, opts.link ?? {}, opts.seed ?? 1);
  }

  get address(): Address {
    const a = this.front.address();
    return { address: a.address, port: a.port };
  }

  /** Datagrams that reached the relay in either direction. */
  get total(): number {
    return this.stats.fromClients + this.stats.fromServer;
  }

  /** Datagrams still held back (delayed or reordered). */
  get pending(): number {
    return this.queue.size;
  }

  resetStats(): void {
    for (const k of Object.keys(this.stats) as Array<keyof RelayStats>) this.stats[k] = 0;
  }

  private fromClient(msg: Buffer, client: Address): void {
    this.stats.fromClients++;
    const key = `${client.address}|${client.port}`;
    let s = this.sessions.get(key);
    if (s === undefined) {
      const session: Session = { client, upstream: null, backlog: [] };
      s = session;
      this.sessions.set(key, session);
      void bindUdp(this.host).then((up) => {
        if (this.closed) {
          up.close();
          return;
        }
        session.upstream = up;
        up.on('message', (m) => {
          this.stats.fromServer++;
          this.impair(m, this.front, session.client);
        });
        for (const b of session.backlog) this.impair(b, up, this.target);
        session.backlog = [];
      });
    }
    if (s.upstream === null) s.backlog.push(msg);
    else this.impair(msg, s.upstream, this.target);
  }

  // SimNetwork's per-datagram decisions (src/sim/network.ts _send), minus
  // corruption: a real UDP checksum would catch a flipped bit.
  private impair(data: Buffer, via: dgram.Socket, to: Address): void {
    const rLoss = this.prng.next();
    const rDup = this.prng.next();
    const rReorder = this.prng.next();
    const rDelay = this.prng.next();
    const rDupDelay = this.prng.next();
    const l = this.link;
    if (rLoss < l.loss) {
      this.stats.dropped++;
      return;
    }
    const now = performance.now();
    const [dLo, dHi] = l.delay;
    let at = now + dLo + rDelay * (dHi - dLo);
    if (rReorder < l.reorder) {
      at += l.reorderDelay;
      this.stats.reordered++;
    }
    this.schedule({ at, seq: this.seq++, data, via, to });
    if (rDup < l.duplicate) {
      this.stats.duplicated++;
      this.schedule({ at: now + dLo + rDupDelay * (dHi - dLo), seq: this.seq++, data, via, to });
    }
  }

  private schedule(p: Pending): void {
    // Due now and nothing due before it: forward at once.
    const head = this.queue.peek();
    const now = performance.now();
    if (p.at <= now && (head === undefined || head.at > now)) {
      this.send(p);
      return;
    }
    this.queue.push(p);
    this.arm();
  }

  private send(p: Pending): void {
    if (this.closed) return;
    this.stats.forwarded++;
    try {
      p.via.send(p.data, p.to.port, p.to.address);
    } catch {
      /* socket closed: loss */
    }
  }

  private arm(): void {
    const head = this.queue.peek();
    if (head === undefined || this.closed) return;
    if (head.at >= this.timerAt && this.timer) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = head.at;
    this.timer = setTimeout(this.release, Math.max(0, Math.ceil(head.at - performance.now())));
  }

  private readonly release = (): void => {
    this.timer = null;
    this.timerAt = Infinity;
    const now = performance.now();
    for (let p = this.queue.peek(); p !== undefined && p.at <= now + 0.5; p = this.queue.peek()) {
      this.queue.pop();
      this.send(p);
    }
    this.arm();
  };

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.front.close();
    for (const s of this.sessions.values()) {
      s.upstream?.close();
    }
  }
}

function pickLink(l: Readonly<LinkOptions>): RelayLink {
  return { loss: l.loss, duplicate: l.duplicate, reorder: l.reorder, reorderDelay: l.reorderDelay, delay: [l.delay[0], l.delay[1]] };
}

/** "loss 5%, duplicate 2%, reorder 5% (+5 ms), delay 1 ms" */
export function describeLink(l: RelayLink): string {
  const pct = (p: number): string => `${+(p * 100).toFixed(2)}%`;
  const d = l.delay[0] === l.delay[1] ? `${l.delay[0]} ms` : `${l.delay[0]}-${l.delay[1]} ms`;
  return `loss ${pct(l.loss)}, duplicate ${pct(l.duplicate)}, reorder ${pct(l.reorder)} (+${l.reorderDelay} ms), delay ${d}`;
}
