// A target endpoint on the simulator holding connections in every state at once
// (SYN_SENT, SYN_RECEIVED, ESTABLISHED, FIN_WAIT_1/2, CLOSE_WAIT, CLOSING,
// LAST_ACK, TIME_WAIT records), the real datagrams that built them (the fuzzer
// mutates those), and one monitored connection whose bytes must stay correct.

import { SimNetwork, simHost } from '../../src/sim/index.js';
import type { Host } from '../../src/endpoint/host.js';
import type { Address } from '../../src/endpoint/types.js';
import type { Connection } from '../../src/protocol/connection.js';
import type { ConnectionOptions } from '../../src/protocol/options.js';
import { State } from '../../src/protocol/state.js';
import { SYN, encode } from '../../src/wire/segment.js';

export const TARGET: Address = { address: '10.0.0.1', port: 7000 };
export const MONITOR: Address = { address: '10.0.3.1', port: 5000 };
/** Where the target's active open goes: nobody there, so it stays in SYN_SENT. */
export const NOWHERE: Address = { address: '10.0.9.9', port: 9 };
export const RAW_SYN: Address = { address: '10.0.2.1', port: 5000 };
export const MONITOR_BYTES = 96 * 1024;

export const TARGET_LIMITS = { backlog: 4, maxConnections: 64, maxTimeWait: 16 };

/** Long-lived states: the zoo must survive a few virtual seconds of fuzzing. */
const LONG: Partial<ConnectionOptions> = {
  synRetries: 60,
  maxRetries: 60,
  msl: 60_000,
  rto: { rtoMin: 200, rtoMax: 2_000, rtoInitial: 1000, granularity: 1 },
};

export interface Captured {
  data: Uint8Array;
  from: Address;
}

export class Monitor {
  sent = 0;
  got = 0;
  corrupt = false;
  done = false;
  error: string | undefined;
}

export interface Zoo {
  net: SimNetwork;
  target: Host;
  /** Datagrams the target received and sent while the zoo was built (monitored traffic excluded). */
  captured: Captured[];
  /** Addresses of the peers (the fuzzer sends from these too). */
  addresses: Address[];
  monitor: Monitor;
}

function pattern(i: number): number {
  return (i * 131 + (i >>> 8) * 7 + 3) & 255;
}

function peerAddr(i: number): Address {
  return { address: `10.0.1.${i}`, port: 5000 };
}

