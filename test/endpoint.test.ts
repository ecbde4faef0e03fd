import { describe, expect, it } from 'vitest';
import { Endpoint, type EndpointEvent, type EndpointOptions } from '../src/endpoint/endpoint.js';
import type { Address } from '../src/endpoint/types.js';
import type { Connection } from '../src/protocol/connection.js';
import { SimNetwork, simHost } from '../src/sim/index.js';
import { Prng, prngEnv } from '../src/sim/prng.js';
import { ACK, FIN, IMMEDIATE_ACK, RST, SYN, decode, encode, type Segment } from '../src/wire/segment.js';
import { seqAdd } from '../src/wire/seq.js';

const A: Address = { address: '10.0.0.1', port: 1000 };
const B: Address = { address: '10.0.0.2', port: 2000 };
const C: Address = { address: '10.0.0.3', port: 3000 };
const MSL = 1000;

function endpoint(seed: number, opts: EndpointOptions = {}): Endpoint {
  return new Endpoint(prngEnv(new Prng(seed)), { connection: { msl: MSL, pacing: false }, ...opts });
}

function seg(over: Partial<Segment>): Segment {
  return { flags: ACK, dstId: 0, srcId: 0x1234, seq: 100, ack: 200, window: 1000, tsVal: 5, tsEcr: 0, payload: new Uint8Array(0), ...over };
}

/** Everything `e` queued for sending, decoded. */
function sent(e: Endpoint): Array<{ seg: Segment; to: Address }> {
  const out: Array<{ seg: Segment; to: Address }> = [];
  for (let d = e.pollTransmit(); d; d = e.pollTransmit()) {
    const r = decode(d.data);
    if (!r.ok) throw new Error(`endpoint sent an undecodable datagram: ${r.reason}`);
    out.push({ seg: r.segment, to: d.to });
  }
  return out;
}

function events(e: Endpoint): EndpointEvent[] {
  const out: EndpointEvent[] = [];
  for (let ev = e.pollEvent(); ev; ev = e.pollEvent()) out.push(ev);
  return out;
}

/** Two endpoints joined by an instant, lossless wire (`drop` decides otherwise), on a shared clock. */
class Wire {
  now = 0;
  readonly log: Array<{ from: Address; seg: Segment }> = [];
  readonly ev = new Map<Endpoint, EndpointEvent[]>();
  drop: (seg: Segment, from: Address) => boolean = () => false;

  constructor(
    readonly a: Endpoint,
    readonly b: Endpoint,
  ) {
    this.ev.set(a, []);
    this.ev.set(b, []);
  }

  private addr(e: Endpoint): Address {
    return e === this.a ? A : B;
  }

  /** Deliver until nothing is left in flight (first taking what the test's calls on connections queued). */
  flush(): void {
    for (const e of [this.a, this.b]) for (const c of e.connections()) e.service(c, this.now);
    for (let guard = 0; guard < 10_000; guard++) {
      let moved = false;
      for (const [src, dst] of [
        [this.a, this.b],
        [this.b, this.a],
      ] as const) {
        for (let d = src.pollTransmit(); d; d = src.pollTransmit()) {
          moved = true;
          const from = this.addr(src);
          const r = decode(d.data);
          if (r.ok) this.log.push({ from, seg: r.segment });
          if (r.ok && this.drop(r.segment, from)) continue;
          dst.handleDatagram(d.data, from, this.now);
        }
        this.ev.get(src)!.push(...events(src));
      }
      if (!moved) return;
    }
    throw new Error('wire does not settle');
  }

  /** Run timers and deliveries up to `until`. */
  run(until: number): void {
    this.flush();
    for (;;) {
      const t = Math.min(this.a.nextTimeout(), this.b.nextTimeout());
      if (t > until) break;
      this.now = Math.max(this.now, t);
      this.a.handleTimeout(this.now);
      this.b.handleTimeout(this.now);
      this.flush();
    }
    this.now = until;
  }

  accepted(e: Endpoint): Connection[] {
    return this.ev.get(e)!.flatMap((x) => (x.type === 'accept' ? [x.conn] : []));
  }
}

/** Endpoint a (seed `sa`) connected to a listening b (seed `sb`) over a Wire: c is a's connection. */
function connected(sa: number, sb: number): { a: Endpoint; b: Endpoint; w: Wire; c: Connection } {
  const a = endpoint(sa);
  const b = endpoint(sb);
  b.listen();
  const w = new Wire(a, b);
  const c = a.connect(B, 0);
  w.flush();
  return { a, b, w, c };
}

