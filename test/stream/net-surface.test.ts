// The module surface node:net code expects: constructors callable without
// `new`, net.Stream, net's address helpers and defaults, a default export,
// and disposal with `await using`.
import nodeNet from 'node:net';
import { describe, expect, test, vi } from 'vitest';
import rdDefault, * as rd from '../../src/index.js';
import { HOST, once } from './helpers.js';

describe('net module surface', () => {
  test('Socket() and Server() called without new construct, as net allows; instanceof still holds', () => {
    const s = (rd.Socket as unknown as () => rd.Socket)();
    expect(s).toBeInstanceOf(rd.Socket);
    expect(s.constructor).toBe(rd.Socket);
    expect(s.connecting).toBe(false);
    s.destroy();
    const srv = (rd.Server as unknown as (l: () => void) => rd.Server)(() => {});
    expect(srv).toBeInstanceOf(rd.Server);
    expect(srv.listenerCount('connection')).toBe(1);
    // Subclassing keeps working through the callable wrapper.
    class Mine extends rd.Socket {}
    const m = new Mine();
    expect(m).toBeInstanceOf(rd.Socket);
    m.destroy();
  });

  test('net.Stream is net.Socket', () => {
    expect(rd.Stream).toBe(rd.Socket);
  });

  test("net's address helpers are exported: isIP, isIPv4, isIPv6, SocketAddress, BlockList", () => {
    expect(rd.isIP('::1')).toBe(6);
    expect(rd.isIPv4('127.0.0.1')).toBe(true);
    expect(rd.isIPv6('127.0.0.1')).toBe(false);
    expect(new rd.SocketAddress({ address: HOST, port: 80 }).port).toBe(80);
    const bl = new rd.BlockList();
    bl.addAddress(HOST);
    expect(bl.check(HOST)).toBe(true);
  });

  test("the auto-select-family defaults are net's, with its validation", () => {
    expect(rd.getDefaultAutoSelectFamily()).toBe(nodeNet.getDefaultAutoSelectFamily());
    const before = rd.getDefaultAutoSelectFamilyAttemptTimeout();
    try {
      rd.setDefaultAutoSelectFamilyAttemptTimeout(5);
      expect(rd.getDefaultAutoSelectFamilyAttemptTimeout()).toBe(10); // net's floor
      expect(() => rd.setDefaultAutoSelectFamilyAttemptTimeout(0)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
      expect(() => rd.setDefaultAutoSelectFamily(1 as unknown as boolean)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    } finally {
      rd.setDefaultAutoSelectFamilyAttemptTimeout(before);
    }
  });

  test('_setSimultaneousAccepts is a no-op that warns once (DEP0121), as net', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      rd._setSimultaneousAccepts(true);
      rd._setSimultaneousAccepts(false);
      const calls = warn.mock.calls.filter((c) => c.includes('DEP0121'));
      expect(calls.length).toBeLessThanOrEqual(1);
    } finally {
      warn.mockRestore();
    }
  });

  test("a default export: `import net from 'reliable-dgram'` has net's members", () => {
    for (const k of [
      'Socket',
      'Server',
      'Stream',
      'connect',
      'createConnection',
      'createServer',
      'isIP',
      'isIPv4',
      'isIPv6',
      'SocketAddress',
      'BlockList',
      'getDefaultAutoSelectFamily',
      'setDefaultAutoSelectFamily',
      'getDefaultAutoSelectFamilyAttemptTimeout',
      'setDefaultAutoSelectFamilyAttemptTimeout',
      '_setSimultaneousAccepts',
    ] as const) {
      expect(typeof rdDefault[k], k).toBe('function');
      expect(rdDefault[k], k).toBe(rd[k]);
    }
  });

  test('Server[Symbol.asyncDispose] closes a listening server and resolves once closed; a closed one resolves at once', async () => {
    const srv = rd.createServer();
    srv.listen(0, HOST);
    await once(srv, 'listening');
    const closed = once(srv, 'close');
    await srv[Symbol.asyncDispose]();
    expect(srv.listening).toBe(false);
    await closed;
    await rd.createServer()[Symbol.asyncDispose]();
  });

  test('Socket[Symbol.asyncDispose] destroys the socket', async () => {
    const s = new rd.Socket();
    await (s as unknown as { [Symbol.asyncDispose](): Promise<void> })[Symbol.asyncDispose]();
    expect(s.destroyed).toBe(true);
  });
});
