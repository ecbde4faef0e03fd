import { describe, expect, it } from 'vitest';
import { SimNetwork, simHost } from '../../src/sim/index.js';
import { Prng } from '../../src/sim/prng.js';
import { Endpoint } from '../../src/endpoint/endpoint.js';
import { COOKIE_PERIOD } from '../../src/endpoint/cookies.js';
import type { Address } from '../../src/endpoint/types.js';
import type { Connection } from '../../src/protocol/connection.js';
import { State } from '../../src/protocol/state.js';
import { ACK, RST, SYN, decode, encode, type Segment } from '../../src/wire/segment.js';
import { seqAdd } from '../../src/wire/seq.js';
import { prngEnv } from '../../src/sim/prng.js';
import { CLIENT, SERVER, Sink, equalBytes, inject, pattern, tapSends } from './util.js';

const seed = Number(process.env.FC_SEED ?? 42);
const spoofed = (i: number): Address => ({ address: `10.${1 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`, port: 40000 + (i % 1000) });

function syn(r: Prng, extra: Partial<Segment> = {}): Segment {
  return {
    flags: SYN,
    dstId: 0,
    srcId: r.u32() || 1,
    seq: r.u32(),
    ack: 0,
    window: 65535,
    tsVal: r.u32(),
    tsEcr: 0,
    mss: 1200,
    sackPermitted: true,
    payload: new Uint8Array(0),
    ...extra,
  };
}

/** The final ACK a client would send for `synAck`, answering `s`. */
function finalAck(s: Segment, synAck: Segment, over: Partial<Segment> = {}): Segment {
  return {
    flags: ACK,
    dstId: synAck.srcId,
    srcId: s.srcId,
    seq: seqAdd(s.seq, 1),
    ack: seqAdd(synAck.seq, 1),
    window: 65535,
    tsVal: seqAdd(s.tsVal, 5),
    tsEcr: synAck.tsVal,
    payload: new Uint8Array(0),
    ...over,
  };
}

function flooded(backlog: number, n: number) {
  const net = new SimNetwork({ seed, trace: false, link: { delay: [5, 5] } });
  const server = simHost(net, SERVER, { backlog });
  server.endpoint.listen();
  const sent = tapSends(server);
  const r = new Prng(seed);
  const syns: Segment[] = [];
  for (let i = 0; i < n; i++) {
    const s = syn(r);
    syns.push(s);
    inject(server, s, spoofed(i));
  }
  return { net, server, sent, syns };
}

/** A client that connects, writes `data`, and collects the echo. */
function echoClient(net: SimNetwork, mss = 1200) {
  const client = simHost(net, CLIENT, { connection: { mss, maxMss: mss } });
  const sink = new Sink();
  let establishedAt = -1;
  const conn = client.connect(SERVER);
  client.onEvent = (ev) => {
    if (ev.type !== 'conn' || ev.conn !== conn) return;
    if (ev.ev.type === 'established') {
      establishedAt = net.now;
      conn.write(pattern(5000, 3));
      conn.shutdown();
      client.service(conn);
    }
    if (ev.ev.type === 'readable') sink.take(conn, net.now);
  };
  return { client, conn, sink, establishedAt: () => establishedAt };
}

function echoServer(server: ReturnType<typeof simHost>, net: SimNetwork): Connection[] {
  const accepted: Connection[] = [];
  server.onEvent = (ev) => {
    if (ev.type === 'accept') accepted.push(ev.conn);
    if (ev.type !== 'conn' || !accepted.includes(ev.conn)) return;
    if (ev.ev.type === 'readable') {
      let c: Uint8Array | null;
      while ((c = ev.conn.read(net.now))) ev.conn.write(c);
    }
    if (ev.ev.type === 'end') ev.conn.shutdown();
    server.service(ev.conn);
  };
  return accepted;
}

