// Server: node:net.Server over a LocalEndpoint's listener. listen() binds one
// UDP port (or uses the endpoint/transport given); every accepted connection
// becomes a Socket on that same port.

import dns from 'node:dns';
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Connection } from '../protocol/connection.js';
import type { Address } from '../endpoint/types.js';
import { normalizeArgs, validateAbortSignal, validateConnectionOptions, validateNumber, validatePort } from './args.js';
import type { ListenOptions, SocketOptions, TransportOptions } from './options.js';
import { bindEndpoint, bindEndpointSync, LocalEndpoint, reclaimPort, type Acceptor } from './local-endpoint.js';
import { invalidArgType, invalidArgValue, serverAlreadyListen, serverNotRunning, uvExceptionWithHostPort } from './errors.js';
import { kAccepted, Socket } from './socket.js';
import type { ConnectionOptionsInput } from '../protocol/options.js';

export interface ServerOptions extends TransportOptions {
  allowHalfOpen?: boolean;
  pauseOnConnect?: boolean;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
  highWaterMark?: number;
  /** Listen on this shared endpoint (its port can also dial out) instead of binding a new one. */
  endpoint?: LocalEndpoint;
  /** Protocol settings for accepted connections (mss, sndBuf, rcvBuf, msl, rto, ...). */
  connection?: ConnectionOptionsInput;
  /** Connections in the endpoint's table at most. */
  maxTableSize?: number;
  /** EventEmitter's: a rejected promise from an async listener is handled (see captureRejectionSymbol). */
  captureRejections?: boolean;
}

export interface DropInfo {
  localAddress?: string;
  localPort?: number;
  localFamily?: string;
  remoteAddress?: string;
  remotePort?: number;
  remoteFamily?: string;
}

interface BindFlags {
  exclusive: boolean | undefined;
  ipv6Only: boolean;
  reusePort: boolean;
}

function toNumber(x: unknown): number | false {
  const n = Number(x);
  return n >= 0 ? n : false;
}

// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the interface of the same name only adds typed on/once overloads
export class Server extends EventEmitter {
  /** Past this many open connections, new ones are dropped ('drop' event). */
  maxConnections: number | undefined = undefined;
  allowHalfOpen: boolean;
  pauseOnConnect: boolean;
  noDelay: boolean;
  keepAlive: boolean;
  keepAliveInitialDelay: number;
  highWaterMark: number | undefined;

  private readonly opts: ServerOptions;
  private ep: LocalEndpoint | null = null;
  private binding = false;
  private connections = 0;
  private unrefd = false;
  private refHeld = false;
  private listeningId = 0;
  private readonly acceptor: Acceptor;

  constructor(options?: ServerOptions | ((socket: Socket) => void), connectionListener?: (socket: Socket) => void) {
    // captureRejections: the option, else events.captureRejections (EventEmitter's default).
    const capture = options !== null && typeof options === 'object' ? options.captureRejections : undefined;
    super(capture !== undefined ? { captureRejections: capture } : undefined);
    let o: ServerOptions;
    if (typeof options === 'function') {
      o = {};
      this.on('connection', options);
    } else if (options == null || typeof options === 'object') {
      o = { ...options };
      if (typeof connectionListener === 'function') this.on('connection', connectionListener);
    } else {
      throw invalidArgType('options', 'Object', options);
    }
    if (o.keepAliveInitialDelay !== undefined) {
      validateNumber(o.keepAliveInitialDelay, 'options.keepAliveInitialDelay');
      if (o.keepAliveInitialDelay < 0) o.keepAliveInitialDelay = 0;
    }
    if (o.highWaterMark !== undefined) validateNumber(o.highWaterMark, 'options.highWaterMark');
    validateConnectionOptions(o.connection);
    this.opts = o;
    this.allowHalfOpen = o.allowHalfOpen || false;
    this.pauseOnConnect = !!o.pauseOnConnect;
    this.noDelay = Boolean(o.noDelay);
    this.keepAlive = Boolean(o.keepAlive);
    this.keepAliveInitialDelay = o.keepAliveInitialDelay ?? 0;
    this.highWaterMark = o.highWaterMark !== undefined && o.highWaterMark >= 0 ? o.highWaterMark : undefined;
    const acceptor: Acceptor = (conn, remote) => this.onConnection(conn, remote);
    acceptor.onEndpointClosed = () => this.close();
    this.acceptor = acceptor;
  }

