// Simultaneous open (RFC 9293 §3.5, Figure 8): two peers, one UDP port each,
// neither listening, both connect to the other at the same moment. The SYNs
// cross, each side answers the other's SYN, and one connection results: the
// way two hosts behind NATs meet once each knows the other's address.
import { connect, createEndpoint, type LocalEndpoint, type Socket } from 'reliable-dgram';
import { run } from './lib/guard.js';

function open(name: string, from: LocalEndpoint, to: LocalEndpoint, other: string): Promise<{ sock: Socket; got: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const { port } = to.address();
    const sock = connect({ endpoint: from, port, host: '127.0.0.1' }, () => {
      console.log(`${name}: connected ${sock.localAddress}:${sock.localPort} -> ${sock.remoteAddress}:${sock.remotePort}`);
      let text = '';
      sock.setEncoding('utf8');
      const got = new Promise<string>((res) => {
        sock.on('data', (d: string) => (text += d));
        sock.on('end', () => res(text));
      });
      sock.end(`hello from ${name}`);
      resolve({ sock, got });
    });
    sock.on('error', (err) => reject(new Error(`${name} -> ${other}: ${err.message}`)));
  });
}

/** Record the RFC 9293 states a connection on `ep` goes through. */
function trace(ep: LocalEndpoint): string[] {
  const path: string[] = [];
  ep.host.observers.push((ev) => {
    if (ev.type === 'conn' && ev.ev.type === 'state') {
      if (path.length === 0) path.push(ev.ev.from);
      path.push(ev.ev.to);
    }
  });
  return path;
}

run('simultaneous-open', async () => {
  const a = await createEndpoint({ host: '127.0.0.1' });
  const b = await createEndpoint({ host: '127.0.0.1' });
  const pathA = trace(a);
  const pathB = trace(b);
  console.log(`A on udp 127.0.0.1:${a.address().port}, B on udp 127.0.0.1:${b.address().port}; nobody listens`);
  // Both SYNs leave in the same event-loop turn, before either side hears from the other.
  const [sa, sb] = await Promise.all([open('A', a, b, 'B'), open('B', b, a, 'A')]);
  const opened = (p: string[]): boolean => p.slice(0, 4).join(' ') === 'CLOSED SYN_SENT SYN_RECEIVED ESTABLISHED';
  if (!opened(pathA) || !opened(pathB)) throw new Error(`not a simultaneous open: A ${pathA.join(' ')}, B ${pathB.join(' ')}`);
  console.log('simultaneous open: connected (each side went SYN_SENT -> SYN_RECEIVED -> ESTABLISHED)');
  const [fromB, fromA] = await Promise.all([sa.got, sb.got]);
  console.log(`A got "${fromB}"`);
  console.log(`B got "${fromA}"`);
  await Promise.all([sa.sock, sb.sock].map((s) => new Promise((r) => (s.closed ? r(null) : s.once('close', r)))));
  // Let the closing handshake finish (a few ms on loopback) before printing the paths.
  for (let i = 0; i < 100 && a.connectionCount + b.connectionCount > 0; i++) await new Promise((r) => setTimeout(r, 10));
  console.log(`A: ${pathA.join(' -> ')}`);
  console.log(`B: ${pathB.join(' -> ')}`);
  a.close();
  b.close();
  if (fromB !== 'hello from B' || fromA !== 'hello from A') throw new Error('wrong bytes');
});
