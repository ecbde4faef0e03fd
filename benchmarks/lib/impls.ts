// One small adapter per stream implementation, so every role is written once:
// listen (one callback per accepted stream) and a client that opens streams.
// The peers' native modules are loaded lazily: a failure to load is reported as
// a reason to skip, never a crash of the suite.
import { createRequire } from 'node:module';
import net from 'node:net';
import { HOST, SOCK_BUF, type ImplName } from './common.js';
import { oursApi } from './ours.js';

/** The subset of a Duplex that every role uses (node streams, streamx, readable-stream). */
export interface Pipe {
  write(b: Buffer): boolean;
  end(): void;
  destroy(): void;
  on(ev: string, fn: (...a: any[]) => void): unknown;
  once(ev: string, fn: (...a: any[]) => void): unknown;
  off?(ev: string, fn: (...a: any[]) => void): unknown;
}

export interface Listener {
  port: number;
  /** udx only: the address the peer sends from, learnt out of band. */
  setPeer?(port: number): void;
  close(): void;
}

export interface Opener {
  /** Local port when bound before open() (udx), else 0. */
  port: number;
  open(): Promise<Pipe>;
  close(): void;
}

export interface StreamImpl {
  /** Extra information printed with results (e.g. which API drove our stack). */
  note: string;
  listen(onStream: (s: Pipe) => void, opts: { noDelay?: boolean }): Promise<Listener>;
  /** A client for `port`; `open()` may be called repeatedly (connection set-up). */
  /** `shared`: dial every connection from one local endpoint (ours only; others ignore it). */
  client(port: number, opts: { noDelay?: boolean; shared?: boolean }): Promise<Opener>;
}

const require = createRequire(import.meta.url);

// ------------------------------------------------------------------ node:net
const tcp: StreamImpl = {
  note: '',
  listen(onStream, opts) {
    return new Promise((res, rej) => {
      const srv = net.createServer((s) => {
        if (opts.noDelay) s.setNoDelay(true);
        onStream(s);
      });
      srv.once('error', rej);
      srv.listen(0, HOST, () => res({ port: (srv.address() as net.AddressInfo).port, close: () => srv.close() }));
    });
  },
  async client(port, opts) {
    return {
      port: 0,
      open: () =>
        new Promise((res, rej) => {
          const s = net.connect({ port, host: HOST, noDelay: !!opts.noDelay }, () => {
            s.off('error', rej);
            res(s);
          });
          s.once('error', rej);
        }),
      close() {},
    };
  },
};

// ---------------------------------------------------------------- udx-native
interface UdxSocket {
  bind(port: number, host: string): void;
  address(): { port: number };
  setRecvBufferSize(n: number): void;
  setSendBufferSize(n: number): void;
  close(): Promise<void>;
}
interface UdxStream extends Pipe {
  connect(socket: UdxSocket, remoteId: number, port: number, host: string): void;
  setInteractive(b: boolean): void;
}
interface Udx {
  createSocket(): UdxSocket;
  createStream(id: number): UdxStream;
}

function udxSocket(u: Udx): UdxSocket {
  const s = u.createSocket();
  s.bind(0, HOST);
  s.setRecvBufferSize(SOCK_BUF);
  s.setSendBufferSize(SOCK_BUF);
  return s;
}

function udx(): StreamImpl {
  const UDX = require('udx-native') as new () => Udx;
  const u = new UDX();
  // udx has no handshake: both ends are told each other's stream id and port.
  return {
    note: 'no handshake (ids exchanged out of band)',
    async listen(onStream, opts) {
      const sock = udxSocket(u);
      return {
        port: sock.address().port,
        setPeer(port) {
          const st = u.createStream(1);
          if (opts.noDelay) st.setInteractive(true);
          st.connect(sock, 2, port, HOST);
          onStream(st);
        },
        close: () => void sock.close().catch(() => {}),
      };
    },
    async client(port, opts) {
      const sock = udxSocket(u);
      return {
        port: sock.address().port,
        async open() {
          const st = u.createStream(2);
          if (opts.noDelay) st.setInteractive(true);
          st.connect(sock, 1, port, HOST);
          return st;
        },
        close: () => void sock.close().catch(() => {}),
      };
    },
  };
}

// ---------------------------------------------------------------- utp-native
type UtpConn = Pipe;
interface Utp {
  listen(port: number, host: string, cb: () => void): void;
  bind(port: number, host: string, cb?: () => void): void;
  address(): { port: number };
  connect(port: number, host: string): UtpConn;
  on(ev: 'connection', fn: (c: UtpConn) => void): void;
  once(ev: 'error', fn: (e: Error) => void): void;
  setRecvBufferSize(n: number): void;
  setSendBufferSize(n: number): void;
  close(): void;
}

// utp-native sends small writes at once; its setInteractive() is not called:
// in 2.5.3 it sets a 64 KiB read batch instead (this.interactive is never set),
// which stalls a ping-pong.
function utp(): StreamImpl {
  const UTP = require('utp-native') as { new (): Utp; createServer(): Utp };
  const buffers = (x: Utp): void => {
    x.setRecvBufferSize(SOCK_BUF);
    x.setSendBufferSize(SOCK_BUF);
  };
  return {
    note: '',
    listen(onStream) {
      return new Promise((res, rej) => {
        const srv = UTP.createServer();
        srv.on('connection', onStream);
        srv.once('error', rej);
        srv.listen(0, HOST, () => {
          buffers(srv);
          res({ port: srv.address().port, close: () => srv.close() });
        });
      });
    },
    async client(port) {
      const sockets: Utp[] = [];
      return {
        port: 0,
        open: () =>
          new Promise((res, rej) => {
            // One UDP socket per connection, as utp.connect() does.
            const x = new UTP();
            sockets.push(x);
            x.bind(0, HOST);
            buffers(x);
            const c = x.connect(port, HOST);
            c.once('connect', () => res(c));
            c.once('error', rej);
            c.once('close', () => {
              x.close();
              sockets.splice(sockets.indexOf(x), 1);
            });
          }),
        close() {
          for (const x of sockets) x.close();
        },
      };
    },
  };
}

/**
 * The adapter for `name`; throws (with the reason) when the implementation cannot load.
 * `maxMss`: our stack probes the path up to this payload size (RFC 8899); the others have no such option and ignore it.
 */
export async function loadImpl(name: Exclude<ImplName, 'dgram'>, maxMss?: number): Promise<StreamImpl> {
  const extra = maxMss === undefined ? {} : { maxMss };
  switch (name) {
    case 'tcp':
      return tcp;
    case 'udx':
      return udx();
    case 'utp':
      return utp();
    case 'ours':
      return oursApi(undefined, extra);
    case 'ours-bbr':
      return oursApi('bbr', extra);
  }
}
