// Process lifetime as with node:net: open, ref'd sockets and servers keep the
// process alive; closed or unref'd ones do not, and neither do protocol timers
// (TIME_WAIT, retransmission, delayed ACK), which run unref'd.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createServer, type Server } from '../../src/index.js';
import { listen } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHILD = fileURLToPath(new URL('./fixtures/child.ts', import.meta.url));

/** Run the child; resolve with its exit code and output, or 'running' if it is still alive after `ms`. */
function run(args: string[], ms: number): Promise<{ exited: boolean; code: number | null; out: string }> {
  return new Promise((resolve) => {
    // node itself with tsx's loader, not the tsx CLI: the CLI runs node as a child of its own,
    // which a SIGKILL of the CLI would leave running.
    const p = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      resolve({ exited: false, code: null, out });
    }, ms);
    p.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ exited: true, code, out });
    });
  });
}

describe('process lifetime', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = createServer((s) => s.pipe(s));
    port = await listen(server);
  });
  afterAll(() => void server.close());

  test("a client process exits by itself after its socket's 'close' (TIME_WAIT does not hold it)", async () => {
    const r = await run(['client', String(port)], 8000);
    expect(r.out).toContain('closed ping false');
    expect(r.exited).toBe(true);
    expect(r.code).toBe(0);
  });

  test("an open, ref'd socket keeps the process alive as in net; unref() lets it exit", async () => {
    const [idle, unrefd] = await Promise.all([run(['client-idle', String(port)], 3000), run(['client-unref', String(port)], 8000)]);
    expect(idle.out).toContain('connected');
    expect(idle.exited).toBe(false);
    expect(unrefd.exited).toBe(true);
    expect(unrefd.code).toBe(0);
  });

  test('a listening server keeps the process alive; server.unref() lets it exit', async () => {
    const [ref, unref] = await Promise.all([run(['server'], 3000), run(['server-unref'], 8000)]);
    expect(ref.out).toMatch(/listening \d+/);
    expect(ref.exited).toBe(false);
    expect(unref.exited).toBe(true);
    expect(unref.code).toBe(0);
  });
});