  listen(port?: number | string | null, host?: string, backlog?: number, listeningListener?: () => void): this;
  listen(port?: number | string | null, host?: string, listeningListener?: () => void): this;
  listen(port?: number | string | null, backlog?: number, listeningListener?: () => void): this;
  listen(port?: number | string | null, listeningListener?: () => void): this;
  listen(options: ListenOptions, listeningListener?: () => void): this;
  listen(listeningListener?: () => void): this;
  listen(...args: unknown[]): this {
    const [given, cb] = normalizeArgs(args);
    if (this.ep || this.binding) throw serverAlreadyListen();
    if (cb !== null) this.once('listening', cb);
    const backlogFromArgs = toNumber(args.length > 1 && args[1]) || toNumber(args.length > 2 && args[2]);
    const o = { ...given } as ListenOptions & Record<string, unknown>;
    this.listeningId++;
    if ((o.handle !== undefined && o.handle !== null) || (o._handle !== undefined && o._handle !== null) || (typeof o.fd === 'number' && o.fd >= 0)) {
      throw invalidArgValue('options', given, 'handles and file descriptors are not supported');
    }
    this.addAbortSignal(o.signal);
    if (args.length === 0 || typeof args[0] === 'function' || (o.port === undefined && 'port' in o) || o.port === null) o.port = 0;
    if (typeof o.port === 'number' || typeof o.port === 'string') {
      const p = validatePort(o.port, 'options.port');
      const bl = o.backlog || backlogFromArgs || undefined;
      const bind = { exclusive: o.exclusive, ipv6Only: Boolean(o.ipv6Only), reusePort: o.reusePort === true };
      if (o.host) this.lookupAndListen(p, o.host, bl, bind);
      else this.doListen(undefined, p, bl, bind);
      return this;
    }
    if (typeof o.path === 'string' && o.path !== '') throw invalidArgValue('options.path', o.path, 'is not supported (reliable-dgram runs over UDP only)');
    if (!('port' in o || 'path' in o)) throw invalidArgValue('options', given, 'must have the property "port" or "path"');
    throw invalidArgValue('options', given);
  }

  private addAbortSignal(signal: unknown): void {
    if (signal === undefined) return;
    validateAbortSignal(signal, 'options.signal');
    const s = signal as AbortSignal;
    const onAbort = (): void => {
      this.close();
    };
    if (s.aborted) process.nextTick(onAbort);
    else {
      s.addEventListener('abort', onAbort, { once: true });
      this.once('close', () => s.removeEventListener('abort', onAbort));
    }
  }

  private lookupAndListen(port: number, host: string, backlog: number | undefined, bind: BindFlags): void {
    const id = this.listeningId;
    this.binding = true;
    dns.lookup(host, { all: true }, (err, addresses) => {
      if (id !== this.listeningId) return;
      this.binding = false;
      if (err) {
        this.emit('error', err);
        return;
      }
      const a = addresses.find((x) => !/^fe80:/i.test(x.address)) ?? addresses[0];
      this.doListen(a?.address, port, backlog, bind);
    });
  }

  private doListen(host: string | undefined, port: number, backlog: number | undefined, bind: BindFlags): void {
    const { endpoint, transport } = this.opts;
    if (endpoint) {
      this.setup(endpoint, backlog);
      return;
    }
    if (port !== 0 && !transport && !bind.reusePort && bind.exclusive !== false && !bind.ipv6Only) {
      const reclaimed = reclaimPort(port, host);
      if (reclaimed) {
        this.setup(reclaimed, backlog);
        return;
      }
    }
    if (transport) {
      this.setup(new LocalEndpoint(transport, this.endpointOptions()), backlog);
      return;
    }
    const opts = { ...this.endpointOptions(), host, port, ...bind };
    if (host === undefined) {
      // As net: without a host, listen() binds in the call, so address() answers on the next line.
      let ep: LocalEndpoint | null;
      try {
        ep = bindEndpointSync(opts);
      } catch (err) {
        const e = uvExceptionWithHostPort((err as NodeJS.ErrnoException).code ?? 'EINVAL', 'listen', '::', port);
        process.nextTick(() => this.emit('error', e));
        return;
      }
      if (ep) {
        this.setup(ep, backlog);
        return;
      }
    }
    const id = this.listeningId;
    this.binding = true;
    bindEndpoint(opts).then(
      (ep) => {
        if (id !== this.listeningId) {
          ep.close();
          return;
        }
        this.binding = false;
        this.setup(ep, backlog);
      },
      (err: NodeJS.ErrnoException) => {
        if (id !== this.listeningId) return;
        this.binding = false;
        this.emit('error', uvExceptionWithHostPort(err.code ?? 'EINVAL', 'listen', host ?? '::', port));
      },
    );
  }

  private endpointOptions(): ConstructorParameters<typeof LocalEndpoint>[1] {
    const { clock, env, connection, maxTableSize } = this.opts;
    return { clock, env, connection: connection, maxConnections: maxTableSize, autoClose: true };
  }

  private setup(ep: LocalEndpoint, backlog: number | undefined): void {
    if (ep.closed || ep.hasAcceptor) {
      const a = ep.closed ? { address: '', port: 0 } : ep.address();
      const err = uvExceptionWithHostPort(ep.closed ? 'EBADF' : 'EADDRINUSE', 'listen', a.address, a.port);
      process.nextTick(() => this.emit('error', err));
      return;
    }
    this.ep = ep;
    ep.retain();
    ep.setAcceptor(this.acceptor, backlog || 511, this.opts.connection); // on a shared endpoint too
    if (!this.unrefd) {
      ep.addRef();
      this.refHeld = true;
    }
    process.nextTick(() => {
      if (this.ep === ep) this.emit('listening');
    });
  }

