// One UDP endpoint's connection table: demultiplexes datagrams to connections
// by connection id, runs the listener and its bounded half-open backlog, keeps
// TIME_WAIT as compact records, and answers segments for no connection with RST.
// Pure: datagrams, time and randomness are handed in; output is polled.

import { ACK, RST, SYN, decodeInto, emptySegment, encodeAt, encodedSize, segmentLength, type Segment } from '../wire/segment.js';
import { seqAdd, seqGt } from '../wire/seq.js';
import { Connection } from '../protocol/connection.js';
import type { ConnEvent, ConnectionOptions } from '../protocol/options.js';
import { DEFAULT_OPTIONS, READABLE, resolveOptions } from '../protocol/options.js';
import { IsnGenerator } from '../protocol/isn.js';
import { State } from '../protocol/state.js';
import { timeWaitInput, type TimeWaitRecord } from '../protocol/timewait.js';
import { GrowingLru } from '../util/growing-lru.js';
import { MinHeap } from '../util/heap.js';
import { addressKey, sameAddress, type Address, type Env, type Transport } from './types.js';
import { SynCookies, type CookieIds } from './cookies.js';
import { AMPLIFICATION_FACTOR, PathValidator } from './path.js';
import { Outbox } from './outbox.js';
import type { Datagram, EndpointEvent, EndpointOptions, EndpointStats } from './endpoint-types.js';

export type { Datagram, EndpointEvent, EndpointOptions, EndpointStats } from './endpoint-types.js';

