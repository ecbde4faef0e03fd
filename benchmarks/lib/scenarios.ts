// One configuration = one set of child processes (sender, receiver, and a relay
// when asked), coordinated over IPC. Every child is killed when the run ends.
import type { LoSetup } from './lo.js';
import { BIN_MS, interpolate, sleep, wallMs, type ImplName } from './common.js';
import { Child } from './proc.js';
import { rmSync } from 'node:fs';
import { appTransferProblems } from './appfile.js';
import type { FileSinkResult, FileSourceResult, PingResult, RelayResult, RoleSpec, SetupResult, SinkResult, SourceResult } from './roles.js';

export interface RelaySpec {
  rttMs: number;
  rateMbit?: number;
  queueMs?: number;
}

export type Scenario =
  /**
   * `payload`: see RoleSpec (the jumbo figure). `fromFirstByte`: time from the first byte's
   * arrival, not from connect (the loss figure: a lost SYN costs a 1 s RTO, and udx has no handshake).
   */
  /** `transfers` (the warm figure: 4): more transfers of `bytes` in the same processes, each on a new connection, one after another. */
  | {
      kind: 'bulk';
      impl: ImplName;
      bytes: number;
      capMs: number;
      relay?: RelaySpec;
      profileDir?: string;
      payload?: number;
      fromFirstByte?: boolean;
      transfers?: number;
    }
  /** The app-level transfer: `file` (of `bytes`, sha256 `sha256`) streamed into a file at `outFile`. */
  | { kind: 'app'; impl: ImplName; file: string; bytes: number; sha256: string; outFile: string; capMs: number }
  | { kind: 'flows'; impls: ImplName[]; durationMs: number; relay?: RelaySpec; payload?: number; lo?: LoSetup }
  | { kind: 'pingpong'; impl: ImplName; size: number; warmup: number; count: number }
  | { kind: 'setup'; impl: ImplName; size: number; iterations: number; capMs: number; shared?: boolean };

export interface BulkOut {
  bytes: number;
  elapsedMs: number;
  cpuMs: number;
  capped: boolean;
  /**
   * The second half of the bytes alone (from the moment half had arrived to the last byte): the
   * same figures without connection set-up, slow start and the JIT's warm-up.
   */
  half?: { bytes: number; elapsedMs: number; cpuMs: number };
  /** With `transfers` ≥ 2: the second transfer, in the same (warm) processes. */
  warm?: BulkOut;
  /** With `transfers` ≥ 3: the last transfer, once the JIT has settled (recompiles after deopts end by about the fourth). */
  steady?: BulkOut;
}

/** The app-level transfer: MB/s from the sender's go to the last byte in the receiver's file; both ends' CPU. */
export interface AppOut {
  bytes: number;
  elapsedMs: number;
  cpuMs: number;
  sha256: string;
}

export interface FlowOut {
  impl: ImplName;
  bytes: number;
  bins: number[];
}

export type ScenarioOut = BulkOut | AppOut | { flows: FlowOut[]; relay?: RelayResult } | PingResult | SetupResult;

/** Run `f` with a fresh set of children, all killed (after a grace period for profiles) at the end. */
async function withChildren<T>(f: (spawn: (label: string, spec: RoleSpec) => Child) => Promise<T>): Promise<T> {
  const kids: Child[] = [];
  try {
    return await f((label, spec) => {
      const c = new Child(label, spec);
      kids.push(c);
      return c;
    });
  } finally {
    for (const k of kids) k.kill();
  }
}

async function relayFor(spawn: (l: string, s: RoleSpec) => Child, port: number, r: RelaySpec): Promise<{ child: Child; port: number; port2: number }> {
  const child = spawn('relay', { role: 'relay', port, rttMs: r.rttMs, rateMbit: r.rateMbit, queueMs: r.queueMs });
  const rr = await child.ready();
  return { child, port: rr.port, port2: rr.port2 ?? 0 };
}

async function bulk(s: Extract<Scenario, { kind: 'bulk' }>): Promise<BulkOut> {
  const prof = (name: string): string | undefined => (s.profileDir ? `${s.profileDir}/${s.impl}-${name}.cpuprofile` : undefined);
  const transfers = s.transfers ?? 1;
  return withChildren(async (spawn) => {
    const sink = spawn('sink', { role: 'sink', impl: s.impl, bytes: s.bytes, capMs: s.capMs, profile: prof('receiver'), payload: s.payload, transfers });
    const r = await sink.ready();
    const relay = s.relay ? await relayFor(spawn, r.port, s.relay) : null;
    const src = spawn('source', {
      role: 'source',
      impl: s.impl,
      port: relay?.port ?? r.port,
      bytes: s.bytes,
      profile: prof('sender'),
      payload: s.payload,
      transfers,
    });
    const so = await src.ready();
    const outs: BulkOut[] = [];
    for (let i = 0; i < transfers; i++) {
      sink.send({ t: 'go', peerPort: relay?.port2 ?? so.port });
      // A later transfer starts once the sink has re-armed its counters.
      if (i > 0) await sink.ready(10_000);
      src.send({ t: 'go' });
      const sr = await sink.result<SinkResult>(s.capMs + 15_000);
      src.send({ t: 'stop' });
      const sres = await src.result<SourceResult>(10_000);
      const from = s.fromFirstByte && sr.tFirst > 0 ? sr.tFirst : sres.tStart;
      const out: BulkOut = { bytes: sr.bytes, elapsedMs: sr.tEnd - from, cpuMs: sr.cpuMs + sres.cpuMs, capped: sr.capped };
      if (sr.tHalf > 0 && !sr.capped && sr.tEnd > sr.tHalf) {
        const srcCpu = interpolate(sres.cpuAt, sr.tEnd) - interpolate(sres.cpuAt, sr.tHalf);
        out.half = { bytes: sr.bytes - sr.bytesHalf, elapsedMs: sr.tEnd - sr.tHalf, cpuMs: sr.cpuMs - sr.cpuHalf + srcCpu };
      }
      outs.push(out);
      // A capped first transfer leaves the connection in an unknown state: no second one.
      if (sr.capped) break;
    }
    const first = outs[0]!;
    const last = outs.length >= 3 ? outs[outs.length - 1] : undefined;
    return outs[1] ? { ...first, warm: outs[1], ...(last ? { steady: last } : {}) } : first;
  });
}

