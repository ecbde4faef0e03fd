// EOF reaches a socket whether or not the app reads it, as node:net's does (issue 14 §1):
// 'end' once its buffer is empty, allowHalfOpen: false ends the write side, 'close' follows,
// and the server's count drops. Unread bytes stay buffered until read. A socket with nothing
// to do (paused, or past EOF) lets the process exit; a reading one keeps it alive.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { connect, createServer, type Server } from '../../src/index.js';

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

describe('EOF for sockets nobody reads', () => {
  it('a server that never reads its sockets still sees each client end: the sockets close, getConnections drops to 0, close(cb) calls back', async () => {
    let ended = 0;
    let closed = 0;
    const server = createServer((s) => {
      s.end('hello\n');
      s.on('end', () => ended++);
      s.on('close', () => closed++);
    });
    const port = await listen(server);
    const N = 20;
    await Promise.all(
      Array.from({ length: N }, async () => {
        const c = connect(port, '127.0.0.1');
        c.resume();
        await once(c, 'close');
      }),
    );
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await new Promise((r) => setImmediate(r)); // each socket's 'close' follows its destroy by a loop turn, as net's
    expect(ended).toBe(N);
    expect(closed).toBe(N);
    const n = await new Promise<number>((resolve) => server.getConnections((_e, k) => resolve(k)));
    expect(n).toBe(0);
  });

  it('a write-only client (pipeline into the socket) sees the server end and closes', async () => {
    let got = 0;
    const server = createServer((s) => {
      s.on('data', (d: Buffer) => (got += d.length));
      s.on('end', () => s.end());
    });
    const port = await listen(server);
    const c = connect(port, '127.0.0.1');
    await once(c, 'connect');
    const body = Buffer.alloc(512 * 1024, 7);
    await pipeline(Readable.from([body.subarray(0, 200_000), body.subarray(200_000)]), c);
    await once(c, 'close');
    expect(got).toBe(body.length);
    expect(c.destroyed).toBe(true);
    server.close();
  });

  it('after EOF, bytes the app has not read stay buffered until it reads; then end', async () => {
    const server = createServer((s) => s.end(Buffer.alloc(300_000, 1)));
    const port = await listen(server);
    const c = connect(port, '127.0.0.1');
    c.pause();
    let ended = false;
    c.on('end', () => (ended = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(ended).toBe(false); // nothing read yet: no 'end'
    let got = 0;
    c.on('data', (d: Buffer) => (got += d.length));
    c.resume();
    await once(c, 'end');
    expect(got).toBe(300_000);
    await once(c, 'close');
    server.close();
  });

  for (const [kind, exits] of [
    ['pause', true],
    ['eof-unread', true],
    ['flowing', false],
  ] as const) {
    it(`a client process with a ${kind} socket ${exits ? 'exits by itself, as with net' : 'stays alive while it reads, as with net'}`, async () => {
      const server = createServer((s) => {
        s.on('error', () => {});
        if (kind === 'eof-unread') s.end(Buffer.alloc(1 << 20));
      });
      const port = await listen(server);
      const child = spawn(process.execPath, ['--import', 'tsx', new URL('./fixtures/idle-client.ts', import.meta.url).pathname, String(port), kind], {
        stdio: 'inherit',
      });
      const outcome = await Promise.race([once(child, 'exit').then(() => 'exited'), new Promise((r) => setTimeout(() => r('alive'), 3000))]);
      child.kill('SIGKILL');
      server.close();
      expect(outcome).toBe(exits ? 'exited' : 'alive');
    });
  }
});
