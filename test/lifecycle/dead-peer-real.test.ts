// A peer process killed with SIGKILL on real loopback sockets: no FIN, no RST, only the
// kernel's ICMP port unreachable. Both the client and the server (neither socket connected at
// the OS level: UdpTransport.setPeer) notice within seconds once a keepalive probe goes
// unanswered (issue 14 §5), by asking the OS from a throw-away connected socket.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { closedUdpPort } from '../stream/helpers.js';
import { connect, createServer, type Socket } from '../../src/index.js';

const fixture = new URL('./fixtures/peer.ts', import.meta.url).pathname;
let child: ChildProcess | undefined;
afterEach(() => child?.kill('SIGKILL'));

async function start(...args: string[]): Promise<Record<string, unknown>> {
  child = spawn(process.execPath, ['--import', 'tsx', fixture, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  return JSON.parse(line) as Record<string, unknown>;
}

function errorAfterKill(socket: Socket): Promise<{ code: string | undefined; ms: number }> {
  const killedAt = performance.now();
  child!.kill('SIGKILL');
  return new Promise((resolve) => {
    socket.on('error', (err: NodeJS.ErrnoException) => resolve({ code: err.code, ms: performance.now() - killedAt }));
  });
}

describe('a killed peer process on real sockets', () => {
  it('the server notices a killed client through its shared, unconnected socket: ETIMEDOUT within seconds of an unanswered probe', async () => {
    const accepted = new Promise<Socket>((resolve) => {
      const server = createServer((s) => {
        s.setKeepAlive(true, 1000);
        let n = 0;
        s.on('data', (d: Buffer) => {
          n += d.length;
          if (n === 256 * 1024) resolve(s);
        });
        s.on('close', () => server.close());
      });
      server.listen(0, '127.0.0.1', () => void start('client', String((server.address() as { port: number }).port)));
    });
    const s = await accepted;
    const { code, ms } = await errorAfterKill(s);
    expect(code).toBe('ETIMEDOUT');
    expect(ms).toBeLessThan(5_000); // 1 s idle, a probe, the OS's answer to a connected probe socket
  });

  it('the client notices a killed server by asking the OS from a connected probe socket: ETIMEDOUT within seconds of an unanswered probe', async () => {
    const { port } = (await start('server')) as { port: number };
    const c = connect(port, '127.0.0.1');
    await once(c, 'connect');
    c.setKeepAlive(true, 1000);
    const { code, ms } = await errorAfterKill(c);
    expect(code).toBe('ETIMEDOUT');
    expect(ms).toBeLessThan(5_000);
  });
});

describe('a live peer that goes quiet on real sockets', () => {
  it('a client that blocks its event loop for 3 s while the server sends is not taken for dead: the transfer completes', async () => {
    // The server's timers fire while the client is silent and it asks the OS whether the client's
    // port is open. A client socket connected to the server made the kernel answer "unreachable"
    // to that question, and the server failed the live connection with ETIMEDOUT after 1 s.
    const size = 4 << 20;
    const served = new Promise<{ error: string | undefined }>((resolve) => {
      const server = createServer((s) => {
        let error: string | undefined;
        s.on('error', (err: NodeJS.ErrnoException) => (error = err.code));
        s.on('close', () => {
          server.close();
          resolve({ error });
        });
        s.end(Buffer.alloc(size, 7));
      });
      server.listen(0, '127.0.0.1', () => void start('blocker', String((server.address() as { port: number }).port), '3000').then((r) => reported.push(r)));
    });
    const reported: Record<string, unknown>[] = [];
    expect(await served).toEqual({ error: undefined });
    await vi.waitFor(() => expect(reported).toEqual([{ got: size }]), { timeout: 5_000 });
  });
});

describe('a peer process that exits', () => {
  it('a client that exits in its end handler closes as a TCP client would: the server sees end and close, no error', async () => {
    // No kernel sends a FIN for a dying process over UDP: the exit hook does (LocalEndpoint.processExit).
    const events: string[] = [];
    const closed = new Promise<void>((resolve) => {
      const server = createServer((s) => {
        s.on('data', () => s.end('answer'));
        s.on('end', () => events.push('end'));
        s.on('error', (err: NodeJS.ErrnoException) => events.push(`error ${err.code}`));
        s.on('close', () => {
          server.close();
          resolve();
        });
      });
      server.listen(0, '127.0.0.1', () => {
        child = spawn(process.execPath, ['--import', 'tsx', fixture, 'exiter', String((server.address() as { port: number }).port)], { stdio: 'ignore' });
      });
    });
    // Without the FIN, the server would hear nothing until its keepalive probe, 15 s on.
    await Promise.race([closed, new Promise((r) => setTimeout(r, 5_000))]);
    expect(events).toEqual(['end']);
  });
});

describe('a server process stopped by a signal (it dies without an exit event)', () => {
  async function stop(sig: NodeJS.Signals, ...args: string[]): Promise<{ events: string[]; ms: number; exit: [number | null, string | null] }> {
    const { port } = (await start('echo', ...args)) as { port: number };
    const c = connect(port, '127.0.0.1');
    c.write('ping');
    await once(c, 'data');
    const events: string[] = [];
    c.on('end', () => events.push('end'));
    c.on('error', (err: NodeJS.ErrnoException) => events.push(err.code ?? 'error'));
    const exited = once(child!, 'exit') as Promise<[number | null, string | null]>;
    const t0 = performance.now();
    child!.kill(sig);
    // Without the hook, nothing reaches the client until its keepalive probe, 15 s on.
    await Promise.race([once(c, 'close'), new Promise((r) => setTimeout(r, 5_000))]);
    const alive = new Promise<[null, string]>((r) => setTimeout(() => r([null, 'still running 5 s on']), 5_000));
    return { events, ms: performance.now() - t0, exit: await Promise.race([exited, alive]) };
  }

  it('SIGTERM or SIGINT with no handler of the app: its connections end with a FIN (as a kernel closes them), then it dies of the signal', async () => {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      const r = await stop(sig);
      expect(r.events).toEqual(['end']);
      expect(r.ms).toBeLessThan(3_000);
      expect(r.exit).toEqual([null, sig]);
    }
  });

  it('beside a library that also watches the signals and re-raises them when alone (signal-exit), the process still ends its connections and dies', async () => {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      const r = await stop(sig, 'signal-exit');
      expect(r.events).toEqual(['end']);
      expect(r.exit).toEqual([null, sig]);
    }
  });

  it('where the process cannot signal itself, it exits with the code a shell gives that signal (128 + 15)', async () => {
    const r = await stop('SIGTERM', 'nokill');
    expect(r.events).toEqual(['end']);
    expect(r.exit).toEqual([143, null]);
  });

  it("an app's own SIGTERM handler decides: the process lives on until it exits, and its exit ends the connection", async () => {
    const r = await stop('SIGTERM', 'own');
    expect(r.events).toEqual(['end']);
    expect(r.ms).toBeGreaterThanOrEqual(400);
    expect(r.exit).toEqual([0, null]);
  });
});

