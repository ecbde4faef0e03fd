// One small adapter per stream implementation, so every role is written once:
// listen (one callback per accepted stream) and a client that opens streams.
// The peers' native modules are loaded lazily: a failure to load is reported as
// a reason to skip, never a crash of the suite.
import type dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import net from 'node:net';
import { HOST, SOCK_BUF, type ImplName, type RawImpl } from './common.js';
import { oursApi } from './ours.js';
import { udpSocket } from './raw-dgram.js';

/** The subset of a Duplex that every role uses (node streams, streamx, readable-stream). */
export interface Pipe {
  write(b: Buffer): boolean;
  end(): void;
  destroy(): void;
  // biome-ignore lint/suspicious/noExplicitAny: any stream's listener
  on(ev: string, fn: (...a: any[]) => void): unknown;
  // biome-ignore lint/suspicious/noExplicitAny: any stream's listener
  once(ev: string, fn: (...a: any[]) => void): unknown;
  // biome-ignore lint/suspicious/noExplicitAny: any stream's listener
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
  // The n-th stream (n = 0, 1, ...: one per transfer, the warm figure opens two) is
  // id 2n+1 on the listener's side and 2n+2 on the client's; both ends count alike.
  return {
    note: 'no handshake (ids exchanged out of band)',
    async listen(onStream, opts) {
      const sock = udxSocket(u);
      let n = 0;
      return {
        port: sock.address().port,
        setPeer(port) {
          const st = u.createStream(2 * n + 1);
          if (opts.noDelay) st.setInteractive(true);
          st.connect(sock, 2 * n + 2, port, HOST);
          n++;
          onStream(st);
        },
        close: () => void sock.close().catch(() => {}),
      };
    },
    async client(port, opts) {
      const sock = udxSocket(u);
      let n = 0;
      return {
        port: sock.address().port,
        async open() {
          const st = u.createStream(2 * n + 2);
          if (opts.noDelay) st.setInteractive(true);
          st.connect(sock, 2 * n + 1, port, HOST);
          n++;
          return st;
        },
        close: () => void sock.close().catch(() => {}),
      };
    },
  };
}

// ------------------------------------------------------------ KCP (node-kcp)
// node-kcp 1.0.13: a nan binding of skywind3000's ikcp.c. It is a bare ARQ state
// machine (no sockets, no handshake, no FIN): this adapter drives it over one
// node:dgram socket per end. Settings are KCP's documented "fastest" preset
// (nodelay 1, interval 10 ms, fast resend after 2 duplicate ACKs, no congestion
// control) in stream mode, windows of KCP_WND segments each way and its default
// 1400-byte MTU (1376-byte payload). ikcp_flush runs after every read burst and
// write (ACKs and new data at once, not only on the 10 ms tick).
interface KcpObject {
  nodelay(nodelay: number, interval: number, resend: number, nc: number): void;
  wndsize(snd: number, rcv: number): void;
  stream(on: number): void;
  output(fn: (buf: Buffer, len: number) => void): void;
  input(b: Buffer): number;
  send(b: Buffer): number;
  recv(): Buffer | undefined;
  update(now: number): void;
  flush(): void;
  waitsnd(): number;
  release(): void;
}
export const KCP_WND = 1024;
const KCP_CONV = 0x5244;
/** ikcp_send refuses a write of 128 segments or more: writes are split into pieces below that. */
const KCP_PIECE = 64 * 1024;

class KcpPipe extends EventEmitter implements Pipe {
  private readonly k: KcpObject;
  private readonly tick: NodeJS.Timeout;
  private flushQueued = false;
  private wantDrain = false;
  private closed = false;

  constructor(
    private readonly sock: dgram.Socket,
    peerPort: number,
    conv: number,
  ) {
    super();
    const { KCP } = require('node-kcp/index.js') as { KCP: new (conv: number, ctx: object) => KcpObject };
    const k = new KCP(conv, {});
    this.k = k;
    k.nodelay(1, 10, 2, 1);
    k.wndsize(KCP_WND, KCP_WND);
    k.stream(1);
    k.output((buf) => {
      if (!this.closed) sock.send(buf, peerPort, HOST);
    });
    k.update(Date.now());
    this.tick = setInterval(() => this.pump(), 10);
    sock.on('message', (m: Buffer) => {
      if (this.closed) return;
      k.input(m);
      for (let d = k.recv(); d; d = k.recv()) this.emit('data', d);
      this.queueFlush();
    });
  }

  private pump(): void {
    if (this.closed) return;
    this.k.update(Date.now());
    if (this.wantDrain && this.k.waitsnd() < KCP_WND) {
      this.wantDrain = false;
      this.emit('drain');
    }
  }

  private queueFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    setImmediate(() => {
      this.flushQueued = false;
      if (this.closed) return;
      this.k.flush();
      this.pump();
    });
  }

  write(b: Buffer): boolean {
    for (let i = 0; i < b.length; i += KCP_PIECE) this.k.send(b.subarray(i, i + KCP_PIECE));
    this.queueFlush();
    const ok = this.k.waitsnd() < 2 * KCP_WND;
    if (!ok) this.wantDrain = true;
    return ok;
  }

  /** KCP has no FIN: the receiver counts bytes instead. */
  end(): void {}

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.tick);
    this.k.release();
    this.sock.close();
  }
}

function kcp(): StreamImpl {
  // Load now, so a missing or unbuildable binding is a failure to load, with its message.
  require('node-kcp/index.js');
  return {
    note: 'no handshake (ports exchanged out of band); fastest preset, no congestion control',
    async listen(onStream) {
      const sock = await udpSocket();
      return {
        port: sock.address().port,
        setPeer(port) {
          onStream(new KcpPipe(sock, port, KCP_CONV));
        },
        close: () => sock.close(),
      };
    },
    async client(port) {
      const sock = await udpSocket();
      return {
        port: sock.address().port,
        async open() {
          return new KcpPipe(sock, port, KCP_CONV);
        },
        close: () => sock.close(),
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
export async function loadImpl(name: Exclude<ImplName, RawImpl>, maxMss?: number): Promise<StreamImpl> {
  const extra = maxMss === undefined ? {} : { maxMss };
  switch (name) {
    case 'tcp':
      return tcp;
    case 'udx':
      return udx();
    case 'utp':
      return utp();
    case 'kcp':
      return kcp();
    case 'ours':
      return oursApi(undefined, extra);
    case 'ours-bbr':
      return oursApi('bbr', extra);
  }
}
