// The simulation runner for the property tests and the soak: runScenario() plays
// a Scenario (generators.ts; plain JSON, so a failing one is printed and replayed
// with runScenario(JSON.parse(...))) on a SimNetwork to a virtual deadline and
// records what the checks in checks.ts need: bytes per direction, events and
// state changes with times, per-step snapshots of the send/receive variables,
// every segment sent with the windows at that moment, RTT samples and timeouts.

import { SimNetwork, simHost } from '../../src/sim/index.js';
import type { Host } from '../../src/endpoint/host.js';
import type { Endpoint } from '../../src/endpoint/endpoint.js';
import type { Address } from '../../src/endpoint/types.js';
import type { Connection } from '../../src/protocol/connection.js';
import type { ConnectionOptions } from '../../src/protocol/options.js';
import { State } from '../../src/protocol/state.js';
import { ACK, FIN, RST, SYN, decode, encode, segmentLength, type Segment } from '../../src/wire/segment.js';
import { seqAdd, seqDiff } from '../../src/wire/seq.js';
import type { AppOp, Dir, Injection, Scenario, Script } from './generators.js';

export * from './generators.js';

// ------------------------------------------------------------------ records

export interface Snap {
  t: number;
  state: State;
  sndUna: number;
  sndNxt: number;
  rcvNxt: number;
  cwnd: number;
  pipe: number;
  sndWnd: number;
  rto: number;
  /** Outstanding work (unacknowledged or unsent data) with no timer armed. */
  hang: boolean;
}
export interface TxRec {
  t: number;
  seq: number;
  flags: number;
  len: number;
  payload: number;
  tsVal: number;
  state: State;
  sndUna: number;
  sndNxt: number;
  sndWnd: number;
  cwnd: number;
  pipe: number;
  /** stats.tailLossProbes and stats.fastRetransmits when it was sent. */
  tlp: number;
  frx: number;
}
export interface EvRec {
  t: number;
  type: string;
  from?: State;
  to?: State;
  code?: string;
}

export interface Side {
  name: string;
  role: 'client' | 'server';
  pair: number;
  host: number;
  script: Script;
  tagOut: number;
  tagIn: number;
  conn?: Connection;
  /** Bytes the script asked to write / bytes conn.write accepted. */
  intended: number;
  written: number;
  pending: number;
  endRequested: boolean;
  shutdownAt?: number;
  destroyedAt?: number;
  stalledUntil: number;
  received: number;
  mismatchAt: number;
  endAt?: number;
  totalAtEnd?: number;
  finCheck?: { rcvNxt: number; irs: number };
  readableAfterEnd: number;
  /** Forged datagrams aimed at this side. */
  injected: number;
  events: EvRec[];
  snaps: Snap[];
  tx: TxRec[];
  samples: Array<{ t: number; r: number; tsEcr: number | undefined }>;
  timeouts: Array<{ t: number; before: number; after: number }>;
}

export interface HostRec {
  addr: Address;
  host: Host;
  /** Entries into TIME_WAIT, FIN arrivals for ids in TIME_WAIT, and the records' expiries. */
  twEnter: Map<number, number>;
  twFins: Array<{ t: number; id: number; seq: number; from: string }>;
  twEnd: Array<{ t: number; id: number }>;
  accepts: number;
}

export interface RunResult {
  sc: Scenario;
  net: SimNetwork;
  sides: Side[];
  /** Connections no script owns (e.g. half-opens created by forged SYNs). */
  extra: Side[];
  hosts: HostRec[];
  /** Virtual time when the network went idle (or the deadline). */
  endTime: number;
  idle: boolean;
  events: number;
  /** Time after which no scripted fault or app action is pending. */
  quietAt: number;
}

export interface RunOptions {
  deadline?: number;
  maxEvents?: number;
}

// ------------------------------------------------------------------ payload patterns

/** Byte `i` of stream `tag`: distinct streams differ almost everywhere, so crossed or shifted bytes show. */
export function patternByte(tag: number, i: number): number {
  return (Math.imul((i + Math.imul(tag, 0x01000193)) | 0, 0x9e3779b1) >>> 24) ^ (tag & 0xff);
}

