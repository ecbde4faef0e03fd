// UdpTransport on a node:dgram without getSendQueueCount (Deno 2's): it must keep
// sending past the 16th datagram, bound its queue and say when memory is free,
// from the completion callbacks it then attaches to every send.
import dgram from 'node:dgram';
import { afterEach, describe, expect, test } from 'vitest';
import { UdpTransport } from '../../src/io/index.js';

type Proto = { getSendQueueCount?: () => number };
const proto = dgram.Socket.prototype as unknown as Proto;
const original = proto.getSendQueueCount;
const open: UdpTransport[] = [];

afterEach(() => {
  proto.getSendQueueCount = original;
  for (const t of open.splice(0)) t.close();
});

/** Bind as Deno's dgram would look: no getSendQueueCount on the socket. */
async function bindWithoutQueueCount(maxQueued?: number): Promise<UdpTransport> {
  delete proto.getSendQueueCount;
  const t = await UdpTransport.bind({ address: '127.0.0.1', ...(maxQueued !== undefined ? { maxQueued } : {}) });
  open.push(t);
  return t;
}

describe('UdpTransport on a dgram without getSendQueueCount (Deno)', () => {
  test('sends 500 datagrams without throwing and every one arrives', async () => {
    const a = await bindWithoutQueueCount();
    const b = await UdpTransport.bind({ address: '127.0.0.1' });
    open.push(b);
    let got = 0;
    const done = new Promise<void>((resolve) => {
      b.onMessage = () => {
        if (++got === 500) resolve();
      };
    });
    for (let i = 0; i < 500; i++) a.send(new Uint8Array(100).fill(i & 255), b.address());
    expect(a.stats.sendErrors).toBe(0);
    await done;
    expect(got).toBe(500);
    await new Promise((r) => setImmediate(r));
    expect(a.stats).toMatchObject({ sent: 500, sendErrors: 0, queued: 0, inFlight: 0 });
  });

  test('released() is false while a completion callback is pending, true once all came', async () => {
    const a = await bindWithoutQueueCount();
    const b = await UdpTransport.bind({ address: '127.0.0.1' });
    open.push(b);
    a.send(new Uint8Array([1]), b.address());
    a.send(new Uint8Array([2]), b.address());
    expect(a.stats.queued).toBe(2);
    expect(a.released()).toBe(false);
    await new Promise((r) => setTimeout(r, 20));
    expect(a.released()).toBe(true);
    expect(a.stats.queued).toBe(0);
  });

  test('the pending sends are bounded by maxQueued: the excess is dropped and counted', async () => {
    const a = await bindWithoutQueueCount(8);
    const b = await UdpTransport.bind({ address: '127.0.0.1' });
    open.push(b);
    for (let i = 0; i < 20; i++) a.send(new Uint8Array([i]), b.address());
    expect(a.stats.sendErrors).toBe(12);
    expect(a.stats.inFlight).toBe(8);
    await new Promise((r) => setTimeout(r, 20));
    expect(a.stats).toMatchObject({ sent: 8, sendErrors: 12, inFlight: 0 });
  });

  test('close() counts pending sends as lost once, and their callbacks change nothing after', async () => {
    const a = await bindWithoutQueueCount();
    const b = await UdpTransport.bind({ address: '127.0.0.1' });
    open.push(b);
    for (let i = 0; i < 5; i++) a.send(new Uint8Array([i]), b.address());
    a.close();
    await new Promise((r) => setTimeout(r, 20));
    expect(a.stats.sent + a.stats.sendErrors).toBe(5);
    expect(a.stats.sendErrors).toBe(5);
  });
});
