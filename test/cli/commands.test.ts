// The other commands as a user runs them: help and version, bad arguments,
// send/recv with sha256 on both sides and a log-friendly progress format,
// perf (text, JSON, reverse, parallel, over the simulator) and demo.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, ensureBuilt, listening, ROOT } from './run.js';

const dir = mkdtempSync(join(tmpdir(), 'rd-cli-'));
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

beforeAll(() => ensureBuilt(), 150_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('help, version and bad arguments', () => {
  it("--version prints package.json's version", async () => {
    const c = cli(['--version']);
    expect(await c.exited).toBe(0);
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(c.stdout().toString()).toBe(`reliable-dgram ${version}\n`);
  });

  it.each(['listen', 'connect', 'send', 'recv', 'perf', 'demo'])('%s --help: its usage on stdout, exit 0', async (cmd) => {
    const c = cli([cmd, '--help']);
    expect(await c.exited).toBe(0);
    expect(c.stdout().toString()).toMatch(new RegExp(`^Usage: reliable-dgram ${cmd}`));
    expect(c.stdout().toString()).toContain('--cc cubic-lt|cubic|newreno|bbr');
  });

  it('--help lists every command', async () => {
    const c = cli(['--help']);
    expect(await c.exited).toBe(0);
    for (const cmd of ['listen', 'connect', 'send', 'recv', 'perf server', 'perf client', 'demo']) expect(c.stdout().toString()).toContain(`  ${cmd} `);
  });

  it.each([
    [[], /Usage: reliable-dgram <command>/],
    [['frob'], /unknown command 'frob'/],
    [['listen'], /listen: missing PORT/],
    [['listen', '70000'], /invalid port '70000'/],
    [['listen', '--bogus', '7000'], /Unknown option '--bogus'/],
    [['connect', '127.0.0.1'], /connect: missing PORT/],
    [['connect', '127.0.0.1', '7000', 'extra'], /unexpected argument 'extra'/],
    [['connect', '--cc', 'vegas', '127.0.0.1', '7000'], /invalid --cc 'vegas'/],
    [['connect', '--mss', '12', '127.0.0.1', '7000'], /invalid --mss '12'/],
    [['send', 'f', '--sim', 'loss=2'], /loss is a probability from 0 to 1/],
    [['send', 'f', '--sim', 'jitter=3'], /unknown key 'jitter'/],
    [['perf'], /missing server or client/],
    [['perf', 'client', '127.0.0.1', '7000', '--time', '1', '--bytes', '1M'], /--time or --bytes, not both/],
    [['perf', 'client', '127.0.0.1', '7000', '--bytes', 'lots'], /invalid --bytes 'lots'/],
    [['recv', '--sim', 'loss=0', '7000'], /--sim runs both ends in one process/],
  ] as [string[], RegExp][])('%j: the error and a usage line on stderr, exit 2', async (args, re) => {
    const c = cli(args);
    expect(await c.exited).toBe(2);
    expect(c.stderr()).toMatch(re);
    expect(c.stderr()).toMatch(/Usage: reliable-dgram/);
    expect(c.stdout().length).toBe(0);
  });

  it('a file that cannot be read: a clear message, exit 1', async () => {
    const c = cli(['send', join(dir, 'missing.bin'), '127.0.0.1', '9']);
    expect(await c.exited).toBe(1);
    expect(c.stderr()).toMatch(/cannot read '.*missing\.bin': ENOENT/);
  });
});

describe('send and recv', () => {
  it('a file arrives intact; both sides print the same sha256 and the sender says match', async () => {
    const data = randomBytes(2_000_000);
    const src = join(dir, 'src.bin');
    const dst = join(dir, 'dst.bin');
    writeFileSync(src, data);
    const r = cli(['recv', '--host', '127.0.0.1', '0', dst], { stdin: null });
    const port = await listening(r);
    const s = cli(['send', src, '127.0.0.1', String(port)]);
    expect(await s.exited, s.stderr()).toBe(0);
    expect(await r.exited, r.stderr()).toBe(0);
    expect(sha(readFileSync(dst))).toBe(sha(data));
    expect(s.stderr()).toContain(`sent 2000000 bytes (1.91 MiB) in `);
    expect(s.stderr()).toContain(`sha256 ${sha(data)}`);
    expect(r.stderr()).toMatch(new RegExp(`received 2000000 bytes .* sha256 ${sha(data)}`));
    expect(s.stderr()).toContain('receiver sha256 match');
  });

  it('recv exits 0 only once its file is written, after the sender has closed (a slow disk)', async () => {
    const data = randomBytes(300_000);
    const src = join(dir, 'slow-src.bin');
    const dst = join(dir, 'slow-dst.bin');
    writeFileSync(src, data);
    // Every asynchronous fs.write in the receiver completes 100 ms late: the connection closes first.
    const r = cli(['recv', '--host', '127.0.0.1', '0', dst], { stdin: null, nodeArgs: ['--import', join(ROOT, 'test', 'fixtures', 'slow-write.mjs')] });
    const port = await listening(r);
    const s = cli(['send', src, '127.0.0.1', String(port)]);
    expect(await s.exited, s.stderr()).toBe(0);
    expect(await r.exited, r.stderr()).toBe(0);
    expect(r.stderr()).toMatch(new RegExp(`received 300000 bytes .* sha256 ${sha(data)}`));
    expect(sha(readFileSync(dst))).toBe(sha(data));
  });

  it('recv without FILE writes to stdout', async () => {
    const r = cli(['recv', '--host', '127.0.0.1', '0'], { stdin: null });
    const port = await listening(r);
    const s = cli(['send', '-', '127.0.0.1', String(port)], { stdin: 'through stdin and stdout' });
    expect(await s.exited, s.stderr()).toBe(0);
    expect(await r.exited, r.stderr()).toBe(0);
    expect(r.stdout().toString()).toBe('through stdin and stdout');
  });

  it('progress off a terminal: one plain line a second (bytes, %, rate, ETA, retrans, rtt), no \\r or escapes', async () => {
    const src = join(dir, 'slow.bin');
    writeFileSync(src, randomBytes(1_500_000));
    // 500 kB/s over the simulator: three virtual seconds, a fraction of one real.
    const s = cli(['send', src, '--sim', 'bandwidth=500000,delay=10,seed=3']);
    expect(await s.exited, s.stderr()).toBe(0);
    const lines = s
      .stderr()
      .split('\n')
      .filter((l) => / MB\/s/.test(l) && !l.startsWith('sent '));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const l of lines) {
      expect(l).toMatch(/^\d+\.\ds \d+\.\d\d [KM]iB \/ 1\.43 MiB \(\d+\.\d%\), \d+\.\d\d MB\/s, ETA (\d+s|--), retrans \d+, rtt \d+(\.\d+)? ms$/);
    }
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserts the absence of terminal control characters
    expect(s.stderr()).not.toMatch(/[\r\x1b]/);
    expect(s.stderr()).toContain('receiver sha256 match');
    // The time is until the receiver has it all (1.5 MB at 500 kB/s), not until the last write was buffered.
    const secs = Number(/sent 1500000 bytes \(1\.43 MiB\) in (\d+\.\d+) s/.exec(s.stderr())?.[1]);
    expect(secs).toBeGreaterThanOrEqual(2.9);
    expect(secs).toBeLessThan(4);
  });
});

