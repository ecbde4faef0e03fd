// connect({ localPort }) as node:net's client socket, which binds with SO_REUSEADDR: a second
// connect from the same port works while the first is open (to another peer) and right after it
// closed (TIME_WAIT included); the same 4-tuple while it is in use fails with EADDRNOTAVAIL.
import dgram from 'node:dgram';
import { describe, expect, test } from 'vitest';
import { connect, createServer, type Server } from '../../src/index.js';
import { errorOf, HOST, listen, once, readAll, sleep } from './helpers.js';

/** A UDP port nothing holds right now (bound, read, released). */
async function unusedUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  s.bind(0, HOST);
  await once(s, 'listening');
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function greeter(text: string): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => {
    s.on('error', () => {});
    s.end(`${text} ${s.remotePort}`);
  });
  return { server, port: await listen(server) };
}

/** Connect from `localPort`, read to the end, and wait for 'close'. */
async function exchange(port: number, localPort: number, msl?: number): Promise<string> {
  const c = connect({ port, host: HOST, localAddress: HOST, localPort, ...(msl ? { connection: { msl } } : {}) });
  const text = (await readAll(c)).toString();
  if (!c.destroyed) await once(c, 'close');
  return text;
}

describe('connect({ localPort }) reuses the port as net does', () => {
  test('again at once after the first connection closed: the server closed first (the client never enters TIME_WAIT)', async () => {
    const { server, port } = await greeter('hi');
    const lp = await unusedUdpPort();
    expect(await exchange(port, lp)).toBe(`hi ${lp}`);
    // Straight from 'close', as an app that reconnects on close does.
    expect(await exchange(port, lp)).toBe(`hi ${lp}`);
    server.close();
  });

  test('again while the first is in TIME_WAIT: the client closed first', async () => {
    const server = createServer((s) => {
      s.resume();
      s.on('end', () => s.end('bye'));
    });
    const port = await listen(server);
    const lp = await unusedUdpPort();
    for (let i = 0; i < 3; i++) {
      const c = connect({ port, host: HOST, localAddress: HOST, localPort: lp });
      c.end('x');
      expect((await readAll(c)).toString()).toBe('bye');
      if (!c.destroyed) await once(c, 'close');
    }
    server.close();
  });

  test('a connection that joins a port lingering for its TIME_WAIT records outlives the linger', async () => {
    const server = createServer((s) => {
      s.on('error', () => {});
      s.on('data', (d) => s.write(d));
      s.on('end', () => s.end());
    });
    const port = await listen(server);
    const lp = await unusedUdpPort();
    const msl = 50; // the port lingers 2 × MSL = 100 ms after its last connection went to TIME_WAIT
    const a = connect({ port, host: HOST, localAddress: HOST, localPort: lp, connection: { msl } });
    a.end('a');
    await readAll(a);
    const b = connect({ port, host: HOST, localAddress: HOST, localPort: lp, connection: { msl } });
    await once(b, 'connect');
    await sleep(300); // well past the first one's linger
    const echoed = new Promise<string>((resolve) => b.once('data', (d: Buffer) => resolve(d.toString())));
    const closed = new Promise<string>((resolve) => b.once('close', () => resolve('closed under it')));
    b.write('still here');
    expect(await Promise.race([echoed, closed])).toBe('still here');
    b.end();
    await readAll(b);
    server.close();
  });

  test('while the first is open, to another peer: both connections work, from the one port', async () => {
    const a = await greeter('a');
    const b = await greeter('b');
    const lp = await unusedUdpPort();
    const ca = connect({ port: a.port, host: HOST, localAddress: HOST, localPort: lp });
    const cb = connect({ port: b.port, host: HOST, localAddress: HOST, localPort: lp }); // same tick: a bind in progress
    const ports: Array<number | undefined> = [];
    for (const c of [ca, cb]) c.on('connect', () => ports.push(c.localPort));
    const [ta, tb] = await Promise.all([readAll(ca), readAll(cb)]);
    expect(ta.toString()).toBe(`a ${lp}`);
    expect(tb.toString()).toBe(`b ${lp}`);
    expect(ports).toEqual([lp, lp]);
    a.server.close();
    b.server.close();
  });

  test('the same 4-tuple while it is in use: EADDRNOTAVAIL, with net message', async () => {
    const server = createServer((s) => s.on('error', () => {}));
    const port = await listen(server);
    const lp = await unusedUdpPort();
    const first = connect({ port, host: HOST, localAddress: HOST, localPort: lp });
    await once(first, 'connect');
    const second = connect({ port, host: HOST, localAddress: HOST, localPort: lp });
    const err = await errorOf(second);
    expect(err.code).toBe('EADDRNOTAVAIL');
    expect(err.syscall).toBe('connect');
    expect(err.message).toBe(`connect EADDRNOTAVAIL ${HOST}:${port} - Local (${HOST}:${lp})`);
    expect(first.destroyed).toBe(false);
    first.destroy();
    server.close();
  });

  test('with autoSelectFamily, from a named port: a refused IPv6 attempt leaves the port to the IPv4 one', async () => {
    const { server, port } = await greeter('v4');
    const lp = await unusedUdpPort();
    type Lookup = (host: string, o: { all?: boolean }, cb: (err: Error | null, a: unknown, f?: number) => void) => void;
    const lookup: Lookup = (_host, o, cb) => {
      if (o.all)
        cb(null, [
          { address: '::1', family: 6 },
          { address: HOST, family: 4 },
        ]);
      else cb(null, '::1', 6);
    };
    const c = connect({ port, host: 'dual.example', lookup: lookup as never, localPort: lp, autoSelectFamily: true });
    let tried: string[] = [];
    c.on('connect', () => (tried = [...(c.autoSelectFamilyAttemptedAddresses ?? [])]));
    expect((await readAll(c)).toString()).toBe(`v4 ${lp}`); // was bind EADDRINUSE: the '::' socket still held the port
    expect(tried).toEqual([`::1:${port}`, `${HOST}:${port}`]);
    server.close();
  });

  test('listen() on the port a client used, while it lingers for TIME_WAIT (the client closed first): listening, as net', async () => {
    const server = createServer((s) => {
      s.resume();
      s.on('end', () => s.end());
    });
    const port = await listen(server);
    for (const localPort of [await unusedUdpPort(), 0]) {
      const c = connect({ port, host: HOST, localAddress: HOST, localPort });
      await once(c, 'connect');
      const lp = c.localPort!;
      c.end('x');
      await readAll(c);
      const onPort = createServer(() => {});
      const listening = new Promise<string>((resolve) => {
        onPort.once('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code}`));
        onPort.listen(lp, HOST, () => resolve('listening'));
      });
      expect(await listening).toBe('listening'); // was EADDRINUSE for the second the port lingered
      onPort.close();
    }
    server.close();
  });

  test('connects to one peer from one named port at once: one gets the 4-tuple, the others EADDRNOTAVAIL', async () => {
    const server = createServer((s) => {
      s.on('error', () => {});
      s.resume();
      s.on('end', () => s.end());
    });
    const port = await listen(server);
    const lp = await unusedUdpPort();
    const burst = (): Promise<string[]> =>
      Promise.all(
        Array.from({ length: 5 }, async () => {
          const c = connect({ port, host: HOST, localAddress: HOST, localPort: lp });
          const outcome = await new Promise<string>((resolve) => {
            c.once('connect', () => resolve('connected'));
            c.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
          });
          if (outcome === 'connected') {
            c.end(); // the client closes first: its port lingers with a TIME_WAIT record
            await readAll(c);
          }
          return outcome;
        }),
      );
    for (const round of ['the port bound afresh', 'the port lingering from the round before']) {
      const outcomes = (await burst()).sort();
      expect(outcomes, round).toEqual(['EADDRNOTAVAIL', 'EADDRNOTAVAIL', 'EADDRNOTAVAIL', 'EADDRNOTAVAIL', 'connected']);
    }
    server.close();
  });
});
