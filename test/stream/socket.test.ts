// Socket over real loopback UDP: the node:net.Socket contract.
import { afterEach, describe, expect, test } from 'vitest';
import { connect, createServer, Socket, type Server } from '../../src/index.js';
import { blackhole, echoServer, errorOf, HOST, listen, once, pattern, readAll, sha256, sleep, track, type Tracker } from './helpers.js';

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});
async function echo(opts = {}) {
  const e = await echoServer(opts);
  servers.push(e.server);
  return e;
}

describe('Socket: data transfer', () => {
  test('echo: bytes written come back in order; connect, ready, end, finish, close in net order', async () => {
    const { port } = await echo();
    const events: string[] = [];
    const c = connect(port, HOST);
    for (const e of ['connect', 'ready', 'end', 'finish', 'close']) c.on(e, () => events.push(e));
    await once(c, 'connect');
    c.write('hello, ');
    c.end('world');
    const got = await readAll(c);
    await once(c, 'close');
    expect(got.toString()).toBe('hello, world');
    expect(events.slice(0, 2)).toEqual(['connect', 'ready']);
    expect(events.at(-1)).toBe('close');
    expect(events).toContain('finish');
    expect(events.indexOf('end')).toBeLessThan(events.indexOf('close'));
  });

  test('large transfer: 4 MiB arrive intact (sha256) and the byte counters agree', async () => {
    const { port, sockets } = await echo();
    const data = pattern(4 << 20, 7);
    const c = connect({ port, host: HOST });
    const got = readAll(c, 30_000);
    for (let off = 0; off < data.length; off += 100_000) c.write(data.subarray(off, off + 100_000));
    c.end();
    const back = await got;
    expect(sha256(back)).toBe(sha256(data));
    expect(c.bytesWritten).toBe(data.length);
    expect(c.bytesRead).toBe(data.length);
    expect(sockets[0]!.bytesRead).toBe(data.length);
    expect(sockets[0]!.bytesWritten).toBe(data.length);
  }, 30_000);

  test('getStats() reports the connection: state, RTT, cwnd and counters', async () => {
    const { port } = await echo();
    const c = connect(port, HOST);
    // Before the connection exists: a zeroed snapshot in state CLOSED, never null.
    expect(c.getStats()).toMatchObject({ state: 'CLOSED', srtt: 0, cwnd: 0, segmentsSent: 0, bytesSent: 0 });
    await once(c, 'connect');
    c.write(pattern(50_000));
    let n = 0;
    c.on('data', (d: Buffer) => (n += d.length));
    while (n < 50_000) await sleep(5);
    const s = c.getStats()!;
    expect(s.state).toBe('ESTABLISHED');
    expect(s.srtt).toBeGreaterThan(0);
    expect(s.rto).toBeGreaterThan(0);
    expect(s.cwnd).toBeGreaterThan(0);
    expect(s.segmentsSent).toBeGreaterThan(40);
    expect(s.segmentsReceived).toBeGreaterThan(40);
    expect(s.bytesSent).toBe(50_000);
    expect(s.retransmittedSegments).toBeGreaterThanOrEqual(0);
    expect(s.mss).toBe(1200);
    c.end();
    await once(c, 'close');
    expect(['TIME_WAIT', 'CLOSED']).toContain(c.getStats()!.state);
  });
});

