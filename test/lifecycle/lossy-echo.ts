// A 256 KiB echo on the simulator at the core level, with default settings: the client writes and
// ends, the server echoes what it reads and ends when the client has. Used by the lifecycle tests
// and scripts/lossy-echo.ts (issue 14's measurement over a hostile link).

import type { Connection } from '../../src/protocol/connection.js';
import { simHost } from '../../src/sim/host.js';
import { SimNetwork, type LinkOptions } from '../../src/sim/network.js';
import { pattern } from '../stream/helpers.js';

export const ECHO_SIZE = 256 * 1024;
const SIZE = ECHO_SIZE;

export interface EchoResult {
  intact: boolean;
  doneAt: number;
  error?: string;
}

/** `link` both ways; `down` (server → client) overrides it for that direction. */
export function echo(seed: number, link: Partial<LinkOptions>, until: number, down?: Partial<LinkOptions>): EchoResult {
  const net = new SimNetwork({ seed, link, trace: false });
  const A = { address: '10.0.0.1', port: 1000 };
  const B = { address: '10.0.0.2', port: 2000 };
  if (down) net.setLink(B.address, A.address, { ...link, ...down });
  const a = simHost(net, A);
  const b = simHost(net, B);
  b.endpoint.listen();
  const data = pattern(SIZE, seed);
  const back: Uint8Array[] = [];
  let got = 0;
  let sent = 0;
  let server: Connection | undefined;
  const srvQueue: Uint8Array[] = [];
  let error: string | undefined;
  let doneAt = -1;
  const c = a.connect(B);
  const pump = (): void => {
    while (sent < SIZE) {
      const n = c.write(data.subarray(sent, Math.min(SIZE, sent + 16384)));
      if (n === 0) break;
      sent += n;
    }
    if (sent === SIZE) c.shutdown();
    a.service(c);
  };
  const srvPump = (): void => {
    while (srvQueue.length > 0) {
      const head = srvQueue[0]!;
      const n = server!.write(head);
      if (n === head.length) srvQueue.shift();
      else {
        srvQueue[0] = head.subarray(n);
        break;
      }
    }
    b.service(server!);
  };
  a.onEvent = (ev) => {
    if (ev.type !== 'conn') return;
    if (ev.ev.type === 'established' || ev.ev.type === 'writable') pump();
    if (ev.ev.type === 'readable') {
      let k: Uint8Array | null;
      while ((k = c.read(net.now))) {
        back.push(k.slice());
        got += k.length;
      }
      if (got === SIZE && doneAt < 0) doneAt = net.now;
      a.service(c);
    }
    if (ev.ev.type === 'error') error ??= `client ${ev.ev.code}`;
  };
  b.onEvent = (ev) => {
    if (ev.type === 'accept') server = ev.conn;
    if (ev.type !== 'conn' || ev.conn !== server) return;
    if (ev.ev.type === 'readable') {
      let k: Uint8Array | null;
      while ((k = server.read(net.now))) srvQueue.push(k.slice());
      srvPump();
    }
    if (ev.ev.type === 'writable') srvPump();
    if (ev.ev.type === 'end') {
      srvPump();
      server.shutdown();
      b.service(server!);
    }
    if (ev.ev.type === 'error') error ??= `server ${ev.ev.code}`;
  };
  net.run({ until });
  let intact = got === SIZE;
  if (intact) {
    let off = 0;
    for (const k of back) {
      for (let i = 0; i < k.length; i++) if (k[i] !== data[off + i]) intact = false;
      off += k.length;
    }
  }
  return { intact, doneAt, error };
}
