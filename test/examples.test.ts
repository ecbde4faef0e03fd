// Every example runs as its own process (tsx), exits by itself with status 0
// and prints what it claims: the examples are documentation that must work.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../examples/lib/netlab.js';

function runExample(name: string, args: string[] = [], timeoutMs = 40_000): Promise<{ code: number | null; out: string }> {
  return new Promise((done, fail) => {
    // node with tsx's loader, not the tsx CLI, whose node child a SIGKILL would orphan.
    const p = spawn(process.execPath, ['--import', 'tsx', resolve(REPO_ROOT, 'examples', name), ...args], { cwd: REPO_ROOT });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', fail);
    p.on('close', (code) => {
      clearTimeout(timer);
      done({ code, out });
    });
  });
}

/** Exit status 0, with the output in the failure message. */
function expectOk(r: { code: number | null; out: string }): void {
  expect(r.code, r.out).toBe(0);
}

describe('examples run and do what they say', () => {
  it('echo.ts: the echoed bytes equal the bytes sent (node:net API, server and client)', async () => {
    const r = await runExample('echo.ts');
    expectOk(r);
    expect(r.out).toMatch(/client: connected 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+/);
    expect(r.out).toContain('client: echo "bytes in order, exactly once"');
    expect(r.out).toMatch(/echo round trip: sent (\d+) bytes, got \1 back, match/);
  });

  it("file-transfer.ts: 2 MiB arrive with the sender's SHA-256", async () => {
    const r = await runExample('file-transfer.ts', ['--size', '2MiB']);
    expectOk(r);
    const sent = /sent {5}sha256 ([0-9a-f]{64})/.exec(r.out)?.[1];
    const got = /received sha256 ([0-9a-f]{64})/.exec(r.out)?.[1];
    expect(sent, r.out).toBeDefined();
    expect(got).toBe(sent);
    expect(r.out).toMatch(/sha256 match: 2097152 bytes/);
    expect(r.out).toMatch(/received 2\.00 MiB \/ 2\.00 MiB \(100\.0%\)/);
  });

  it('http.ts: node:http over reliable-dgram answers HTTP 200 on one kept-alive connection', async () => {
    const r = await runExample('http.ts');
    expectOk(r);
    expect(r.out).toContain('GET /hello -> HTTP 200 text/plain: hello from node:http over reliable-dgram');
    expect(r.out).toContain('POST /echo -> HTTP 200: you sent 20 bytes: ping from the client');
    expect(r.out).toMatch(/POST \/big \(300000 bytes\) -> HTTP 200: you sent 300000 bytes/);
    expect(r.out).toContain('3 requests over 1 reliable-dgram connection(s)');
  });

  it('tls.ts: TLS over reliable-dgram authorizes the self-signed certificate and round-trips', async () => {
    const r = await runExample('tls.ts');
    expectOk(r);
    expect(r.out).toMatch(/TLS authorized: true \(TLSv1\.[23], /);
    expect(r.out).toContain('client got: "secure echo: hello through TLS over UDP"');
  });

  it('simultaneous-open.ts: RFC 9293 §3.5 two peers that open to each other at once get one connection', async () => {
    const r = await runExample('simultaneous-open.ts');
    expectOk(r);
    expect(r.out).toContain('nobody listens');
    expect(r.out).toContain('simultaneous open: connected (each side went SYN_SENT -> SYN_RECEIVED -> ESTABLISHED)');
    expect(r.out).toMatch(/^A: CLOSED -> SYN_SENT -> SYN_RECEIVED -> ESTABLISHED -> /m);
    expect(r.out).toMatch(/^B: CLOSED -> SYN_SENT -> SYN_RECEIVED -> ESTABLISHED -> /m);
    expect(r.out).toContain('A got "hello from B"');
    expect(r.out).toContain('B got "hello from A"');
  });

  it('sim-property.ts: a user-defined fast-check property over a lossy simulated link holds', async () => {
    const r = await runExample('sim-property.ts');
    expectOk(r);
    expect(r.out).toMatch(/checked \d+ cases .* arrive intact, and both sides close without error/);
  });

  describe('demo.ts --relay (small)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rdgram-demo-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('raw UDP loses, duplicates and reorders through the relay; reliable-dgram delivers everything intact', async () => {
      const svg = join(dir, 'comparison.svg');
      const r = await runExample('demo.ts', ['--relay', '--size', '256k', '--messages', '300', '--json', '--out', svg]);
      expectOk(r);
      expect(r.out).toContain('mode: relay');
      const line = r.out.split('\n').find((l) => l.startsWith('RESULT '));
      expect(line, r.out).toBeDefined();
      interface Side {
        file: { size: number; bytesMissing: number; sha256Match: boolean; chunks: { duplicates: number; outOfOrder: number } };
        messages: { intact: boolean; score: { total: number; unique: number; missing: number; duplicates: number; outOfOrder: number } };
        datagrams: { file: number; messages: number };
      }
      const res = JSON.parse(line!.slice('RESULT '.length)) as { mode: string; raw: Side; reliable: Side };
      // Raw UDP: the relay's 5% loss shows as missing data and a broken hash.
      expect(res.raw.file.bytesMissing + res.raw.messages.score.missing).toBeGreaterThan(0);
      expect(res.raw.file.sha256Match).toBe(false);
      expect(res.raw.messages.intact).toBe(false);
      // The same relay duplicated and reordered some datagrams, and raw UDP passed that on.
      expect(res.raw.file.chunks.duplicates + res.raw.messages.score.duplicates).toBeGreaterThan(0);
      expect(res.raw.file.chunks.outOfOrder + res.raw.messages.score.outOfOrder).toBeGreaterThan(0);
      // reliable-dgram: everything, once, in order.
      expect(res.reliable.file.size).toBe(256 * 1024);
      expect(res.reliable.file.bytesMissing).toBe(0);
      expect(res.reliable.file.sha256Match).toBe(true);
      expect(res.reliable.messages.score).toEqual({ total: 300, unique: 300, missing: 0, duplicates: 0, outOfOrder: 0 });
      expect(res.reliable.messages.intact).toBe(true);
      // Raw UDP sends one datagram per chunk and per message, no more; the
      // stream's count includes ACKs and retransmissions (more than one per chunk here).
      expect(res.raw.datagrams).toEqual({ file: Math.ceil((256 * 1024) / 1200), messages: 300 });
      expect(res.reliable.datagrams.file).toBeGreaterThan(res.raw.datagrams.file);
      expect(r.out).toContain('reliable-dgram: intact: sha256 match, every message once and in order');
      expect(existsSync(svg)).toBe(true);
      const text = readFileSync(svg, 'utf8');
      expect(text.startsWith('<svg')).toBe(true);
      expect(text).toContain('raw UDP (node:dgram)');
      expect(text).toContain('reliable-dgram');
    });
  });
});
