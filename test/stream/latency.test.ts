// Request/response latency: with setNoDelay, a reply written from a 'data' handler
// goes to the transport during that write() call, carrying the ACK for the request,
// with no deferred work (setImmediate, timers) between the datagram in and the reply out.
import { describe, expect, test } from 'vitest';
import { connect, createServer, type Socket } from '../../src/index.js';
import { NodeClock, nodeEnv, UdpTransport } from '../../src/io/index.js';
import { prngEnv, SimNetwork } from '../../src/sim/index.js';
import type { Transport } from '../../src/endpoint/types.js';
import { ACK, FIN, SYN, decode } from '../../src/wire/segment.js';
import { settle } from '../../src/sim.js';
import { runSim } from './helpers.js';

const A = '10.0.0.1';
const B = '10.0.0.2';
const ROUNDS = 20;

/** Record every segment `transport` is handed, as [flags, payload length], before it goes out. */
function recordSends(transport: Transport): Array<[number, number]> {
  const sent: Array<[number, number]> = [];
  const send = transport.send.bind(transport);
  transport.send = (data, to) => {
    const r = decode(data);
    if (r.ok) sent.push([r.segment.flags, r.segment.payload.length]);
    send(data, to);
  };
  return sent;
}

/** A transport from `net` whose sends are recorded, and the socket options that use it. */
function spied(net: SimNetwork, address: string, port = 0) {
  const transport = net.bind({ address, port });
  return { sent: recordSends(transport), opts: { transport, clock: net.clock, env: prngEnv(net.prng.fork()) } };
}

describe('ping-pong with setNoDelay', () => {
  test("a reply written in the 'data' handler reaches the transport before write() returns, ACK piggybacked", async () => {
    const net = new SimNetwork({ seed: 7, link: { delay: [1, 1] } });
    const srv = spied(net, B, 7);
    const cli = spied(net, A);
    // Datagrams handed to the server's transport by each s.write(d) call, counted inside the handler.
    const duringWrite: number[] = [];
    let defers = 0;
    const defer = net.clock.defer.bind(net.clock);
    net.clock.defer = (fn) => {
      defers++;
      defer(fn);
    };
    const server = createServer(srv.opts, (s: Socket) => {
      s.setNoDelay(true);
      s.on('data', (d: Buffer) => {
        const before = srv.sent.length;
        s.write(d);
        duringWrite.push(srv.sent.length - before);
      });
    });
    server.listen();
    const c = connect({ port: 7, host: B, noDelay: true, ...cli.opts });
    const msg = Buffer.alloc(64, 0x5a);
    let rounds = 0;
    let base: { srv: number; cli: number; defers: number } | null = null;
    // The client's next ping also goes out during write(), from its own 'data' handler.
    const pingWrites: number[] = [];
    c.on('data', () => {
      rounds++;
      if (rounds >= ROUNDS) return;
      const before = cli.sent.length;
      c.write(msg);
      pingWrites.push(cli.sent.length - before);
    });
    c.on('connect', () => {
      base = { srv: srv.sent.length, cli: cli.sent.length, defers };
      c.write(msg);
    });
    await runSim(net, () => rounds >= ROUNDS, 10_000, 1);

    expect(duringWrite).toEqual(Array(ROUNDS).fill(1));
    expect(pingWrites).toEqual(Array(ROUNDS - 1).fill(1));
    // One datagram each way per round trip: every reply and every ping carries the ACK, no bare ACKs.
    const srvOut = srv.sent.slice(base!.srv);
    const cliOut = cli.sent.slice(base!.cli);
    expect(srvOut.length).toBe(ROUNDS);
    expect(cliOut.length).toBe(ROUNDS);
    for (const [flags, len] of [...srvOut, ...cliOut]) {
      expect(len).toBe(64);
      expect(flags & ACK).toBe(ACK);
    }
    // Nothing was deferred to a later phase of the loop (no end-of-batch ACK flush).
    expect(defers - base!.defers).toBe(0);
    c.destroy();
    server.close();
  });
});

describe('short connections: what the app sends in answer carries the ACK', () => {
  /** A real UDP transport on 127.0.0.1 whose sends are recorded as [flags, payload length]. */
  async function recorded() {
    const transport = await UdpTransport.bind({ address: '127.0.0.1' });
    return { sent: recordSends(transport), opts: { transport, clock: new NodeClock(), env: nodeEnv() } };
  }

  /** The short exchange both tests run: 1 KiB written on 'connect', echoed, then end() both ways. */
  async function shortExchange(
    srvOpts: object,
    cliOpts: object,
    listen: (s: ReturnType<typeof createServer>) => Promise<number>,
    run: (done: () => boolean) => Promise<void>,
  ) {
    const server = createServer(srvOpts, (s: Socket) => {
      s.on('data', (d: Buffer) => s.write(d));
      s.on('end', () => s.end()); // the FIN answers the client's FIN
    });
    const port = await listen(server);
    const c = connect({ port, host: '127.0.0.1', ...cliOpts });
    c.on('connect', () => c.write(Buffer.alloc(1024, 1)));
    let got = 0;
    let closed = false;
    c.on('data', (d: Buffer) => {
      got += d.length;
      if (got >= 1024) c.end();
    });
    c.on('close', () => (closed = true));
    await run(() => closed);
    server.close();
  }

  // Client: SYN; the data (carrying the ACK of the SYN-ACK); its FIN; the last ACK.
  const CLIENT_SENDS = [
    [SYN, 0],
    [ACK, 1024],
    [FIN | ACK, 0],
    [ACK, 0],
  ];
  // Server: SYN-ACK; the echo; its FIN (carrying the ACK of the client's FIN).
  const SERVER_SENDS = [
    [SYN | ACK, 0],
    [ACK, 1024],
    [FIN | ACK, 0],
  ];

  // On real sockets the app's answer comes before the batch's end: Node runs nextTick work, such
  // as a stream's end(), before setImmediate.
  test("connect, write on 'connect', echo, end on 'end': 7 datagrams, no bare ACK for the SYN-ACK or the FIN", async () => {
    const srv = await recorded();
    const cli = await recorded();
    await shortExchange(
      srv.opts,
      cli.opts,
      async (server) => {
        await new Promise<void>((res) => server.listen(() => res()));
        return (server.address() as { port: number }).port;
      },
      (done) =>
        new Promise<void>((res) => {
          const poll = (): void => void (done() ? res() : setTimeout(poll, 1));
          poll();
        }),
    );
    expect(cli.sent).toEqual(CLIENT_SENDS);
    expect(srv.sent).toEqual(SERVER_SENDS);
  });

  // The simulator gives Node's event loop a turn after every event, as Node does after every I/O
  // callback, so the same exchange is the same 7 datagrams on virtual time.
  test.each([
    ['settle', (net: SimNetwork, done: () => boolean) => settle(net, { done }).then(() => undefined)],
    ["runSim (the tests' driver)", (net: SimNetwork, done: () => boolean) => runSim(net, done, 10_000)],
  ])('the same on the simulator, driven by %s', async (_name, drive) => {
    const net = new SimNetwork({ seed: 3, link: { delay: [1, 1] } });
    const srv = spied(net, '127.0.0.1', 7);
    const cli = spied(net, '127.0.0.2');
    await shortExchange(
      srv.opts,
      cli.opts,
      async (server) => {
        server.listen();
        return 7;
      },
      (done) => drive(net, done),
    );
    expect(cli.sent).toEqual(CLIENT_SENDS);
    expect(srv.sent).toEqual(SERVER_SENDS);
  });
});
