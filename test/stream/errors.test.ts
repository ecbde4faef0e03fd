// Errors with node:net's codes, classes and messages: bad arguments throw
// synchronously exactly as node:net does; network failures arrive as 'error'.
import dgram from 'node:dgram';
import net from 'node:net';
import { describe, expect, onTestFinished, test } from 'vitest';
import { connect, createEndpoint, createServer, Socket } from '../../src/index.js';
import { blackhole, closedUdpPort, errorOf, HOST, listen, once, track } from './helpers.js';

function thrown(fn: () => unknown): { name: string; code: unknown; message: string } | undefined {
  try {
    fn();
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return { name: err.name, code: err.code, message: err.message };
  }
  return undefined;
}

describe('argument errors match node:net', () => {
  const connectCases: Array<[string, unknown[]]> = [
    ['no arguments: ERR_MISSING_ARGS', []],
    ['port out of range: ERR_SOCKET_BAD_PORT', [70000]],
    ['negative port', [{ port: -1 }]],
    ['blank port string', [{ port: '  ' }]],
    ['fractional port', [{ port: 80.5 }]],
    ['port of the wrong type: ERR_INVALID_ARG_TYPE', [{ port: true }]],
    ['host of the wrong type', [{ port: 80, host: 123 }]],
    ['localAddress not an IP: ERR_INVALID_IP_ADDRESS', [{ port: 80, localAddress: 'nope' }]],
    ['bad family: ERR_INVALID_ARG_VALUE', [{ port: 80, host: 'localhost', family: 5 }]],
    ['bad lookup function', [{ port: 80, host: 'localhost', lookup: 42 }]],
  ];
  test.each(connectCases)('connect: %s', (_name, args) => {
    const theirs = thrown(() => (net.connect as (...a: unknown[]) => net.Socket)(...args));
    const ours = thrown(() => (connect as (...a: unknown[]) => Socket)(...args));
    expect(theirs).toBeDefined();
    expect(ours).toEqual(theirs);
  });

  const listenCases: Array<[string, unknown[]]> = [
    ['negative port', [-1]],
    ['port too large', [65536]],
    ['options without port or path', [{}]],
    ['port of the wrong type', [{ port: true }]],
  ];
  test.each(listenCases)('listen: %s', (_name, args) => {
    const theirs = thrown(() => (net.createServer().listen as (...a: unknown[]) => void)(...args));
    const ours = thrown(() => (createServer().listen as (...a: unknown[]) => void)(...args));
    expect(theirs).toBeDefined();
    expect(ours).toEqual(theirs);
  });

  test('setTimeout, createServer and Socket options validate as net', () => {
    const pairs: Array<[() => unknown, () => unknown]> = [
      [() => new net.Socket().setTimeout(-1), () => new Socket().setTimeout(-1)],
      [() => new net.Socket().setTimeout('x' as never), () => new Socket().setTimeout('x' as never)],
      [() => new net.Socket().setTimeout(10, 'cb' as never), () => new Socket().setTimeout(10, 'cb' as never)],
      [() => net.createServer(42 as never), () => createServer(42 as never)],
      [() => new net.Socket({ objectMode: true } as never), () => new Socket({ objectMode: true } as never)],
      [() => new net.Socket({ keepAliveInitialDelay: 'x' } as never), () => new Socket({ keepAliveInitialDelay: 'x' } as never)],
      [() => new net.Socket({ signal: 'x' } as never), () => new Socket({ signal: 'x' } as never)],
    ];
    for (const [theirs, ours] of pairs) {
      const t = thrown(theirs);
      expect(t).toBeDefined();
      expect(thrown(ours)).toEqual(t);
    }
  });

  test('connection settings are validated where they enter (connect, createServer, createEndpoint), naming the field', () => {
    const cases: Array<[unknown, string, string]> = [
      ['x', 'ERR_INVALID_ARG_TYPE', 'options.connection'],
      [{ sndBuf: '1MB' }, 'ERR_INVALID_ARG_TYPE', 'options.connection.sndBuf'],
      [{ rcvBuf: 0 }, 'ERR_OUT_OF_RANGE', 'options.connection.rcvBuf'],
      [{ mss: 1200.5 }, 'ERR_OUT_OF_RANGE', 'options.connection.mss'],
      [{ mss: 20 }, 'ERR_OUT_OF_RANGE', 'options.connection.mss'],
      [{ delayedAck: 600 }, 'ERR_OUT_OF_RANGE', 'options.connection.delayedAck'],
      [{ maxRcvBuf: Number.NaN }, 'ERR_OUT_OF_RANGE', 'options.connection.maxRcvBuf'],
      [{ sack: 'yes' }, 'ERR_INVALID_ARG_TYPE', 'options.connection.sack'],
      [{ congestion: 'vegas' }, 'ERR_INVALID_ARG_VALUE', 'options.connection.congestion'],
      [{ congestion: 5 }, 'ERR_INVALID_ARG_TYPE', 'options.connection.congestion'],
      [{ rto: { rtoMin: -1 } }, 'ERR_OUT_OF_RANGE', 'options.connection.rto.rtoMin'],
    ];
    for (const [connection, code, field] of cases) {
      for (const make of [
        () => connect({ port: 80, host: HOST, connection } as never),
        () => createServer({ connection } as never),
        () => createEndpoint({ connection } as never),
      ]) {
        const e = thrown(make);
        expect(e?.code, JSON.stringify(connection)).toBe(code);
        // node quotes an argument "so" and a property 'so' (ERR_INVALID_ARG_VALUE).
        expect(String(e?.message)).toMatch(new RegExp(`["']${field.replaceAll('.', '\\.')}["']`));
      }
    }
    // Valid settings pass.
    const rto = { rtoMin: 100, rtoMax: 60_000, rtoInitial: 1000, granularity: 1 };
    expect(thrown(() => createServer({ connection: { sndBuf: 65_536, maxSndBuf: 65_536, sack: false, rto } }))).toBeUndefined();
    for (const congestion of ['newreno', 'cubic', 'bbr', 'cubic-lt'] as const)
      expect(thrown(() => createServer({ connection: { congestion } }))).toBeUndefined();
  });

  test('IPC paths are rejected: there are no pipes over UDP', () => {
    expect(thrown(() => connect('/tmp/some.sock'))?.code).toBe('ERR_INVALID_ARG_VALUE');
    expect(thrown(() => createServer().listen('/tmp/some.sock'))?.code).toBe('ERR_INVALID_ARG_VALUE');
  });

  test('listen twice throws ERR_SERVER_ALREADY_LISTEN; close() when not listening passes ERR_SERVER_NOT_RUNNING', async () => {
    const server = createServer();
    server.listen(0, HOST);
    expect(thrown(() => server.listen(0, HOST))).toMatchObject({
      code: 'ERR_SERVER_ALREADY_LISTEN',
      message: 'Listen method has been called more than once without closing.',
    });
    await once(server, 'listening');
    server.close();
    const idle = createServer();
    const err = await new Promise<NodeJS.ErrnoException | undefined>((r) => idle.close(r));
    expect(err?.code).toBe('ERR_SERVER_NOT_RUNNING');
    expect(err?.message).toBe('Server is not running.');
  });
});