describe('Endpoint: segments for no connection (RFC 9293 §3.10.7.1)', () => {
  it('an ACK segment for no connection gets <SEQ=SEG.ACK><CTL=RST>', () => {
    const e = endpoint(1);
    e.handleDatagram(encode(seg({ flags: ACK, dstId: 777, srcId: 55, seq: 100, ack: 0xfffffff0, payload: new Uint8Array(5) })), A, 0);
    const out = sent(e);
    expect(out).toHaveLength(1);
    expect(out[0]!.to).toEqual(A);
    expect(out[0]!.seg).toMatchObject({ flags: RST, seq: 0xfffffff0, dstId: 55, srcId: 777 });
    expect(e.stats.noConnection).toBe(1);
    expect(e.stats.rstSent).toBe(1);
  });

  it('a segment without ACK (a SYN to a closed port) gets <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>', () => {
    const e = endpoint(1);
    e.handleDatagram(encode(seg({ flags: SYN, srcId: 55, seq: 0xfffffffa, payload: new Uint8Array(10) })), A, 0);
    const out = sent(e);
    expect(out).toHaveLength(1);
    expect(out[0]!.seg).toMatchObject({ flags: RST | ACK, seq: 0, ack: seqAdd(0xfffffffa, 11), dstId: 55 });
  });

  it('a FIN for no connection is counted in SEG.LEN', () => {
    const e = endpoint(1);
    e.handleDatagram(encode(seg({ flags: FIN | ACK, dstId: 9, seq: 10, ack: 20, payload: new Uint8Array(3) })), A, 0);
    expect(sent(e)[0]!.seg).toMatchObject({ flags: RST, seq: 20 });
  });

  it('an RST is never answered with an RST', () => {
    const e = endpoint(1);
    for (const flags of [RST, RST | ACK, RST | FIN | ACK]) {
      e.handleDatagram(encode(seg({ flags, dstId: 777 })), A, 0);
      e.handleDatagram(encode(seg({ flags, dstId: 0 })), A, 0);
    }
    expect(sent(e)).toEqual([]);
    expect(e.stats.rstSent).toBe(0);
    expect(e.stats.noConnection).toBe(6);
  });

  it('decode errors are dropped without reply and counted by reason', () => {
    const e = endpoint(1);
    const good = encode(seg({ dstId: 5 }));
    const badVersion = Uint8Array.from(good);
    badVersion[0] = 9;
    const badFlags = Uint8Array.from(good);
    badFlags[1] = FIN;
    e.handleDatagram(new Uint8Array(3), A, 0);
    e.handleDatagram(badVersion, A, 0);
    e.handleDatagram(badFlags, A, 0);
    e.handleDatagram(Uint8Array.from(badFlags), A, 0);
    expect(e.stats.decodeErrors).toEqual({ short: 1, version: 1, 'bad-flags': 2 });
    expect(e.stats.datagramsIn).toBe(4);
    expect(sent(e)).toEqual([]);
  });
});

