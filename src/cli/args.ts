// Command-line arguments: node:util's parseArgs, the options every command
// shares, and the usage texts. Bad input throws UsageError (exit status 2).

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { bbr, cubic, cubicLt, newReno, type ConnectionOptions, type SocketOptions } from 'reliable-dgram';

export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
  }
}

type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** Options every command accepts. */
export const COMMON: OptionSpec = {
  help: { type: 'boolean', short: 'h' },
  verbose: { type: 'boolean', short: 'v' },
  cc: { type: 'string' },
  mss: { type: 'string' },
  'max-mss': { type: 'string' },
  'no-delay': { type: 'boolean' },
  keepalive: { type: 'boolean' },
  'syn-retries': { type: 'string' },
  'user-timeout': { type: 'string' },
  sim: { type: 'string' },
};

const COMMON_HELP = `Options for every command:
  --cc cubic-lt|cubic|newreno|bbr   congestion control (default cubic-lt)
  --mss N                  payload bytes per datagram every path carries (default 1200)
  --max-mss N              probe the path up to N bytes per datagram (set it on both ends)
  --no-delay               disable Nagle's algorithm
  --keepalive              send keepalive probes when idle
  --syn-retries N          SYN retransmissions before ETIMEDOUT (default 5)
  --user-timeout MS        fail when sent data stays unacknowledged MS ms (default off)
  --sim SPEC               run both ends in this process over the simulator, e.g.
                           loss=0.05,delay=20-80,reorder=0.1,duplicate=0.01,seed=42
                           (send, perf client and demo)
  -v, --verbose            print state changes and a final getStats() table on stderr
  -h, --help               this help`;

export const USAGE = `Usage: reliable-dgram <command> [options]

TCP's guarantees over UDP, from the command line (netcat and iperf habits).

Commands:
  listen [--host H] [--keep] PORT    accept a connection: it goes to stdout, stdin goes to it
  connect HOST PORT                  stdin to the peer, the peer to stdout
  send FILE HOST PORT                send a file, with progress and its sha256
  recv [--host H] PORT [FILE]        receive one file (to stdout without FILE), print its sha256
  perf server [--host H] PORT        answer perf clients
  perf client HOST PORT [--time S | --bytes N] [--reverse] [--parallel N] [--json]
  demo                               raw UDP vs reliable-dgram over one lossy simulated link

Run 'reliable-dgram <command> --help' for a command's options; --version prints the version.
Exit status: 0 done, 1 a network error (its code, e.g. ECONNREFUSED, on stderr),
2 bad arguments, 130 interrupted (Ctrl-C resets open connections: the peer sees ECONNRESET).`;

const HELP: Record<string, string> = {
  listen: `Usage: reliable-dgram listen [--host H] [--keep] PORT

Accept one connection on UDP port PORT: what arrives goes to stdout, stdin goes to
the peer, EOF on stdin half-closes. Exits 0 once both directions are done.
  --host H    address to bind (default all)
  --keep      accept connections one after another (receive only: stdin is not read)`,
  connect: `Usage: reliable-dgram connect HOST PORT

Connect to HOST:PORT: stdin goes to the peer, the peer to stdout; EOF on stdin
half-closes. Exits 0 when the peer has closed too, 1 with net's error code on failure.`,
  send: `Usage: reliable-dgram send FILE HOST PORT
       reliable-dgram send FILE --sim SPEC

Send FILE ('-' for stdin) and print its sha256. Progress goes to stderr: a bar on a
terminal, one plain line a second otherwise. A 'recv' peer answers with the sha256 it
computed, and 'match' or 'MISMATCH' is printed.`,
  recv: `Usage: reliable-dgram recv [--host H] PORT [FILE]

Receive one connection's bytes into FILE (stdout without it), print their sha256 and
send it back to the sender.
  --host H    address to bind (default all)`,
  perf: `Usage: reliable-dgram perf server [--host H] PORT
       reliable-dgram perf client HOST PORT [--time S | --bytes N] [--reverse] [--parallel N] [--json]
       reliable-dgram perf client --sim SPEC [...]

iperf-style throughput test. The client prints a report per --interval (MB/s,
retransmitted segments, smoothed RTT, congestion window) and a summary.
  --time S        seconds to send (default 10)
  --bytes N       bytes to send instead (suffixes K, M, G: KiB, MiB, GiB)
  --reverse       the server sends, the client receives
  --parallel N    N connections at once (default 1)
  --interval S    seconds between reports (default 1)
  --json          one JSON document on stdout instead of text`,
  demo: `Usage: reliable-dgram demo [--sim SPEC] [--messages N]

Sends N numbered messages as raw UDP datagrams and then through reliable-dgram over
the same lossy, reordering simulated link, and shows what arrived.
  --messages N    messages to send (default 500)
  --sim SPEC      the link (default loss=0.1,reorder=0.1,duplicate=0.02,delay=5-40)`,
};

