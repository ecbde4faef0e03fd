// Drive the built CLI (dist/cli.js) as a child process, as a user's shell would:
// stdin, stdout and stderr piped, exit status and signals observed.
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'dist', 'cli.js');

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** Build dist/ when it is missing or older than src/ (CI builds first); one build at a time. */
export function ensureBuilt(): void {
  const stale = (): boolean =>
    !['cli.js', 'index.js', 'sim.cjs'].every((f) => existsSync(join(ROOT, 'dist', f))) ||
    statSync(join(ROOT, 'dist', 'cli.js')).mtimeMs < newest(join(ROOT, 'src'));
  if (!stale()) return;
  const lock = join(tmpdir(), `reliable-dgram-build-${Buffer.from(ROOT).toString('hex').slice(-24)}.lock`);
  const t0 = Date.now();
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() - t0 > 120_000) throw new Error(`build lock ${lock} held for 2 minutes`);
      execFileSync('sleep', ['0.2']);
    }
  }
  try {
    if (stale()) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore', timeout: 120_000 });
  } finally {
    rmdirSync(lock);
  }
}

export interface Child {
  p: ChildProcessWithoutNullStreams;
  stdout: () => Buffer;
  stderr: () => string;
  /** Resolves with the exit status (or 'SIGKILL' when the watchdog had to kill it). */
  exited: Promise<number | string>;
  /** Resolves once stderr contains `re`'s match; rejects after `ms`. */
  waitErr: (re: RegExp, ms?: number) => Promise<RegExpMatchArray>;
}

export function cli(args: string[], opts: { stdin?: Buffer | string | null; timeoutMs?: number; cwd?: string; nodeArgs?: string[] } = {}): Child {
  const p = spawn(process.execPath, [...(opts.nodeArgs ?? []), CLI, ...args], { cwd: opts.cwd ?? ROOT, stdio: 'pipe' });
  const out: Buffer[] = [];
  let err = '';
  const waiters: Array<() => void> = [];
  p.stdout.on('data', (d: Buffer) => out.push(d));
  p.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    for (const w of waiters) w();
  });
  p.stdin.on('error', () => undefined); // EPIPE when the child is gone
  if (opts.stdin !== null) p.stdin.end(opts.stdin ?? '');
  const watchdog = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 20_000);
  const exited = new Promise<number | string>((res) =>
    p.on('close', (code, signal) => {
      clearTimeout(watchdog);
      res(code ?? signal ?? -1);
    }),
  );
  const waitErr = (re: RegExp, ms = 10_000): Promise<RegExpMatchArray> =>
    new Promise((res, rej) => {
      const t = setTimeout(() => rej(new Error(`stderr never matched ${re}: ${err}`)), ms);
      const check = (): void => {
        const m = re.exec(err);
        if (m) {
          clearTimeout(t);
          res(m);
        }
      };
      waiters.push(check);
      check();
    });
  return { p, stdout: () => Buffer.concat(out), stderr: () => err, exited, waitErr };
}

/** Start `listen`-like commands on port 0 and read the port they print. */
export async function listening(child: Child): Promise<number> {
  const m = await child.waitErr(/listening on \S*:(\d+)/);
  return Number(m[1]);
}