describe('Endpoint: demultiplexing by connection id', () => {
  it('a passive open: SYN with dst id 0 creates a connection; the SYN-ACK names both ids', () => {
    const e = endpoint(2);
    e.listen();
    e.handleDatagram(encode(seg({ flags: SYN, srcId: 4242, seq: 7, mss: 1000 })), A, 0);
    const [synAck] = sent(e);
    expect(synAck!.seg.flags).toBe(SYN | ACK);
    expect(synAck!.seg.dstId).toBe(4242);
    expect(synAck!.seg.srcId).not.toBe(0);
    expect(synAck!.seg.ack).toBe(8);
    expect(e.connectionCount).toBe(1);
    // A retransmitted SYN (same address and source id) reaches the same connection.
    e.handleDatagram(encode(seg({ flags: SYN, srcId: 4242, seq: 7, mss: 1000 })), A, 500);
    const again = sent(e);
    expect(again).toHaveLength(1);
    // Sent at once for that SYN, so not marked as a retransmission (the peer may time its RTT from it).
    expect(again[0]!.seg).toMatchObject({ flags: SYN | ACK, srcId: synAck!.seg.srcId, seq: synAck!.seg.seq });
    expect(e.connectionCount).toBe(1);
    // The same source id from another address is another connection.
    e.handleDatagram(encode(seg({ flags: SYN, srcId: 4242, seq: 9 })), C, 600);
    expect(e.connectionCount).toBe(2);
  });

  it('the backlog bounds half-open connections; SYNs past it keep no state and are counted', () => {
    const e = endpoint(3);
    e.listen(2);
    for (let id = 1; id <= 5; id++) e.handleDatagram(encode(seg({ flags: SYN, srcId: id, seq: id * 1000 })), A, 0);
    expect(e.connectionCount).toBe(2);
    expect(e.stats.backlogFull).toBe(3);
    // What answers them (if anything) is stateless: the table did not grow.
    sent(e);
    e.handleDatagram(encode(seg({ flags: SYN, srcId: 1, seq: 1000 })), A, 10); // retransmission of an admitted SYN
    expect(sent(e)).toHaveLength(1);
    expect(e.stats.backlogFull).toBe(3);
    expect(e.connectionCount).toBe(2);
  });

  it('wrong-peer datagrams are dropped and counted; the connection sees none of their bytes', () => {
    const { b, w, c } = connected(4, 5);
    const [s] = w.accepted(b);
    expect(s!.state).toBe('ESTABLISHED');
    // From another address, with the right ids: not taken as data.
    const evil = seg({ flags: ACK, dstId: s!.localId, srcId: c.localId, seq: c.sndNxt, ack: s!.sndNxt, tsVal: 1, payload: new Uint8Array([1, 2, 3]) });
    b.handleDatagram(encode(evil), C, 1);
    // From the right address with a wrong source id.
    b.handleDatagram(encode({ ...evil, srcId: c.localId ^ 1 }), A, 1);
    expect(b.stats.wrongPeer).toBe(2);
    expect(s!.readableLength).toBe(0);
    expect(s!.state).toBe('ESTABLISHED');
    for (const { seg: out } of sent(b)) expect(out.payload.length).toBe(0);
  });

  it('simultaneous open: two SYNs cross and both sides reach ESTABLISHED on one connection each', () => {
    const a = endpoint(6);
    const b = endpoint(7);
    const ca = a.connect(B, 0);
    const cb = b.connect(A, 0);
    const w = new Wire(a, b);
    w.flush();
    expect(ca.state).toBe('ESTABLISHED');
    expect(cb.state).toBe('ESTABLISHED');
    expect(ca.remoteId).toBe(cb.localId);
    expect(cb.remoteId).toBe(ca.localId);
    expect(a.connectionCount).toBe(1);
    expect(b.connectionCount).toBe(1);
    ca.write(new Uint8Array([42]));
    w.flush();
    expect(Array.from(cb.read(1)!)).toEqual([42]);
  });

  it('with a listener, a SYN from a peer we are connecting to is a new passive open, not a simultaneous open', () => {
    const a = endpoint(12);
    const b = endpoint(13);
    a.listen();
    b.listen();
    const ca = a.connect(B, 0);
    const cb = b.connect(A, 0);
    const w = new Wire(a, b);
    w.flush();
    const [sa] = w.accepted(a);
    const [sb] = w.accepted(b);
    expect(ca.remoteId).toBe(sb!.localId);
    expect(cb.remoteId).toBe(sa!.localId);
    expect(a.connectionCount).toBe(2);
    expect(b.connectionCount).toBe(2);
  });

  it('a lost SYN-ACK: the retransmitted SYN matches the half-open connection by address and source id', () => {
    const a = endpoint(8);
    const b = endpoint(9);
    b.listen();
    const w = new Wire(a, b);
    let dropped = 0;
    w.drop = (s) => (s.flags & ~IMMEDIATE_ACK) === (SYN | ACK) && dropped++ === 0;
    const c = a.connect(B, 0);
    w.run(5000);
    expect(c.state).toBe('ESTABLISHED');
    expect(dropped).toBeGreaterThan(1);
    expect(b.connectionCount).toBe(1);
    expect(w.accepted(b)).toHaveLength(1);
  });

  it('50 connections, both directions, one port per endpoint, never see each other’s bytes', () => {
    const net = new SimNetwork({ seed: 11, link: { delay: [1, 4], reorder: 0.1 } });
    const ha = simHost(net, A, { connection: { msl: MSL } });
    const hb = simHost(net, B, { connection: { msl: MSL } });
    ha.endpoint.listen();
    hb.endpoint.listen();
    const N = 25;
    /** The bytes connection `tag` sends: its tag, then a pattern of its own. */
    const payload = (tag: number) => Uint8Array.from({ length: 3000 }, (_, i) => (i < 2 ? [tag >> 8, tag & 255][i]! : (tag * 7 + i) & 255));
    const received = new Map<Connection, Uint8Array[]>();
    const ends = new Set<Connection>();
    const hook = (host: typeof ha) => (ev: EndpointEvent) => {
      if (ev.type === 'accept') received.set(ev.conn, []);
      if (ev.type !== 'conn') return;
      const got = received.get(ev.conn);
      if (ev.ev.type === 'readable' && got) for (let c = ev.conn.read(net.now); c; c = ev.conn.read(net.now)) got.push(c);
      if (ev.ev.type === 'end') {
        ends.add(ev.conn);
        ev.conn.shutdown();
        host.service(ev.conn);
      }
    };
    ha.onEvent = hook(ha);
    hb.onEvent = hook(hb);
    const clients: Array<{ conn: Connection; tag: number; host: typeof ha }> = [];
    for (let i = 0; i < N; i++) {
      clients.push({ conn: ha.connect(B), tag: i, host: ha });
      clients.push({ conn: hb.connect(A), tag: 1000 + i, host: hb });
    }
    for (const cl of clients) {
      expect(cl.conn.write(payload(cl.tag))).toBe(3000);
      cl.conn.shutdown();
      cl.host.service(cl.conn);
    }
    net.run({ until: 60_000 });
    expect(received.size).toBe(2 * N);
    const tags = new Set<number>();
    for (const [conn, parts] of received) {
      const all = Buffer.concat(parts);
      const tag = (all[0]! << 8) | all[1]!;
      expect(Buffer.compare(all, Buffer.from(payload(tag))), `connection ${conn.localId}`).toBe(0);
      tags.add(tag);
    }
    expect(tags.size).toBe(2 * N);
    expect(ends.size).toBe(4 * N);
    // Everything closed and TIME_WAIT expired: both tables are empty.
    for (const h of [ha, hb]) {
      expect(h.endpoint.connectionCount).toBe(0);
      expect(h.endpoint.timeWaitCount).toBe(0);
      expect(h.endpoint.stats.wrongPeer).toBe(0);
    }
  });
});