describe('send over the simulator', () => {
  it('a slow disk does not let virtual time run ahead: progress and duration are those of a fast one', async () => {
    const src = join(dir, 'disk.bin');
    writeFileSync(src, randomBytes(1_500_000));
    const args = ['send', src, '--sim', 'bandwidth=500000,delay=10,seed=3'];
    const fast = cli(args);
    // Every asynchronous fs.read in the child answers 200 ms (real) late.
    const slow = cli(args, { nodeArgs: ['--import', join(ROOT, 'test', 'fixtures', 'slow-disk.mjs')] });
    expect(await fast.exited, fast.stderr()).toBe(0);
    expect(await slow.exited, slow.stderr()).toBe(0);
    const seen = (c: typeof fast): string[] =>
      c
        .stderr()
        .split('\n')
        .filter((l) => /^\d+\.\ds |^simulated:/.test(l));
    expect(seen(fast).length).toBeGreaterThanOrEqual(3);
    expect(seen(slow)).toEqual(seen(fast));
  });
});

describe('perf', () => {
  it('client against a server over loopback: interval lines and a sender/receiver summary', async () => {
    const srv = cli(['perf', 'server', '--host', '127.0.0.1', '0'], { stdin: null });
    const port = await listening(srv);
    try {
      const c = cli(['perf', 'client', '127.0.0.1', String(port), '--time', '1.2', '--interval', '0.5']);
      expect(await c.exited, c.stderr()).toBe(0);
      const out = c.stdout().toString();
      expect(out).toMatch(/^\[\s+0\.0-\s+0\.5 s\]\s+\S+ [KMG]?i?B\s+\d+\.\d\d MB\/s\s+retr\s+\d+\s+srtt \S+ ms\s+cwnd /m);
      expect(out).toMatch(/ MB\/s\s+retr \d+\s+sender\n/);
      expect(out).toMatch(/ MB\/s\s+receiver\n/);
      const rev = cli(['perf', 'client', '127.0.0.1', String(port), '--bytes', '3M', '--reverse', '--parallel', '2', '--json']);
      expect(await rev.exited, rev.stderr()).toBe(0);
      const doc = JSON.parse(rev.stdout().toString()) as { start: { reverse: boolean; parallel: number }; end: { receiver: { bytes: number } } };
      expect(doc.start).toMatchObject({ reverse: true, parallel: 2 });
      expect(doc.end.receiver.bytes).toBe(3 * 1024 * 1024);
    } finally {
      srv.p.kill('SIGINT');
      expect(await srv.exited).toBe(130);
    }
  });

  it("--sim: both ends in one process on virtual time, JSON with the receiver's count", async () => {
    const c = cli(['perf', 'client', '--sim', 'loss=0.02,delay=20-30,seed=9', '--bytes', '1M', '--cc', 'bbr', '--json']);
    expect(await c.exited, c.stderr()).toBe(0);
    const doc = JSON.parse(c.stdout().toString()) as { end: { sender: { bytes: number; retransmits: number }; receiver: { bytes: number } } };
    expect(doc.end.sender.bytes).toBe(1 << 20);
    expect(doc.end.receiver.bytes).toBe(1 << 20);
    expect(doc.end.sender.retransmits).toBeGreaterThan(0); // 2 % loss each way
  });
});

describe('demo', () => {
  it('raw UDP loses and reorders; reliable-dgram delivers every message once, in order', async () => {
    const c = cli(['demo', '--messages', '300']);
    expect(await c.exited, c.stderr()).toBe(0);
    const out = c.stdout().toString();
    const raw = /^raw UDP\s+(\d+)\s+(\d+)/m.exec(out);
    expect(Number(raw?.[2])).toBeGreaterThan(0); // lost some
    expect(out).toMatch(/^reliable-dgram\s+300\s+0\s+0\s+0\s/m);
    expect(out).toContain('all 300 messages, each exactly once, in order');
  });
});
