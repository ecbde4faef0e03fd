// `listen` and `connect`: netcat over reliable-dgram. Bytes from the peer go
// to stdout, stdin goes to the peer, EOF on stdin half-closes (FIN), and the
// command exits 0 once both directions are done.

import { connect as dial, createServer, type Socket } from 'reliable-dgram';
import { parse, parsePort, positionals, socketOptions, UsageError } from './args.js';
import { delivered, exit, EXIT_OK, failWith, log, onInterrupt, watchVerbose } from './runtime.js';

function noSim(command: string, v: Record<string, unknown>): void {
  if (v.sim !== undefined) throw new UsageError('--sim runs both ends in one process: use it with send, perf client or demo', command);
}

export function listen(args: string[]): void {
  const { values, positionals: got } = parse('listen', args, { host: { type: 'string' }, keep: { type: 'boolean' } });
  noSim('listen', values);
  const [portArg] = positionals('listen', got, ['PORT']);
  const port = parsePort('listen', portArg);
  const keep = values.keep === true;
  const server = createServer({ ...socketOptions('listen', values), allowHalfOpen: true });
  let current: Socket | null = null;
  let served = 0;

  server.on('error', failWith);
  server.on('connection', (s: Socket) => {
    if (current) {
      // One connection at a time: a second peer is refused, as a busy nc would.
      s.resetAndDestroy();
      return;
    }
    current = s;
    served++;
    if (values.verbose) {
      log(`reliable-dgram: connection from ${s.remoteAddress}:${s.remotePort}`);
      watchVerbose(s, `#${served}`);
    }
    s.on('error', (err: Error) => {
      if (!keep) failWith(err);
      else log(`reliable-dgram: ${err.message}`);
    });
    s.pipe(process.stdout, { end: false });
    if (keep)
      s.end(); // receive only: each peer's stream ends when it has sent everything
    else process.stdin.pipe(s);
    s.on('close', (hadError: boolean) => {
      current = null;
      if (keep) return;
      server.close();
      if (!hadError) void delivered(s).then(() => exit(EXIT_OK));
    });
  });
  server.on('listening', () => {
    const a = server.address();
    if (a && typeof a === 'object') log(`reliable-dgram: listening on ${a.address}:${a.port}`);
  });
  onInterrupt(() => {
    current?.resetAndDestroy();
    server.close();
  });
  if (typeof values.host === 'string') server.listen(port, values.host);
  else server.listen(port);
}

export function connect(args: string[]): void {
  const { values, positionals: got } = parse('connect', args);
  noSim('connect', values);
  const [host, portArg] = positionals('connect', got, ['HOST', 'PORT']);
  const port = parsePort('connect', portArg);
  const s = dial({ ...socketOptions('connect', values), port, host: host ?? '', allowHalfOpen: true });
  if (values.verbose) watchVerbose(s, 'connect');
  s.on('error', failWith);
  s.on('connect', () => {
    if (values.verbose) log(`reliable-dgram: connected ${s.localAddress}:${s.localPort} -> ${s.remoteAddress}:${s.remotePort}`);
    process.stdin.pipe(s);
  });
  s.pipe(process.stdout, { end: false });
  s.on('close', (hadError: boolean) => {
    if (!hadError) void delivered(s).then(() => exit(EXIT_OK));
  });
  onInterrupt(() => s.resetAndDestroy());
}