describe('Endpoint: TIME_WAIT records (RFC 9293 §3.6.1)', () => {
  /** A opens to B, A closes first; B closes on 'end'. A ends in TIME_WAIT. */
  function closeFromA() {
    const { a, b, w, c } = connected(20, 21);
    const [s] = w.accepted(b);
    w.now = 10;
    c.shutdown();
    w.flush();
    w.now = 20;
    s!.shutdown();
    w.flush();
    return { a, b, w, c, s: s! };
  }

  it('the active closer keeps a compact record instead of the connection', () => {
    const { a, b, c, s } = closeFromA();
    expect(s.state).toBe('CLOSED');
    expect(c.state).toBe('TIME_WAIT');
    expect(a.connectionCount).toBe(0);
    expect(a.timeWaitCount).toBe(1);
    expect(b.connectionCount).toBe(0);
    expect(b.timeWaitCount).toBe(0);
  });

  it('the record answers a retransmitted FIN with an ACK and restarts 2·MSL; it ignores RST (RFC 1337)', () => {
    const { a, w, c } = closeFromA();
    const fin = w.log.filter((x) => x.from === B && x.seg.flags & FIN).at(-1)!.seg;
    a.handleDatagram(encode(seg({ flags: RST, dstId: c.localId, srcId: fin.srcId, seq: fin.seq + 1 })), B, 500);
    expect(sent(a)).toEqual([]);
    expect(a.timeWaitCount).toBe(1);
    a.handleDatagram(encode(fin), B, 1500);
    const out = sent(a);
    expect(out).toHaveLength(1);
    expect(out[0]!.seg).toMatchObject({ flags: ACK, seq: c.sndNxt, ack: seqAdd(fin.seq, 1), dstId: fin.srcId, srcId: c.localId });
    expect(a.stats.timeWaitSegments).toBe(2);
    a.handleTimeout(1500 + 2 * MSL - 1);
    expect(a.timeWaitCount).toBe(1);
    a.handleTimeout(1500 + 2 * MSL);
    expect(a.timeWaitCount).toBe(0);
  });

  it('the record expires exactly 2·MSL after the last FIN, then the table is empty', () => {
    const { a, w } = closeFromA();
    const t0 = 20;
    expect(a.nextTimeout()).toBe(t0 + 2 * MSL);
    a.handleTimeout(t0 + 2 * MSL - 1);
    expect(a.timeWaitCount).toBe(1);
    a.handleTimeout(t0 + 2 * MSL);
    expect(a.timeWaitCount).toBe(0);
    expect(a.connectionCount).toBe(0);
    expect(events(a)).toContainEqual({ type: 'timewait-end', localId: w.log[0]!.seg.srcId });
    expect(a.nextTimeout()).toBe(Infinity);
  });

  it('after TIME_WAIT, a segment for the old id gets an RST like any unknown one', () => {
    const { a, c, w } = closeFromA();
    const fin = w.log.filter((x) => x.from === B && x.seg.flags & FIN).at(-1)!.seg;
    a.handleTimeout(5000);
    a.handleDatagram(encode(fin), B, 5000);
    const out = sent(a);
    expect(out).toHaveLength(1);
    expect(out[0]!.seg).toMatchObject({ flags: RST, seq: fin.ack, srcId: c.localId });
  });
});

