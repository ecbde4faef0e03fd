// Real loss made by the kernel: the child runs inside ../shared/tools/netlab,
// whose loopback drops 5% of UDP datagrams (nftables), and moves 8 MiB each
// way at once over one connection. Also, in a namespace with loopback only, a
// dial with no route. Skipped, with the reason, where netlab cannot run (not
// root, no nftables, no network namespaces).
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NETLAB, NETLAB_ENV, netlabAvailable, REPO_ROOT } from '../examples/lib/netlab.js';

const LOSS = 5;
const SIZE = 8 * 1024 * 1024;
const nl = netlabAvailable();
if (!nl.ok) console.warn(`kernel-loss test skipped: ${nl.reason}`);

interface Side {
  received: number;
  sha256: string;
  expected: string;
}

function runChild(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const tsx = resolve(REPO_ROOT, 'node_modules', '.bin', 'tsx');
  const child = resolve(REPO_ROOT, 'test', 'fixtures', 'kernel-loss-child.ts');
  return new Promise((done, fail) => {
    const p = spawn(NETLAB, ['--loss', String(LOSS), '--', tsx, child, String(SIZE)], {
      env: { ...process.env, [NETLAB_ENV]: String(LOSS), KERNEL_LOSS_LIMIT_MS: '100000' },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', fail);
    p.on('close', (code) => done({ code, stdout, stderr }));
  });
}

describe('kernel loss (netlab: nftables drops UDP on lo)', () => {
  it.skipIf(!nl.ok)(
    `RFC 9293 §3.10: 2 × 8 MiB both ways at once over one connection arrive intact despite ${LOSS}% kernel loss${nl.ok ? '' : ` (skipped: ${nl.reason})`}`,
    async () => {
      const r = await runChild();
      const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
      expect(line, `child printed no JSON (exit ${r.code})\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`).toBeDefined();
      const res = JSON.parse(line!) as { error?: string; ms: number; server: Side; client: Side };
      expect(res.error).toBeUndefined();
      expect(r.code).toBe(0);
      console.log(`kernel-loss: 2 × ${SIZE} bytes at ${LOSS}% loss in ${res.ms} ms`);
      for (const side of [res.server, res.client]) {
        expect(side.received).toBe(SIZE);
        expect(side.sha256).toBe(side.expected);
      }
    },
    120_000,
  );
});

describe('no route (netlab: a namespace with loopback only)', () => {
  it.skipIf(!nl.ok)(
    `a dial to an address no route leads to fails as net's does: ENETUNREACH from connect${nl.ok ? '' : ` (skipped: ${nl.reason})`}`,
    async () => {
      const tsx = resolve(REPO_ROOT, 'node_modules', '.bin', 'tsx');
      const child = resolve(REPO_ROOT, 'test', 'fixtures', 'no-route-child.ts');
      const out = await new Promise<string>((done, fail) => {
        const p = spawn(NETLAB, ['--', tsx, child]);
        let stdout = '';
        p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        p.on('error', fail);
        p.on('close', () => done(stdout));
      });
      const line = out.split('\n').find((l) => l.startsWith('{'));
      expect(line, `child printed no JSON:\n${out}`).toBeDefined();
      const r = JSON.parse(line!) as { tcp: string; ours: string };
      expect(r.ours).toBe('ENETUNREACH connect connect ENETUNREACH 10.1.2.3:9');
      expect(r.tcp.startsWith(r.ours)).toBe(true); // net appends " - Local (0.0.0.0:0)"
    },
    30_000,
  );
});