interface ConnRecord {
  conn: Connection;
  remote: Address;
  remoteKey: string;
  /** Passive open whose peer has not yet acknowledged our SYN: bytes from and to it (RFC 9000 §8). */
  unvalidated: boolean;
  rx: number;
  tx: number;
  /** The key byPeer holds for it. */
  peerKey: string | undefined;
  /** Its 'readable' event, made at the first (frozen: every one is the same). */
  readable?: EndpointEvent;
  /** The wake-up time last registered for it (Infinity: none pending). */
  wakeAt: number;
  /** Reached by a datagram of the batch in progress: its segments wait for `endBatch`. */
  dirty: boolean;
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
  readonly opts: Required<Omit<EndpointOptions, 'connection' | 'owner'>> & { connection: Partial<ConnectionOptions> };
  /** The owner bits of every local id (`owner`); both 0 without an owner. */
  private readonly ownerMask: number;
  private readonly ownerBits: number;
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
    synCookiesSent: 0,
    synCookiesAccepted: 0,
    amplificationLimited: 0,
    siblingIds: 0,
    unvalidatedPath: 0,
    pathChallenges: 0,
    pathChallengesLimited: 0,
    pathResponses: 0,
    pathMigrations: 0,
  };
  listening = false;
  /** The listener's own protocol settings (createServer({ endpoint, connection })). */
  private listenOpts: Partial<ConnectionOptions> = {};
  /** `sharedOptions` for active [0] and passive [1] opens. */
  private readonly resolved: [Readonly<ConnectionOptions> | undefined, Readonly<ConnectionOptions> | undefined] = [undefined, undefined];
  private readonly conns = new Map<number, ConnRecord>();
  /** `remoteKey#remoteId` → local id, for retransmitted SYNs. */
  private readonly byPeer = new Map<string, number>();
  /** Active opens still in SYN_SENT (for simultaneous open). */
  private readonly synSent = new Set<number>();
  private halfOpen = 0;
  private readonly timeWait: GrowingLru<number, TimeWaitEntry>;
  private readonly wakes = new MinHeap<Wake>((a, b) => a.at < b.at);
  /** Outgoing datagrams and their memory. */
  private readonly out: Outbox;
  /** The environment's uninitialised allocation, if any: datagram chunks and joined reads. */
  private readonly alloc: ((size: number) => Uint8Array) | undefined;
  // A queue as an array with head and tail indices: drained slots are reused in place, never
  // trimmed (setting an array's length to 0 on every drain is a runtime call, per event here).
  private readonly events: Array<EndpointEvent | undefined> = [];
  private evHead = 0;
  private evTail = 0;
  private readonly isn: IsnGenerator;
  private readonly cookies: SynCookies;
  private readonly paths: PathValidator;
  /** Connections reached by the batch in progress (`coalesceAcks`). */
  private dirty: ConnRecord[] = [];
  /** Every connection's record, also after it left the table (an app call on it still drains it). */
  private readonly recs = new WeakMap<Connection, ConnRecord>();
  /** The segment each datagram is decoded into (`handleDatagram`). */
  private readonly inSeg = emptySegment();

  constructor(
    private readonly env: Env,
    opts: EndpointOptions = {},
  ) {
    this.alloc = env.allocUninitialized?.bind(env);
    this.out = new Outbox(this.alloc);
    this.opts = {
      connection: { ...opts.connection }, // a copy: connections share what it resolves to
      backlog: opts.backlog ?? 511,
      maxConnections: opts.maxConnections ?? 65_536,
      maxTimeWait: opts.maxTimeWait ?? 16_384,
      coalesceAcks: opts.coalesceAcks ?? false,
    };
    this.timeWait = new GrowingLru<number, TimeWaitEntry>(this.opts.maxTimeWait);
    const o = opts.owner;
    if (o !== undefined && !(Number.isInteger(o.bits) && o.bits >= 1 && o.bits <= 16 && Number.isInteger(o.id) && o.id >= 0 && o.id < 2 ** o.bits)) {
      throw new RangeError(`owner: bits must be an integer from 1 to 16 and id an integer below 2^bits (got ${JSON.stringify(o)})`);
    }
    this.ownerMask = o === undefined ? 0 : (~0 << (32 - o.bits)) >>> 0;
    this.ownerBits = o === undefined ? 0 : (o.id << (32 - o.bits)) >>> 0;
    this.isn = new IsnGenerator(env);
    this.cookies = new SynCookies(this.isn, (id) => this.ownId(id));
    this.paths = new PathValidator(env, this.stats, (seg, to) => this.send(seg, to));
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

  /** Accept connections; `options` (a listener's own protocol settings) apply to passive opens, over the endpoint's. */
  listen(backlog?: number, options?: Partial<ConnectionOptions>): void {
    this.listening = true;
    if (backlog !== undefined && backlog > 0) this.opts.backlog = backlog;
    this.listenOpts = options ?? {};
    this.resolved[1] = undefined;
  }

  stopListening(): void {
    this.listening = false;
  }

  /** Active open to `remote`. */
  connect(remote: Address, now: number, options?: Partial<ConnectionOptions>): Connection {
    if (this.conns.size >= this.opts.maxConnections) {
      throw Object.assign(new Error('connection table full'), { code: 'EMFILE' });
    }
    const rec = this.create(remote, now, false, options);
    this.synSent.add(rec.conn.localId);
    rec.conn.connect(now);
    this.drain(rec, now);
    return rec.conn;
  }

  /**
   * The last datagram (`handleDatagram`) only added to a batch (`coalesceAcks`): its segment took header
   * prediction on a connection the batch had reached, raised no event, and left its ACK and output to
   * `endBatch`. Nothing was queued: the owner need not flush.
   */
  deferredInput = false;

  /** One datagram from `from`. Never throws on its contents. */
  handleDatagram(data: Uint8Array, from: Address, now: number): void {
    this.stats.datagramsIn++;
    this.deferredInput = false;
    // One object for every datagram: what the input path keeps of a segment, it copies.
    const seg = this.inSeg;
    const bad = decodeInto(data, seg);
    if (bad !== undefined) {
      this.stats.decodeErrors[bad] = (this.stats.decodeErrors[bad] ?? 0) + 1;
      return;
    }
    if (seg.dstId !== 0) {
      const rec = this.conns.get(seg.dstId);
      if (rec) {
        if (!sameAddress(rec.remote, from)) {
          this.stats.wrongPeer++;
          const to = this.paths.fromOtherAddress(rec.conn, seg, from, data.length, now);
          if (to) this.migrate(rec, to, now);
          return;
        }
        // (An active open in SYN_RECEIVED may hear the real SYN-ACK after a forged simultaneous-open SYN.)
        const reopen = rec.conn.active && rec.conn.state === State.SYN_RECEIVED && (seg.flags & SYN) !== 0;
        // RSTs too: every legitimate RST names our remoteId as its source (ours, or the id we addressed
        // when its sender had no connection), and exempting them let a forged segment with a wrong
        // destination id be reflected off the peer's endpoint as an RST that reset us.
        if (rec.conn.remoteId !== 0 && seg.srcId !== rec.conn.remoteId && !reopen) {
          this.stats.wrongPeer++;
          return;
        }
        if (rec.unvalidated) rec.rx += data.length;
        if ((seg.pathChallenge || seg.pathResponse || this.paths.size > 0) && this.paths.fromPeer(rec.conn, seg, from, now)) return;
        this.input(rec, seg, now);
        return;
      }
      if ((seg.dstId & this.ownerMask) >>> 0 !== this.ownerBits) {
        this.stats.siblingIds++; // a sibling process's connection (its peer's address changed): not ours to reset
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
      if (this.listening && (seg.flags & (SYN | RST | ACK)) === ACK && this.openFromCookie(seg, from, now)) return;
      this.noConnection(seg, from);
      return;
    }
    // dstId 0: only a SYN opens a connection. A SYN-ACK with dstId 0 answers nothing of ours:
    // a listener taking it would keep a LISTEN entry (and a backlog slot) forever.
    if ((seg.flags & (SYN | ACK)) !== SYN) {
      this.noConnection(seg, from);
      return;
    }
    const known = this.byPeer.get(`${addressKey(from)}#${seg.srcId}`);
    if (known !== undefined) {
      const krec = this.conns.get(known);
      if (krec) {
        if (krec.unvalidated) krec.rx += data.length;
        this.input(krec, seg, now);
      }
      return;
    }
    // With a listener, a SYN is a new passive open: matching it to one of our own opens
    // would join two clients that each meant to reach the other's server.
    for (const id of this.listening ? [] : this.synSent) {
      const rec = this.conns.get(id);
      if (rec && rec.conn.state === State.SYN_SENT && sameAddress(rec.remote, from)) {
        // Simultaneous open (RFC 9293 §3.5).
        this.input(rec, seg, now);
        return;
      }
    }
    if (!this.listening) {
      this.noConnection(seg, from);
      return;
    }
    if (this.halfOpen >= this.opts.backlog) {
      this.stats.backlogFull++;
      this.sendCookie(seg, from, now);
      return;
    }
    if (this.conns.size >= this.opts.maxConnections) {
      this.stats.tableFull++;
      return;
    }
    const rec = this.create(from, now, true, undefined, seg.srcId);
    rec.rx = data.length;
    this.halfOpen++;
    rec.conn.listen();
    this.input(rec, seg, now);
  }

  /**
   * The OS reported `peer` unreachable (ICMP port unreachable): opens to it fail with ECONNREFUSED
   * (RFC 1122 §4.2.3.9); a synchronized connection to it fails only if the peer has been silent and our
   * probes or retransmissions to it go unanswered (its process is gone: see `Connection.unreachable`).
   */
  handleUnreachable(peer: Address, now: number): void {
    for (const rec of [...this.conns.values()]) {
      if (!sameAddress(rec.remote, peer)) continue;
      rec.conn.unreachable(now);
      this.drain(rec, now);
    }
  }

  /** Run every timer due at `now`. */
  handleTimeout(now: number): void {
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
      if (!rec) continue;
      if (w.at === rec.wakeAt) rec.wakeAt = Infinity; // spent: `drain` registers the next
      if (rec.conn.pollTimeout() <= now) rec.conn.handleTimeout(now);
      this.drain(rec, now);
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
        if (rec && rec.conn.pollTimeout() <= w.at) return w.at;
      }
      this.wakes.pop(); // stale
    }
  }

  /**
   * A connection reached by the batch of datagrams in progress holds an ACK for `endBatch` (see
   * `coalesceAcks`). Those whose ACK the app's replies carried meanwhile are let go.
   */
  get batchOpen(): boolean {
    const list = this.dirty;
    for (let i = 0; i < list.length; i++) if (list[i]!.conn.ackHeld) return true;
    for (let i = 0; i < list.length; i++) list[i]!.dirty = false;
    list.length = 0;
    return false;
  }

  /** The batch of datagrams is over: send what the connections it reached have to send. */
  endBatch(now: number): void {
    const list = this.dirty;
    if (list.length === 0) return;
    this.dirty = [];
    for (const rec of list) {
      rec.dirty = false;
      this.drain(rec, now);
    }
  }

  /**
   * After an app call on `conn` (write, read, shutdown, close, abort, a setter): send its segments (a
   * reply written in a 'data' handler leaves before write() returns), hand on its events, re-arm its
   * timer. Every call into a connection from outside the endpoint is followed by this.
   */
  service(conn: Connection, now: number): void {
    const rec = this.recs.get(conn);
    if (rec) this.drain(rec, now);
  }

  /** The next datagram to send, or undefined. The caller may keep it. */
  pollTransmit(): Datagram | undefined {
    return this.out.poll();
  }

  /**
   * Hand every queued datagram to `sink.send`, in order (what a `pollTransmit` loop does, without
   * an object per datagram). Returns whether there was any (see `Outbox.transmitTo`).
   */
  transmitTo(sink: Pick<Transport, 'send' | 'released'>): boolean {
    return this.out.transmitTo(sink);
  }

  pollEvent(): EndpointEvent | undefined {
    if (this.evHead === this.evTail) {
      this.evHead = this.evTail = 0;
      return undefined;
    }
    const e = this.events[this.evHead]!;
    this.events[this.evHead++] = undefined;
    return e;
  }

  // ---------------------------------------------------------------- internals

  private msl(): number {
    return this.opts.connection.msl ?? DEFAULT_OPTIONS.msl;
  }

  private newId(): number {
    for (;;) {
      const id = this.ownId(this.env.random32());
      if (id !== 0 && !this.conns.has(id) && !this.timeWait.has(id)) return id;
    }
  }

  /** `bits` as one of our connection ids: the owner's bits on top (`owner`), never 0. */
  private ownId(bits: number): number {
    return ((bits & ~this.ownerMask) | this.ownerBits) >>> 0 || (this.ownerBits | 1) >>> 0;
  }

  /** The endpoint's (and, for passive opens, the listener's) settings, resolved once for all its connections. */
  private sharedOptions(passive: boolean): Readonly<ConnectionOptions> {
    const i = passive ? 1 : 0;
    return (this.resolved[i] ??= resolveOptions({ ...this.opts.connection, ...(passive ? this.listenOpts : undefined) }));
  }

  private create(remote: Address, now: number, passive: boolean, options?: Partial<ConnectionOptions>, remoteId = 0, fixed?: CookieIds): ConnRecord {
    const localId = fixed?.localId ?? this.newId();
    const remoteKey = addressKey(remote);
    const iss = fixed?.iss ?? this.isn.isn(now, `${localId}|${remoteKey}|${remoteId}`);
    const conn = new Connection({
      localId,
      iss,
      tsOffset: fixed?.tsOffset ?? this.env.random32(),
      options: options && { ...this.opts.connection, ...(passive ? this.listenOpts : undefined), ...options },
      resolved: options ? undefined : this.sharedOptions(passive),
      alloc: this.alloc,
    });
    const rec: ConnRecord = { conn, remote, remoteKey, unvalidated: passive, rx: 0, tx: 0, peerKey: undefined, wakeAt: Infinity, dirty: false };
    this.conns.set(localId, rec);
    this.recs.set(conn, rec);
    if (remoteId !== 0) this.byPeer.set((rec.peerKey = `${remoteKey}#${remoteId}`), localId);
    return rec;
  }

  /** A segment for `rec`'s connection. With `coalesceAcks` the bare ACK it owes waits for `endBatch`. */
  private input(rec: ConnRecord, seg: Segment, now: number): void {
    const batched = rec.dirty;
    rec.conn.handleSegment(seg, now);
    if (batched && rec.conn.quietInput) {
      this.deferredInput = true; // the batch's end drains it
      return;
    }
    if (this.opts.coalesceAcks && !rec.dirty) {
      rec.dirty = true;
      this.dirty.push(rec);
    }
    this.drain(rec, now);
  }

  /**
   * Take a connection's output (docs/ARCHITECTURE.md): its segments (but a bare ACK while its batch is
   * open), its events (which keep the tables in step with its state), and its next wake-up.
   */
  private drain(rec: ConnRecord, now: number): void {
    const conn = rec.conn;
    this.transmitConn(rec, now);
    for (let ev = conn.pollEvent(); ev !== undefined; ev = conn.pollEvent()) this.onConnEvent(rec, ev, now);
    if (!this.conns.has(conn.localId)) return; // left the table: no timers (TIME_WAIT's are the record's)
    const t = conn.pollTimeout();
    if (t !== rec.wakeAt) {
      rec.wakeAt = t;
      if (t !== Infinity) this.wakes.push({ at: t, id: conn.localId, tw: false });
    }
  }

  /** Every segment the connection has to send. Until a passive open's peer acknowledges our SYN, at most 3× what it sent (RFC 9000 §8.1). */
  private transmitConn(rec: ConnRecord, now: number): void {
    const conn = rec.conn;
    const holdAck = rec.dirty;
    for (;;) {
      // pollSegment, encoded in place in the pool chunk: one view per datagram, none per empty poll.
      const seg = conn.pollSegment(now, holdAck);
      if (seg === undefined) return;
      const n = encodedSize(seg);
      if (rec.unvalidated) {
        if (seqGt(conn.sndUna, conn.iss)) {
          rec.unvalidated = false;
        } else if (rec.tx + n > AMPLIFICATION_FACTOR * rec.rx) {
          this.stats.amplificationLimited++;
          continue;
        } else {
          rec.tx += n;
        }
      }
      this.stats.datagramsOut++;
      const buf = this.out.reserve(n);
      encodeAt(seg, buf, this.out.reservedAt);
      this.out.commit(buf, n, rec.remote);
    }
  }

  private onConnEvent(rec: ConnRecord, ev: ConnEvent, now: number): void {
    const conn = rec.conn;
    if (ev === READABLE) {
      this.emit((rec.readable ??= Object.freeze({ type: 'conn', conn, ev })));
      return;
    }
    if (ev.type === 'state') {
      const passive = !conn.active;
      if (ev.from === State.SYN_SENT) this.synSent.delete(conn.localId);
      if (ev.to !== State.SYN_SENT && conn.remoteId !== 0) this.indexPeer(rec);
      if (passive && ev.from === State.SYN_RECEIVED) this.halfOpen--;
      if (passive && ev.from === State.SYN_RECEIVED && ev.to === State.ESTABLISHED) {
        this.emit({ type: 'conn', conn, ev });
        this.emit({ type: 'accept', conn, remote: rec.remote });
        return;
      }
      // Leaving the table: its last segments go first, a held ACK included (in TIME_WAIT the record answers).
      if (ev.to === State.TIME_WAIT || ev.to === State.CLOSED) {
        rec.dirty = false;
        this.transmitConn(rec, now);
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

  /** Replace the connection by a compact record (RFC 9293 §3.6.1; docs/ARCHITECTURE.md, Resource bounds). */
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
    this.paths.forget(id);
    if (rec.peerKey !== undefined && this.byPeer.get(rec.peerKey) === id) this.byPeer.delete(rec.peerKey);
  }

  /** Index the connection under its current peer key only (the key changes on migration, or when a forged simultaneous-open SYN is replaced). */
  private indexPeer(rec: ConnRecord): void {
    const k = `${rec.remoteKey}#${rec.conn.remoteId}`;
    if (k === rec.peerKey) return;
    if (rec.peerKey !== undefined && this.byPeer.get(rec.peerKey) === rec.conn.localId) this.byPeer.delete(rec.peerKey);
    rec.peerKey = k;
    this.byPeer.set(k, rec.conn.localId);
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

  /** Past the backlog: answer with a SYN cookie and keep nothing (RFC 4987 §3.6). */
  private sendCookie(syn: Segment, from: Address, now: number): void {
    const o = this.sharedOptions(true);
    const { seg, ids } = this.cookies.synAck(syn, from, now, { mss: Math.max(o.mss, o.maxMss), sack: o.sack, window: Math.min(o.rcvBuf, 0xffffffff) });
    if (this.conns.has(ids.localId) || this.timeWait.has(ids.localId)) return;
    this.stats.synCookiesSent++;
    this.send(seg, from);
  }

  /** An ACK for no connection that returns a valid cookie: open the connection from it. */
  private openFromCookie(ack: Segment, from: Address, now: number): boolean {
    const c = this.cookies.check(ack, from, now);
    if (c === 'early') return true; // overtook the handshake's final ACK: drop, no RST
    if (!c || this.conns.has(c.localId) || this.timeWait.has(c.localId)) return false;
    if (this.conns.size >= this.opts.maxConnections) {
      this.stats.tableFull++;
      return true;
    }
    this.stats.synCookiesAccepted++;
    const rec = this.create(from, now, true, undefined, ack.srcId, c);
    this.halfOpen++; // balanced by the SYN_RECEIVED exit
    rec.conn.openFromCookie(c.syn, ack, now);
    if (rec.conn.state === State.SYN_RECEIVED) rec.conn.abort(now);
    this.drain(rec, now);
    return true;
  }

  /** A validated path change (RFC 9000 §9): the connection follows its peer to `to`. */
  private migrate(rec: ConnRecord, to: Address, now: number): void {
    rec.remote = { ...to };
    rec.remoteKey = addressKey(to);
    this.indexPeer(rec);
    this.send(rec.conn.probeSegment(now), rec.remote); // an ACK on the new path: the peer need not wait for its RTO
  }

  private send(seg: Segment, to: Address): void {
    this.stats.datagramsOut++;
    const buf = this.out.reserve(encodedSize(seg));
    const n = encodeAt(seg, buf, this.out.reservedAt);
    this.out.commit(buf, n, to);
  }

  private emit(ev: EndpointEvent): void {
    this.events[this.evTail++] = ev;
  }
}
