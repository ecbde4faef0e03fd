// Child processes: one per benchmark role, talking over IPC; every child is
// killed when the coordinator exits, times out or is interrupted.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { BENCH_DIR, NETLAB, REPO_ROOT } from './common.js';
import type { FromChild, RoleSpec, ToChild } from './roles.js';

const WORKER = resolve(BENCH_DIR, 'lib', 'worker.ts');
/** The tsx loader, by absolute URL so children resolve it from anywhere. */
export const TSX_IMPORT = import.meta.resolve('tsx');

const live = new Set<ChildProcess>();
let hooked = false;

/** Kill every child still running (SIGKILL: results were already collected or the run failed). */
export function killAll(): void {
  for (const c of live) {
    try {
      if (c.pid !== undefined && (c as ChildProcess & { groupLeader?: boolean }).groupLeader) process.kill(-c.pid, 'SIGKILL');
      else c.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
  live.clear();
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killAll();
      process.exit(130);
    });
  }
}

export function track(c: ChildProcess): ChildProcess {
  hookExit();
  live.add(c);
  c.once('exit', () => live.delete(c));
  return c;
}

export class Child {
  readonly proc: ChildProcess;
  private readonly inbox: FromChild[] = [];
  private waiters: Array<() => void> = [];
  private gone: string | null = null;

  constructor(
    readonly label: string,
    spec: RoleSpec,
    nodeArgs: string[] = [],
  ) {
    this.proc = track(
      spawn(process.execPath, [...nodeArgs, '--import', TSX_IMPORT, WORKER, JSON.stringify(spec)], {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    this.proc.on('message', (m) => {
      this.inbox.push(m as FromChild);
      this.wake();
    });
    this.proc.once('exit', (code, sig) => {
      this.gone = `${label} exited (${sig ?? code})`;
      this.wake();
    });
    this.proc.on('error', (e) => {
      this.gone = `${label}: ${e.message}`;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Next message of type `t`; rejects on a child error, exit, or after `timeoutMs`. */
  async next<T extends FromChild['t']>(t: T, timeoutMs: number): Promise<Extract<FromChild, { t: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.inbox.findIndex((m) => m.t === t || m.t === 'error');
      if (i >= 0) {
        const m = this.inbox.splice(i, 1)[0]!;
        if (m.t === 'error') throw new Error(`${this.label}: ${m.message}`);
        return m as Extract<FromChild, { t: T }>;
      }
      if (this.gone) throw new Error(this.gone);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.label}: no '${t}' within ${timeoutMs} ms`);
      await new Promise<void>((r) => {
        const timer = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          r();
        });
      });
    }
  }

  async ready(timeoutMs = 20_000): Promise<{ port: number; port2?: number }> {
    return this.next('ready', timeoutMs);
  }

  async result<R>(timeoutMs: number): Promise<R> {
    return (await this.next('result', timeoutMs)).data as R;
  }

  send(m: ToChild): void {
    if (this.gone || !this.proc.connected) return;
    try {
      this.proc.send(m);
    } catch {
      /* child gone; its absence shows up in next() */
    }
  }

  kill(): void {
    try {
      this.proc.kill('SIGKILL');
    } catch {
      /* gone */
    }
    live.delete(this.proc);
  }
}

export interface NetlabOpts {
  loss?: number;
  rate?: string;
}

/** Whether netlab can run here; the reason when not. */
export function netlabCheck(): { ok: boolean; reason: string } {
  if (process.platform !== 'linux') return { ok: false, reason: 'netlab needs Linux network namespaces' };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'netlab needs root' };
  const r = spawnSync(NETLAB, ['--loss', '1', '--rate', '100mbit', '--', 'true'], { encoding: 'utf8', timeout: 15_000 });
  if (r.status !== 0) return { ok: false, reason: `netlab failed: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}` };
  return { ok: true, reason: '' };
}

/** Delete the namespaces a killed netlab (pid) left behind: it names them netlab-<pid>-<n>. */
function removeNamespaces(pid: number): void {
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  for (const line of list.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    if (name.startsWith(`netlab-${pid}-`)) spawnSync('ip', ['netns', 'del', name]);
  }
}

/**
 * Run `node --import tsx file arg` (optionally inside netlab) and resolve with
 * the last stdout line parsed as JSON. The whole process group is killed on timeout.
 */
export function runNode(file: string, arg: string, netlab: NetlabOpts | null, timeoutMs: number): Promise<unknown> {
  const node = [process.execPath, '--import', TSX_IMPORT, file, arg];
  const argv = netlab
    ? [NETLAB, ...(netlab.loss ? ['--loss', String(netlab.loss)] : []), ...(netlab.rate ? ['--rate', netlab.rate] : []), '--', ...node]
    : node;
  return new Promise((resolveP, reject) => {
    const c = track(spawn(argv[0]!, argv.slice(1), { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'], detached: true }));
    (c as ChildProcess & { groupLeader?: boolean }).groupLeader = true;
    let out = '';
    c.stdout!.setEncoding('utf8');
    c.stdout!.on('data', (d: string) => {
      out += d;
    });
    const timer = setTimeout(() => {
      // SIGTERM first so netlab's trap deletes its namespace; then SIGKILL the group.
      try {
        process.kill(-c.pid!, 'SIGTERM');
      } catch {
        /* gone */
      }
      const pid = c.pid!;
      setTimeout(() => {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          /* gone */
        }
        if (netlab) removeNamespaces(pid);
      }, 3000).unref();
      reject(new Error(`timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    c.once('exit', (code) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      try {
        const v = JSON.parse(line) as { error?: string };
        if (v && typeof v === 'object' && typeof v.error === 'string') reject(new Error(v.error));
        else resolveP(v);
      } catch {
        reject(new Error(`exit ${code}, no JSON result (${line.slice(0, 200)})`));
      }
    });
  });
}