describe('Socket: half-close (allowHalfOpen)', () => {
  async function pair(serverOpts = {}, clientOpts = {}): Promise<{ c: Socket; s: Socket; ct: Tracker; st: Tracker }> {
    const server = createServer(serverOpts);
    servers.push(server);
    const port = await listen(server);
    const accepted = once(server, 'connection');
    const c = connect({ port, host: HOST, ...clientOpts });
    const ct = track(c);
    const [s] = (await accepted) as [Socket];
    return { c, s, ct, st: track(s) };
  }

  test('allowHalfOpen false (default): the peer FIN ends our side too, then both close', async () => {
    const { c, s, ct, st } = await pair();
    expect(s.allowHalfOpen).toBe(false);
    expect(c.allowHalfOpen).toBe(false);
    const got = readAll(s);
    c.end('bye');
    expect((await got).toString()).toBe('bye');
    await st.wait('finish'); // the server ended its side by itself after 'end'
    c.resume();
    await Promise.all([st.wait('close'), ct.wait('close')]);
    expect(st.order).toEqual(['end', 'finish', 'close']);
    expect(ct.order.filter((e) => e !== 'connect' && e !== 'ready')).toEqual(['finish', 'end', 'close']);
    expect(c.getStats()!.state).toBe('TIME_WAIT'); // the active closer (RFC 9293 §3.6)
  });

  test('write after the peer ended us, with allowHalfOpen false, fails with EPIPE', async () => {
    // The server still has unsent data (the client does not read), so its side is ended but not finished.
    const small = { connection: { sndBuf: 16_384, rcvBuf: 16_384 } };
    const { c, s, st } = await pair(small, small);
    s.write(pattern(256 * 1024));
    s.resume();
    c.end();
    await st.wait('end');
    await new Promise((r) => setImmediate(r));
    expect(s.writableEnded).toBe(true);
    expect(s.writableFinished).toBe(false);
    const cbErr = new Promise<Error | null | undefined>((r) => s.write('too late', r));
    const [err] = (await st.wait('error')) as [NodeJS.ErrnoException];
    expect(err.code).toBe('EPIPE');
    expect(err.message).toBe('This socket has been ended by the other party');
    expect(await cbErr).toBe(err);
    c.destroy();
  });

  test('allowHalfOpen true: after the peer FIN the socket is writeOnly and its writes still arrive', async () => {
    const { c, s, ct, st } = await pair({ allowHalfOpen: true });
    const req = readAll(s);
    c.end('request');
    expect((await req).toString()).toBe('request');
    expect(s.readyState).toBe('writeOnly');
    expect(st.fired('finish')).toBe(false);
    const resp = readAll(c);
    s.write('response part 1, ');
    await sleep(20);
    s.end('part 2');
    expect((await resp).toString()).toBe('response part 1, part 2');
    await Promise.all([st.wait('close'), ct.wait('close')]);
  });

  test('allowHalfOpen true on the client: the server ends first, the client keeps writing', async () => {
    const { c, s, ct, st } = await pair({}, { allowHalfOpen: true });
    const fromClient = readAll(s);
    s.end('server done');
    const fromServer = await readAll(c);
    expect(fromServer.toString()).toBe('server done');
    expect(c.readyState).toBe('writeOnly');
    c.write('still ');
    c.end('talking');
    expect((await fromClient).toString()).toBe('still talking');
    await Promise.all([st.wait('close'), ct.wait('close')]);
  });
});

describe('Socket: state and addresses', () => {
  test('readyState, pending and connecting move opening → open → readOnly → closed', async () => {
    const server = createServer();
    servers.push(server);
    const port = await listen(server);
    const accepted = once(server, 'connection');
    const c = new Socket();
    expect(c.pending).toBe(true);
    c.connect(port, HOST);
    expect(c.connecting).toBe(true);
    expect(c.readyState).toBe('opening');
    await once(c, 'connect');
    expect(c.connecting).toBe(false);
    expect(c.pending).toBe(false);
    expect(c.readyState).toBe('open');
    const [s] = (await accepted) as [Socket];
    s.resume();
    c.end();
    expect(c.readyState).toBe('readOnly');
    c.resume();
    await once(c, 'close');
    expect(c.readyState).toBe('closed');
    expect(c.destroyed).toBe(true);
  });

  test('address(), local*/remote* match on both ends; remote* stay after close, address() is {}', async () => {
    const server = createServer();
    servers.push(server);
    const port = await listen(server);
    const accepted = once(server, 'connection');
    const c = connect(port, HOST);
    await once(c, 'connect');
    const [s] = (await accepted) as [Socket];
    expect(c.address()).toEqual({ address: HOST, family: 'IPv4', port: c.localPort });
    // In net's key order (what JSON.stringify and console.log show).
    expect([Object.keys(c.address()), Object.keys(s.address()), Object.keys(server.address()!)]).toEqual(Array(3).fill(['address', 'family', 'port']));
    expect(c.localPort).toBeGreaterThan(0);
    expect(c.localFamily).toBe('IPv4');
    expect([c.remoteAddress, c.remotePort, c.remoteFamily]).toEqual([HOST, port, 'IPv4']);
    expect([s.remoteAddress, s.remotePort, s.remoteFamily]).toEqual([HOST, c.localPort, 'IPv4']);
    expect([s.localAddress, s.localPort]).toEqual([HOST, port]);
    expect(s.server).toBe(server);
    s.destroy();
    c.destroy();
    await once(c, 'close');
    expect(c.address()).toEqual({});
    expect(c.remotePort).toBe(port);
  });

  test('IPv6: connect to ::1 reports IPv6 families', async () => {
    const server = createServer((s) => s.end('v6'));
    servers.push(server);
    const port = await listen(server, '::1');
    const c = connect(port, '::1');
    const got = await readAll(c);
    expect(got.toString()).toBe('v6');
    expect(c.remoteAddress).toBe('::1');
    expect(c.remoteFamily).toBe('IPv6');
  });

  test("a host name is resolved with dns.lookup and 'lookup' is emitted, as net", async () => {
    const server = createServer((s) => s.end('hi'));
    servers.push(server);
    server.listen(0); // '::' dual stack, as net
    await once(server, 'listening');
    expect(server.address()).toMatchObject({ address: '::', family: 'IPv6' });
    const port = server.address()!.port;
    const c = connect(port, 'localhost');
    const [err, ip, family, host] = await once(c, 'lookup');
    expect(err).toBeNull();
    expect(['127.0.0.1', '::1']).toContain(ip);
    expect([4, 6]).toContain(family);
    expect(host).toBe('localhost');
    expect((await readAll(c)).toString()).toBe('hi');
  });
});

