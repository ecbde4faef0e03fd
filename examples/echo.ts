// Echo over reliable-dgram, written exactly as it would be with node:net.
//
//   npx tsx examples/echo.ts                 server and client in one process
//   npx tsx examples/echo.ts server [port]   just the server (Ctrl-C to stop)
//   npx tsx examples/echo.ts client <port>   just the client, against a server on 127.0.0.1
import type { AddressInfo } from 'node:net';
import { connect, createServer, type Server } from 'reliable-dgram';
import { run } from './lib/guard.js';

const LINES = ['hello over UDP', 'the same API as node:net', 'bytes in order, exactly once'];

function startServer(port: number): Promise<Server> {
  const server = createServer((sock) => {
    const peer = `${sock.remoteAddress}:${sock.remotePort}`;
    console.log(`server: connection from ${peer}`);
    sock.pipe(sock); // echo everything back; 'end' from the client ends our side too
    sock.on('close', () => console.log(`server: ${peer} closed`));
    sock.on('error', (err) => console.error('server: socket error', err.message));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      console.log(`server: listening on udp 127.0.0.1:${(server.address() as AddressInfo).port}`);
      resolve(server);
    });
  });
}

function client(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const sent = LINES.map((l) => `${l}\n`).join('');
    let got = '';
    const sock = connect(port, '127.0.0.1', () => {
      console.log(`client: connected ${sock.localAddress}:${sock.localPort} -> ${sock.remoteAddress}:${sock.remotePort}`);
      for (const l of LINES) sock.write(`${l}\n`);
      sock.end(); // half-close: the server echoes, then ends too
    });
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      got += d;
      for (const l of d.split('\n').filter(Boolean)) console.log(`client: echo "${l}"`);
    });
    sock.on('error', reject);
    sock.on('close', () => {
      const ok = got === sent;
      console.log(`client: echo round trip: sent ${sent.length} bytes, got ${got.length} back, ${ok ? 'match' : 'MISMATCH'}`);
      if (ok) resolve();
      else reject(new Error('echo mismatch'));
    });
  });
}

const [mode, portArg] = process.argv.slice(2);
if (mode === 'server') {
  void startServer(Number(portArg ?? 7000));
} else if (mode === 'client') {
  run('echo', () => client(Number(portArg)));
} else {
  run('echo', async () => {
    const server = await startServer(0);
    await client((server.address() as AddressInfo).port);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    console.log('echo: done');
  });
}
