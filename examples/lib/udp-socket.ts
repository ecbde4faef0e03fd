// A node:dgram socket bound to an ephemeral port on `host`, with 8 MiB buffers where the OS
// allows, and errors (ICMP unreachable and the like) taken as loss: what the examples' raw UDP
// sides and the lossy relay each need.
import dgram from 'node:dgram';

const BUFFER = 8 * 1024 * 1024;

export function bindUdp(host = '127.0.0.1'): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    s.once('error', reject);
    s.bind(0, host, () => {
      s.removeListener('error', reject);
      try {
        s.setRecvBufferSize(BUFFER);
      } catch {
        /* capped by the OS */
      }
      try {
        s.setSendBufferSize(BUFFER);
      } catch {
        /* capped by the OS */
      }
      s.on('error', () => {
        /* ICMP errors etc.: loss */
      });
      resolve(s);
    });
  });
}