/** Build the zoo (about 3 s of virtual time). Deterministic in `seed`. */
export function buildZoo(seed: number): Zoo {
  const net = new SimNetwork({ seed, trace: false, link: { delay: [1, 2] } });
  const target = simHost(net, TARGET, { ...TARGET_LIMITS, connection: LONG });
  target.endpoint.listen();
  const captured: Captured[] = [];
  const monitor = new Monitor();

  const deliver = target.transport.onMessage!;
  target.transport.onMessage = (data, from) => {
    if (from.address !== MONITOR.address) captured.push({ data: data.slice(), from });
    deliver(data, from);
  };
  const send = target.transport.send.bind(target.transport);
  target.transport.send = (data, to) => {
    if (to.address !== MONITOR.address) captured.push({ data: data.slice(), from: to });
    send(data, to);
  };

  // Target side: per remote address, what to do with the accepted connection.
  const onAccept = new Map<string, (c: Connection) => void>();
  const byConn = new Map<Connection, (type: string) => void>();
  target.onEvent = (ev) => {
    if (ev.type === 'accept') onAccept.get(ev.remote.address)?.(ev.conn);
    else if (ev.type === 'conn') byConn.get(ev.conn)?.(ev.ev.type);
  };
  const now = (): number => net.now;
  const drain = (c: Connection): void => {
    while (c.read(now()));
  };

  const peers: Host[] = [];
  const addresses: Address[] = [RAW_SYN, MONITOR, NOWHERE];
  const peerConn = new Map<number, Connection>();
  const mkPeer = (i: number): Host => {
    const h = simHost(net, peerAddr(i), { connection: LONG });
    h.onEvent = (ev) => {
      if (ev.type === 'conn' && ev.ev.type === 'readable') while (ev.conn.read(now()));
    };
    peers.push(h);
    addresses.push(peerAddr(i));
    return h;
  };
  const targetConn = new Map<number, Connection>();
  const accepted = (i: number, then?: (c: Connection) => void): void => {
    onAccept.set(peerAddr(i).address, (c) => {
      targetConn.set(i, c);
      byConn.set(c, (t) => {
        if (t === 'readable') drain(c);
      });
      then?.(c);
    });
  };

  // SYN_SENT: an active open to nowhere.
  target.connect(NOWHERE);
  // SYN_RECEIVED: a raw SYN that is never completed.
  const raw = net.bind(RAW_SYN);
  raw.send(
    encode({
      flags: SYN,
      dstId: 0,
      srcId: 0x5151,
      seq: 777,
      ack: 0,
      window: 65535,
      tsVal: 1,
      tsEcr: 0,
      mss: 1200,
      sackPermitted: true,
      payload: new Uint8Array(0),
    }),
    TARGET,
  );
  // Peers 1..8 open connections to the target; 9 is opened by the target.
  for (let i = 1; i <= 8; i++) {
    const h = mkPeer(i);
    accepted(i);
    // After the raw SYN; the backlog (4) then fills and the rest open through SYN cookies.
    net.after(3, () => {
      const c = h.connect(TARGET);
      peerConn.set(i, c);
      c.write(new Uint8Array(3000).fill(i));
      h.service(c);
    });
  }
  const p9 = mkPeer(9);
  p9.endpoint.listen();
  net.after(3, () => {
    const c = target.connect(peerAddr(9));
    byConn.set(c, (t) => {
      if (t === 'readable') drain(c);
    });
    targetConn.set(9, c);
  });
  // All established, data delivered (cookie opens may need one RTO), by 2.5 s. Then close in the pattern each state needs.
  const tc = (i: number): Connection => targetConn.get(i)!;
  const pc = (i: number): Connection => peerConn.get(i)!;
  const flushAll = (): void => {
    for (const h of [target, ...peers]) for (const c of h.endpoint.connections()) h.service(c);
  };
  net.at(2500, () => {
    // 3: FIN_WAIT_1 (our FIN never arrives).
    net.setLink(TARGET.address, peerAddr(3).address, { blackhole: true });
    tc(3).shutdown();
    // 4: FIN_WAIT_2 (the peer ACKs our FIN and never sends its own).
    tc(4).shutdown();
    // 5: CLOSE_WAIT (the peer closes, we do not).
    pc(5).shutdown();
    // 6: CLOSING (both FINs cross; ours and our ACK are lost).
    net.setLink(TARGET.address, peerAddr(6).address, { blackhole: true });
    tc(6).shutdown();
    pc(6).shutdown();
    // 7: LAST_ACK (the peer closes; we close; our FIN never arrives).
    pc(7).shutdown();
    // 8: TIME_WAIT (we close first, the peer follows).
    tc(8).shutdown();
    pc(8).shutdown();
    flushAll();
  });
  net.at(2600, () => {
    net.setLink(TARGET.address, peerAddr(7).address, { blackhole: true });
    tc(7).shutdown();
    flushAll();
  });

  // The monitored connection: the peer sends a pattern, the target echoes it.
  const m = simHost(net, MONITOR);
  onAccept.set(MONITOR.address, (c) => {
    byConn.set(c, (t) => {
      if (t === 'readable') {
        let chunk: Uint8Array | null;
        while ((chunk = c.read(now()))) c.write(chunk);
        target.service(c);
      }
      if (t === 'end') {
        c.shutdown();
        target.service(c);
      }
    });
  });
  const mc = m.connect(TARGET);
  const payload = new Uint8Array(MONITOR_BYTES);
  for (let i = 0; i < payload.length; i++) payload[i] = pattern(i);
  const pump = (): void => {
    while (monitor.sent < payload.length) {
      const n = mc.write(payload.subarray(monitor.sent, Math.min(payload.length, monitor.sent + 1024)));
      if (n === 0) break;
      monitor.sent += n;
    }
    if (monitor.sent === payload.length) mc.shutdown();
    m.service(mc);
  };
  // Paced writes: the transfer runs for as long as the fuzz does.
  const tick = (): void => {
    if (monitor.sent < payload.length && mc.state === State.ESTABLISHED) {
      const n = mc.write(payload.subarray(monitor.sent, Math.min(payload.length, monitor.sent + 512)));
      monitor.sent += n;
      m.service(mc);
    }
    if (monitor.sent < payload.length && !monitor.error) net.after(20, tick);
    else if (monitor.sent === payload.length) pump();
  };
  m.onEvent = (ev) => {
    if (ev.type !== 'conn' || ev.conn !== mc) return;
    if (ev.ev.type === 'established') net.at(2700, tick); // so that it runs while the fuzzer does
    if (ev.ev.type === 'readable') {
      let chunk: Uint8Array | null;
      while ((chunk = mc.read(now()))) {
        for (let k = 0; k < chunk.length; k++) if (chunk[k] !== pattern(monitor.got + k)) monitor.corrupt = true;
        monitor.got += chunk.length;
      }
    }
    if (ev.ev.type === 'end') monitor.done = true;
    if (ev.ev.type === 'error') monitor.error = ev.ev.code;
  };

  net.run({ until: 2800 });
  target.transport.onMessage = deliver;
  target.transport.send = send;
  return { net, target, captured, addresses, monitor };
}

/** States present on the target (TIME_WAIT records included). */
export function zooStates(zoo: Zoo): Set<string> {
  const s = new Set<string>();
  for (const c of zoo.target.endpoint.connections()) s.add(c.state);
  if (zoo.target.endpoint.timeWaitCount > 0) s.add(State.TIME_WAIT);
  return s;
}

/** Run until the monitored echo finishes (or `limit` ms of virtual time pass). */
export function finishMonitor(zoo: Zoo, limit = 120_000): void {
  const end = zoo.net.now + limit;
  while (!zoo.monitor.done && !zoo.monitor.error && zoo.net.now < end) zoo.net.runFor(100);
}