function pattern(tag: number, off: number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = patternByte(tag, off + i);
  return b;
}

// ------------------------------------------------------------------ instrumentation

interface EndpointInternals {
  create: (...a: unknown[]) => { conn: Connection };
  isn: { isn(now: number, id: string): number };
}
interface ConnInternals {
  queueSegment(flags: number, seq: number, payload: Uint8Array, syn?: boolean): void;
  queueRaw(seg: Segment): void;
  handleSegment(seg: Segment, now: number): void;
}

/** Test-only hooks: see every connection the endpoint creates before it sends; optionally force its ISN. */
function instrumentEndpoint(ep: Endpoint, onCreate: (c: Connection) => void, iss: number | undefined): void {
  const e = ep as unknown as EndpointInternals;
  if (typeof e.create !== 'function' || typeof e.isn?.isn !== 'function') throw new Error('harness: Endpoint internals (create/isn) changed');
  const create = e.create;
  e.create = function (this: Endpoint, ...a: unknown[]) {
    const rec = create.apply(this, a);
    onCreate(rec.conn);
    return rec;
  };
  if (iss !== undefined) e.isn.isn = () => iss;
}

function instrumentConn(conn: Connection, sideOf: () => Side, now: () => number): void {
  const c = conn as unknown as ConnInternals;
  if (typeof c.queueSegment !== 'function' || typeof c.queueRaw !== 'function' || typeof c.handleSegment !== 'function') {
    throw new Error('harness: Connection internals (queueSegment/queueRaw/handleSegment) changed');
  }
  // Every segment is recorded when the connection decides to send it (queued), with the sender's state
  // at that moment; its header is built when polled, at the same virtual time.
  const record = (flags: number, seq: number, len: number, payload: number, tsVal: number): void => {
    sideOf().tx.push({
      t: now(),
      seq,
      flags,
      len,
      payload,
      tsVal,
      state: conn.state,
      sndUna: conn.sndUna,
      sndNxt: conn.sndNxt,
      sndWnd: conn.sndWnd,
      cwnd: conn.cwnd,
      pipe: conn.bytesInFlight,
      tlp: (conn.stats as { tailLossProbes?: number }).tailLossProbes ?? 0,
      frx: conn.stats.fastRetransmits,
    });
  };
  const queue = c.queueSegment.bind(conn);
  c.queueSegment = (flags: number, seq: number, payload: Uint8Array, syn?: boolean) => {
    record(flags, seq, segmentLength({ flags, payload }), payload.length, conn.tsNow(now()));
    queue(flags, seq, payload, syn);
  };
  const queueRaw = c.queueRaw.bind(conn);
  c.queueRaw = (seg: Segment) => {
    record(seg.flags, seg.seq, segmentLength(seg), seg.payload.length, seg.tsVal);
    queueRaw(seg);
  };
  let cur: Segment | undefined;
  const input = c.handleSegment.bind(conn);
  c.handleSegment = (seg: Segment, t: number) => {
    cur = seg;
    try {
      input(seg, t);
    } finally {
      cur = undefined;
    }
  };
  const rtt = conn.rtt;
  const sample = rtt.sample.bind(rtt);
  rtt.sample = (r: number) => {
    sideOf().samples.push({ t: now(), r, tsEcr: cur?.tsEcr });
    sample(r);
  };
  const onTimeout = rtt.onTimeout.bind(rtt);
  rtt.onTimeout = () => {
    const before = rtt.rto;
    onTimeout();
    sideOf().timeouts.push({ t: now(), before, after: rtt.rto });
  };
}

// ------------------------------------------------------------------ runner

const SERVER: Address = { address: '10.0.0.1', port: 4000 };
const clientAddr = (i: number): Address => ({ address: `10.0.1.${i + 1}`, port: 5000 });
const OTHER: Address = { address: '10.6.6.6', port: 666 };

