// Dialer: a Socket's connect path after its arguments are checked. The name
// is looked up as net does (every address, tried in turn, with
// autoSelectFamily: happy-eyeballs.ts); each address gets a local endpoint to
// dial from: the shared one, one on the given transport, or a fresh UDP port
// for the peer alone, like a TCP client's ephemeral port.

import dns from 'node:dns';
import { once } from 'node:events';
import { getDefaultAutoSelectFamily, getDefaultAutoSelectFamilyAttemptTimeout, isIP, type LookupFunction } from 'node:net';
import type { Address, Clock } from '../endpoint/types.js';
import { UdpTransport } from '../io/udp-transport.js';
import { exceptionWithHostPort, invalidAddressFamily, invalidIpAddress, socketClosed } from './errors.js';
import { AddressAttempts, interleave, type Candidate } from './happy-eyeballs.js';
import { bindingPort, bindPort, closingOnPort, heldPort, holdPort, portKey } from './dial-ports.js';
import { LocalEndpoint, type LocalEndpointOptions } from './local-endpoint.js';
import { loopbackFor } from './net-extras.js';
import type { ConnectOptions, SocketOptions } from './options.js';

/** What the Dialer needs from its Socket. */
export interface DialOwner {
  /** Still connecting (false once connected, failed or destroyed). */
  connecting(): boolean;
  /** 'lookup' and 'connectionAttempt', as net emits them. */
  emit(event: string, ...args: unknown[]): boolean;
  /** Open the connection to `remote` on `ep`. */
  start(ep: LocalEndpoint, remote: Address): void;
  /** Let go of the attempt in progress (its connection and endpoint) for the next address. */
  abandon(): void;
  /** The connect failed for good. */
  destroy(err: Error): void;
  /** With autoSelectFamily: the list of `ip:port` tried, filled in as it goes. */
  attempted(list: string[]): void;
}

export class Dialer {
  /** The address being dialed. */
  target: Address | null = null;
  /** Bumped by each attempt: lookups and binds of an older one find themselves stale. */
  private attempt = 0;
  private eyeballs: AddressAttempts | null = null;

  constructor(
    private readonly owner: DialOwner,
    private readonly opts: SocketOptions,
    private readonly clock: Clock,
  ) {}

  /** Look up `host` (an IP literal: on the next tick, as net) and dial `port` there. */
  dial(host: string, port: number, family: number | undefined, o: ConnectOptions): void {
    const attempt = ++this.attempt;
    const ipType = isIP(host);
    if (ipType) {
      process.nextTick(() => {
        if (!this.stale(attempt)) this.connectTo(host, port, ipType, o);
      });
      return;
    }
    const lookup = o.lookup ?? dns.lookup;
    let hints = o.hints ?? 0;
    if (family !== 4 && family !== 6 && hints === 0) hints = dns.ADDRCONFIG;
    if (family !== 4 && family !== 6 && !o.localAddress && (o.autoSelectFamily ?? getDefaultAutoSelectFamily())) {
      this.lookupAll(lookup, host, port, hints, o, attempt);
      return;
    }
    const owner = this.owner;
    lookup(host, { family: family ?? 0, hints }, (err, ip, addressType) => {
      owner.emit('lookup', err, ip, addressType, host);
      if (this.stale(attempt)) return;
      if (err) process.nextTick(() => owner.destroy(err));
      else if (typeof ip !== 'string' || !isIP(ip)) process.nextTick(() => owner.destroy(invalidIpAddress(ip)));
      else if (addressType !== 4 && addressType !== 6) process.nextTick(() => owner.destroy(invalidAddressFamily(addressType, host, port)));
      else this.connectTo(ip, port, isIP(ip), o);
    });
  }

  /** A connect attempt failed: the next address if autoSelectFamily has one, else the socket fails. */
  failed(err: Error): void {
    const final = this.eyeballs ? this.eyeballs.failed(err) : err;
    if (final) this.owner.destroy(final);
  }

  /** Connected: no more addresses to try. */
  connected(): void {
    this.eyeballs?.stop();
    this.eyeballs = null;
  }

  /** The socket is destroyed: whatever is in flight is stale. */
  cancel(): void {
    this.connected();
    this.attempt++;
    this.target = null;
  }

  private stale(attempt: number): boolean {
    return !this.owner.connecting() || attempt !== this.attempt;
  }

  /** autoSelectFamily: every address of the name, tried in turn (happy-eyeballs.ts). */
  private lookupAll(lookup: LookupFunction, host: string, port: number, hints: number, o: ConnectOptions, attempt: number): void {
    type Answer = { address?: unknown; family?: unknown };
    const owner = this.owner;
    const all = lookup as unknown as (h: string, opts: object, cb: (err: Error | null, a: unknown, f?: unknown) => void) => void;
    all(host, { family: 0, hints, all: true }, (err, addresses, fam) => {
      // A lookup that answers with one address although asked for all: take it as that one.
      const answers: Answer[] = err ? [] : Array.isArray(addresses) ? (addresses as Answer[]) : [{ address: addresses, family: fam }];
      if (err) owner.emit('lookup', err, undefined, undefined, host);
      if (this.stale(attempt)) return;
      if (err) {
        process.nextTick(() => owner.destroy(err));
        return;
      }
      const valid: Candidate[] = [];
      for (const a of answers) {
        owner.emit('lookup', null, a.address, a.family, host);
        if (this.stale(attempt)) return;
        if (typeof a.address === 'string' && isIP(a.address) && (a.family === 4 || a.family === 6)) valid.push({ address: a.address, family: a.family });
      }
      if (valid.length === 0) {
        const first = answers[0];
        const bad =
          typeof first?.address !== 'string' || !isIP(first.address) ? invalidIpAddress(first?.address) : invalidAddressFamily(first.family, host, port);
        process.nextTick(() => owner.destroy(bad));
        return;
      }
      const timeout = Math.max(10, o.autoSelectFamilyAttemptTimeout ?? getDefaultAutoSelectFamilyAttemptTimeout());
      const tries = new AddressAttempts(interleave(valid), port, timeout, this.clock, {
        start: (c) => this.connectTo(c.address, port, c.family, o),
        abandon: () => {
          this.attempt++; // binds still in flight for it close their socket
          this.target = null;
          owner.abandon();
        },
      });
      this.eyeballs = tries;
      owner.attempted(tries.attempted);
      tries.tryNext();
    });
  }

