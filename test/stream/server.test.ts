// Server over real loopback UDP: the node:net.Server contract.
import { describe, expect, test } from 'vitest';
import { connect, createServer, Server, type Socket } from '../../src/index.js';
import { errorOf, HOST, listen, once, readAll, sleep, track } from './helpers.js';

describe('Server', () => {
  test("listen forms: (port, host, backlog, cb), (options, cb), (cb); 'listening', listening, address()", async () => {
    const a = createServer();
    expect(a.listening).toBe(false);
    expect(a.address()).toBeNull();
    let called = false;
    a.listen(0, HOST, 16, () => (called = true));
    expect(a.listening).toBe(false); // the bind is asynchronous, as net's 'listening' is
    await once(a, 'listening');
    expect(called).toBe(true);
    expect(a.listening).toBe(true);
    expect(a.address()).toEqual({ address: HOST, family: 'IPv4', port: a.address()!.port });
    expect(a.address()!.port).toBeGreaterThan(0);

    const b = createServer();
    await new Promise<void>((r) => b.listen({ port: 0, host: '::1' }, r));
    expect(b.address()).toMatchObject({ address: '::1', family: 'IPv6' });

    const c = createServer();
    await new Promise<void>((r) => c.listen(r));
    expect(c.address()).toMatchObject({ address: '::', family: 'IPv6' }); // unspecified address, dual stack, as net
    for (const s of [a, b, c]) s.close();
    await Promise.all([a, b, c].map((s) => once(s, 'close')));
    expect(a.listening).toBe(false);
    expect(a.address()).toBeNull();
  });

  test("close(): stops accepting at once, but 'close' waits for open connections to end", async () => {
    const server = createServer((s) => s.pipe(s));
    const port = await listen(server);
    const accepted = once(server, 'connection');
    const c = connect(port, HOST);
    await accepted;
    const st = track(server, ['close']);
    let cbArgs: unknown[] | undefined;
    server.close((...a) => (cbArgs = a));
    expect(server.listening).toBe(false);
    // New connections are refused...
    const late = connect(port, HOST);
    expect((await errorOf(late)).code).toBe('ECONNREFUSED');
    // ...the open one still works, and 'close' has not fired.
    c.write('still here');
    const [d] = (await once(c, 'data')) as [Buffer];
    expect(d.toString()).toBe('still here');
    await sleep(30);
    expect(st.fired('close')).toBe(false);
    c.end();
    c.resume();
    await st.wait('close');
    expect(cbArgs).toEqual([]);
  });

  test('getConnections counts open connections', async () => {
    const server = createServer((s) => s.resume());
    const port = await listen(server);
    const count = (): Promise<number> => new Promise((res, rej) => server.getConnections((err, n) => (err ? rej(err) : res(n))));
    expect(await count()).toBe(0);
    const clients = [connect(port, HOST), connect(port, HOST), connect(port, HOST)];
    await Promise.all(clients.map((c) => once(c, 'connect')));
    while ((await count()) < 3) await sleep(5);
    expect(await count()).toBe(3);
    const first = track(clients[0]!);
    clients[0]!.end();
    clients[0]!.resume();
    await first.wait('close');
    while ((await count()) > 2) await sleep(5);
    expect(await count()).toBe(2);
    for (const c of clients) c.destroy();
    server.close();
    await once(server, 'close');
  });

  test("maxConnections: past the limit new connections are dropped ('drop') and closed", async () => {
    const server = createServer((s) => s.resume());
    server.maxConnections = 1;
    const port = await listen(server);
    const first = connect(port, HOST);
    await once(first, 'connect');
    await sleep(10);
    const drops = track(server, ['drop']);
    const second = connect(port, HOST);
    const st = track(second);
    second.resume();
    const [info] = (await drops.wait('drop')) as [Record<string, unknown>];
    expect(info).toMatchObject({ localAddress: HOST, localPort: port, remoteAddress: HOST, remotePort: second.localPort });
    await st.wait('end'); // the server closed it (FIN), as net closes the accepted handle
    first.destroy();
    second.destroy();
    server.close();
  });

  test('pauseOnConnect: no data is read until resume()', async () => {
    const accepted: Socket[] = [];
    const server = createServer({ pauseOnConnect: true }, (s) => accepted.push(s));
    const port = await listen(server);
    const c = connect(port, HOST);
    c.write('early bytes');
    while (accepted.length === 0) await sleep(5);
    const s = accepted[0]!;
    let got = '';
    s.on('data', (d: Buffer) => (got += d.toString()));
    await sleep(100);
    expect(got).toBe(''); // a 'data' listener does not start the flow
    expect(s.isPaused()).toBe(true);
    s.resume();
    while (got.length < 11) await sleep(5);
    expect(got).toBe('early bytes');
    c.destroy();
    s.destroy();
    server.close();
  });

  test('server options reach accepted sockets: allowHalfOpen, noDelay, keepAlive', async () => {
    const server = new Server({ allowHalfOpen: true, noDelay: true, keepAlive: true, keepAliveInitialDelay: 1000 });
    const port = await listen(server);
    const accepted = once(server, 'connection');
    const c = connect(port, HOST);
    const [s] = (await accepted) as [Socket];
    expect(s.allowHalfOpen).toBe(true);
    expect(server.allowHalfOpen).toBe(true);
    const got = readAll(s);
    c.end('x');
    expect((await got).toString()).toBe('x');
    expect(s.writable).toBe(true); // half open: our side stays writable after the peer's FIN
    s.end();
    c.resume();
    await once(c, 'close');
    server.close();
  });

  test('listen({ signal }): aborting closes the server', async () => {
    const ac = new AbortController();
    const server = createServer();
    server.listen({ port: 0, host: HOST, signal: ac.signal });
    await once(server, 'listening');
    const t = track(server, ['close']);
    ac.abort();
    await t.wait('close');
    expect(server.listening).toBe(false);
  });

  test('ref()/unref() return the server', async () => {
    const server = createServer();
    expect(server.unref()).toBe(server);
    await listen(server);
    expect(server.ref()).toBe(server);
    server.close();
    await once(server, 'close');
  });
});
