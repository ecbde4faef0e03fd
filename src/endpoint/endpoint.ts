// One UDP endpoint's connection table: demultiplexes datagrams to connections
// by connection id, runs the listener and its bounded half-open backlog, keeps
// TIME_WAIT as compact records, and answers segments for no connection with RST.
// Pure: datagrams, time and randomness are handed in; output is polled.

import { LRUCache } from 'lru-cache';
import { ACK, RST, SYN, decode, encode, segmentLength, type DecodeError, type Segment } from '../wire/segment.js';
import { seqAdd } from '../wire/seq.js';
import { Connection } from '../protocol/connection.js';
import type { ConnEvent, ConnectionOptions } from '../protocol/options.js';
import { DEFAULT_OPTIONS } from '../protocol/options.js';
import { IsnGenerator } from '../protocol/isn.js';
import { State } from '../protocol/state.js';
import { timeWaitInput, type TimeWaitRecord } from '../protocol/timewait.js';
import { MinHeap } from '../util/heap.js';
import { addressKey, sameAddress, type Address, type Env } from './types.js';

export interface EndpointOptions {
  /** Defaults for every connection on this endpoint. */
  connection?: Partial<ConnectionOptions>;
  /** Half-open (SYN_RECEIVED) connections a listener holds at most. */
  backlog?: number;
  /** Connections in the table at most (all states but TIME_WAIT). */
  maxConnections?: number;
  /** TIME_WAIT records at most; the oldest is dropped past it. */
  maxTimeWait?: number;
  /** Hold ACKs for in-order data until `flushAcks()`, so one ACK covers a batch of datagrams. */
  coalesceAcks?: boolean;
}

export interface Datagram {
  data: Uint8Array;
  /** Destination. */
  to: Address;
}

export type EndpointEvent =
  | { type: 'accept'; conn: Connection; remote: Address }
  | { type: 'conn'; conn: Connection; ev: ConnEvent }
  /** A TIME_WAIT record expired: the connection's last edge, TIME_WAIT → CLOSED. */
  | { type: 'timewait-end'; localId: number };

export interface EndpointStats {
  datagramsIn: number;
  datagramsOut: number;
  decodeErrors: Partial<Record<DecodeError, number>>;
  noConnection: number;
  rstSent: number;
  wrongPeer: number;
  backlogFull: number;
  tableFull: number;
  timeWaitSegments: number;
}

interface ConnRecord {
  conn: Connection;
  remote: Address;
  remoteKey: string;
  passive: boolean;
}

interface TimeWaitEntry extends TimeWaitRecord {
  remote: Address;
}

interface Wake {
  at: number;
  id: number;
  tw: boolean;
}

const EMPTY = new Uint8Array(0);

export class Endpoint {
  readonly opts: Required<Omit<EndpointOptions, 'connection'>> & { connection: Partial<ConnectionOptions> };
  readonly stats: EndpointStats = {
    datagramsIn: 0,
    datagramsOut: 0,
    decodeErrors: {},
    noConnection: 0,
    rstSent: 0,
    wrongPeer: 0,
    backlogFull: 0,
    tableFull: 0,
    timeWaitSegments: 0,
  };
  listening = false;
  private readonly conns = new Map<number, ConnRecord>();
  /** `remoteKey#remoteId` → local id, for retransmitted SYNs. */
  private readonly byPeer = new Map<string, number>();
  /** Active opens still in SYN_SENT (for simultaneous open). */
  private readonly synSent = new Set<number>();
  private halfOpen = 0;
  private readonly timeWait: LRUCache<number, TimeWaitEntry>;
  private readonly wakes = new MinHeap<Wake>((a, b) => a.at < b.at);
  private readonly outbox: Datagram[] = [];
  private outHead = 0;
  private readonly events: EndpointEvent[] = [];
  private evHead = 0;
  private readonly isn: IsnGenerator;
  private deferredAcks: Connection[] = [];
  private now = 0;

