// node:http, node:tls and stream.pipeline, unchanged, over our sockets.
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tls from 'node:tls';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { connect, createServer, type Server, type Socket } from '../../src/index.js';
import { HOST, listen, once, pattern, readAll, sha256 } from './helpers.js';

function body(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => (text += d));
    res.on('end', () => resolve(text));
    res.on('error', reject);
  });
}

describe('node:http over reliable-dgram', () => {
  let server: Server;
  let httpServer: http.Server;
  let port: number;
  beforeAll(async () => {
    httpServer = http.createServer((req, res) => {
      let n = 0;
      req.on('data', (d: Buffer) => (n += d.length));
      req.on('end', () => {
        res.setHeader('content-type', 'text/plain');
        res.end(`${req.method} ${req.url} body=${n} remote=${req.socket.remoteAddress}`);
      });
    });
    server = createServer((s) => httpServer.emit('connection', s));
    port = await listen(server);
  });
  afterAll(() => {
    server.close();
    httpServer.close();
  });

  test('a request with createConnection gets its response; Connection: close ends the socket', async () => {
    let sock: Socket | undefined;
    const req = http.request({
      host: HOST,
      port,
      method: 'POST',
      path: '/upload',
      createConnection: () => (sock = connect(port, HOST)) as unknown as Duplex,
    } as http.RequestOptions);
    req.end(pattern(100_000));
    const [res] = (await once(req, 'response')) as [http.IncomingMessage];
    expect(res.statusCode).toBe(200);
    expect(await body(res)).toBe(`POST /upload body=100000 remote=${HOST}`);
    await once(sock!, 'close');
  });

  test('a keep-alive Agent reuses one connection for several requests', async () => {
    let opened = 0;
    class DgramAgent extends http.Agent {
      override createConnection(): Duplex {
        opened++;
        return connect(port, HOST) as unknown as Duplex;
      }
    }
    const agent = new DgramAgent({ keepAlive: true, maxSockets: 1 });
    for (const path of ['/a', '/b', '/c']) {
      const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
        http.get({ host: HOST, port, path, agent }, resolve).on('error', reject);
      });
      expect(await body(res)).toBe(`GET ${path} body=0 remote=${HOST}`);
    }
    expect(opened).toBe(1);
    agent.destroy();
  });
});

/** A self-signed P-256 certificate for localhost. */
function localhostCert(): ReturnType<typeof generate> {
  return generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    days: 2,
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }] }],
  } as Parameters<typeof generate>[1]);
}

describe('node:tls over reliable-dgram', () => {
  test('a TLS server and client handshake over our sockets and exchange data', async () => {
    const pems = await localhostCert();
    const tlsServer = tls.createServer({ key: pems.private, cert: pems.cert }, (t) => {
      t.on('data', (d: Buffer) => t.write(`echo:${d.toString()}`));
      t.on('end', () => t.end());
    });
    const server = createServer((s) => tlsServer.emit('connection', s));
    const port = await listen(server);
    const raw = connect(port, HOST);
    const secure = tls.connect({ socket: raw as unknown as Duplex, servername: 'localhost', ca: pems.cert });
    await once(secure, 'secureConnect');
    expect(secure.authorized).toBe(true);
    expect(secure.getProtocol()).toMatch(/^TLSv1\.[23]$/);
    secure.write('over udp');
    const [d] = (await once(secure, 'data')) as [Buffer];
    expect(d.toString()).toBe('echo:over udp');
    secure.end();
    await once(raw, 'close', 5000);
    server.close();
    tlsServer.close();
  }, 20_000);

  test('a TLS echo of 256 KiB written with end() comes back whole when the raw server sockets are half-open', async () => {
    // TLS reads our socket through a JS stream wrapper (net's sockets it reads through their native
    // handle), so a raw socket that ended its own side on the peer's FIN (allowHalfOpen: false) would
    // refuse the echo TLS writes after it: the last record was lost.
    const pems = await localhostCert();
    const tlsServer = tls.createServer({ key: pems.private, cert: pems.cert }, (t) => t.pipe(t));
    const server = createServer({ allowHalfOpen: true }, (s) => tlsServer.emit('connection', s));
    const port = await listen(server);
    const raw = connect(port, HOST);
    const secure = tls.connect({ socket: raw as unknown as Duplex, servername: 'localhost', ca: pems.cert });
    await once(secure, 'secureConnect');
    const data = pattern(256 * 1024, 4);
    const back: Buffer[] = [];
    secure.on('data', (d: Buffer) => back.push(d));
    secure.end(data);
    await once(secure, 'end', 10_000);
    expect(sha256(Buffer.concat(back))).toBe(sha256(data));
    server.close();
    tlsServer.close();
  }, 20_000);
});

describe('stream.pipeline', () => {
  test('pipeline(source, socket) and pipeline(socket, sink) carry 1 MiB and finish cleanly', async () => {
    const data = pattern(1 << 20, 9);
    let received: Buffer[] = [];
    const done = new Promise<void>((resolve, reject) => {
      const server = createServer((s) => {
        const sink = new Writable({
          write(chunk: Buffer, _e, cb) {
            received.push(chunk);
            cb();
          },
        });
        pipeline(s, sink).then(() => {
          server.close();
          resolve();
        }, reject);
      });
      listen(server).then((port) => {
        const c = connect(port, HOST);
        pipeline(Readable.from([data.subarray(0, 300_000), data.subarray(300_000)]), c).catch(reject);
        readAll(c).catch(reject); // the server never writes: our side sees 'end'
      }, reject);
    });
    await done;
    const all = Buffer.concat(received);
    received = [];
    expect(sha256(all)).toBe(sha256(data));
  });
});
