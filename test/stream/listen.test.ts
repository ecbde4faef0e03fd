// Server.listen() as net's: binding in the call without a host, option
// validation with net's messages, ipv6Only, and a shared endpoint's server
// applying its own `connection` settings.
import type { AddressInfo } from 'node:net';
import { describe, expect, test } from 'vitest';
import { connect, createEndpoint, createServer, type Socket } from '../../src/index.js';
import { errorOf, HOST, once } from './helpers.js';

describe('listen()', () => {
  test('without a host, listen(0) binds in the call: address() and listening answer on the next line, as net', async () => {
    const server = createServer();
    server.listen(0);
    expect(server.listening).toBe(true);
    const a = server.address() as AddressInfo;
    expect(a.port).toBeGreaterThan(0);
    expect(a.address).toBe('::');
    let listened = false;
    server.on('listening', () => (listened = true));
    expect(listened).toBe(false); // 'listening' still comes on a later tick
    await once(server, 'listening');
    server.close();
    await once(server, 'close');
  });

  test('a port in use without a host: EADDRINUSE as an asynchronous error event, as net', async () => {
    const a = createServer();
    a.listen(0);
    const port = (a.address() as AddressInfo).port;
    const b = createServer();
    b.listen(port);
    expect(b.listening).toBe(false);
    const err = await errorOf(b);
    expect(err.code).toBe('EADDRINUSE');
    expect(err.message).toBe(`listen EADDRINUSE: address already in use :::${port}`);
    a.close();
  });

  test("listen(options) rejects what net rejects, with net's messages", () => {
    const invalid = /^The argument 'options' is invalid\. Received /;
    const noPort = /^The argument 'options' must have the property "port" or "path"\. Received /;
    const cases: Array<[unknown, RegExp]> = [
      [{ port: false }, invalid],
      [{ port: true }, invalid],
      [{ path: -1 }, invalid],
      [{ fd: -1 }, noPort],
      [{}, noPort],
      [{ host: 'localhost' }, noPort],
      [{ exclusive: true }, noPort],
    ];
    for (const [opts, message] of cases) {
      expect(() => createServer().listen(opts as never), JSON.stringify(opts)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', message: expect.stringMatching(message) }),
      );
    }
  });

  test("ipv6Only: listening on '::' with ipv6Only takes IPv6 only; IPv4 clients are refused", async () => {
    const server = createServer((s) => s.end('v6'));
    server.listen({ host: '::', port: 0, ipv6Only: true });
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    const v4 = connect(port, HOST);
    expect((await errorOf(v4)).code).toBe('ECONNREFUSED');
    const v6 = connect(port, '::1');
    const chunks: Buffer[] = [];
    v6.on('data', (d: Buffer) => chunks.push(d));
    await once(v6, 'end');
    expect(Buffer.concat(chunks).toString()).toBe('v6');
    server.close();
  });

  test("createServer({ endpoint, connection }): accepted connections use the server's connection settings", async () => {
    const ep = await createEndpoint({ host: HOST, port: 0 });
    const server = createServer({ endpoint: ep, connection: { mss: 500 } });
    server.listen();
    await once(server, 'listening');
    const accepted = once(server, 'connection');
    const c = connect(ep.address().port, HOST);
    const connected = once(c, 'connect');
    const [s] = (await accepted) as [Socket];
    await connected;
    expect(s.getStats()!.mss).toBe(500);
    c.destroy();
    s.destroy();
    server.close();
    ep.close();
  });

  /** A server on `port` (0: any) at HOST whose connections end the way `closeFirst` says. */
  async function serve(port: number, closeFirst: 'server' | 'client'): Promise<{ server: ReturnType<typeof createServer>; port: number }> {
    const server = createServer((s) => {
      s.on('error', () => {});
      s.resume();
      if (closeFirst === 'server') s.end('bye');
      else s.on('end', () => s.end('bye'));
    });
    server.listen(port, HOST);
    await once(server, 'listening');
    return { server, port: (server.address() as AddressInfo).port };
  }

  async function exchange(port: number, closeFirst: 'server' | 'client'): Promise<string> {
    const c = connect(port, HOST);
    c.setEncoding('utf8');
    let got = '';
    c.on('data', (d: string) => (got += d));
    await once(c, 'connect');
    if (closeFirst === 'client') c.end('x');
    await once(c, 'close');
    return got;
  }

  test.each(['server', 'client'] as const)(
    'close(), then listen() on the same port at once, connections just closed (%s first): listening and serving, as net',
    async (closeFirst) => {
      const first = await serve(0, closeFirst);
      expect(await exchange(first.port, closeFirst)).toBe('bye');
      await new Promise<void>((r) => first.server.close(() => r()));
      // TIME_WAIT records (server first) or a last ACK on its way (client first) still use the port:
      // a TCP listen binds over them (SO_REUSEADDR); this was EADDRINUSE for up to a second.
      const second = createServer((s) => s.end('second'));
      const err = new Promise<string>((resolve) => second.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error')));
      second.listen(first.port, HOST);
      const outcome = await Promise.race([once(second, 'listening').then(() => 'listening'), err]);
      expect(outcome).toBe('listening');
      expect(await exchange(first.port, 'server')).toBe('second');
      second.close();
    },
  );

  test('listen() again on the port while a connection the old server accepted is still open: both work', async () => {
    const accepted: Socket[] = [];
    const first = createServer((s) => {
      accepted.push(s);
      s.on('data', (d) => s.write(d));
    });
    first.listen(0, HOST);
    await once(first, 'listening');
    const port = (first.address() as AddressInfo).port;
    const old = connect(port, HOST);
    await once(first, 'connection');
    first.close(); // stops listening; 'close' waits for `old`
    const second = createServer((s) => s.end('second'));
    second.listen(port, HOST);
    await once(second, 'listening');
    expect(await exchange(port, 'server')).toBe('second');
    const echoed = once(old, 'data');
    old.write('still here');
    expect(String((await echoed)[0])).toBe('still here');
    old.destroy();
    second.close();
  });
});
