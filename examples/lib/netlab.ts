// Kernel-made loss: ../shared/tools/netlab runs a command in a throw-away
// network namespace whose loopback drops UDP at random (nftables). Needs root,
// iproute2 and nftables; these helpers find out whether it can run here.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is examples/lib/netlab.ts). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** netlab lives next to the repository: ../shared/tools/netlab. */
export const NETLAB = resolve(REPO_ROOT, '..', 'shared', 'tools', 'netlab');
/** Set in the environment of a process that netlab runs, to the loss percent. */
export const NETLAB_ENV = 'RELIABLE_DGRAM_NETLAB_LOSS';

function onPath(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

let cached: { ok: boolean; reason: string } | undefined;

/** Whether netlab can run here; `reason` says why not. Runs netlab once (a no-op command) to be sure. */
export function netlabAvailable(): { ok: boolean; reason: string } {
  if (cached) return cached;
  const why = ((): string => {
    if (process.platform !== 'linux') return `netlab needs Linux network namespaces (platform is ${process.platform})`;
    if (process.getuid?.() !== 0) return 'netlab needs root (network namespaces); not running as root';
    if (!existsSync(NETLAB)) return `netlab not found at ${NETLAB}`;
    if (!onPath('ip')) return 'netlab needs iproute2 (`ip` not on PATH)';
    if (!onPath('nft')) return 'netlab needs nftables (`nft` not on PATH; apt-get install -y nftables)';
    const r = spawnSync(NETLAB, ['--loss', '1', '--', 'true'], { encoding: 'utf8', timeout: 10_000 });
    if (r.status !== 0) return `netlab does not work here: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}`;
    return '';
  })();
  cached = { ok: why === '', reason: why };
  return cached;
}

/** Inside netlab (re-executed by `runUnderNetlab`): the loss percent, else undefined. */
export function netlabLoss(): number | undefined {
  const v = process.env[NETLAB_ENV];
  return v === undefined ? undefined : Number(v);
}

/**
 * Run `argv` (a full command line) under netlab with `--loss lossPct`,
 * inheriting stdio unless `capture` is set.
 */
export function runUnderNetlab(lossPct: number, argv: string[], opts: { capture?: boolean; timeoutMs?: number } = {}): SpawnSyncReturns<string> {
  return spawnSync(NETLAB, ['--loss', String(lossPct), '--', ...argv], {
    stdio: opts.capture ? 'pipe' : 'inherit',
    encoding: 'utf8',
    env: { ...process.env, [NETLAB_ENV]: String(lossPct) },
    timeout: opts.timeoutMs,
    maxBuffer: 16 * 1024 * 1024,
  });
}

/** This process's own command line (node, its loader flags such as tsx's, the script) with new arguments. */
export function selfArgv(args: string[]): string[] {
  return [process.execPath, ...process.execArgv, process.argv[1]!, ...args];
}
