// net.Socket behaviours that code written for node:net relies on: values while
// connecting, reconnecting a closed socket, the onread option, lookup and
// option validation, port 0 and the unspecified address, the members some
// code reaches into, and captureRejections on the server.
import type { AddressInfo } from 'node:net';
import { describe, expect, test, vi } from 'vitest';
import { connect, createServer, Socket, type Connection } from '../../src/index.js';
import { echoServer, errorOf, HOST, listen, once, readAll } from './helpers.js';

describe('net.Socket compatibility', () => {
  test('bufferSize equals writableLength from connect() on, while connecting too', async () => {
    const { server, port } = await echoServer();
    const c = new Socket();
    expect(c.bufferSize).toBeUndefined();
    c.connect(port, HOST);
    expect(c.bufferSize).toBe(0);
    c.write('a');
    c.write('bc');
    expect(c.connecting).toBe(true);
    expect(c.bufferSize).toBe(c.writableLength);
    expect(c.bufferSize).toBe(3);
    c.end();
    await readAll(c);
    server.close();
  });

  test('_connecting mirrors connecting; _handle is null without a connection and forwards setNoDelay/setKeepAlive with one', async () => {
    const { server, port } = await echoServer();
    const c = new Socket();
    expect(c._handle).toBeNull();
    expect(c._connecting).toBe(false);
    c.connect(port, HOST);
    expect(c._connecting).toBe(true);
    await once(c, 'connect');
    expect(c._connecting).toBe(false);
    const h = c._handle!;
    expect(h).toBe(c._handle); // one object per connection, so wrapping its methods sticks
    expect(typeof h.getAsyncId()).toBe('number');
    expect([h.readStop(), h.reading, h.readStart(), h.reading]).toEqual([0, false, 0, true]); // node:http's server calls them
    // As net's: the socket's setters go through the handle, which sets the connection's options.
    const noDelay = vi.spyOn(h, 'setNoDelay');
    const keepAlive = vi.spyOn(h, 'setKeepAlive');
    c.setNoDelay(true);
    c.setKeepAlive(true, 5000);
    expect(noDelay).toHaveBeenCalledWith(true);
    expect(keepAlive).toHaveBeenCalledWith(true, 5);
    const conn = (c as unknown as { conn: { conn: Connection } }).conn.conn; // through the ConnHandle
    const rx = (conn as unknown as { rx: { keepAlive: boolean; keepAliveIdle: number } }).rx;
    expect([conn.noDelay, rx.keepAlive, rx.keepAliveIdle]).toEqual([true, true, 5000]);
    c.destroy();
    expect(c._handle).toBeNull();
    server.close();
  });

  test('a lookup answering with a family other than 4 or 6 fails with ERR_INVALID_ADDRESS_FAMILY, as net', async () => {
    const c = connect({ port: 9, host: 'example.invalid', lookup: (_h, _o, cb) => (cb as (e: null, a: string, f: number) => void)(null, HOST, 5) });
    const err = (await errorOf(c)) as NodeJS.ErrnoException & { host?: string; port?: number };
    expect(err).toBeInstanceOf(RangeError);
    expect(err.code).toBe('ERR_INVALID_ADDRESS_FAMILY');
    expect(err.message).toBe('Invalid address family: 5 example.invalid:9');
    expect(err).toMatchObject({ host: 'example.invalid', port: 9 });
  });

  test('autoSelectFamily and autoSelectFamilyAttemptTimeout are validated as net validates them', () => {
    const bad: Array<[Record<string, unknown>, string]> = [
      [{ autoSelectFamily: 1 }, 'ERR_INVALID_ARG_TYPE'],
      [{ autoSelectFamily: 'yes' }, 'ERR_INVALID_ARG_TYPE'],
      [{ autoSelectFamilyAttemptTimeout: 'x' }, 'ERR_INVALID_ARG_TYPE'],
      [{ autoSelectFamilyAttemptTimeout: 0 }, 'ERR_OUT_OF_RANGE'],
      [{ autoSelectFamilyAttemptTimeout: 1.5 }, 'ERR_OUT_OF_RANGE'],
    ];
    for (const [extra, code] of bad) {
      expect(() => connect({ port: 9, host: HOST, ...extra }), JSON.stringify(extra)).toThrow(expect.objectContaining({ code }));
    }
    for (const extra of [{ autoSelectFamily: null }, { autoSelectFamily: true, autoSelectFamilyAttemptTimeout: 9 }]) {
      const s = connect({ port: 9, host: HOST, ...extra } as never);
      s.on('error', () => {});
      s.destroy();
    }
  });

  test("connect({ port: 0 }) fails asynchronously with ECONNREFUSED, as net's does", async () => {
    const c = connect({ port: 0, host: HOST });
    const err = await errorOf(c);
    expect(err.code).toBe('ECONNREFUSED');
    expect(err.message).toBe(`connect ECONNREFUSED ${HOST}`);
  });

  test('connect() to 0.0.0.0 reaches a listener on this host (as a TCP connect does); remoteAddress is 127.0.0.1', async () => {
    const server = createServer((s) => s.end('here'));
    server.listen(0);
    const { port } = server.address() as AddressInfo;
    const c = connect(port, '0.0.0.0');
    await once(c, 'connect');
    expect(c.remoteAddress).toBe(HOST);
    expect((await readAll(c)).toString()).toBe('here');
    server.close();
  });

  test('a closed socket can connect() again; the byte counters start over', async () => {
    const { server, port } = await echoServer();
    const c = new Socket();
    for (const msg of ['first', 'second!']) {
      c.connect(port, HOST);
      c.end(msg);
      expect((await readAll(c)).toString()).toBe(msg);
      await once(c, 'close');
      expect(c.bytesWritten).toBe(msg.length);
      expect(c.bytesRead).toBe(msg.length);
    }
    server.close();
  });

  test("onread: reads land in the app's buffer (static or one per read) and go to its callback, not to 'data'", async () => {
    const message = Buffer.from('hello over reliable-dgram');
    const server = createServer((s) => s.end(message));
    const port = await listen(server);
    // A fixed 8-byte buffer.
    const fixed = Buffer.alloc(8);
    const got: Buffer[] = [];
    const a = connect({
      port,
      host: HOST,
      onread: {
        buffer: fixed,
        callback: (n, buf) => {
          expect(buf).toBe(fixed);
          got.push(Buffer.from(buf.subarray(0, n)));
        },
      },
    });
    a.on('data', () => expect.unreachable("'data' with onread"));
    await once(a, 'end');
    expect(Buffer.concat(got)).toEqual(message);
    expect(got.every((g) => g.length <= 8)).toBe(true);
    // A buffer per read, from a function; returning false pauses until resume().
    const pool = [new Uint8Array(4), new Uint8Array(4)];
    let next = 0;
    let paused = false;
    const got2: Buffer[] = [];
    const b = connect({
      port,
      host: HOST,
      onread: {
        buffer: () => pool[next++ % 2]!,
        callback(this: unknown, n, buf) {
          expect(paused).toBe(false);
          got2.push(Buffer.from(buf.subarray(0, n)));
          paused = true;
          setTimeout(() => {
            paused = false;
            (this as Socket).resume();
          }, 5);
          return false;
        },
      },
    });
    await once(b, 'end');
    expect(Buffer.concat(got2)).toEqual(message);
    expect(got2.length).toBe(Math.ceil(message.length / 4));
    server.close();
  });

  test("captureRejections: a rejected async 'connection' handler destroys that socket with the error; the server goes on", async () => {
    const boom = new Error('kaboom');
    const server = createServer({ captureRejections: true }, async () => {
      throw boom;
    });
    const serverErrors: Error[] = [];
    server.on('error', (e) => serverErrors.push(e));
    const port = await listen(server);
    const accepted = once(server, 'connection');
    const c = connect(port, HOST);
    c.on('error', () => {});
    const [s] = (await accepted) as [Socket];
    const errors: Error[] = [];
    s.on('error', (e: Error) => errors.push(e));
    await new Promise((r) => s.on('close', r));
    expect(s.errored).toBe(boom);
    expect(errors).toEqual([boom]);
    expect(serverErrors).toEqual([]);
    expect(server.listening).toBe(true);
    server.close();
    c.destroy();
  });

  test("connect's noDelay and keepAlive options reach _handle once connected, as net's; false ones never do", async () => {
    const { server, port } = await echoServer();
    for (const on of [true, false]) {
      const c = connect({ port, host: HOST, noDelay: on, keepAlive: on, keepAliveInitialDelay: 3000 });
      const h = c._handle!; // connecting: the stand-in exists
      const noDelay = vi.spyOn(h, 'setNoDelay');
      const keepAlive = vi.spyOn(h, 'setKeepAlive');
      await once(c, 'connect');
      if (on) {
        expect(noDelay).toHaveBeenCalledWith(true);
        expect(keepAlive).toHaveBeenCalledWith(true, 3);
      } else {
        expect(noDelay).not.toHaveBeenCalled();
        expect(keepAlive).not.toHaveBeenCalled();
      }
      c.destroy();
    }
    server.close();
  });
});