describe('SYN floods (RFC 4987) and amplification (RFC 9000 §8)', () => {
  it('RFC 4987 §3.6: past the backlog the listener answers with SYN cookies, keeps no state, and a real client still connects at once', () => {
    const { net, server, sent } = flooded(8, 2_000);
    expect(server.endpoint.connectionCount).toBe(8);
    expect(server.endpoint.stats.synCookiesSent).toBe(2_000 - 8);
    expect(sent.length).toBe(2_000); // one SYN-ACK each, stateful or not
    const accepted = echoServer(server, net);
    const c = echoClient(net, 1000);
    net.run({ until: 2_000 });
    // One round trip for the handshake (10 ms), no waiting for the half-open queue to drain.
    expect(c.establishedAt()).toBe(10);
    expect(server.endpoint.stats.synCookiesAccepted).toBe(1);
    expect(accepted.length).toBe(1);
    expect(accepted[0]!.mss).toBe(1000); // the MSS travelled in the cookie
    expect(equalBytes(c.sink.bytes(), pattern(5000, 3))).toBe(true);
  });

  it('RFC 4987 §3.6: a cookie connection carries data both ways under loss (SACK and MSS restored from the cookie)', () => {
    const net = new SimNetwork({ seed, trace: false, link: { delay: [5, 15], loss: 0.05, reorder: 0.05 } });
    const server = simHost(net, SERVER, { backlog: 0 }); // every open is a cookie open
    server.endpoint.listen();
    echoServer(server, net);
    const serverSent = tapSends(server);
    const client = simHost(net, CLIENT);
    const data = pattern(300_000, 9);
    const conn = client.connect(SERVER);
    const sink = new Sink();
    let off = 0;
    const pump = (): void => {
      while (off < data.length) {
        const n = conn.write(data.subarray(off, off + 16384));
        if (n === 0) break;
        off += n;
      }
      if (off === data.length) conn.shutdown();
      client.service(conn);
    };
    client.onEvent = (ev) => {
      if (ev.type !== 'conn' || ev.conn !== conn) return;
      if (ev.ev.type === 'established' || ev.ev.type === 'writable') pump();
      if (ev.ev.type === 'readable') sink.take(conn, net.now);
    };
    net.run({ until: 300_000 });
    expect(server.endpoint.stats.synCookiesAccepted).toBe(1);
    expect(equalBytes(sink.bytes(), data)).toBe(true);
    // The server SACKs the client's holes: SACK-permitted came back through the cookie.
    expect(
      serverSent.some((d) => {
        const r = decode(d.data);
        return r.ok && r.segment.sack !== undefined;
      }),
    ).toBe(true);
  });

  it('RFC 4987: forged or altered cookie ACKs open nothing; the genuine one opens exactly one connection', () => {
    const { net, server, sent, syns } = flooded(0, 50);
    const synAck = (i: number): Segment => {
      const d = sent.find((x) => x.to.address === spoofed(i).address);
      const r = decode(d!.data);
      if (!r.ok) throw new Error('bad SYN-ACK');
      return r.segment;
    };
    const r = new Prng(seed + 1);
    for (let i = 0; i < 50; i++) {
      const s = syns[i]!;
      const sa = synAck(i);
      const forgeries: Array<[Partial<Segment>, Address]> = [
        [{ ack: seqAdd(sa.seq, 2) }, spoofed(i)],
        [{ seq: seqAdd(s.seq, 2) }, spoofed(i)],
        [{ srcId: (s.srcId + 1) >>> 0 }, spoofed(i)],
        [{ dstId: (sa.srcId ^ 1) >>> 0 }, spoofed(i)],
        [{}, spoofed(i + 1)], // replayed from another address
        [{ dstId: r.u32(), ack: r.u32() }, spoofed(i)],
      ];
      for (const [over, from] of forgeries) inject(server, finalAck(s, sa, over), from);
    }
    expect(server.endpoint.connectionCount).toBe(0);
    expect(server.endpoint.stats.synCookiesAccepted).toBe(0);
    inject(server, finalAck(syns[7]!, synAck(7)), spoofed(7));
    expect(server.endpoint.connectionCount).toBe(1);
    expect(server.endpoint.stats.synCookiesAccepted).toBe(1);
    expect([...server.endpoint.connections()][0]!.state).toBe(State.ESTABLISHED);
    void net;
  });

  it('a SYN-ACK with destination id 0 opens nothing and takes no backlog slot (it answers no SYN of ours)', () => {
    const { net, server } = flooded(4, 0);
    const r = new Prng(seed);
    for (let i = 0; i < 100; i++) inject(server, syn(r, { flags: SYN | ACK, ack: r.u32() }), spoofed(i));
    expect(server.endpoint.connectionCount).toBe(0);
    expect(server.endpoint.stats.noConnection).toBe(100);
    const c = echoClient(net);
    net.run({ until: 1_000 });
    expect(c.establishedAt()).toBe(10);
    expect(server.endpoint.stats.synCookiesSent).toBe(0); // the backlog was still free
  });

  it('RFC 4987: a cookie expires after two counter periods', () => {
    const { net, server, sent, syns } = flooded(0, 2);
    const r = decode(sent[0]!.data);
    if (!r.ok) throw new Error('bad SYN-ACK');
    net.run({ until: 2 * COOKIE_PERIOD + 1 });
    // Keep cookies "recently sent" so only the age of this one matters.
    inject(server, syn(new Prng(5)), spoofed(99));
    inject(server, finalAck(syns[0]!, r.segment), spoofed(0));
    expect(server.endpoint.connectionCount).toBe(0);
    expect(server.endpoint.stats.synCookiesAccepted).toBe(0);
  });

  it('RFC 9000 §8: SYN-ACK retransmissions to an unvalidated peer stop at 3x the bytes it sent', () => {
    const net = new SimNetwork({ seed, trace: false });
    const server = simHost(net, SERVER, { backlog: 16 });
    server.endpoint.listen();
    const sent = tapSends(server);
    const X = spoofed(1);
    const first = encode(syn(new Prng(1)));
    inject(server, first, X);
    net.run({ until: 200_000 }); // all of the SYN-ACK retries (5, backing off from 1 s)
    const bytesOut = sent.filter((d) => d.to.address === X.address).reduce((n, d) => n + d.data.length, 0);
    expect(bytesOut).toBeGreaterThan(0);
    expect(bytesOut).toBeLessThanOrEqual(3 * first.length);
    expect(server.endpoint.stats.amplificationLimited).toBeGreaterThan(0);
    expect(server.endpoint.connectionCount).toBe(0); // and the half-open entry is gone in the end
  });

  it('RST and cookie replies are never bigger than the datagram that caused them (RSTs) or 3x it (anything)', () => {
    const r = new Prng(seed);
    const ep = new Endpoint(prngEnv(new Prng(seed + 7)), { backlog: 2 });
    ep.listen();
    let rsts = 0;
    for (let i = 0; i < 5_000; i++) {
      const flags = [SYN, ACK, RST, ACK | RST, SYN | ACK][r.int(0, 4)]!;
      const seg: Segment = {
        flags,
        dstId: flags === SYN ? 0 : r.u32(),
        srcId: r.u32(),
        seq: r.u32(),
        ack: r.u32(),
        window: r.u32(),
        tsVal: r.u32(),
        tsEcr: r.u32(),
        mss: flags & SYN && r.chance(0.5) ? r.int(0, 0xffff) : undefined,
        payload: flags & RST || r.chance(0.5) ? new Uint8Array(0) : new Uint8Array(r.int(1, 64)),
      };
      const data = encode(seg);
      ep.handleDatagram(data, spoofed(i), i);
      for (let d = ep.pollTransmit(); d; d = ep.pollTransmit()) {
        const out = decode(d.data);
        expect(d.data.length).toBeLessThanOrEqual(3 * data.length);
        if (out.ok && out.segment.flags & RST) {
          rsts++;
          expect(d.data.length).toBeLessThanOrEqual(data.length);
        }
      }
    }
    expect(rsts).toBeGreaterThan(1_000);
  });
});
