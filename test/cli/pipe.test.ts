// `reliable-dgram listen` / `connect` as netcat: both directions, half-close,
// refusal, timeouts and Ctrl-C, each end its own process over real loopback.
import { createHash, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { closedUdpPort } from '../stream/helpers.js';
import { cli, ensureBuilt, listening } from './run.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

beforeAll(() => ensureBuilt(), 150_000);

describe('listen and connect', () => {
  it("copy a file each way at once; both exit 0 with the other side's bytes intact", async () => {
    const a = randomBytes(300_000);
    const b = randomBytes(1_000_000);
    const l = cli(['listen', '--host', '127.0.0.1', '0'], { stdin: a });
    const port = await listening(l);
    const c = cli(['connect', '127.0.0.1', String(port)], { stdin: b });
    expect(await c.exited, c.stderr()).toBe(0);
    expect(await l.exited, l.stderr()).toBe(0);
    expect(sha(l.stdout())).toBe(sha(b));
    expect(sha(c.stdout())).toBe(sha(a));
  });

  it("half-close: after connect's stdin ends (its FIN), it still receives everything the listener sends", async () => {
    const a = randomBytes(200_000);
    const l = cli(['listen', '--verbose', '--host', '127.0.0.1', '0'], { stdin: null });
    const port = await listening(l);
    const c = cli(['connect', '127.0.0.1', String(port)], { stdin: '' });
    await l.waitErr(/#1 end\n/); // connect's FIN has arrived
    l.p.stdin.end(a); // only now does the listener send
    expect(await c.exited, c.stderr()).toBe(0);
    expect(await l.exited, l.stderr()).toBe(0);
    expect(c.stdout().equals(a)).toBe(true);
    expect(l.stdout().length).toBe(0);
  });

  it('IPv6 loopback works the same way', async () => {
    const l = cli(['listen', '--host', '::1', '0'], { stdin: 'from listen' });
    const port = await listening(l);
    const c = cli(['connect', '::1', String(port)], { stdin: 'from connect' });
    expect(await c.exited, c.stderr()).toBe(0);
    expect(await l.exited, l.stderr()).toBe(0);
    expect(l.stdout().toString()).toBe('from connect');
    expect(c.stdout().toString()).toBe('from listen');
  });

  it('a port nobody listens on: exit 1 with ECONNREFUSED, at once', async () => {
    const { port, close } = await closedUdpPort('127.0.0.1');
    onTestFinished(close);
    const t0 = Date.now();
    const c = cli(['connect', '127.0.0.1', String(port)]);
    expect(await c.exited).toBe(1);
    expect(c.stderr()).toMatch(new RegExp(`connect ECONNREFUSED 127\\.0\\.0\\.1:${port}`));
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(c.stdout().length).toBe(0);
  });

  it('a peer that never answers: exit 1 with ETIMEDOUT after --syn-retries', async () => {
    const silent = createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r));
    let syns = 0;
    silent.on('message', (m) => {
      if (m.length > 1) syns++; // not the 1-byte port probes (src/io/reachability.ts)
    });
    try {
      const c = cli(['connect', '--syn-retries', '1', '127.0.0.1', String(silent.address().port)]);
      expect(await c.exited).toBe(1);
      expect(c.stderr()).toMatch(/ETIMEDOUT/);
      expect(syns).toBe(2); // the SYN and one retry
    } finally {
      silent.close();
    }
  });

  it('Ctrl-C: a waiting listener exits 130 and frees its port', async () => {
    const l = cli(['listen', '--host', '127.0.0.1', '0'], { stdin: null });
    const port = await listening(l);
    l.p.kill('SIGINT');
    expect(await l.exited).toBe(130);
    expect(l.stderr()).toMatch(/interrupted/);
    const again = cli(['listen', '--host', '127.0.0.1', String(port)], { stdin: null });
    expect(await listening(again)).toBe(port);
    again.p.kill('SIGINT');
    expect(await again.exited).toBe(130);
  });

  it('Ctrl-C mid-connection: connect exits 130 and resets its connection, so the listener ends at once', async () => {
    const l = cli(['listen', '--host', '127.0.0.1', '0'], { stdin: null });
    const port = await listening(l);
    const c = cli(['connect', '--verbose', '127.0.0.1', String(port)], { stdin: null });
    await c.waitErr(/-> ESTABLISHED/);
    c.p.stdin.write('partial ');
    await new Promise((r) => setTimeout(r, 200));
    c.p.kill('SIGINT');
    expect(await c.exited).toBe(130);
    // Without the reset the listener would wait on a vanished peer for minutes.
    expect(await l.exited).toBe(1);
    expect(l.stderr()).toMatch(/ECONNRESET/);
    expect(l.stdout().toString()).toBe('partial ');
  }, 30_000);

  it("--keep: one connection after another, each one's bytes to stdout", async () => {
    const l = cli(['listen', '--keep', '--host', '127.0.0.1', '0'], { stdin: null });
    const port = await listening(l);
    for (const msg of ['first\n', 'second\n']) {
      const c = cli(['connect', '127.0.0.1', String(port)], { stdin: msg });
      expect(await c.exited, c.stderr()).toBe(0);
    }
    l.p.kill('SIGINT');
    expect(await l.exited).toBe(130);
    expect(l.stdout().toString()).toBe('first\nsecond\n');
  });

  it('--verbose: state changes and a final getStats() table on stderr, nothing extra on stdout', async () => {
    const l = cli(['listen', '--host', '127.0.0.1', '0'], { stdin: 'x' });
    const port = await listening(l);
    const c = cli(['connect', '--verbose', '127.0.0.1', String(port)], { stdin: 'y' });
    expect(await c.exited).toBe(0);
    expect(await l.exited).toBe(0);
    const err = c.stderr();
    expect(err).toMatch(/connect state SYN_SENT\n/);
    expect(err).toMatch(/state SYN_SENT -> ESTABLISHED/);
    expect(err).toMatch(/getStats\(\):\n(\s+\w+\s+\S+\n)+/);
    expect(err).toMatch(/^\s+srtt\s+\d/m);
    expect(c.stdout().toString()).toBe('x');
  });
});
