// A Transport that counts the datagrams its owner sends and receives, around
// a real UdpTransport: how the demo counts reliable-dgram's datagrams.
import { UdpTransport, type Address, type Transport } from 'reliable-dgram';

export class CountingTransport implements Transport {
  onMessage: ((data: Uint8Array, from: Address) => void) | null = null;
  onError: ((err: NodeJS.ErrnoException, peer?: Address) => void) | null = null;
  sent = 0;
  received = 0;

  constructor(private readonly inner: Transport) {
    inner.onMessage = (data, from) => {
      this.received++;
      this.onMessage?.(data, from);
    };
    inner.onError = (err, peer) => this.onError?.(err, peer);
  }

  static async bind(address = '127.0.0.1'): Promise<CountingTransport> {
    return new CountingTransport(await UdpTransport.bind({ address }));
  }

  send(data: Uint8Array, to: Address): void {
    this.sent++;
    this.inner.send(data, to);
  }

  // The optional parts pass through too: without them the endpoint could not reuse datagram memory,
  // nor notice a peer whose port has closed (a closed relay, here), and would retransmit into it.
  released(): boolean {
    return this.inner.released?.() ?? false;
  }

  checkReachable(peer: Address): void {
    this.inner.checkReachable?.(peer);
  }

  address(): Address {
    return this.inner.address();
  }

  close(): void {
    this.inner.close();
  }

  ref(): void {
    this.inner.ref();
  }

  unref(): void {
    this.inner.unref();
  }
}
