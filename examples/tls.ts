// node:tls over reliable-dgram with a freshly generated self-signed certificate:
// the TLS server takes our sockets through 'connection', the client wraps one
// with tls.connect({ socket }). The client trusts only that certificate.
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { generate } from 'selfsigned';
import { connect, createServer } from 'reliable-dgram';
import { run } from './lib/guard.js';

run('tls', async () => {
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  console.log('generated a self-signed P-256 certificate for localhost');

  const tlsServer = tls.createServer({ key: pems.private, cert: pems.cert }, (s) => {
    s.on('data', (d: Buffer) => s.write(`secure echo: ${d.toString()}`));
    s.on('end', () => s.end());
    s.on('error', (e) => console.error('tls server socket:', e.message));
  });
  tlsServer.on('tlsClientError', (e) => console.error('tls server: client error', e.message));
  // Half-open raw sockets: TLS closes the stream itself (close_notify), after its last record; see README.
  const server = createServer({ allowHalfOpen: true }, (sock) => tlsServer.emit('connection', sock));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  console.log(`tls server on udp 127.0.0.1:${port}`);

  const reply = await new Promise<string>((resolve, reject) => {
    const raw = connect(port, '127.0.0.1');
    const s = tls.connect({ socket: raw, ca: pems.cert, servername: 'localhost' }, () => {
      const cert = s.getPeerCertificate();
      console.log(`TLS authorized: ${s.authorized} (${s.getProtocol()}, ${s.getCipher().name}, peer CN=${cert.subject?.CN})`);
      if (!s.authorized) reject(new Error(`not authorized: ${String(s.authorizationError)}`));
      s.end('hello through TLS over UDP');
    });
    let text = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => (text += d));
    s.on('end', () => resolve(text));
    s.on('error', reject);
  });
  console.log(`client got: "${reply}"`);
  tlsServer.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const ok = reply === 'secure echo: hello through TLS over UDP';
  console.log(ok ? 'tls: round trip ok' : 'tls: FAILED');
  if (!ok) process.exitCode = 1;
});
