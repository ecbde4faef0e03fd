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
});