describe('Socket: timeouts, destroy, reset, abort', () => {
  test("setTimeout: 'timeout' after idle time, activity postpones it, the socket stays open; 0 disables", async () => {
    const { port } = await echo();
    const c = connect(port, HOST);
    await once(c, 'connect');
    c.resume();
    let timeouts = 0;
    c.setTimeout(250, () => timeouts++);
    expect(c.timeout).toBe(250);
    for (let i = 0; i < 10; i++) {
      c.write('x'); // activity every 40 ms: no timeout
      await sleep(40);
    }
    expect(timeouts).toBe(0);
    await once(c, 'timeout', 3000);
    expect(c.destroyed).toBe(false);
    expect(c.readyState).toBe('open');
    c.setTimeout(0);
    let more = 0;
    c.on('timeout', () => more++);
    await sleep(400);
    expect(more).toBe(0);
    c.destroy();
  });

  test('destroy() during connect: close without error, no connect; a pending write fails', async () => {
    const hole = await blackhole();
    const c = connect(hole.port, HOST);
    let connected = false;
    c.on('connect', () => (connected = true));
    const writeErr = new Promise<Error | null | undefined>((r) => c.write('queued', r));
    await sleep(30);
    expect(c.connecting).toBe(true);
    c.destroy();
    const [hadError] = await once(c, 'close');
    expect(hadError).toBe(false);
    expect(connected).toBe(false);
    expect(((await writeErr) as NodeJS.ErrnoException).code).toBe('ERR_SOCKET_CLOSED_BEFORE_CONNECTION');
    expect(hole.received()).toBeGreaterThan(0); // the SYN went out
    hole.close();
  });

  test('resetAndDestroy() sends RST: the peer sees ECONNRESET (read ECONNRESET)', async () => {
    const server = createServer();
    servers.push(server);
    const port = await listen(server);
    const accepted = once(server, 'connection');
    const c = connect(port, HOST);
    await once(c, 'connect');
    const [s] = (await accepted) as [Socket];
    s.resume();
    const sErr = errorOf(s);
    c.resetAndDestroy();
    const err = await sErr;
    expect(err.code).toBe('ECONNRESET');
    expect(err.syscall).toBe('read');
    expect(err.message).toBe('read ECONNRESET');
    expect(err.errno).toBeLessThan(0);
    const [hadError] = await once(s, 'close');
    expect(hadError).toBe(true);
    expect(c.destroyed).toBe(true);
  });

  test("resetAndDestroy() in the client's 'connect' handler: the server still sees the connection, then ECONNRESET (as net)", async () => {
    const server = createServer();
    servers.push(server);
    const port = await listen(server);
    const accepted = once(server, 'connection');
    const c = connect(port, HOST);
    c.on('connect', () => c.resetAndDestroy()); // before the handshake's last ACK, held for data, went out
    const [s] = (await accepted) as [Socket];
    expect((await errorOf(s)).code).toBe('ECONNRESET');
    const [hadError] = await once(s, 'close');
    expect(hadError).toBe(true);
  });

  test('data sent to a socket that was closed is answered with RST: the writer gets ECONNRESET', async () => {
    const server = createServer((s) => s.destroy());
    servers.push(server);
    const port = await listen(server);
    const c = connect({ port, host: HOST, allowHalfOpen: true });
    c.resume();
    await once(c, 'end'); // the server's FIN
    const err = errorOf(c);
    c.write('anyone there?');
    expect((await err).code).toBe('ECONNRESET');
  });

  test('AbortSignal: aborting while connecting or connected destroys with AbortError', async () => {
    const hole = await blackhole();
    const ac = new AbortController();
    const c = connect({ port: hole.port, host: HOST, signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    const err = await errorOf(c);
    expect(err.name).toBe('AbortError');
    expect(err.code).toBe('ABORT_ERR');
    await once(c, 'close');
    hole.close();

    const pre = AbortSignal.abort();
    const c2 = connect({ port: 9, host: HOST, signal: pre });
    expect((await errorOf(c2)).name).toBe('AbortError');

    const { port } = await echo();
    const ac3 = new AbortController();
    const c3 = connect({ port, host: HOST, signal: ac3.signal });
    await once(c3, 'connect');
    ac3.abort();
    expect((await errorOf(c3)).code).toBe('ABORT_ERR');
  });

  test('ref()/unref() return the socket and keep working before and after connect', async () => {
    const { port } = await echo();
    const c = connect(port, HOST);
    expect(c.unref()).toBe(c);
    await once(c, 'connect');
    expect(c.ref()).toBe(c);
    expect(c.setNoDelay(true)).toBe(c);
    expect(c.setKeepAlive(true, 1000)).toBe(c);
    c.end('x');
    expect((await readAll(c)).toString()).toBe('x');
  });
});
