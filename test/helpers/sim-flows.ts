// Bulk flows sharing one simulated path: each flow is its own client (its own port on
// host A) sending to its own listener on host B, so all of them go through the same
// A → B link (bandwidth, queue, loss). Flows keep their send buffers full; the bytes each
// server has read are sampled every `sampleEvery` ms of virtual time. Deterministic for a seed.

import type { Connection } from '../../src/protocol/connection.js';
import type { ConnectionOptions } from '../../src/protocol/options.js';
import { SimNetwork, simHost, type LinkOptions } from '../../src/sim/index.js';

export interface FlowSpec {
  conn?: Partial<ConnectionOptions>;
  /** When the flow connects, virtual ms (default 0). */
  start?: number;
}

export interface SimFlowsOptions {
  link: Partial<LinkOptions>;
  flows: FlowSpec[];
  /** Virtual ms to run to. */
  until: number;
  seed?: number;
  /** Sampling period, ms (default 100). */
  sampleEvery?: number;
}

export interface SimFlows {
  net: SimNetwork;
  clients: Connection[];
  /** received[i][k]: bytes flow i's server had read at k × sampleEvery ms. */
  received: number[][];
  sampleEvery: number;
  /** Bytes per ms that flow i's server read in [t0, t1) (t0, t1 multiples of sampleEvery). */
  rate(i: number, t0: number, t1: number): number;
}

export function simFlows(o: SimFlowsOptions): SimFlows {
  const net = new SimNetwork({ seed: o.seed ?? 1, link: o.link, trace: false });
  const every = o.sampleEvery ?? 100;
  const clients: Connection[] = [];
  const totals = o.flows.map(() => 0);
  const received = o.flows.map(() => [0]);
  const chunk = new Uint8Array(64 * 1024);
  o.flows.forEach((f, i) => {
    const from = { address: '10.0.0.1', port: 1000 + i };
    const to = { address: '10.0.0.2', port: 2000 + i };
    const conn = { keepAlive: false, ...f.conn };
    const a = simHost(net, from, { connection: conn });
    const b = simHost(net, to, { connection: conn });
    b.endpoint.listen();
    let server: Connection | undefined;
    b.onEvent = (ev) => {
      if (ev.type === 'accept') server = ev.conn;
      if (ev.type === 'conn' && ev.conn === server && ev.ev.type === 'readable') {
        let c: Uint8Array | null;
        while ((c = server.read(net.now))) totals[i]! += c.length;
        b.service(server);
      }
    };
    net.at(f.start ?? 0, () => {
      const c = a.connect(to);
      clients[i] = c;
      const pump = () => {
        while (c.write(chunk) > 0);
        a.service(c);
      };
      a.onEvent = (ev) => {
        if (ev.type !== 'conn' || ev.conn !== c) return;
        if (ev.ev.type === 'established' || ev.ev.type === 'writable') pump();
      };
    });
  });
  for (let t = every; t <= o.until; t += every) {
    net.at(t, () => {
      for (let i = 0; i < o.flows.length; i++) received[i]!.push(totals[i]!);
    });
  }
  net.run({ until: o.until });
  return {
    net,
    clients,
    received,
    sampleEvery: every,
    rate(i, t0, t1) {
      const r = received[i]!;
      return (r[Math.round(t1 / every)]! - r[Math.round(t0 / every)]!) / (t1 - t0);
    },
  };
}
