// Host: how output leaves relative to event handlers.
import { describe, expect, it } from 'vitest';
import type { Address } from '../src/endpoint/types.js';
import type { Connection } from '../src/protocol/connection.js';
import { SimNetwork, simHost } from '../src/sim/index.js';
import { decode } from '../src/wire/segment.js';

const A: Address = { address: '10.0.0.1', port: 1000 };
const B: Address = { address: '10.0.0.2', port: 2000 };

describe('Host.flush from inside an event handler', () => {
  it('sends what the handler queued at once, after what was queued before it, and never nests handlers', () => {
    const net = new SimNetwork({ seed: 5, link: { delay: [1, 1] } });
    const a = simHost(net, A);
    const b = simHost(net, B);
    b.endpoint.listen();
    const sentB: number[] = []; // payload length of every datagram b hands to its transport
    const send = b.transport.send.bind(b.transport);
    b.transport.send = (data, to) => {
      const r = decode(data);
      sentB.push(r.ok ? r.segment.payload.length : -1);
      send(data, to);
    };
    let depth = 0;
    let maxDepth = 0;
    const handedOver: number[] = [];
    let server: Connection | null = null;
    b.onEvent = (ev) => {
      depth++;
      maxDepth = Math.max(maxDepth, depth);
      if (ev.type === 'accept') {
        server = ev.conn;
        server.setNoDelay(true);
      } else if (ev.type === 'conn' && ev.conn === server && ev.ev.type === 'readable') {
        const d = ev.conn.read(net.now);
        if (d) {
          // Two replies, each followed by a flush: each leaves during the handler, in order.
          const before = sentB.length;
          ev.conn.write(d.subarray(0, 10));
          b.service(ev.conn);
          handedOver.push(sentB.length - before);
          ev.conn.write(d.subarray(10));
          b.service(ev.conn);
          handedOver.push(sentB.length - before);
        }
      }
      depth--;
    };
    const c = a.connect(B, { noDelay: true });
    let got = 0;
    a.onEvent = (ev) => {
      if (ev.type !== 'conn' || ev.conn !== c) return;
      if (ev.ev.type === 'established') {
        c.write(new Uint8Array(30).fill(1));
        a.service(c);
      }
      if (ev.ev.type === 'readable') for (let d = c.read(net.now); d; d = c.read(net.now)) got += d.length;
    };
    while (got < 30 && net.now < 100) net.runFor(1);
    expect(got).toBe(30);
    expect(handedOver).toEqual([1, 2]);
    expect(sentB.filter((n) => n > 0)).toEqual([10, 20]);
    expect(maxDepth).toBe(1);
  });
});