describe('connection errors', () => {
  test("ECONNREFUSED when nothing is bound at the port (ICMP port unreachable on the client's connected UDP socket)", async () => {
    const { port, close } = await closedUdpPort();
    onTestFinished(close);
    const c = connect(port, HOST);
    const t = track(c);
    const [err] = (await t.wait('error')) as [NodeJS.ErrnoException & { address: string; port: number }];
    expect(err.code).toBe('ECONNREFUSED');
    expect(err.syscall).toBe('connect');
    expect(err.message).toBe(`connect ECONNREFUSED ${HOST}:${port}`);
    expect([err.address, err.port]).toEqual([HOST, port]);
    expect(err.errno).toBeLessThan(0);
    const [hadError] = await t.wait('close');
    expect(hadError).toBe(true);
    expect(t.fired('connect')).toBe(false);
  });

  test('ECONNREFUSED from an endpoint that is bound but not listening: it answers the SYN with RST', async () => {
    const quiet = await createEndpoint({ host: HOST });
    const local = await createEndpoint({ host: HOST }); // shared and not connected: no ICMP path, only the RST
    const c = connect({ endpoint: local, port: quiet.address().port, host: HOST });
    const err = await errorOf(c);
    expect(err.code).toBe('ECONNREFUSED');
    expect(err.message).toBe(`connect ECONNREFUSED ${HOST}:${quiet.address().port}`);
    expect(quiet.stats.rstSent).toBeGreaterThanOrEqual(1);
    expect(local.closed).toBe(false); // a shared endpoint outlives its sockets
    quiet.close();
    local.close();
  });

  test('a dial sends its SYN before the 1-byte port probe: a relay that keeps its first sender keeps the client', async () => {
    const peer = dgram.createSocket('udp4');
    peer.bind(0, HOST);
    await once(peer, 'listening');
    const got: number[] = [];
    peer.on('message', (m) => got.push(m.length));
    const c = connect({ port: peer.address().port, host: HOST, connection: { synRetries: 1 } });
    c.on('error', () => {});
    await new Promise((r) => setTimeout(r, 300));
    expect(got.slice(0, 2)).toEqual([expect.any(Number), 1]);
    expect(got[0]).toBeGreaterThan(1); // the SYN
    c.destroy();
    peer.close();
  });

  test('ETIMEDOUT when the peer never answers and the SYN retries run out', async () => {
    const hole = await blackhole();
    const c = connect({
      port: hole.port,
      host: HOST,
      connection: { synRetries: 2, rto: { rtoInitial: 40, rtoMin: 40, rtoMax: 1000, granularity: 1 } },
    });
    const err = await errorOf(c);
    expect(err.code).toBe('ETIMEDOUT');
    expect(err.message).toBe(`connect ETIMEDOUT ${HOST}:${hole.port}`);
    expect(hole.received()).toBe(3); // the SYN and two retries
    hole.close();
  });

  test('EADDRINUSE on listen when the UDP port is taken', async () => {
    const taken = dgram.createSocket('udp4');
    taken.bind(0, HOST);
    await once(taken, 'listening');
    const port = taken.address().port;
    const server = createServer();
    server.listen(port, HOST);
    const err = await errorOf(server);
    expect(err.code).toBe('EADDRINUSE');
    expect(err.syscall).toBe('listen');
    expect(err.message).toBe(`listen EADDRINUSE: address already in use ${HOST}:${port}`);
    expect([err.address, err.port]).toEqual([HOST, port]);
    expect(server.listening).toBe(false);
    taken.close();

    // A second server on a port our own server holds.
    const first = createServer();
    const p2 = await listen(first);
    const second = createServer();
    second.listen(p2, HOST);
    expect((await errorOf(second)).code).toBe('EADDRINUSE');
    first.close();
  });

  test('bind errors for localPort surface as net does (bind EADDRINUSE)', async () => {
    const taken = dgram.createSocket('udp4');
    taken.bind(0, HOST);
    await once(taken, 'listening');
    const localPort = taken.address().port;
    const c = connect({ port: 9, host: HOST, localAddress: HOST, localPort });
    const err = await errorOf(c);
    expect(err.code).toBe('EADDRINUSE');
    expect(err.syscall).toBe('bind');
    expect(err.message).toBe(`bind EADDRINUSE ${HOST}:${localPort}`);
    taken.close();
  });

  test('write before connect() fails with ERR_SOCKET_CLOSED; resetAndDestroy() without a connection too', async () => {
    const s = new Socket();
    s.on('error', () => {});
    const err = await new Promise<Error | null | undefined>((r) => s.write('x', r));
    expect((err as NodeJS.ErrnoException).code).toBe('ERR_SOCKET_CLOSED');
    const s2 = new Socket();
    s2.resetAndDestroy();
    expect((await errorOf(s2)).code).toBe('ERR_SOCKET_CLOSED');
  });
});
