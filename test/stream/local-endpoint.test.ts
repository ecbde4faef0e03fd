// One UDP port, many connections, both ways: LocalEndpoint shared by servers
// and clients, dialing out from a server's port, and simultaneous open.
import { describe, expect, test } from 'vitest';
import { connect, createEndpoint, createServer, type LocalEndpoint, type Socket } from '../../src/index.js';
import { errorOf, HOST, listen, once, readAll, track } from './helpers.js';

/** Record every state transition on an endpoint. */
function transitions(ep: LocalEndpoint): string[] {
  const seen: string[] = [];
  ep.host.observers.push((ev) => {
    if (ev.type === 'conn' && ev.ev.type === 'state') seen.push(`${ev.ev.from}>${ev.ev.to}`);
  });
  return seen;
}

describe('LocalEndpoint', () => {
  test('many connections from one client port to one server port, each with its own bytes', async () => {
    const server = createServer((s) => s.pipe(s));
    const port = await listen(server);
    const local = await createEndpoint({ host: HOST });
    const lp = local.address().port;
    const clients = Array.from({ length: 5 }, () => connect({ endpoint: local, port, host: HOST }));
    const localPorts: Array<number | undefined> = [];
    for (const c of clients) c.on('connect', () => localPorts.push(c.localPort));
    const results = await Promise.all(
      clients.map(async (c, i) => {
        c.end(`message from client ${i} `.repeat(200));
        return (await readAll(c)).toString();
      }),
    );
    for (const [i, r] of results.entries()) expect(r).toBe(`message from client ${i} `.repeat(200));
    expect(localPorts).toEqual([lp, lp, lp, lp, lp]);
    await Promise.all(clients.map((c) => (c.destroyed ? Promise.resolve() : once(c, 'close'))));
    expect(local.closed).toBe(false); // a user's endpoint stays until close()
    local.close();
    await once(local, 'close');
    server.close();
  });

  test('a server can dial out from its own port (server.endpoint)', async () => {
    const a = createServer((s) => s.end('from a'));
    const b = createServer((s) => s.end(`b saw you at port ${s.remotePort}`));
    const pa = await listen(a);
    const pb = await listen(b);
    expect(a.endpoint!.address().port).toBe(pa);
    const c = connect({ endpoint: a.endpoint!, port: pb, host: HOST });
    await once(c, 'connect');
    expect(c.localPort).toBe(pa);
    expect((await readAll(c)).toString()).toBe(`b saw you at port ${pa}`);
    // The same port still accepts connections.
    const d = connect(pa, HOST);
    expect((await readAll(d)).toString()).toBe('from a');
    a.close();
    b.close();
  });

  test('simultaneous open: two peers that dial each other at once from their one port get one connection each (RFC 9293 §3.5)', async () => {
    const ea = await createEndpoint({ host: HOST });
    const eb = await createEndpoint({ host: HOST });
    const ta = transitions(ea);
    const tb = transitions(eb);
    // Neither listens: only the simultaneous-open path can connect them.
    const sa = connect({ endpoint: ea, port: eb.address().port, host: HOST });
    const sb = connect({ endpoint: eb, port: ea.address().port, host: HOST });
    const [ra, rb] = [readAll(sa), readAll(sb)];
    await Promise.all([once(sa, 'connect'), once(sb, 'connect')]);
    expect(ea.connectionCount).toBe(1);
    expect(eb.connectionCount).toBe(1);
    sa.end('hello from a');
    sb.end('hello from b');
    expect((await ra).toString()).toBe('hello from b');
    expect((await rb).toString()).toBe('hello from a');
    expect(ta).toContain('SYN_SENT>SYN_RECEIVED');
    expect(tb).toContain('SYN_SENT>SYN_RECEIVED');
    expect(ea.stats.rstSent + eb.stats.rstSent).toBe(0);
    ea.close();
    eb.close();
  });

  test("two listening peers that dial each other at once: each dial reaches the other's server, all on the two ports", async () => {
    const ea = await createEndpoint({ host: HOST });
    const eb = await createEndpoint({ host: HOST });
    const accepted: Socket[] = [];
    const servers = [ea, eb].map((endpoint) =>
      createServer({ endpoint }, (s) => {
        accepted.push(s);
        s.resume();
        s.end(`server on ${s.localPort}`);
      }).listen(),
    );
    await Promise.all(servers.map((s) => once(s, 'listening')));
    expect(servers[0]!.address()).toEqual(ea.address());
    const [pa, pb] = [ea.address().port, eb.address().port];
    const sa = connect({ endpoint: ea, port: pb, host: HOST });
    const sb = connect({ endpoint: eb, port: pa, host: HOST });
    expect((await readAll(sa)).toString()).toBe(`server on ${pb}`);
    expect((await readAll(sb)).toString()).toBe(`server on ${pa}`);
    expect(accepted.map((s) => [s.localPort, s.remotePort]).sort()).toEqual(
      [
        [pa, pb],
        [pb, pa],
      ].sort(),
    );
    const closed = (s: Socket) => (s.destroyed ? null : new Promise((r) => s.on('close', r)));
    await Promise.all([...accepted, sa, sb].map(closed));
    for (const s of servers) s.close();
    ea.close();
    eb.close();
  });

  test('endpoint.close() destroys the sockets on it with ERR_SOCKET_CLOSED', async () => {
    const server = createServer((s) => s.resume());
    const port = await listen(server);
    const local = await createEndpoint({ host: HOST });
    const c = connect({ endpoint: local, port, host: HOST });
    await once(c, 'connect');
    const err = errorOf(c);
    local.close();
    expect((await err).code).toBe('ERR_SOCKET_CLOSED');
    expect(c.destroyed).toBe(true);
    // Dialing from a closed endpoint fails the same way.
    const c2 = connect({ endpoint: local, port, host: HOST });
    expect((await errorOf(c2)).code).toBe('ERR_SOCKET_CLOSED');
    server.close();
  });

  test('connect() without an endpoint binds its own UDP port and closes it once the socket is done', async () => {
    const server = createServer((s) => s.end('bye'));
    const port = await listen(server);
    const c = connect({ port, host: HOST, connection: { msl: 50 } });
    const t = track(c);
    await t.wait('connect');
    const ep = c.endpoint!;
    expect(ep.address().port).toBe(c.localPort);
    expect(ep.autoClose).toBe(true);
    c.resume();
    await t.wait('close');
    await once(ep, 'close'); // after the short TIME_WAIT linger
    expect(ep.closed).toBe(true);
    expect(c.endpoint).toBeNull();
    server.close();
  });

  test('accepted sockets: the server endpoint carries them all on its one port', async () => {
    const accepted: Socket[] = [];
    const server = createServer((s) => {
      accepted.push(s);
      s.end();
      s.resume();
    });
    const port = await listen(server);
    const clients = [connect(port, HOST), connect(port, HOST), connect(port, HOST)];
    await Promise.all(clients.map((c) => readAll(c)));
    expect(accepted.map((s) => s.localPort)).toEqual([port, port, port]);
    expect(new Set(accepted.map((s) => s.remotePort)).size).toBe(3);
    server.close();
  });
});