  /** One address: find the local endpoint to dial from, then start the connection. */
  private connectTo(ip: string, port: number, addressType: number, o: ConnectOptions): void {
    ip = loopbackFor(ip); // as the kernel connects a TCP socket to 0.0.0.0 / ::
    if (port === 0) {
      // A TCP connect to port 0 is refused by the kernel; net reports it as such.
      this.failed(exceptionWithHostPort('ECONNREFUSED', 'connect', ip, port));
      return;
    }
    const remote: Address = { address: ip, port, family: addressType === 6 ? 'IPv6' : 'IPv4' };
    this.target = remote;
    this.owner.emit('connectionAttempt', ip, port, addressType);
    const shared = this.opts.endpoint;
    const epOpts = { clock: this.clock, env: this.opts.env, autoClose: true, connection: this.opts.connection };
    if (shared) {
      if (shared.closed) this.failed(socketClosed());
      else this.owner.start(shared, remote);
      return;
    }
    if (this.opts.transport) {
      this.owner.start(new LocalEndpoint(this.opts.transport, epOpts), remote);
      return;
    }
    const localAddress = o.localAddress || (addressType === 6 ? '::' : '0.0.0.0');
    const localPort = o.localPort ?? 0;
    if (localPort === 0) void this.fromNewPort(localAddress, 0, remote, epOpts, this.attempt);
    else void this.fromNamedPort(localAddress, localPort, remote, epOpts, this.attempt);
  }

  /**
   * A dedicated UDP port that talks to the peer only. Not connected at the OS level (see
   * UdpTransport.setPeer): a closed port is learnt by asking at once (→ ECONNREFUSED).
   * Resolves once the connection has started on it, or the attempt has failed or gone stale.
   */
  private async fromNewPort(
    localAddress: string,
    localPort: number,
    remote: Address,
    epOpts: LocalEndpointOptions,
    attempt: number,
    key?: string,
  ): Promise<void> {
    let t: UdpTransport;
    try {
      t = await UdpTransport.bind({ address: localAddress, port: localPort });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'EINVAL';
      if (!this.stale(attempt)) this.failed(exceptionWithHostPort(code, 'bind', localAddress, localPort));
      return;
    }
    if (this.stale(attempt)) return t.close();
    try {
      await t.setPeer(remote);
    } catch (err) {
      t.close();
      const code = (err as NodeJS.ErrnoException).code ?? 'EINVAL';
      if (!this.stale(attempt)) this.failed(exceptionWithHostPort(code, 'connect', remote.address, remote.port));
      return;
    }
    if (this.stale(attempt)) return t.close();
    const ep = new LocalEndpoint(t, epOpts);
    // Kept by port, an ephemeral one too: the app may connect from the port it read (localPort).
    holdPort(key ?? portKey(localAddress, t.address().port), ep);
    this.owner.start(ep, remote);
  }

  /**
   * connect({ localPort }): as net's SO_REUSEADDR client socket (dial-ports.ts). If one of our
   * endpoints holds the port, the connection joins it, unless it already talks to that peer
   * (EADDRNOTAVAIL); one still closing is waited for; otherwise the port is bound afresh.
   */
  private async fromNamedPort(localAddress: string, localPort: number, remote: Address, epOpts: LocalEndpointOptions, attempt: number): Promise<void> {
    const key = portKey(localAddress, localPort);
    const inUse = (): Error => exceptionWithHostPort('EADDRNOTAVAIL', 'connect', remote.address, remote.port, `${localAddress}:${localPort}`);
    for (;;) {
      const pending = bindingPort(key);
      const ep = pending ? undefined : (heldPort(key) ?? closingOnPort(localPort));
      if (pending) await pending;
      else if (ep === undefined) break;
      else if (ep.closed)
        await once(ep, 'close'); // its last datagrams leave, then its socket closes
      else if (ep.talksTo(remote)) {
        this.failed(inUse());
        return;
      } else {
        try {
          await (ep.transport as UdpTransport).setPeer(remote);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code ?? 'EINVAL';
          if (!this.stale(attempt)) this.failed(exceptionWithHostPort(code, 'connect', remote.address, remote.port));
          return;
        }
        if (this.stale(attempt)) return;
        if (!ep.closed) {
          // Another connect to the same peer may have started on it meanwhile.
          if (ep.talksTo(remote)) this.failed(inUse());
          else this.owner.start(ep, remote);
          return;
        }
      }
      if (this.stale(attempt)) return;
    }
    const started = this.fromNewPort(localAddress, localPort, remote, epOpts, attempt, key);
    bindPort(key, started);
    await started;
  }
}
