import { describe, expect, it } from 'vitest';
import { ACK, decode, encode, encodedSize, type Segment } from '../../src/wire/segment.js';
import { seqAdd } from '../../src/wire/seq.js';
import { State } from '../../src/protocol/state.js';
import { Prng } from '../../src/sim/prng.js';
import type { Address } from '../../src/endpoint/types.js';
import { CLIENT, SERVER, equalBytes, forgeFromPeer, inject, tapSends, transferPair } from './util.js';

const seed = Number(process.env.FC_SEED ?? 42);
const NEW: Address = { address: '10.0.0.99', port: 3333 };
const EVIL: Address = { address: '10.0.0.66', port: 4444 };

describe('path validation and NAT rebinding (after RFC 9000 §8.2, §9)', () => {
  it('RFC 9000 §9: the client is rebound to a new address mid-transfer; after a path challenge the server follows and the transfer completes intact', () => {
    const p = transferPair({ seed, up: 512 * 1024, down: 128 * 1024, link: { bandwidth: 1_000_000 } });
    const challenges: Address[] = [];
    const sent = tapSends(p.server.host);
    p.net.at(200, () => {
      expect(p.server.sink.length).toBeGreaterThan(0);
      expect(p.server.sink.length).toBeLessThan(p.up.length);
      p.client.host.rebind(p.net.bind(NEW)); // the NAT gave the client a new address
    });
    p.net.run({ until: 120_000 });
    for (const d of sent) {
      const r = decode(d.data);
      if (r.ok && r.segment.pathChallenge) challenges.push(d.to);
    }
    const srv = p.server.host.endpoint;
    expect(p.client.errors).toEqual([]);
    expect(p.server.errors).toEqual([]);
    expect(equalBytes(p.server.sink.bytes(), p.up)).toBe(true);
    expect(equalBytes(p.client.sink.bytes(), p.down)).toBe(true);
    expect(challenges.length).toBeGreaterThanOrEqual(1);
    expect(challenges.every((a) => a.address === NEW.address && a.port === NEW.port)).toBe(true);
    expect(p.client.host.endpoint.stats.pathResponses).toBeGreaterThanOrEqual(1);
    expect(srv.stats.pathMigrations).toBe(1);
    expect(srv.stats.unvalidatedPath).toBeGreaterThan(0); // what arrived before the answer was dropped
    expect([State.CLOSED, State.TIME_WAIT]).toContain(p.server.conn!.state); // closed normally, on the new path
    expect(p.client.sink.ended && p.server.sink.ended).toBe(true);
  });

  it('RFC 9000 §8.2: a perfect forgery from an address that never answers the challenge is dropped, and the connection stays put', () => {
    const p = transferPair({ seed, up: 64 * 1024, down: 64 * 1024, writeDelay: 100 });
    p.net.run({ until: 50 });
    const conn = p.server.conn!;
    const sent = tapSends(p.server.host);
    // Right ids, in-window numbers, a newer timestamp: only the source address is wrong (spoofed; nobody there).
    inject(p.server.host, forgeFromPeer(conn, { payload: new Uint8Array(64).fill(0xee) }), EVIL);
    const challenge = sent.map((d) => ({ to: d.to, r: decode(d.data) })).find((d) => d.r.ok && d.r.segment.pathChallenge);
    expect(challenge?.to).toEqual(EVIL);
    expect(p.server.host.endpoint.remoteOf(conn)).toMatchObject(CLIENT);
    p.net.run({ until: 60_000 });
    expect(equalBytes(p.server.sink.bytes(), p.up)).toBe(true); // no 0xee among them
    expect(equalBytes(p.client.sink.bytes(), p.down)).toBe(true);
    expect(p.server.host.endpoint.stats.pathMigrations).toBe(0);
  });

  it('RFC 9000 §9.3: an attacker at another address replaying captured segments and injecting guessed ones, answering every challenge, cannot take the connection', () => {
    const p = transferPair({ seed, up: 0, down: 512 * 1024, link: { bandwidth: 1_000_000 } });
    const attacker = p.net.bind(EVIL);
    const captured: Uint8Array[] = [];
    const deliver = p.server.host.transport.onMessage!;
    p.server.host.transport.onMessage = (data, from) => {
      if (from.address === CLIENT.address) captured.push(data.slice());
      deliver(data, from);
    };
    let answered = 0;
    attacker.onMessage = (data) => {
      const r = decode(data);
      if (!r.ok || !r.segment.pathChallenge) return;
      // Echo it, as the connection's peer would.
      answered++;
      const s = r.segment;
      attacker.send(encode({ ...s, dstId: s.srcId, srcId: s.dstId, pathChallenge: undefined, pathResponse: s.pathChallenge }), SERVER);
    };
    const r = new Prng(seed);
    for (let t = 100; t < 600; t += 2) {
      p.net.at(t, () => {
        // A replay of something the client sent 20-100 ms ago (pure ACKs: their numbers are still in window).
        const old = captured[Math.max(0, captured.length - 1 - r.int(2, 10))];
        if (old) attacker.send(old, SERVER);
        // And a guess: right ids, random numbers.
        const c = p.server.conn!;
        attacker.send(
          encode({
            flags: ACK,
            dstId: c.localId,
            srcId: c.remoteId,
            seq: r.u32(),
            ack: r.u32(),
            window: 1 << 20,
            tsVal: r.u32(),
            tsEcr: 0,
            payload: new Uint8Array(0),
          }),
          SERVER,
        );
      });
    }
    p.net.run({ until: 120_000 });
    const srv = p.server.host.endpoint;
    expect(captured.length).toBeGreaterThan(50);
    expect(srv.stats.unvalidatedPath).toBeGreaterThan(400);
    expect(srv.stats.pathChallenges).toBe(0); // replays are not fresh, guesses not acceptable
    expect(answered).toBe(0);
    expect(srv.stats.pathMigrations).toBe(0);
    expect(equalBytes(p.client.sink.bytes(), p.down)).toBe(true);
    expect(p.client.errors).toEqual([]);
  });

  it("RFC 9000 §9.3.3: a fresh segment from the peer's own address cancels a validation in progress, so a late response moves nothing", () => {
    const p = transferPair({ seed, up: 0, down: 0, writeDelay: 1e9, link: { delay: [5, 5] } });
    p.net.run({ until: 50 });
    const conn = p.server.conn!;
    const sent = tapSends(p.server.host);
    inject(p.server.host, forgeFromPeer(conn), EVIL); // an attacker who knows every number
    const ch = sent.map((d) => decode(d.data)).find((d) => d.ok && d.segment.pathChallenge);
    expect(ch?.ok).toBe(true);
    const challenge = ch!.ok ? ch!.segment : (undefined as never);
    // The real client speaks first: a segment as fresh as the attacker's, from its own address.
    inject(p.server.host, forgeFromPeer(conn, { tsVal: seqAdd(conn.tsRecentValue, 1000) }), CLIENT);
    // The attacker's (correct) response arrives after that.
    const response: Segment = { ...forgeFromPeer(conn), pathResponse: challenge.pathChallenge };
    inject(p.server.host, response, EVIL);
    expect(p.server.host.endpoint.stats.pathMigrations).toBe(0);
    expect(p.server.host.endpoint.remoteOf(conn)).toMatchObject(CLIENT);
    // Had the client stayed silent, a response would have moved the connection (an attacker on the path can do that).
    inject(p.server.host, forgeFromPeer(conn), EVIL);
    const again = sent.map((d) => decode(d.data)).filter((d) => d.ok && d.segment.pathChallenge);
    expect(again.length).toBe(2);
    const last = again[1]!.ok ? again[1]!.segment : (undefined as never);
    inject(p.server.host, { ...forgeFromPeer(conn), pathResponse: last.pathChallenge }, EVIL);
    expect(p.server.host.endpoint.remoteOf(conn)).toMatchObject(EVIL);
  });

  it('path challenges are rate limited per connection and never exceed 3x the bytes from the new address (RFC 9000 §8)', () => {
    const p = transferPair({ seed, up: 0, down: 0, writeDelay: 1e9 });
    p.net.run({ until: 50 });
    const conn = p.server.conn!;
    const sent = tapSends(p.server.host);
    let rx = 0;
    for (let i = 0; i < 200; i++) {
      const seg = forgeFromPeer(conn, { tsVal: seqAdd(conn.tsRecentValue, 10 + i) });
      rx += encodedSize(seg);
      inject(p.server.host, seg, EVIL);
    }
    const toEvil = sent.filter((d) => d.to.address === EVIL.address);
    expect(toEvil.length).toBe(1); // one per RTO (≥ 200 ms), and no time passed
    expect(toEvil.reduce((n, d) => n + d.data.length, 0)).toBeLessThanOrEqual(3 * rx);
    expect(p.server.host.endpoint.stats.pathChallengesLimited).toBe(199);
    // A minimal datagram (32-byte header) cannot buy a challenge bigger than 96 bytes.
    const one = encodedSize(forgeFromPeer(conn));
    const challenge = decode(toEvil[0]!.data);
    expect(challenge.ok && toEvil[0]!.data.length <= 3 * one).toBe(true);
  });
});
