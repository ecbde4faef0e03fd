// autoSelectFamily (net's default on Node 20): every address of the name is
// tried in turn, families alternating, moving on when one is refused or does
// not answer within the attempt timeout; all failing gives an AggregateError.
import dgram from 'node:dgram';
import type { AddressInfo, LookupFunction } from 'node:net';
import { describe, expect, test } from 'vitest';
import { connect, createServer, Socket } from '../../src/index.js';
import { errorOf, HOST, listen, once, readAll } from './helpers.js';

/** A lookup answering `addrs` (with all: true, as net asks), recording the options it was given. */
function fixedLookup(addrs: Array<{ address: string; family: number }>, seen: object[] = []): LookupFunction {
  return ((_host: string, opts: { all?: boolean }, cb: (...a: unknown[]) => void) => {
    seen.push({ ...opts });
    if (opts.all) cb(null, addrs);
    else cb(null, addrs[0]!.address, addrs[0]!.family);
  }) as unknown as LookupFunction;
}

const both = [
  { address: '::1', family: 6 },
  { address: HOST, family: 4 },
];

describe('autoSelectFamily', () => {
  test('an address that refuses is skipped: the next family connects; the addresses tried are listed', async () => {
    const server = createServer((s) => s.end('v4'));
    const port = await listen(server, HOST); // IPv4 only: ::1 refuses
    const seen: object[] = [];
    const c = new Socket();
    const lookups: unknown[][] = [];
    c.on('lookup', (...a: unknown[]) => lookups.push(a)); // a lookup that answers at once emits within connect(), as net's
    c.connect({ port, host: 'dual.test', lookup: fixedLookup(both, seen), autoSelectFamily: true });
    await once(c, 'connect');
    expect(seen[0]).toMatchObject({ all: true });
    expect(lookups).toEqual([
      [null, '::1', 6, 'dual.test'],
      [null, HOST, 4, 'dual.test'],
    ]);
    expect(c.autoSelectFamilyAttemptedAddresses).toEqual([`::1:${port}`, `${HOST}:${port}`]);
    expect(c.remoteAddress).toBe(HOST);
    expect((await readAll(c)).toString()).toBe('v4');
    server.close();
  });

  test('an address that does not answer is abandoned after the attempt timeout', async () => {
    const server = createServer((s) => s.end('v6'));
    const port = await listen(server, '::1');
    const hole = dgram.createSocket('udp4'); // takes the datagrams, answers nothing (no ICMP either)
    await new Promise<void>((r) => hole.bind(port, HOST, r));
    let swallowed = 0;
    hole.on('message', () => swallowed++);
    const v4first = [
      { address: HOST, family: 4 },
      { address: '::1', family: 6 },
    ];
    const t0 = performance.now();
    const c = connect({ port, host: 'dual.test', lookup: fixedLookup(v4first), autoSelectFamilyAttemptTimeout: 50 });
    await once(c, 'connect');
    const took = performance.now() - t0;
    expect(swallowed).toBeGreaterThan(0);
    expect(took).toBeGreaterThanOrEqual(45);
    expect(took).toBeLessThan(1000);
    expect(c.autoSelectFamilyAttemptedAddresses).toEqual([`${HOST}:${port}`, `::1:${port}`]);
    expect((await readAll(c)).toString()).toBe('v6');
    hole.close();
    server.close();
  });

  test('when every address fails, the socket fails with an AggregateError of their errors', async () => {
    const probe = createServer();
    const port = await listen(probe, HOST);
    probe.close(); // a port nothing listens on, both families
    await once(probe, 'close');
    const c = connect({ port, host: 'dual.test', lookup: fixedLookup(both) });
    const err = (await errorOf(c)) as unknown as AggregateError & { code?: string };
    expect(err).toBeInstanceOf(AggregateError);
    expect(err.code).toBe('ECONNREFUSED');
    expect(err.errors.map((e: Error) => e.message)).toEqual([`connect ECONNREFUSED ::1:${port}`, `connect ECONNREFUSED ${HOST}:${port}`]);
  });

  test('autoSelectFamily: false tries the first address only, as net', async () => {
    const server = createServer((s) => s.end());
    const port = await listen(server, HOST);
    const seen: object[] = [];
    const c: Socket = connect({ port, host: 'dual.test', lookup: fixedLookup(both, seen), autoSelectFamily: false });
    const err = await errorOf(c);
    expect(err.message).toBe(`connect ECONNREFUSED ::1:${port}`);
    expect(seen[0]).not.toHaveProperty('all');
    expect(c.autoSelectFamilyAttemptedAddresses).toBeUndefined();
    expect((server.address() as AddressInfo).port).toBe(port);
    server.close();
  });
});