export function helpFor(command: string | undefined): string {
  const h = command === undefined ? undefined : HELP[command];
  return h === undefined ? USAGE : `${h}\n\n${COMMON_HELP}`;
}

export function shortUsage(command: string | undefined): string {
  const h = command === undefined ? undefined : HELP[command];
  const first = (h ?? USAGE).split('\n')[0] ?? '';
  return `${first}\nRun 'reliable-dgram ${command ?? ''}${command ? ' ' : ''}--help' for more.`;
}

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** parseArgs with the common options, strict; its errors become UsageErrors. */
export function parse(command: string, args: string[], own: OptionSpec = {}): Parsed {
  try {
    const r = parseArgs({ args, options: { ...COMMON, ...own }, allowPositionals: true, strict: true });
    return { values: r.values as Parsed['values'], positionals: r.positionals };
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify a positional argument.*$/s, ''), command);
  }
}

/** Exactly these positionals (names for the message); optional ones end in '?'. */
export function positionals(command: string, got: string[], names: string[]): string[] {
  const required = names.filter((n) => !n.endsWith('?')).length;
  if (got.length < required) {
    const missing = names.slice(got.length).filter((n) => !n.endsWith('?'));
    throw new UsageError(`missing ${missing.join(' and ')}`, command);
  }
  if (got.length > names.length) throw new UsageError(`unexpected argument '${got[names.length]}'`, command);
  return got;
}

export function parsePort(command: string, s: string | undefined): number {
  if (s === undefined || !/^\d+$/.test(s) || Number(s) > 65535) {
    throw new UsageError(`invalid port '${s ?? ''}': expected a number from 0 to 65535`, command);
  }
  return Number(s);
}

export function parseCount(command: string, name: string, s: string | boolean | undefined, min = 1): number | undefined {
  if (s === undefined || typeof s === 'boolean') return undefined;
  if (!/^\d+$/.test(s) || Number(s) < min) throw new UsageError(`invalid --${name} '${s}': expected an integer >= ${min}`, command);
  return Number(s);
}

export function parseSeconds(command: string, name: string, s: string | boolean | undefined): number | undefined {
  if (s === undefined || typeof s === 'boolean') return undefined;
  const n = Number(s);
  if (s.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`invalid --${name} '${s}': expected seconds > 0`, command);
  return n;
}

const UNITS: Record<string, number> = { '': 1, k: 1 << 10, m: 1 << 20, g: 1 << 30 };

/** 1000, 64K, 10M, 1G (binary units; a trailing 'B' or 'iB' is accepted). */
export function parseSize(command: string, name: string, s: string | boolean | undefined): number | undefined {
  if (s === undefined || typeof s === 'boolean') return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?$/i.exec(s.trim());
  const n = m ? Number(m[1]) * (UNITS[(m[2] ?? '').toLowerCase()] ?? NaN) : NaN;
  if (!Number.isFinite(n) || n < 1) throw new UsageError(`invalid --${name} '${s}': expected a size such as 1000, 64K, 10M`, command);
  return Math.floor(n);
}

/** The common options as Socket options (connection settings). */
export function socketOptions(command: string, v: Parsed['values']): SocketOptions {
  const connection: Partial<ConnectionOptions> = {};
  if (v.cc !== undefined) {
    const cc = String(v.cc).toLowerCase();
    if (cc === 'cubic-lt') connection.congestion = cubicLt;
    else if (cc === 'cubic') connection.congestion = cubic;
    else if (cc === 'newreno' || cc === 'reno') connection.congestion = newReno;
    else if (cc === 'bbr') connection.congestion = bbr;
    else throw new UsageError(`invalid --cc '${String(v.cc)}': expected cubic-lt, cubic, newreno or bbr`, command);
  }
  const mss = parseCount(command, 'mss', v.mss, 64);
  const maxMss = parseCount(command, 'max-mss', v['max-mss'], 64);
  if (mss !== undefined && mss > 65000) throw new UsageError(`invalid --mss '${mss}': at most 65000`, command);
  if (maxMss !== undefined && maxMss > 65000) throw new UsageError(`invalid --max-mss '${maxMss}': at most 65000`, command);
  if (mss !== undefined) connection.mss = mss;
  if (maxMss !== undefined) connection.maxMss = Math.max(maxMss, mss ?? 0);
  else if (mss !== undefined) connection.maxMss = mss;
  const syn = parseCount(command, 'syn-retries', v['syn-retries'], 0);
  if (syn !== undefined) connection.synRetries = syn;
  const ut = parseCount(command, 'user-timeout', v['user-timeout'], 0);
  if (ut !== undefined) connection.userTimeout = ut;
  const o: SocketOptions = { connection };
  if (v['no-delay']) o.noDelay = true;
  if (v.keepalive) o.keepAlive = true;
  return o;
}