describe('Endpoint: the transmit path', () => {
  it('datagrams are carved from shared pooled buffers, never overlapping, each decoding to what was sent', () => {
    const { a, c } = connected(30, 31);
    const data = Uint8Array.from({ length: 12_000 }, (_, i) => i & 0xff);
    c.write(data);
    a.service(c, 0);
    const out: Uint8Array[] = [];
    for (let d = a.pollTransmit(); d; d = a.pollTransmit()) out.push(d.data);
    expect(out.length).toBeGreaterThanOrEqual(2);
    // Several datagrams share one backing buffer (one allocation for many segments)...
    expect(new Set(out.map((d) => d.buffer)).size).toBeLessThan(out.length);
    // ...in disjoint byte ranges.
    const ranges = out.filter((d) => d.buffer === out[0]!.buffer).map((d) => [d.byteOffset, d.byteOffset + d.byteLength] as const);
    ranges.sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < ranges.length; i++) expect(ranges[i]![0]).toBeGreaterThanOrEqual(ranges[i - 1]![1]);
    // Every byte of each datagram was written: the payloads decode to the data, in order.
    const got: number[] = [];
    for (const d of out) {
      const r = decode(d);
      expect(r.ok).toBe(true);
      if (r.ok) got.push(...r.segment.payload);
    }
    expect(got).toEqual([...data.subarray(0, got.length)]);
  });

  it('no object per segment: connections build every segment in one object, and a connection has one readable event', () => {
    const { a, b, w, c } = connected(32, 33);
    const [s] = w.accepted(b);
    // Output: one Segment object for every segment of every connection (pollSegment's contract).
    const seen = new Set<Segment>();
    for (const conn of [c, s!]) {
      const poll = conn.pollSegment.bind(conn);
      conn.pollSegment = (now) => {
        const seg = poll(now);
        if (seg) seen.add(seg);
        return seg;
      };
    }
    w.now = 1;
    c.write(new Uint8Array(10_000));
    s!.write(new Uint8Array(3_000));
    w.run(1000);
    expect(a.stats.datagramsOut + b.stats.datagramsOut).toBeGreaterThan(10);
    expect(seen.size).toBe(1);
    expect([...seen][0]!.payload.length).toBe(0); // between segments it holds on to no app data
    // Input: 'readable' once until the app reads (9 segments arrived unread), always the same frozen event.
    const readable = () => w.ev.get(b)!.filter((x) => x.type === 'conn' && x.conn === s && x.ev.type === 'readable');
    expect(readable().length).toBe(1);
    expect(s!.readableLength).toBe(10_000);
    expect(Object.isFrozen(readable()[0])).toBe(true);
    // A read re-arms it: the next arrival raises it again, even with bytes left unread.
    expect(s!.read(w.now, 1000)?.length).toBe(1000);
    c.write(new Uint8Array(3_000));
    w.run(2000);
    expect(s!.readableLength).toBe(12_000);
    expect(readable().length).toBe(2);
    expect(new Set(readable()).size).toBe(1);
  });

  it('transmitTo hands over what a pollTransmit loop would, in order, and empties the queue', () => {
    // Two identical runs (same seeds): one drained by pollTransmit, one by transmitTo.
    const run = (drain: (e: Endpoint) => Array<{ data: Uint8Array; to: Address }>) => {
      const { a, c } = connected(40, 41);
      c.write(Uint8Array.from({ length: 6000 }, (_, i) => (i * 7) & 0xff));
      a.service(c, 0);
      a.connect(C, 1); // a second connection's SYN, to another address
      return { out: drain(a), a };
    };
    const polled = run((e) => {
      const out: Array<{ data: Uint8Array; to: Address }> = [];
      for (let d = e.pollTransmit(); d; d = e.pollTransmit()) out.push({ data: Uint8Array.from(d.data), to: d.to });
      return out;
    });
    const pushed = run((e) => {
      const out: Array<{ data: Uint8Array; to: Address }> = [];
      expect(e.transmitTo({ send: (data, to) => out.push({ data: Uint8Array.from(data), to }) })).toBe(true);
      return out;
    });
    expect(pushed.out.length).toBeGreaterThanOrEqual(3);
    expect(pushed.out).toEqual(polled.out);
    expect(pushed.out.at(-1)!.to).toEqual(C);
    expect(pushed.a.pollTransmit()).toBeUndefined();
    expect(pushed.a.transmitTo({ send: () => expect.unreachable() })).toBe(false);
  });

  it('transmitTo also sends datagrams queued by the sink while it runs, after the ones before them', () => {
    const a = endpoint(42);
    const seen: Address[] = [];
    a.connect(B, 0);
    let nested = false;
    a.transmitTo({
      send: (_d, to) => {
        seen.push(to);
        if (!nested) {
          nested = true;
          a.connect(C, 0); // queues a SYN to C while the first SYN is being handed over
        }
      },
    });
    expect(seen).toEqual([B, C]);
    expect(a.pollTransmit()).toBeUndefined();
  });

  it("with coalesceAcks, a batch of data segments draws one cumulative ACK, at the batch's end", () => {
    const a = endpoint(32);
    const b = endpoint(33, { coalesceAcks: true });
    b.listen();
    const w = new Wire(a, b);
    const c = a.connect(B, 0);
    w.flush();
    const [s] = w.accepted(b);
    expect(s).toBeDefined();
    c.write(new Uint8Array(20_000));
    a.service(c, 0);
    let n = 0;
    let bytes = 0;
    for (let d = a.pollTransmit(); d; d = a.pollTransmit(), n++) {
      const r = decode(d.data);
      if (r.ok) bytes += r.segment.payload.length;
      b.handleDatagram(d.data, A, 2);
      // From the second on, header prediction leaves the segment's work to the batch's end.
      expect(b.deferredInput).toBe(n > 0);
    }
    expect(n).toBeGreaterThanOrEqual(4); // every segment after the second asks for the ACK
    expect(s!.stats.predictedSegments).toBe(n);
    expect(b.batchOpen).toBe(true);
    expect(b.pollTransmit()).toBeUndefined(); // held to the batch's end
    b.endBatch(2);
    expect(b.batchOpen).toBe(false);
    const acks = sent(b);
    expect(acks).toHaveLength(1);
    expect(acks[0]!.seg.ack).toBe(seqAdd(c.iss, 1 + bytes)); // one cumulative ACK for the whole batch
  });
});

