// node:http, unchanged, over reliable-dgram: the HTTP server gets our sockets
// through its 'connection' event, the client through an Agent whose
// createConnection returns one of our sockets.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect, createServer } from 'reliable-dgram';
import { run } from './lib/guard.js';

/** An http.Agent that opens reliable-dgram connections instead of TCP ones. */
class DgramAgent extends http.Agent {
  override createConnection(options: http.ClientRequestArgs, callback?: (err: Error | null, s: Duplex) => void): Duplex {
    const sock = connect({ port: Number(options.port), host: options.hostname ?? options.host ?? '127.0.0.1' });
    void callback; // returning the socket is enough; node:http then ignores the callback
    return sock;
  }
}

function request(
  agent: http.Agent,
  port: number,
  method: string,
  path: string,
  body?: string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

run('http', async () => {
  const httpServer = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      const reply = req.method === 'POST' ? `you sent ${body.length} bytes: ${body}` : `hello from node:http over reliable-dgram, you asked for ${req.url}`;
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(reply);
    });
  });
  let connections = 0;
  // noDelay as node:http's own server sets on what it accepts.
  const server = createServer({ noDelay: true }, (sock) => {
    connections++;
    httpServer.emit('connection', sock);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  console.log(`http server on udp 127.0.0.1:${port}`);

  const agent = new DgramAgent({ keepAlive: true, maxSockets: 1 });
  const a = await request(agent, port, 'GET', '/hello');
  console.log(`GET /hello -> HTTP ${a.status} ${a.headers['content-type']}: ${a.body}`);
  const b = await request(agent, port, 'POST', '/echo', 'ping from the client');
  console.log(`POST /echo -> HTTP ${b.status}: ${b.body}`);
  const big = 'abcdefghij'.repeat(30_000); // 300 kB body: many datagrams
  const c = await request(agent, port, 'POST', '/big', big);
  console.log(`POST /big (${big.length} bytes) -> HTTP ${c.status}: ${c.body.slice(0, 40)}…`);
  console.log(`3 requests over ${connections} reliable-dgram connection(s) (keep-alive agent)`);

  agent.destroy();
  httpServer.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const ok = [a, b, c].every((r) => r.status === 200) && c.body.startsWith(`you sent ${big.length} bytes`);
  console.log(ok ? 'http: all responses HTTP 200' : 'http: FAILED');
  if (!ok) process.exitCode = 1;
});