  private onConnection(conn: Connection, remote: Address): void {
    const ep = this.ep!;
    if (this.maxConnections != null && this.connections >= this.maxConnections) {
      const l = ep.address();
      const info: DropInfo = {
        localAddress: l.address,
        localPort: l.port,
        localFamily: l.family,
        remoteAddress: remote.address,
        remotePort: remote.port,
        remoteFamily: remote.family,
      };
      // As net closes the accepted handle: FIN, then the connection finishes on its own.
      ep.attach(conn, { onConnEvent: () => {}, onEndpointClosed: () => {} });
      ep.detach(conn, 'close');
      this.emit('drop', info);
      return;
    }
    this.connections++;
    const hwm = this.highWaterMark;
    const init = {
      ep,
      conn,
      remote,
      pauseOnCreate: this.pauseOnConnect,
      server: this,
      onDestroy: () => {
        this.connections--;
        this.emitCloseIfDrained();
      },
    };
    const socket = new Socket({
      [kAccepted]: init,
      allowHalfOpen: this.allowHalfOpen,
      noDelay: this.noDelay,
      keepAlive: this.keepAlive,
      keepAliveInitialDelay: this.keepAliveInitialDelay,
      readableHighWaterMark: hwm,
      writableHighWaterMark: hwm,
    } as SocketOptions);
    this.emit('connection', socket);
  }

  /** The bound address ({ address, family, port }), or null when not listening. */
  address(): AddressInfo | null {
    return this.ep ? this.ep.address() : null;
  }

  get listening(): boolean {
    return this.ep !== null;
  }

  /** The local endpoint the server listens on: connect({ endpoint: server.endpoint, ... }) dials out from the same port. */
  get endpoint(): LocalEndpoint | null {
    return this.ep;
  }

  /** Stop accepting; 'close' once every accepted connection has closed. */
  close(cb?: (err?: Error) => void): this {
    this.listeningId++;
    if (typeof cb === 'function') {
      if (!this.ep && !this.binding) this.once('close', () => cb(serverNotRunning()));
      else this.once('close', cb);
    }
    this.binding = false;
    const ep = this.ep;
    if (ep) {
      this.ep = null;
      ep.setAcceptor(null);
      if (this.refHeld) ep.dropRef();
      this.refHeld = false;
      ep.release();
    }
    this.emitCloseIfDrained();
    return this;
  }

  getConnections(cb: (err: Error | null, count: number) => void): this {
    process.nextTick(cb, null, this.connections);
    return this;
  }

  ref(): this {
    this.unrefd = false;
    if (this.ep && !this.refHeld) {
      this.ep.addRef();
      this.refHeld = true;
    }
    return this;
  }

  unref(): this {
    this.unrefd = true;
    if (this.ep && this.refHeld) {
      this.ep.dropRef();
      this.refHeld = false;
    }
    return this;
  }

  /** A rejected async 'connection' handler destroys that socket with the error (as net), not the server. */
  override [EventEmitter.captureRejectionSymbol](err: Error, event: string | symbol, ...args: unknown[]): void {
    if (event === 'connection') (args[0] as Socket | undefined)?.destroy(err);
    else this.emit('error', err);
  }

  /** `await using server = ...`: close it (and wait for its connections), as net's Server does. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.ep) return;
    await new Promise<void>((resolve, reject) => this.close((err) => (err ? reject(err) : resolve())));
  }

  private emitCloseIfDrained(): void {
    if (this.ep || this.binding || this.connections > 0) return;
    process.nextTick(() => this.emit('close'));
  }
}

/* eslint-disable @typescript-eslint/no-explicit-any */
interface ServerEvents {
  connection: [socket: Socket];
  listening: [];
  close: [];
  error: [err: Error];
  drop: [info: DropInfo];
}
// Typed events, as @types/node declares them for net.Server.
export interface Server {
  on<K extends keyof ServerEvents>(event: K, listener: (...args: ServerEvents[K]) => void): this;
  // biome-ignore lint/suspicious/noExplicitAny: as @types/node's EventEmitter listener type
  on(event: string | symbol, listener: (...args: any[]) => void): this;
  once<K extends keyof ServerEvents>(event: K, listener: (...args: ServerEvents[K]) => void): this;
  // biome-ignore lint/suspicious/noExplicitAny: as @types/node's EventEmitter listener type
  once(event: string | symbol, listener: (...args: any[]) => void): this;
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/** node:net's createServer. */
export function createServer(connectionListener?: (socket: Socket) => void): Server;
export function createServer(options?: ServerOptions, connectionListener?: (socket: Socket) => void): Server;
export function createServer(options?: ServerOptions | ((socket: Socket) => void), connectionListener?: (socket: Socket) => void): Server {
  return new Server(options, connectionListener);
}
