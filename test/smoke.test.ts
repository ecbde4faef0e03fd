import { describe, expect, it } from 'vitest';
import { SimNetwork, simHost } from '../src/sim/index.js';
import type { Connection } from '../src/protocol/connection.js';

function collect(conn: Connection, now: () => number, sink: Uint8Array[]) {
  let c: Uint8Array | null;
  while ((c = conn.read(now()))) sink.push(c);
}

describe('smoke', () => {
  it('transfers 1 MiB over a lossy link and closes', () => {
    const net = new SimNetwork({ seed: 7, link: { loss: 0.05, delay: [5, 15], reorder: 0.05 } });
    const A = { address: '127.0.0.1', port: 1000 };
    const B = { address: '127.0.0.2', port: 2000 };
    const a = simHost(net, A);
    const b = simHost(net, B);
    b.endpoint.listen();
    const got: Uint8Array[] = [];
    let server: Connection | undefined;
    let ended = false;
    b.onEvent = (ev) => {
      if (ev.type === 'accept') server = ev.conn;
      if (ev.type === 'conn' && ev.conn === server) {
        if (ev.ev.type === 'readable') collect(server, () => net.now, got);
        if (ev.ev.type === 'end') {
          ended = true;
          server.shutdown();
          b.service(server);
        }
      }
    };
    const data = new Uint8Array(1 << 20);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 255;
    const c = a.connect(B);
    let off = 0;
    const pump = () => {
      while (off < data.length) {
        const n = c.write(data.subarray(off, off + 65536));
        off += n;
        if (n === 0) break;
      }
      if (off >= data.length) c.shutdown();
      a.service(c);
    };
    a.onEvent = (ev) => {
      if (ev.type === 'conn' && ev.conn === c && (ev.ev.type === 'established' || ev.ev.type === 'writable')) pump();
    };
    net.run({ until: 600_000 });
    const total = got.reduce((s, x) => s + x.length, 0);
    const all = new Uint8Array(total);
    let p = 0;
    for (const g of got) {
      all.set(g, p);
      p += g.length;
    }
    expect(total).toBe(data.length);
    expect(Buffer.compare(Buffer.from(all), Buffer.from(data))).toBe(0);
    expect(ended).toBe(true);
    console.log('virtual time', net.now, 'a', c.state, c.stats, 'b', server?.state, net.stats);
    expect(a.endpoint.connectionCount).toBe(0);
    expect(b.endpoint.connectionCount).toBe(0);
    expect(a.endpoint.timeWaitCount).toBe(0);
  });
});