  constructor(
    private readonly env: Env,
    opts: EndpointOptions = {},
  ) {
    this.opts = {
      connection: opts.connection ?? {},
      backlog: opts.backlog ?? 511,
      maxConnections: opts.maxConnections ?? 65_536,
      maxTimeWait: opts.maxTimeWait ?? 16_384,
      coalesceAcks: opts.coalesceAcks ?? false,
    };
    this.timeWait = new LRUCache<number, TimeWaitEntry>({ max: this.opts.maxTimeWait });
    this.isn = new IsnGenerator(env);
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  get timeWaitCount(): number {
    return this.timeWait.size;
  }

  /** Connections in the table, for introspection. */
  connections(): IterableIterator<Connection> {
    return Array.from(this.conns.values(), (r) => r.conn).values();
  }

  remoteOf(conn: Connection): Address | undefined {
    return this.conns.get(conn.localId)?.remote;
  }

  listen(backlog?: number): void {
    this.listening = true;
    if (backlog !== undefined && backlog > 0) this.opts.backlog = backlog;
  }

  stopListening(): void {
    this.listening = false;
  }

  /** Active open to `remote`. */
  connect(remote: Address, now: number, options?: Partial<ConnectionOptions>): Connection {
    this.now = now;
    if (this.conns.size >= this.opts.maxConnections) {
      throw Object.assign(new Error('connection table full'), { code: 'EMFILE' });
    }
    const rec = this.create(remote, false, options);
    this.synSent.add(rec.conn.localId);
    rec.conn.connect(now);
    return rec.conn;
  }

  /** One datagram from `from`. Never throws on its contents. */
  handleDatagram(data: Uint8Array, from: Address, now: number): void {
    this.now = now;
    this.stats.datagramsIn++;
    const r = decode(data);
    if (!r.ok) {
      this.stats.decodeErrors[r.reason] = (this.stats.decodeErrors[r.reason] ?? 0) + 1;
      return;
    }
    const seg = r.segment;
    if (seg.dstId !== 0) {
      const rec = this.conns.get(seg.dstId);
      if (rec) {
        if (!sameAddress(rec.remote, from)) {
          this.stats.wrongPeer++;
          return;
        }
        if (rec.conn.remoteId !== 0 && seg.srcId !== rec.conn.remoteId && !(seg.flags & RST)) {
          this.stats.wrongPeer++;
          return;
        }
        rec.conn.input(seg, now);
        return;
      }
      const tw = this.timeWait.peek(seg.dstId);
      if (tw && sameAddress(tw.remote, from)) {
        this.stats.timeWaitSegments++;
        const v = timeWaitInput(tw, seg, now, 2 * this.msl());
        if (v.restarted) this.wakes.push({ at: tw.expiresAt, id: tw.localId, tw: true });
        if (v.reply) this.send(v.reply, from);
        return;
      }
      this.noConnection(seg, from);
      return;
    }
    // dstId 0: a SYN opening a connection (decode guarantees SYN without ACK).
    if (!(seg.flags & SYN)) {
      this.noConnection(seg, from);
      return;
    }
    const known = this.byPeer.get(`${addressKey(from)}#${seg.srcId}`);
    if (known !== undefined) {
      this.conns.get(known)?.conn.input(seg, now);
      return;
    }
    for (const id of this.synSent) {
      const rec = this.conns.get(id);
      if (rec && rec.conn.state === State.SYN_SENT && sameAddress(rec.remote, from)) {
        // Simultaneous open (RFC 9293 §3.5).
        rec.conn.input(seg, now);
        return;
      }
    }
    if (!this.listening) {
      this.noConnection(seg, from);
      return;
    }
    if (this.halfOpen >= this.opts.backlog) {
      this.stats.backlogFull++;
      return;
    }
    if (this.conns.size >= this.opts.maxConnections) {
      this.stats.tableFull++;
      return;
    }
    const rec = this.create(from, true, undefined, seg.srcId);
    this.halfOpen++;
    rec.conn.listen();
    rec.conn.input(seg, now);
  }

  /** The OS reported `peer` unreachable (RFC 1122 §4.2.3.9): opens to it fail with ECONNREFUSED. */
  handleUnreachable(peer: Address, now: number): void {
    this.now = now;
    for (const id of [...this.synSent]) {
      const rec = this.conns.get(id);
      if (rec && sameAddress(rec.remote, peer)) rec.conn.unreachable();
    }
  }

  /** Run every timer due at `now`. */
  handleTimeout(now: number): void {
    this.now = now;
    for (;;) {
      const w = this.wakes.peek();
      if (!w || w.at > now) break;
      this.wakes.pop();
      if (w.tw) {
        const tw = this.timeWait.peek(w.id);
        if (tw && tw.expiresAt <= now) {
          this.timeWait.delete(w.id);
          this.emit({ type: 'timewait-end', localId: w.id });
        }
        continue;
      }
      const rec = this.conns.get(w.id);
      if (rec && rec.conn.nextTimeout() <= now) rec.conn.onTimeout(now);
    }
  }

  /** Earliest time `handleTimeout` has work (Infinity if none). */
  nextTimeout(): number {
    for (;;) {
      const w = this.wakes.peek();
      if (!w) return Infinity;
      if (w.tw) {
        const tw = this.timeWait.peek(w.id);
        if (tw && tw.expiresAt === w.at) return w.at;
      } else {
        const rec = this.conns.get(w.id);
        if (rec && rec.conn.nextTimeout() <= w.at) return w.at;
      }
      this.wakes.pop(); // stale
    }
  }

  get hasDeferredAcks(): boolean {
    return this.deferredAcks.length > 0;
  }

  /** Send the ACKs held since the last call (see `coalesceAcks`). */
  flushAcks(now: number): void {
    this.now = now;
    const list = this.deferredAcks;
    this.deferredAcks = [];
    for (const c of list) c.flushAck(now);
  }

  pollTransmit(): Datagram | undefined {
    if (this.outHead >= this.outbox.length) {
      if (this.outbox.length > 0) {
        this.outbox.length = 0;
        this.outHead = 0;
      }
      return undefined;
    }
    const d = this.outbox[this.outHead]!;
    this.outbox[this.outHead++] = undefined as unknown as Datagram;
    return d;
  }

  pollEvent(): EndpointEvent | undefined {
    if (this.evHead >= this.events.length) {
      if (this.events.length > 0) {
        this.events.length = 0;
        this.evHead = 0;
      }
      return undefined;
    }
    const e = this.events[this.evHead]!;
    this.events[this.evHead++] = undefined as unknown as EndpointEvent;
    return e;
  }

  // ---------------------------------------------------------------- internals

  private msl(): number {
    return this.opts.connection.msl ?? DEFAULT_OPTIONS.msl;
  }

  private newId(): number {
    for (;;) {
      const id = this.env.random32() >>> 0;
      if (id !== 0 && !this.conns.has(id) && !this.timeWait.has(id)) return id;
    }
  }

  private create(remote: Address, passive: boolean, options?: Partial<ConnectionOptions>, remoteId = 0): ConnRecord {
    const localId = this.newId();
    const remoteKey = addressKey(remote);
    const iss = this.isn.isn(this.now, `${localId}|${remoteKey}|${remoteId}`);
    let rec: ConnRecord;
    const conn = new Connection(
      { localId, iss, tsOffset: this.env.random32(), options: { ...this.opts.connection, ...options } },
      {
        transmit: (seg) => this.send(seg, rec.remote),
        event: (ev) => this.onConnEvent(rec, ev),
        timer: (at) => {
          if (at !== Infinity) this.wakes.push({ at, id: localId, tw: false });
        },
        deferAck: this.opts.coalesceAcks ? () => this.deferredAcks.push(rec.conn) : undefined,
      },
    );
    rec = { conn, remote, remoteKey, passive };
    this.conns.set(localId, rec);
    if (remoteId !== 0) this.byPeer.set(`${remoteKey}#${remoteId}`, localId);
    return rec;
  }

  private onConnEvent(rec: ConnRecord, ev: ConnEvent): void {
    const conn = rec.conn;
    if (ev.type === 'state') {
      if (ev.from === State.SYN_SENT) this.synSent.delete(conn.localId);
      if (ev.to !== State.SYN_SENT && conn.remoteId !== 0) this.byPeer.set(`${rec.remoteKey}#${conn.remoteId}`, conn.localId);
      if (rec.passive && ev.from === State.SYN_RECEIVED) this.halfOpen--;
      if (rec.passive && ev.from === State.SYN_RECEIVED && ev.to === State.ESTABLISHED) {
        this.emit({ type: 'conn', conn, ev });
        this.emit({ type: 'accept', conn, remote: rec.remote });
        return;
      }
      if (ev.to === State.TIME_WAIT) {
        this.emit({ type: 'conn', conn, ev });
        this.toTimeWait(rec);
        return;
      }
      if (ev.to === State.CLOSED) this.forget(rec);
    }
    this.emit({ type: 'conn', conn, ev });
  }

  /** Replace the connection by a compact record (RFC 9293 §3.6.1, kept small as DESIGN.md §3 asks). */
  private toTimeWait(rec: ConnRecord): void {
    const r = rec.conn.timeWaitRecord();
    this.forget(rec);
    if (!r) return;
    this.timeWait.set(r.localId, { ...r, remote: rec.remote });
    this.wakes.push({ at: r.expiresAt, id: r.localId, tw: true });
  }

  private forget(rec: ConnRecord): void {
    const id = rec.conn.localId;
    if (!this.conns.delete(id)) return;
    this.synSent.delete(id);
    if (rec.conn.remoteId !== 0) {
      const k = `${rec.remoteKey}#${rec.conn.remoteId}`;
      if (this.byPeer.get(k) === id) this.byPeer.delete(k);
    }
  }

  /** RFC 9293 §3.10.7.1: a segment for no connection gets an RST, never in answer to an RST. */
  private noConnection(seg: Segment, from: Address): void {
    this.stats.noConnection++;
    if (seg.flags & RST) return;
    const rst: Segment =
      seg.flags & ACK
        ? { flags: RST, dstId: seg.srcId, srcId: seg.dstId, seq: seg.ack, ack: 0, window: 0, tsVal: 0, tsEcr: seg.tsVal, payload: EMPTY }
        : {
            flags: RST | ACK,
            dstId: seg.srcId,
            srcId: seg.dstId,
            seq: 0,
            ack: seqAdd(seg.seq, segmentLength(seg)),
            window: 0,
            tsVal: 0,
            tsEcr: seg.tsVal,
            payload: EMPTY,
          };
    this.stats.rstSent++;
    this.send(rst, from);
  }

  private send(seg: Segment, to: Address): void {
    this.stats.datagramsOut++;
    this.outbox.push({ data: encode(seg), to });
  }

  private emit(ev: EndpointEvent): void {
    this.events.push(ev);
  }
}