function newSide(name: string, role: 'client' | 'server', pair: number, host: number, script: Script, tagOut: number, tagIn: number): Side {
  return {
    name,
    role,
    pair,
    host,
    script,
    tagOut,
    tagIn,
    intended: 0,
    written: 0,
    pending: 0,
    endRequested: false,
    stalledUntil: 0,
    received: 0,
    mismatchAt: -1,
    readableAfterEnd: 0,
    injected: 0,
    events: [],
    snaps: [],
    tx: [],
    samples: [],
    timeouts: [],
  };
}

const ESTABLISHED_ON = new Set<State>([State.ESTABLISHED, State.FIN_WAIT_1, State.FIN_WAIT_2, State.CLOSE_WAIT, State.CLOSING, State.LAST_ACK]);
const OPEN_STATES = new Set<State>([
  State.SYN_RECEIVED,
  State.ESTABLISHED,
  State.FIN_WAIT_1,
  State.FIN_WAIT_2,
  State.CLOSE_WAIT,
  State.CLOSING,
  State.LAST_ACK,
]);

export function runScenario(sc: Scenario, ro: RunOptions = {}): RunResult {
  const net = new SimNetwork({ seed: sc.seed });
  const now = () => net.now;
  const connOpts: Partial<ConnectionOptions> = { ...sc.conn, rto: { ...sc.conn.rto } };
  const sim = sc.open === 'simultaneous';
  const serverAddr = sim ? { address: '10.0.0.1', port: 4000 } : SERVER;
  const hosts: HostRec[] = [];
  const mkHost = (addr: Address, iss: number | undefined): HostRec => {
    // A small TIME_WAIT table: lru-cache preallocates `max` slots, which would dominate a short run.
    const h = simHost(net, addr, { connection: connOpts, maxTimeWait: 256 });
    const rec: HostRec = { addr, host: h, twEnter: new Map(), twFins: [], twEnd: [], accepts: 0 };
    instrumentEndpoint(h.endpoint, (c) => onCreate(rec, c), iss);
    const onMessage = h.transport.onMessage!;
    h.transport.onMessage = (data, from) => {
      if (rec.twEnter.size > 0) {
        const d = decode(data);
        if (d.ok && d.segment.flags & FIN && rec.twEnter.has(d.segment.dstId)) {
          rec.twFins.push({ t: net.now, id: d.segment.dstId, seq: d.segment.seq, from: `${from.address}|${from.port}` });
        }
      }
      onMessage(data, from);
    };
    hosts.push(rec);
    return rec;
  };
  const server = mkHost(serverAddr, sc.iss?.server);
  const clients = Array.from({ length: sim ? 1 : sc.clientHosts }, (_, i) => mkHost(clientAddr(i), sc.iss?.client));

  // Links: the current spec per (client host, direction), blackholes layered on top.
  const cur = clients.map(() => ({ up: sc.faults.up, down: sc.faults.down }));
  const holes = clients.map(() => ({ up: 0, down: 0 }));
  let forever = false;
  const apply = (i: number, d: 'up' | 'down') => {
    const c = clients[i]!.addr.address;
    const s = serverAddr.address;
    const blackhole = forever || holes[i]![d] > 0;
    if (d === 'up') net.setLink(c, s, { ...cur[i]![d], blackhole });
    else net.setLink(s, c, { ...cur[i]![d], blackhole });
  };
  const dirs = (d: Dir): Array<'up' | 'down'> => (d === 'both' ? ['up', 'down'] : [d]);
  const hole = (i: number, d: 'up' | 'down', ms: number) => {
    holes[i]![d]++;
    apply(i, d);
    net.after(ms, () => {
      holes[i]![d]--;
      apply(i, d);
    });
  };
  let quietAt = 0;
  for (let i = 0; i < clients.length; i++) {
    apply(i, 'up');
    apply(i, 'down');
  }
  for (const ep of sc.faults.episodes) {
    quietAt = Math.max(quietAt, ep.at + (ep.kind === 'blackhole' ? ep.duration : 0));
    net.at(ep.at, () => {
      for (let i = 0; i < clients.length; i++)
        for (const d of dirs(ep.dir)) {
          if (ep.kind === 'blackhole') hole(i, d, ep.duration);
          else {
            cur[i]![d] = ep.link;
            apply(i, d);
          }
        }
    });
  }
  if (sc.faults.blackholeForeverAt !== undefined) {
    net.at(sc.faults.blackholeForeverAt, () => {
      forever = true;
      for (let i = 0; i < clients.length; i++) {
        apply(i, 'up');
        apply(i, 'down');
      }
    });
  }

  // Sides: client i ↔ server i; distinct payload tags per stream.
  const sides: Side[] = [];
  const pairs = sc.pairs.map((p, i) => {
    const c = newSide(`c${i}`, 'client', i, p.host, p.client, 2 * i + 1, 2 * i + 2);
    const s = newSide(`s${i}`, 'server', i, -1, p.server, 2 * i + 2, 2 * i + 1);
    sides.push(c, s);
    return { c, s };
  });
  // Every connection an endpoint creates is instrumented at once (before its SYN or SYN-ACK goes out)
  // into a provisional record; bind() makes it a scripted side (client at connect, server at accept).
  const byConn = new Map<Connection, Side>();
  const extra = new Map<Connection, Side>();
  function onCreate(h: HostRec, conn: Connection): void {
    extra.set(conn, newSide(`x${extra.size}@${h.addr.address}`, 'server', -1, -1, { ops: [], readChunk: 0 }, 0, 0));
    instrumentConn(conn, () => byConn.get(conn) ?? extra.get(conn)!, now);
  }
  const bind = (side: Side, conn: Connection) => {
    const pre = extra.get(conn);
    if (pre) {
      side.tx.unshift(...pre.tx);
      side.samples.unshift(...pre.samples);
      side.timeouts.unshift(...pre.timeouts);
      side.events.unshift(...pre.events);
      extra.delete(conn);
    }
    side.conn = conn;
    byConn.set(conn, side);
  };

  // ---- app behaviour
  const hostOf = (s: Side) => (s.role === 'server' ? server.host : clients[sim ? 0 : s.host]!.host);
  const drain = (s: Side) => {
    const conn = s.conn;
    if (!conn || net.now < s.stalledUntil) return;
    for (;;) {
      const chunk = conn.read(net.now, s.script.readChunk || Infinity);
      if (!chunk) break;
      for (let k = 0; k < chunk.length; k++) {
        if (s.mismatchAt < 0 && chunk[k] !== patternByte(s.tagIn, s.received + k)) s.mismatchAt = s.received + k;
      }
      s.received += chunk.length;
    }
    hostOf(s).service(conn);
  };
  const pump = (s: Side) => {
    const conn = s.conn;
    if (!conn || s.destroyedAt !== undefined) return;
    while (s.pending > 0) {
      const n = Math.min(s.pending, 65536);
      const got = conn.write(pattern(s.tagOut, s.written, n));
      s.written += got;
      s.pending -= got;
      if (got < n) break;
    }
    if (s.endRequested && s.pending === 0 && s.shutdownAt === undefined) {
      s.shutdownAt = net.now;
      conn.shutdown();
    }
    hostOf(s).service(conn);
  };
  const runOp = (s: Side, op: AppOp) => {
    const conn = s.conn!;
    if (s.destroyedAt !== undefined) return;
    switch (op.op) {
      case 'write':
        if (s.endRequested) return;
        if (op.size === 0) conn.write(new Uint8Array(0));
        s.intended += op.size;
        s.pending += op.size;
        pump(s);
        return;
      case 'stall':
        s.stalledUntil = Math.max(s.stalledUntil, net.now + op.ms);
        net.after(op.ms, () => drain(s));
        return;
      case 'end':
        s.endRequested = true;
        pump(s);
        return;
      case 'destroy':
        s.destroyedAt = net.now;
        s.pending = 0;
        conn.abort(net.now);
        hostOf(s).service(conn);
        return;
    }
  };
  const started = new Set<Side>();
  const start = (s: Side) => {
    if (started.has(s)) return;
    started.add(s);
    let t = net.now;
    for (const op of s.script.ops) {
      t += op.after;
      net.at(t, () => runOp(s, op));
      if (op.op === 'stall') quietAt = Math.max(quietAt, t + op.ms);
    }
    quietAt = Math.max(quietAt, t);
  };

  const onEvent = (h: HostRec) => (ev: import('../../src/endpoint/endpoint.js').EndpointEvent) => {
    if (ev.type === 'timewait-end') {
      h.twEnd.push({ t: net.now, id: ev.localId });
      h.twEnter.delete(ev.localId);
      return;
    }
    if (ev.type === 'accept') {
      h.accepts++;
      const p = pairs.find((q) => q.c.conn?.localId === ev.conn.remoteId && !q.s.conn);
      if (p) {
        bind(p.s, ev.conn);
        start(p.s);
        drain(p.s);
      }
      return;
    }
    const s = byConn.get(ev.conn) ?? extra.get(ev.conn);
    if (!s) return;
    const e = ev.ev;
    const rec: EvRec = { t: net.now, type: e.type };
    if (e.type === 'state') {
      rec.from = e.from;
      rec.to = e.to;
      if (e.to === State.TIME_WAIT) {
        h.twEnter.set(ev.conn.localId, net.now);
        const tw = sc.faults.twBlackhole;
        if (tw !== undefined) {
          const p = pairs[s.pair];
          if (p) hole(sim ? 0 : p.c.host, s.role === 'client' ? 'up' : 'down', tw);
        }
      }
    }
    if (e.type === 'error') rec.code = e.code;
    s.events.push(rec);
    if (!byConn.has(ev.conn)) return;
    switch (e.type) {
      case 'established':
        start(s);
        break;
      case 'readable':
        if (s.endAt !== undefined) s.readableAfterEnd++;
        drain(s);
        break;
      case 'writable':
        pump(s);
        break;
      case 'end':
        s.endAt = net.now;
        s.totalAtEnd = s.received + ev.conn.readableLength;
        s.finCheck = { rcvNxt: ev.conn.rcvNxt, irs: ev.conn.irs };
        drain(s);
        break;
    }
  };
  for (const h of hosts) h.host.onEvent = onEvent(h);

  // ---- injections: forged datagrams handed straight to the victim's socket.
  for (const inj of sc.injections) net.at(inj.at, () => inject(inj));
  const inject = (inj: Injection) => {
    const p = pairs[inj.pair];
    if (!p) return;
    const T = inj.target === 'client' ? p.c : p.s;
    const P = inj.target === 'client' ? p.s : p.c;
    const tc = T.conn;
    // Only once synchronized: before that there is no receive window, and a SYN from the peer's
    // address is indistinguishable from a simultaneous open (RFC 9293 §3.5).
    if (!tc || !ESTABLISHED_ON.has(tc.state)) return;
    T.injected++;
    const h = hostOf(T);
    const x = (inj.rnd * 2654435761) >>> 0;
    let flags = inj.flags;
    let plen = flags & (SYN | RST) ? 0 : inj.payload;
    let dst = tc.localId;
    let src = tc.remoteId;
    if (inj.ids === 'wrong-dst') {
      dst = x | 1;
      while (Array.from(h.endpoint.connections()).some((c) => c.localId === dst) || dst === tc.localId) dst = (dst + 2) >>> 0;
    } else if (inj.ids === 'wrong-src') src = (tc.remoteId ^ (x | 1)) >>> 0;
    else if (inj.ids === 'zero-dst') {
      dst = 0;
      flags = SYN;
      plen = 0;
    }
    const R = tc.rcvNxt;
    const rightDst = dst === tc.localId;
    let seq: number;
    let mode = inj.seq;
    if (rightDst && (mode === 'exact' || mode === 'random')) mode = 'above'; // right ids: out of window only
    if (mode === 'irs') {
      seq = tc.irs;
      flags |= SYN;
      flags &= ~(RST | FIN);
      plen = 0;
      if (dst !== 0) flags |= ACK;
    } else if (mode === 'below') seq = seqAdd(R, -(Math.max(1, plen + (flags & (SYN | FIN) ? 1 : 0)) + inj.seqOff));
    else if (mode === 'above')
      seq = seqAdd(R, Math.max(sc.conn.rcvBuf, sc.conn.maxRcvBuf) + 1 + inj.seqOff); // beyond any window offered
    else if (mode === 'exact') seq = R;
    else seq = x;
    const pc = P.conn;
    const ack =
      inj.ack === 'una'
        ? seqAdd(tc.sndUna, inj.ackOff)
        : inj.ack === 'nxt'
          ? seqAdd(tc.sndNxt, inj.ackOff)
          : inj.ack === 'inflight'
            ? seqAdd(tc.sndUna, 1 + ((x >>> 3) % Math.max(1, seqDiff(tc.sndNxt, tc.sndUna))))
            : inj.ack === 'peer-rcv'
              ? seqAdd(pc ? pc.rcvNxt : x, inj.ackOff)
              : (x * 7) >>> 0;
    if (!(flags & (SYN | RST | ACK))) flags |= ACK;
    const seg: Segment = {
      flags,
      dstId: dst,
      srcId: src,
      seq,
      ack: flags & ACK ? ack : 0,
      window: 65535,
      tsVal: (x * 13) >>> 0,
      tsEcr: 0,
      payload: pattern(0x7777, x & 0xfff, plen),
    };
    if (inj.ts === 'recent' && pc) {
      // A timestamp that passes PAWS: the newest one the victim saw from its peer, read from its last input.
      const last = P.tx[P.tx.length - 1];
      if (last) seg.tsVal = last.tsVal;
    }
    if (flags & SYN && !(flags & ACK) && dst !== 0) seg.flags |= ACK; // a bare SYN to an id would not even decode
    h.transport.onMessage?.(encode(seg), inj.from === 'peer' ? { ...(h.endpoint.remoteOf(tc) ?? OTHER) } : { ...OTHER });
  };

  // ---- open
  if (sim) {
    const a = clients[0]!.host.connect(serverAddr);
    const b = server.host.connect(clients[0]!.addr);
    bind(pairs[0]!.c, a);
    bind(pairs[0]!.s, b);
  } else {
    server.host.endpoint.listen();
    for (const p of pairs) bind(p.c, clients[p.c.host]!.host.connect(serverAddr));
  }

  // ---- run, one event at a time, snapshotting every connection after each.
  const deadline = ro.deadline ?? 3_600_000;
  const maxEvents = ro.maxEvents ?? 50_000; // a normal run takes a few thousand at most
  let events = 0;
  let idle = false;
  const snapAll = () => {
    for (const s of sides) {
      const c = s.conn;
      if (!c) continue;
      const last = s.snaps[s.snaps.length - 1];
      const st = c.state;
      const hang = OPEN_STATES.has(st) && (c.retransmitQueueLength > 0 || c.bufferedAmount > 0) && c.pollTimeout() === Infinity;
      if (
        last &&
        last.state === st &&
        last.sndUna === c.sndUna &&
        last.sndNxt === c.sndNxt &&
        last.rcvNxt === c.rcvNxt &&
        last.cwnd === c.cwnd &&
        last.pipe === c.bytesInFlight &&
        last.sndWnd === c.sndWnd &&
        last.rto === c.rtt.rto &&
        !hang
      )
        continue;
      s.snaps.push({
        t: net.now,
        state: st,
        sndUna: c.sndUna,
        sndNxt: c.sndNxt,
        rcvNxt: c.rcvNxt,
        cwnd: c.cwnd,
        pipe: c.bytesInFlight,
        sndWnd: c.sndWnd,
        rto: c.rtt.rto,
        hang,
      });
    }
  };
  snapAll();
  for (;;) {
    const t = net.clock.peekTime();
    if (t === undefined) {
      idle = true;
      break;
    }
    if (t > deadline || events >= maxEvents) break;
    net.clock.runNext();
    events++;
    snapAll();
  }
  return { sc, net, sides, extra: [...extra.values()], hosts, endTime: net.now, idle, events, quietAt };
}

/** Replay helper: the scenario as one line of JSON. */
export function printScenario(sc: Scenario): string {
  return JSON.stringify(sc);
}