describe('a server process that exits right after writing (no end())', () => {
  async function ask(kib: number): Promise<{ got: number; ended: boolean; error: string | undefined; ms: number }> {
    const { port } = (await start('dumper', String(kib))) as { port: number };
    const c = connect(port, '127.0.0.1');
    let got = 0;
    let ended = false;
    c.on('data', (d: Buffer) => (got += d.length));
    c.on('end', () => (ended = true));
    c.write('question');
    const t0 = performance.now();
    const error = await new Promise<string | undefined>((resolve) => {
      c.on('error', (err: NodeJS.ErrnoException) => resolve(err.code));
      c.on('close', () => resolve(undefined));
    });
    return { got, ended, error, ms: performance.now() - t0 };
  }

  it('what the window lets out at once arrives whole, then end: a FIN after it, as a kernel would', async () => {
    const r = await ask(1);
    expect(r).toMatchObject({ got: 1024, ended: true, error: undefined });
    expect(r.ms).toBeLessThan(3_000); // not a keepalive probe's 15 s
  });

  it("a server that exits at its socket's 'close' while the connection still delivers the tail: the client gets ECONNRESET at once, not silence until its keepalive (15 s)", async () => {
    const { port } = (await start('orphaner', '4')) as { port: number };
    // A 64 KiB window that is not read: the server has sent at most that when it exits.
    const c = connect({ port, host: '127.0.0.1', connection: { rcvBuf: 64 * 1024 } });
    c.end();
    c.pause();
    const t0 = performance.now();
    const code = await new Promise<string | undefined>((resolve) => {
      c.on('error', (err: NodeJS.ErrnoException) => resolve(err.code));
      c.on('end', () => resolve('end'));
    });
    expect(code).toBe('ECONNRESET');
    expect(performance.now() - t0).toBeLessThan(5_000);
  });

  it('more than the window lets out: ECONNRESET at once, not a silent wait (nothing sends the rest)', async () => {
    const r = await ask(64);
    expect(r.error).toBe('ECONNRESET');
    expect(r.got).toBeLessThan(64 * 1024);
    expect(r.ms).toBeLessThan(3_000);
  });
});

describe('a dial from a shared, unconnected endpoint to a closed port', () => {
  it('fails with ECONNREFUSED about a second in (the OS asked from a connected socket), not after the SYN budget', async () => {
    const { createEndpoint } = await import('../../src/index.js');
    const ep = await createEndpoint({ host: '127.0.0.1' });
    const { port, close } = await closedUdpPort('127.0.0.1'); // nothing listens there
    onTestFinished(close);
    const t0 = performance.now();
    const c = connect({ endpoint: ep, port, host: '127.0.0.1' });
    const [err] = (await once(c, 'error')) as [NodeJS.ErrnoException];
    expect(err.code).toBe('ECONNREFUSED');
    expect(performance.now() - t0).toBeLessThan(4_000);
    ep.close();
  });
});
