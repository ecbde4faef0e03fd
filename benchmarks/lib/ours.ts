// Our stack, driven through its node:net-style API (src/stream) when src/index.ts
// exports it, else through a minimal Duplex shim over Host + Connection
// (ours-shim.ts) so that the harness runs before the stream layer exists.
// The note says which one produced a figure.
import type { AddressInfo } from 'node:net';
import { HOST } from './common.js';
import type { Listener, Opener, Pipe, StreamImpl } from './impls.js';
import { shimApi } from './ours-shim.js';

/** The part of node:net's API the benchmarks use. */
interface NetLike {
  createServer(opts: { connection?: object }, listener: (s: NetSocket) => void): NetServer;
  connect(opts: { port: number; host: string; endpoint?: unknown; connection?: object }, cb: () => void): NetSocket;
  createEndpoint?(opts: { host: string }): Promise<{ close(): unknown }>;
}
interface NetServer {
  listen(port: number, host: string, cb: () => void): unknown;
  address(): AddressInfo | string | null;
  close(): unknown;
  once(ev: 'error', fn: (e: Error) => void): unknown;
}
interface NetSocket extends Pipe {
  setNoDelay(b?: boolean): unknown;
  // biome-ignore lint/suspicious/noExplicitAny: any stream's listener
  off(ev: string, fn: (...a: any[]) => void): unknown;
}

/** RD_BENCH_API=shim forces the shim (to compare it with the stream layer). */
/** `cc` (or RD_BENCH_CC=bbr|cubic|newReno) picks the congestion controller (default: the library's). */
/** `extra`: more `connection` options for both ends (e.g. `{ maxMss: 8192 }`); the note lists them. */
export async function oursApi(cc?: string, extra: Record<string, unknown> = {}): Promise<StreamImpl> {
  const mod = (await import('../../src/index.js')) as unknown as Partial<NetLike> & Record<string, unknown>;
  const ccName = cc ?? process.env.RD_BENCH_CC;
  const congestion = ccName ? mod[ccName] : undefined;
  if (ccName && typeof congestion !== 'function') throw new Error(`RD_BENCH_CC=${ccName}: no such controller export`);
  if (process.env.RD_BENCH_API !== 'shim' && typeof mod.createServer === 'function' && typeof mod.connect === 'function') {
    const extras = Object.entries(extra)
      .map(([k, v]) => `, ${k} ${String(v)}`)
      .join('');
    return fromNet(mod as NetLike, `src/stream API${ccName ? `, congestion ${ccName}` : ''}${extras}`, { ...(congestion ? { congestion } : {}), ...extra });
  }
  if (Object.keys(extra).length > 0) throw new Error(`connection options ${JSON.stringify(extra)} need the src/stream API (not the shim)`);
  return shimApi();
}

function fromNet(api: NetLike, note: string, connection: object): StreamImpl {
  return {
    note,
    listen(onStream, opts) {
      return new Promise<Listener>((res, rej) => {
        const srv = api.createServer({ connection }, (s) => {
          if (opts.noDelay) s.setNoDelay(true);
          onStream(s);
        });
        srv.once('error', rej);
        srv.listen(0, HOST, () => res({ port: (srv.address() as AddressInfo).port, close: () => srv.close() }));
      });
    },
    async client(port, opts): Promise<Opener> {
      const endpoint = opts.shared && api.createEndpoint ? await api.createEndpoint({ host: HOST }) : undefined;
      if (opts.shared && !endpoint) throw new Error('no createEndpoint: cannot share an endpoint');
      return {
        port: 0,
        open: () =>
          new Promise((res, rej) => {
            const s = api.connect({ port, host: HOST, connection, ...(endpoint ? { endpoint } : {}) }, () => {
              s.off('error', rej);
              if (opts.noDelay) s.setNoDelay(true);
              res(s);
            });
            s.once('error', rej);
          }),
        close() {
          endpoint?.close();
        },
      };
    },
  };
}