async function app(s: Extract<Scenario, { kind: 'app' }>): Promise<AppOut> {
  return withChildren(async (spawn) => {
    try {
      const sink = spawn('file sink', { role: 'filesink', impl: s.impl, file: s.outFile, capMs: s.capMs });
      const r = await sink.ready();
      const src = spawn('file source', { role: 'filesource', impl: s.impl, port: r.port, file: s.file });
      await src.ready();
      sink.send({ t: 'go' });
      src.send({ t: 'go' });
      const sr = await sink.result<FileSinkResult>(s.capMs + 15_000);
      src.send({ t: 'stop' });
      const so = await src.result<FileSourceResult>(10_000);
      // Not a figure unless every byte arrived intact: a mismatch fails the round.
      const problems = appTransferProblems({ expected: { bytes: s.bytes, sha256: s.sha256 }, source: so, sink: sr, capMs: s.capMs });
      if (problems.length) throw new Error(problems.join('; '));
      return { bytes: sr.bytes, elapsedMs: sr.tEnd - so.tStart, cpuMs: sr.cpuMs + so.cpuMs, sha256: sr.sha256 };
    } finally {
      rmSync(s.outFile, { force: true });
    }
  });
}

async function flows(s: Extract<Scenario, { kind: 'flows' }>): Promise<{ flows: FlowOut[]; relay?: RelayResult }> {
  return withChildren(async (spawn) => {
    const pairs: Array<{ impl: ImplName; sink: Child; src: Child; peer: number }> = [];
    let relay: { child: Child } | null = null;
    for (const impl of s.impls) {
      const sink = spawn(`${impl} sink`, { role: 'sink', impl, capMs: s.durationMs + 10_000, payload: s.payload });
      const r = await sink.ready();
      const rel = s.relay ? await relayFor(spawn, r.port, s.relay) : null;
      if (rel) relay = rel;
      const src = spawn(`${impl} source`, { role: 'source', impl, port: rel?.port ?? r.port, payload: s.payload });
      const so = await src.ready();
      pairs.push({ impl, sink, src, peer: rel?.port2 ?? so.port });
    }
    const t0 = wallMs() + 20;
    for (const p of pairs) p.sink.send({ t: 'go', t0, peerPort: p.peer });
    await sleep(20);
    for (const p of pairs) p.src.send({ t: 'go' });
    await sleep(s.durationMs);
    const out: FlowOut[] = [];
    for (const p of pairs) p.sink.send({ t: 'stop' });
    for (const p of pairs) {
      const sr = await p.sink.result<SinkResult>(10_000);
      out.push({ impl: p.impl, bytes: sr.bytes, bins: sr.bins.slice(0, Math.round(s.durationMs / BIN_MS)) });
    }
    let rr: RelayResult | undefined;
    if (relay) {
      relay.child.send({ t: 'stop' });
      rr = await relay.child.result<RelayResult>(5_000);
    }
    return rr ? { flows: out, relay: rr } : { flows: out };
  });
}

async function pingpong(s: Extract<Scenario, { kind: 'pingpong' }>): Promise<PingResult> {
  return withChildren(async (spawn) => {
    const echo = spawn('echo', { role: 'echo', impl: s.impl });
    const e = await echo.ready();
    const ping = spawn('pinger', { role: 'pinger', impl: s.impl, port: e.port, size: s.size, warmup: s.warmup, count: s.count });
    const p = await ping.ready();
    echo.send({ t: 'go', peerPort: p.port });
    ping.send({ t: 'go' });
    return ping.result<PingResult>(60_000);
  });
}

async function setup(s: Extract<Scenario, { kind: 'setup' }>): Promise<SetupResult> {
  return withChildren(async (spawn) => {
    const echo = spawn('echo', { role: 'echo', impl: s.impl });
    const e = await echo.ready();
    const c = spawn('setup', { role: 'setup', impl: s.impl, port: e.port, size: s.size, iterations: s.iterations, capMs: s.capMs, shared: s.shared });
    await c.ready();
    echo.send({ t: 'go' });
    c.send({ t: 'go' });
    return c.result<SetupResult>(s.capMs + 15_000);
  });
}

export function runScenario(s: Scenario): Promise<ScenarioOut> {
  switch (s.kind) {
    case 'bulk':
      return bulk(s);
    case 'app':
      return app(s);
    case 'flows':
      return flows(s);
    case 'pingpong':
      return pingpong(s);
    case 'setup':
      return setup(s);
  }
}
