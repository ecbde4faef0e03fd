// A minimal Duplex over Host + Connection: what the benchmarks used before
// src/stream existed, and a way (RD_BENCH_API=shim) to measure the core
// without the stream layer. Not a node:net replacement: no errors beyond
// destroy, no timeouts, one UDP socket per client connection.
import { Duplex } from 'node:stream';
import type { Connection } from '../../src/protocol/connection.js';
import type { ConnEvent } from '../../src/protocol/options.js';
import { Host } from '../../src/endpoint/host.js';
import { NodeClock, UdpTransport, nodeEnv } from '../../src/io/index.js';
import { HOST } from './common.js';
import type { Listener, Opener, StreamImpl } from './impls.js';

class ShimSocket extends Duplex {
  private pending: { chunk: Uint8Array; off: number; cb: (e?: Error | null) => void } | null = null;
  private wantRead = false;
  private pushedEnd = false;
  private finished = false;

  constructor(
    private readonly host: Host,
    private readonly conn: Connection,
    private readonly onGone: () => void,
  ) {
    super({ allowHalfOpen: true });
  }

  setNoDelay(b = true): this {
    this.conn.setNoDelay(b);
    this.host.service(this.conn);
    return this;
  }

  onConn(ev: ConnEvent): void {
    switch (ev.type) {
      case 'readable':
      case 'end':
        this.drainRead();
        break;
      case 'writable':
        this.pump();
        break;
      case 'finished':
        this.finished = true;
        this.maybeDone();
        break;
      case 'error':
        this.destroy(Object.assign(new Error(ev.code), { code: ev.code }));
        break;
      case 'closed':
        this.finished = true;
        this.maybeDone();
        this.onGone();
        break;
      default:
    }
  }

  private maybeDone(): void {
    if (this.finished && this.pushedEnd && !this.destroyed) this.destroy();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.pending = { chunk, off: 0, cb };
    this.pump();
  }

  private pump(): void {
    const p = this.pending;
    if (!p) return;
    while (p.off < p.chunk.length) {
      const n = this.conn.write(p.chunk.subarray(p.off));
      if (n === 0) break;
      p.off += n;
    }
    this.host.service(this.conn);
    if (p.off >= p.chunk.length) {
      this.pending = null;
      p.cb();
    }
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.conn.shutdown();
    this.host.service(this.conn);
    cb();
  }

  override _read(): void {
    this.wantRead = true;
    this.drainRead();
  }

  private drainRead(): void {
    let any = false;
    while (this.wantRead) {
      const c = this.conn.read(this.host.now);
      if (!c) break;
      any = true;
      this.wantRead = this.push(Buffer.from(c.buffer, c.byteOffset, c.byteLength));
    }
    if (any) this.host.service(this.conn); // window update
    if (this.conn.peerFinished && this.conn.readableLength === 0 && !this.pushedEnd) {
      this.pushedEnd = true;
      this.push(null);
      this.maybeDone();
    }
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    if (!this.finished || !this.pushedEnd) {
      this.conn.abort(this.host.now);
      this.host.service(this.conn);
    }
    this.onGone();
    cb(err);
  }
}

function dispatch(host: Host, map: Map<Connection, ShimSocket>, onAccept?: (c: Connection) => void): void {
  host.onEvent = (ev) => {
    if (ev.type === 'accept') onAccept?.(ev.conn);
    else if (ev.type === 'conn') map.get(ev.conn)?.onConn(ev.ev);
  };
}

export function shimApi(): StreamImpl {
  return {
    note: 'core shim (src/stream not exported yet)',
    async listen(onStream, opts): Promise<Listener> {
      const t = await UdpTransport.bind({ address: HOST, port: 0 });
      const host = new Host(t, new NodeClock(), nodeEnv());
      const map = new Map<Connection, ShimSocket>();
      dispatch(host, map, (conn) => {
        const s = new ShimSocket(host, conn, () => map.delete(conn));
        map.set(conn, s);
        if (opts.noDelay) s.setNoDelay(true);
        onStream(s);
        s.onConn({ type: 'readable' });
      });
      host.endpoint.listen();
      return { port: t.address().port, close: () => host.close() };
    },
    async client(port, opts): Promise<Opener> {
      const hosts = new Set<Host>();
      return {
        port: 0,
        async open() {
          const t = await UdpTransport.bind({ address: HOST, port: 0 });
          const host = new Host(t, new NodeClock(), nodeEnv());
          hosts.add(host);
          const map = new Map<Connection, ShimSocket>();
          dispatch(host, map);
          const conn = host.connect({ address: HOST, port });
          let closeHost = (): void => {
            closeHost = () => {};
            hosts.delete(host);
            setImmediate(() => host.close()); // let the last ACK leave
          };
          const s = new ShimSocket(host, conn, () => closeHost());
          map.set(conn, s);
          if (opts.noDelay) s.setNoDelay(true);
          return new Promise((res, rej) => {
            host.onEvent = (ev) => {
              if (ev.type !== 'conn') return;
              if (ev.ev.type === 'established') {
                dispatch(host, map);
                res(s);
              } else if (ev.ev.type === 'error') {
                closeHost();
                rej(Object.assign(new Error(ev.ev.code), { code: ev.ev.code }));
              }
            };
          });
        },
        close() {
          for (const h of hosts) h.close();
        },
      };
    },
  };
}
