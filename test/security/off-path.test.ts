import { describe, expect, it } from 'vitest';
import { Prng } from '../../src/sim/prng.js';
import { ACK, FIN, RST, SYN, decode, type Segment } from '../../src/wire/segment.js';
import { seqAdd } from '../../src/wire/seq.js';
import { State } from '../../src/protocol/state.js';
import { CLIENT, SERVER, equalBytes, forgeFromPeer, inject, tapSends, transferPair, type Pair } from './util.js';

const seed = Number(process.env.FC_SEED ?? 42);

function delivered(p: Pair): void {
  expect(p.client.errors).toEqual([]);
  expect(p.server.errors).toEqual([]);
  expect(equalBytes(p.server.sink.bytes(), p.up)).toBe(true);
  expect(equalBytes(p.client.sink.bytes(), p.down)).toBe(true);
  expect(p.client.sink.ended && p.server.sink.ended).toBe(true);
}

/** An established pair, idle (no data yet): returns it with both connections. */
function established(s = seed): Pair {
  const p = transferPair({ seed: s, up: 0, down: 0, writeDelay: 1e9 });
  p.net.run({ until: 100 });
  expect(p.server.conn?.state).toBe(State.ESTABLISHED);
  return p;
}

describe('off-path attacks (RFC 5961, docs/ARCHITECTURE.md, invariant 9)', () => {
  it('RFC 5961: 20,000 blind RST/SYN/ACK/FIN/data segments with guessed ids and numbers never abort or corrupt a transfer', () => {
    const p = transferPair({ seed, up: 256 * 1024, down: 256 * 1024, link: { bandwidth: 2_000_000 } });
    const r = new Prng(seed ^ 0x5eed);
    const kinds = [RST, RST | ACK, SYN, SYN | ACK, ACK, ACK | FIN, ACK, ACK];
    let stolen = 0;
    // From the moment both ends are established (the SYN_SENT window is the next test's).
    for (let i = 0; i < 20_000; i++) {
      p.net.at(30 + r.int(0, 400), () => {
        const toServer = r.chance(0.5);
        const victim = toServer ? p.server : p.client;
        const conn = victim.conn;
        const flags = kinds[r.int(0, kinds.length - 1)]!;
        // Half the time the attacker knows the connection ids (they are not secret on the path): only the numbers are guessed.
        const knowIds = conn !== undefined && r.chance(0.5);
        if (knowIds) stolen++;
        const seg: Segment = {
          flags,
          dstId: flags === SYN ? 0 : knowIds ? conn.localId : r.u32(),
          srcId: knowIds ? conn.remoteId : r.u32(),
          seq: r.u32(),
          ack: r.u32(),
          window: r.u32(),
          tsVal: r.u32(),
          tsEcr: r.u32(),
          payload: flags & RST || r.chance(0.5) ? new Uint8Array(0) : new Uint8Array(r.int(1, 1000)).fill(0xee),
        };
        // Spoofed as the real peer, mostly; sometimes from anywhere.
        const from = r.chance(0.8) ? (toServer ? CLIENT : SERVER) : { address: `10.9.${r.int(0, 255)}.${r.int(1, 254)}`, port: r.int(1, 65535) };
        inject(victim.host, seg, from);
      });
    }
    p.net.run({ until: 120_000 });
    delivered(p);
    expect(stolen).toBeGreaterThan(5_000);
    // The attack reached the RFC 5961 checks: it drew (rate-limited) challenge ACKs.
    const challenges = p.server.conn!.stats.challengeAcks + p.client.conn!.stats.challengeAcks;
    expect(challenges).toBeGreaterThan(0);
    expect(p.client.states).not.toContain(State.LISTEN);
  });

  it('RFC 5961 §3.2: an in-window RST that is not an exact match earns a challenge ACK; only the exact one resets', () => {
    const p = established();
    const conn = p.server.conn!;
    const sent = tapSends(p.server.host);
    inject(p.server.host, forgeFromPeer(conn, { flags: RST, seq: seqAdd(conn.rcvNxt, 1), tsVal: 0 }), CLIENT);
    expect(conn.state).toBe(State.ESTABLISHED);
    expect(conn.stats.challengeAcks).toBe(1);
    const ack = decode(sent.at(-1)!.data);
    expect(ack.ok && ack.segment.flags === ACK && ack.segment.ack === conn.rcvNxt).toBe(true);
    inject(p.server.host, forgeFromPeer(conn, { flags: RST, tsVal: 0 }), CLIENT);
    expect(conn.state).toBe(State.CLOSED);
    expect(p.server.errors).toEqual(['ECONNRESET']);
  });

  it('RFC 5961 §4: a SYN on an established connection earns an ACK (a challenge when in window), never a reset', () => {
    const p = established();
    const conn = p.server.conn!;
    const sent = tapSends(p.server.host);
    const seqs = [0, 12345, seqAdd(conn.rcvNxt, 10), conn.rcvNxt];
    for (const seq of seqs) inject(p.server.host, { ...forgeFromPeer(conn), flags: SYN, dstId: 0, seq, mss: 1200 }, CLIENT);
    expect(conn.state).toBe(State.ESTABLISHED);
    expect(conn.stats.challengeAcks).toBeGreaterThanOrEqual(2);
    const acks = sent.map((d) => decode(d.data)).filter((d) => d.ok && d.segment.flags === ACK && d.segment.ack === conn.rcvNxt);
    expect(acks.length).toBe(seqs.length);
    expect(p.server.host.endpoint.connectionCount).toBe(1);
  });

  it('a forged simultaneous-open SYN cannot hijack an active open: the real SYN-ACK replaces it', () => {
    const p = transferPair({ seed, up: 10_000, down: 10_000, link: { delay: [5, 5] } });
    // 2 ms after our SYN, a SYN "from the server" reaches the client (an attacker who knows both ports).
    // The real SYN-ACK is back at 10 ms; the RST the server sends for our answer to the forgery, at 12.
    p.net.at(2, () =>
      inject(
        p.client.host,
        { flags: SYN, dstId: 0, srcId: 0xbad, seq: 0xdead, ack: 0, window: 1000, tsVal: 1, tsEcr: 0, mss: 500, payload: new Uint8Array(0) },
        SERVER,
      ),
    );
    p.net.run({ until: 3 });
    expect(p.client.conn!.state).toBe(State.SYN_RECEIVED);
    p.net.run({ until: 60_000 });
    delivered(p);
    expect(p.client.conn!.mss).toBe(1200); // the forged SYN's MSS was dropped with it
  });

  it('RFC 5961 §5: in-window data with an unacceptable ACK is dropped; the same data with a good ACK is taken', () => {
    const p = established();
    const conn = p.server.conn!;
    const evil = new Uint8Array(100).fill(0xee);
    inject(p.server.host, forgeFromPeer(conn, { ack: seqAdd(conn.sndNxt, 100_000), payload: evil }), CLIENT);
    inject(p.server.host, forgeFromPeer(conn, { ack: seqAdd(conn.sndUna, -(2 ** 30)), payload: evil }), CLIENT);
    expect(p.server.sink.length).toBe(0);
    expect(conn.stats.challengeAcks).toBe(2);
    // What the check stops: an attacker who also knows SND.NXT (one on the path) gets data in.
    inject(p.server.host, forgeFromPeer(conn, { payload: evil }), CLIENT);
    expect(p.server.sink.length).toBe(100);
  });

  it('RFC 5961 §7: challenge ACKs are rate limited per connection', () => {
    const p = established();
    const conn = p.server.conn!;
    const limit = conn.opts.challengeAckLimit;
    for (let i = 0; i < 500; i++) inject(p.server.host, forgeFromPeer(conn, { flags: RST, seq: seqAdd(conn.rcvNxt, 1 + i), tsVal: 0 }), CLIENT);
    expect(conn.stats.challengeAcks).toBe(limit);
    p.net.run({ until: p.net.now + 1_001 });
    for (let i = 0; i < 500; i++) inject(p.server.host, forgeFromPeer(conn, { flags: RST, seq: seqAdd(conn.rcvNxt, 1 + i), tsVal: 0 }), CLIENT);
    expect(conn.stats.challengeAcks).toBe(2 * limit);
    expect(conn.state).toBe(State.ESTABLISHED);
  });

  it('segments with the right ids from another address are never taken as data or RST', () => {
    const p = established();
    const conn = p.server.conn!;
    const X = { address: '10.6.6.6', port: 666 };
    inject(p.server.host, forgeFromPeer(conn, { payload: new Uint8Array(50).fill(0xee) }), X);
    inject(p.server.host, forgeFromPeer(conn, { flags: RST, tsVal: 0 }), X);
    inject(p.server.host, forgeFromPeer(conn, { flags: RST | ACK, tsVal: 0 }), X);
    expect(p.server.sink.length).toBe(0);
    expect(conn.state).toBe(State.ESTABLISHED);
    expect(p.server.host.endpoint.stats.unvalidatedPath).toBe(3);
  });
});
