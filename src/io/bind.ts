// Which UDP transport a bound endpoint gets: Bun's native socket under Bun (batched
// sends), node:dgram everywhere else and wherever the native one cannot do what was
// asked (reusePort, cluster handle sharing).
import { BunUdpTransport, bunUdp } from './bun-udp-transport.js';
import { UdpTransport, type UdpTransportOptions } from './udp-transport.js';

export interface BindUdpOptions extends UdpTransportOptions {
  /** Under Bun, use `Bun.udpSocket` (default true where it exists; false: node:dgram). */
  native?: boolean;
}

/** Bind the best UDP transport this runtime offers for `opts`. */
export function bindUdp(opts: BindUdpOptions = {}): Promise<UdpTransport | BunUdpTransport> {
  const useNative =
    (opts.native ?? process.env.RD_UDP !== 'dgram') && bunUdp() !== undefined && opts.reusePort !== true && opts.ipv6Only !== true && opts.exclusive !== false;
  return useNative ? BunUdpTransport.bind(opts) : UdpTransport.bind(opts);
}