describe('datagram memory', () => {
  /** Each connect queues one SYN; hand it to a sink and return the bytes it got. */
  function synVia(e: Endpoint, to: Address, released: boolean | undefined): Uint8Array {
    e.connect(to, 0);
    const got: Uint8Array[] = [];
    const sink = { send: (d: Uint8Array) => void got.push(d), ...(released === undefined ? {} : { released: () => released }) };
    expect(e.transmitTo(sink)).toBe(true);
    expect(got).toHaveLength(1);
    return got[0]!;
  }
  const overlaps = (x: Uint8Array, y: Uint8Array): boolean =>
    x.buffer === y.buffer && x.byteOffset < y.byteOffset + y.length && y.byteOffset < x.byteOffset + x.length;

  it('is reused once the transport says it holds no datagram (released), and only then', () => {
    const e = endpoint(1);
    const first = synVia(e, B, true);
    const copy = first.slice();
    const second = synVia(e, C, true);
    expect(overlaps(first, second)).toBe(true); // same memory: the first left for the OS
    expect(decode(second).ok).toBe(true);
    expect(second).not.toEqual(copy); // overwritten with the second SYN

    for (const released of [false, undefined]) {
      const f = endpoint(2);
      const a = synVia(f, B, released);
      const b = synVia(f, C, released);
      expect(overlaps(a, b)).toBe(false); // the transport may still hold `a`
    }
  });

  it('a datagram taken with pollTransmit is never reused, whatever a later sink says', () => {
    const e = endpoint(3);
    e.connect(B, 0);
    const kept = e.pollTransmit()!.data;
    const copy = kept.slice();
    for (const to of [C, A]) synVia(e, to, true);
    expect(kept).toEqual(copy);
  });
});
