// The benchmark harness's logic, never a timing: the second-half CPU figure's
// interpolation, medians and paired ratios, percentiles, second-half goodput,
// shares of a bottleneck, --only parsing, which configurations a run plans,
// when an app-level transfer counts as a figure, the PASS/FAIL target lines, the minimal TCP floor's
// Duplex echo on loopback, and whom the delay relay answers.
import { describe, expect, it } from 'vitest';
import { appTransferProblems, type AppCheck } from '../benchmarks/lib/appfile.js';
import { ALL_IMPLS, IMPL_LABEL, interpolate } from '../benchmarks/lib/common.js';
import { applyLo, describeLo, SHARE_LO, withEnv } from '../benchmarks/lib/lo.js';
import { ALL_FIGURES, APP_FILE, APP_MEM, parseOnly, plan, type Options } from '../benchmarks/lib/plan.js';
import { buildReport, targets, type RawSet, type Target } from '../benchmarks/lib/report.js';
import type { PingResult } from '../benchmarks/lib/roles.js';
import type { BulkOut, ScenarioOut } from '../benchmarks/lib/scenarios.js';
import { fmtSummary, pairedRatio, percentile, secondHalfMBps, shareOf, summarise } from '../benchmarks/lib/stats.js';

describe('interpolate (benchmarks/lib/common.ts)', () => {
  const samples: Array<[number, number]> = [
    [100, 0],
    [110, 4],
    [120, 4],
    [130, 10],
  ];

  it('reads a sample exactly at its time and linearly between two', () => {
    expect(interpolate(samples, 110)).toBe(4);
    expect(interpolate(samples, 105)).toBe(2);
    expect(interpolate(samples, 115)).toBe(4); // flat: no CPU used between 110 and 120
    expect(interpolate(samples, 127.5)).toBeCloseTo(8.5, 10);
  });

  it('clamps outside the sampled span, and is NaN with no samples', () => {
    expect(interpolate(samples, 50)).toBe(0);
    expect(interpolate(samples, 500)).toBe(10);
    expect(interpolate([], 1)).toBeNaN();
  });

  it('a sampled difference over a window is the CPU used in it', () => {
    expect(interpolate(samples, 130) - interpolate(samples, 105)).toBe(8);
  });
});

describe('summarise and pairedRatio (benchmarks/lib/stats.ts)', () => {
  it('median of an odd and an even count, min and max, ignoring missing rounds', () => {
    expect(summarise([3, null, 1, 2])).toEqual({ median: 2, min: 1, max: 3, n: 3 });
    expect(summarise([4, 1, 3, 2])).toEqual({ median: 2.5, min: 1, max: 4, n: 4 });
    expect(summarise([null, undefined, NaN])).toBeNull();
  });

  it('divides round by round, not median by median, and skips rounds missing either side', () => {
    // Medians alone would give 20 / 10 = 2; the per-round quotients are 1, 3 and 1.5.
    const r = pairedRatio([10, 30, 30, 99], [10, 10, 20, null]);
    expect(r).toEqual({ median: 1.5, min: 1, max: 3, n: 3 });
    expect(pairedRatio([1], [0])).toBeNull();
  });

  it('formats one value bare and several as median [min..max]', () => {
    expect(fmtSummary(summarise([2]), 1)).toBe('2.0');
    expect(fmtSummary(summarise([1, 2, 4]), 1)).toBe('2.0 [1.0..4.0]');
    expect(fmtSummary(null, 1)).toBe('–');
  });
});

describe('percentile (nearest rank)', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100

  it('p50 and p99 of 1..100 are the 50th and 99th values, not the maximum', () => {
    expect(percentile(hundred, 0.5)).toBe(50);
    expect(percentile(hundred, 0.99)).toBe(99);
    expect(percentile(hundred, 1)).toBe(100);
  });

  it('small samples: the smallest value with at least p·n values at or below it', () => {
    expect(percentile([10, 20, 30], 0.5)).toBe(20);
    expect(percentile([10, 20, 30, 40], 0.5)).toBe(20);
    expect(percentile([10, 20, 30, 40], 0.99)).toBe(40);
    expect(percentile([7], 0.01)).toBe(7);
    expect(percentile([], 0.5)).toBeNaN();
  });

  it('p99 of 1000 values is the 990th', () => {
    const v = Array.from({ length: 1000 }, (_, i) => i * 2); // 0, 2, ..., 1998
    expect(percentile(v, 0.99)).toBe(989 * 2);
  });
});

describe('secondHalfMBps', () => {
  it('counts bins floor(n/2)..n-1 only, as MB/s', () => {
    // 10 bins of 100 ms: the first half's bytes must not count.
    const bins = [9e9, 9e9, 9e9, 9e9, 9e9, 1e6, 1e6, 1e6, 1e6, 1e6];
    expect(secondHalfMBps(bins, 1000, 100)).toBeCloseTo(10, 10); // 5 MB in 0.5 s
  });

  it('missing bins at the end are idle time, and bins past the duration are ignored', () => {
    expect(secondHalfMBps([0, 0, 2e6], 400, 100)).toBeCloseTo(10, 10); // bins 2, 3: 2 MB in 0.2 s
    expect(secondHalfMBps([0, 0, 1e6, 1e6, 5e9], 400, 100)).toBeCloseTo(10, 10);
  });

  it('an odd bin count: the larger half is the second', () => {
    expect(secondHalfMBps([0, 0, 3e6, 3e6, 3e6], 500, 100)).toBeCloseTo(30, 10); // bins 2..4
  });
});

describe('shareOf', () => {
  it('an equal split is 50 % and 1 × equal; a starved flow 0; all of it 2 ×', () => {
    expect(shareOf(5, 5)).toEqual({ fraction: 0.5, ofEqual: 1 });
    expect(shareOf(0, 7)).toEqual({ fraction: 0, ofEqual: 0 });
    expect(shareOf(7, 0)).toEqual({ fraction: 1, ofEqual: 2 });
  });

  it("is the first flow's share, not the second's", () => {
    const s = shareOf(3, 9)!;
    expect(s.fraction).toBeCloseTo(0.25, 12);
    expect(s.ofEqual).toBeCloseTo(0.5, 12);
  });

  it('is null when a flow is missing or nothing moved', () => {
    expect(shareOf(null, 3)).toBeNull();
    expect(shareOf(3, null)).toBeNull();
    expect(shareOf(0, 0)).toBeNull();
    expect(shareOf(NaN, 1)).toBeNull();
  });
});

describe('parseOnly', () => {
  it("everything when not given, in the figures' order", () => {
    expect(parseOnly(undefined).figures).toEqual(ALL_FIGURES);
  });

  it('expands aliases, keeps the canonical order, drops duplicates, separates extra words', () => {
    expect(parseOnly('pingpong,fair,warm,share', ['profile'])).toEqual({ figures: ['warm', 'pingpong', 'share', 'rtt'], extra: [] });
    expect(parseOnly('profile,app', ['profile'])).toEqual({ figures: ['app'], extra: ['profile'] });
    expect(parseOnly('profile', ['profile'])).toEqual({ figures: [], extra: ['profile'] });
  });

  it('rejects an unknown name', () => {
    expect(() => parseOnly('bulk,fairness')).toThrow(/unknown figure 'fairness'/);
    expect(() => parseOnly('profile')).toThrow(/unknown figure 'profile'/);
  });
});

describe('plan', () => {
  const netlab = { ok: true, reason: '' };
  const all = ['dgram', 'dgram-min', 'tcp', 'udx', 'utp', 'kcp', 'ours', 'ours-bbr'] as Options['impls'];
  const run = (o: Partial<Options>) => plan({ quick: true, only: ALL_FIGURES, impls: all, ...o }, netlab);

  it('warm: a four-transfer bulk run (the 2nd is warm, the 4th settled) for raw dgram, the minimal TCP floor, udx-native and ours', () => {
    const { configs } = run({ only: ['warm'] });
    expect(configs.map((c) => c.impl)).toEqual(['dgram', 'dgram-min', 'udx', 'ours']);
    for (const c of configs) expect(c.scenario).toMatchObject({ kind: 'bulk', transfers: 4 });
  });

  it('dgram-min (the minimal TCP floor) is in the default set and runs in bulk, warm and ping-pong only; other figures do not list it', () => {
    expect(ALL_IMPLS).toContain('dgram-min'); // run.ts's default set
    expect(IMPL_LABEL['dgram-min']).toBe('minimal TCP floor (node:dgram)');
    const { configs, skips } = run({});
    const floor = configs.filter((c) => c.impl === 'dgram-min');
    expect(floor.map((c) => c.figure)).toEqual(['bulk', 'warm', 'pingpong']);
    // The same transfer, and the same ping-pong, as raw node:dgram's.
    expect(floor[0]!.scenario).toEqual({ ...configs.find((c) => c.key === 'bulk//dgram')!.scenario, impl: 'dgram-min' });
    expect(floor[1]!.scenario).toMatchObject({ kind: 'bulk', transfers: 4 });
    expect(floor[2]!.scenario).toEqual({ ...configs.find((c) => c.key === 'pingpong//dgram')!.scenario, impl: 'dgram-min' });
    expect(skips.filter((s) => s.impl === 'dgram-min')).toEqual([]);
    // Ping-pong's order: the floor right after raw node:dgram.
    expect(run({ only: ['pingpong'] }).configs.map((c) => c.impl)).toEqual(['dgram', 'dgram-min', 'tcp', 'udx', 'utp', 'ours']);
  });

  it('app: ours and node:net, each as file → file and memory → memory of the same size', () => {
    const { configs, sizes } = run({ only: ['app'] });
    expect(configs.map((c) => `${c.impl} ${c.group}`)).toEqual([`tcp ${APP_FILE}`, `tcp ${APP_MEM}`, `ours ${APP_FILE}`, `ours ${APP_MEM}`]);
    for (const c of configs) expect((c.scenario as { bytes: number }).bytes).toBe(sizes.appBytes);
    expect(run({ only: ['app'], quick: false }).sizes.appBytes).toBe(256 * 1024 * 1024);
  });

  it('loss: 0, 1, 5, 10 and 20 % for ours, udx-native and KCP, each inside netlab at its level', () => {
    const { configs } = run({ only: ['loss'] });
    const byImpl = (i: string) => configs.filter((c) => c.impl === i).map((c) => c.netlab?.loss);
    expect(byImpl('ours')).toEqual([0, 1, 5, 10, 20]);
    expect(byImpl('udx')).toEqual([0, 1, 5, 10, 20]);
    expect(byImpl('kcp')).toEqual([0, 1, 5, 10, 20]);
    expect(byImpl('utp')).toEqual([]);
  });

  it('optional implementations run only when --impls names them; otherwise they are listed as skipped', () => {
    const dflt = run({ only: ['loss', 'share'] });
    expect(dflt.configs.some((c) => c.impl === 'ours-bbr' || c.impl === 'utp')).toBe(false);
    expect(dflt.skips.filter((s) => s.impl === 'utp').map((s) => s.figure)).toEqual(['loss', 'share']);
    const named = run({ only: ['loss', 'share'], impls: ['utp', 'ours-bbr'], implsExplicit: true });
    expect(new Set(named.configs.map((c) => c.impl))).toEqual(new Set(['utp', 'ours-bbr']));
  });

  it('share: inside netlab without its egress shaper, on the shared loopback setup (ingress shaper, 1500 MTU, GSO off, Reno)', () => {
    const { configs } = run({ only: ['share'] });
    expect(configs.length).toBeGreaterThan(0);
    for (const c of configs) {
      expect(c.netlab).toEqual({}); // a namespace, no --rate: TCP Small Queues would count netlab's egress queue
      expect(c.scenario).toMatchObject({ kind: 'flows', lo: SHARE_LO });
    }
    expect(SHARE_LO).toEqual({ mtu: 1500, gso: false, ingressRate: '100mbit', tcpCc: 'reno' });
  });

  it('KCP runs in the loss figure only', () => {
    const { configs } = run({});
    expect(new Set(configs.filter((c) => c.impl === 'kcp').map((c) => c.figure))).toEqual(new Set(['loss']));
  });

  it('without netlab, its figures are skipped with the reason and the rest still runs', () => {
    const p = plan({ quick: true, only: ['bulk', 'loss'], impls: all }, { ok: false, reason: 'netlab needs root' });
    expect(p.configs.every((c) => c.figure === 'bulk')).toBe(true);
    expect(p.skips.some((s) => s.figure === 'loss' && s.reason === 'netlab needs root')).toBe(true);
  });
});

describe('appTransferProblems', () => {
  const h = 'a'.repeat(64);
  const ok: AppCheck = {
    expected: { bytes: 100, sha256: h },
    source: { bytes: 100, sha256: h },
    sink: { bytes: 100, fileBytes: 100, sha256: h, capped: false },
    capMs: 1000,
  };

  it('a complete, intact transfer is a figure', () => {
    expect(appTransferProblems(ok)).toEqual([]);
  });

  it('a hash mismatch is a failure, even with every byte counted', () => {
    const p = appTransferProblems({ ...ok, sink: { ...ok.sink, sha256: 'b'.repeat(64) } });
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/sha256 mismatch/);
  });

  it('a short file, a short read, a cap or a pipeline error each fail it', () => {
    expect(appTransferProblems({ ...ok, sink: { ...ok.sink, fileBytes: 99 } })).toHaveLength(1);
    expect(
      appTransferProblems({ ...ok, source: { bytes: 50, sha256: 'c'.repeat(64) }, sink: { ...ok.sink, bytes: 50, sha256: 'c'.repeat(64), fileBytes: 50 } })
        .length,
    ).toBeGreaterThanOrEqual(2);
    expect(appTransferProblems({ ...ok, sink: { ...ok.sink, capped: true } })).toEqual(['capped at 1000 ms']);
    expect(appTransferProblems({ ...ok, source: { ...ok.source, error: 'sender pipeline: EPIPE' } })).toEqual(['sender pipeline: EPIPE']);
  });
});

describe('targets (benchmarks/lib/report.ts)', () => {
  // The configurations a quick run of every implementation plans, to build synthetic results on.
  const planned = plan(
    { quick: true, only: ALL_FIGURES, impls: ['dgram', 'dgram-min', 'tcp', 'udx', 'utp', 'kcp', 'ours', 'ours-bbr'], implsExplicit: true },
    { ok: true, reason: '' },
  ).configs;
  /** A RawSet from per-round outcomes by key (figure/group/impl); a key the plan does not have throws. */
  const rawOf = (outs: Record<string, Array<ScenarioOut | null>>): RawSet =>
    new Map(
      Object.entries(outs).map(([key, o]) => {
        const config = planned.find((c) => c.key === key);
        if (!config) throw new Error(`no planned configuration ${key}`);
        return [key, { config, outs: o, errors: [] }];
      }),
    );
  /** A bulk transfer at `mbps` MB/s (1 s of it), `cpu` ms/MB of both ends. */
  const bulk = (mbps: number, o: { capped?: boolean; cpu?: number; warm?: BulkOut; steady?: BulkOut } = {}): BulkOut => ({
    bytes: mbps * 1e6,
    elapsedMs: 1000,
    cpuMs: (o.cpu ?? 5) * mbps,
    capped: o.capped ?? false,
    ...(o.warm ? { warm: o.warm } : {}),
    ...(o.steady ? { steady: o.steady } : {}),
  });
  const ping = (p50: number, p99: number): PingResult => ({ p50, p99, mean: p50, count: 1000 });
  /** The line whose text is `text`; fails the test if there is none. */
  const line = (raw: RawSet, text: string): Target => {
    const all = targets(raw);
    const l = all.find((x) => x.text === text);
    if (!l) throw new Error(`no target '${text}' in: ${all.map((x) => x.text).join(' | ')}`);
    return l;
  };
  const loss = (level: number, ours: number[], udx: number[], kcp?: number[]) => ({
    [`loss/${level} % loss/ours`]: ours.map((v) => bulk(v)),
    [`loss/${level} % loss/udx`]: udx.map((v) => bulk(v)),
    ...(kcp ? { [`loss/${level} % loss/kcp`]: kcp.map((v) => bulk(v)) } : {}),
  });

  it('loss against our lossless run: ≥ 0.85 × at 1 %, ≥ 0.75 × at 5 %, paired by round', () => {
    const lossless = { 'loss/0 % loss/ours': [bulk(100), bulk(200)] };
    const pass = rawOf({ ...lossless, ...loss(1, [86, 172], [1, 1]), ...loss(5, [76, 152], [1, 1]) });
    expect(line(pass, '1 % loss ≥ 0.85 × our lossless')).toEqual({ text: '1 % loss ≥ 0.85 × our lossless', value: '0.86 ×', pass: true });
    expect(line(pass, '5 % loss ≥ 0.75 × our lossless').pass).toBe(true);
    const fail = rawOf({ ...lossless, ...loss(1, [84, 168], [1, 1]), ...loss(5, [74, 148], [1, 1]) });
    expect(line(fail, '1 % loss ≥ 0.85 × our lossless')).toMatchObject({ value: '0.84 ×', pass: false });
    expect(line(fail, '5 % loss ≥ 0.75 × our lossless')).toMatchObject({ value: '0.74 ×', pass: false });
    // 0.80 of the lossless run passes at 5 % and fails at 1 %: each level has its own bound.
    const between = rawOf({ ...lossless, ...loss(1, [80, 160], [1, 1]), ...loss(5, [80, 160], [1, 1]) });
    expect(line(between, '1 % loss ≥ 0.85 × our lossless').pass).toBe(false);
    expect(line(between, '5 % loss ≥ 0.75 × our lossless').pass).toBe(true);
    // Paired: 90 of 100 in round 1 and 180 of 200 in round 2 is 0.90 ×, though 180 ÷ 100 is not.
    expect(line(rawOf({ ...lossless, ...loss(1, [90, 180], [1, 1]) }), '1 % loss ≥ 0.85 × our lossless').value).toBe('0.90 ×');
  });

  it('above udx-native (and KCP) means a paired ratio above 1, in the loss and warm figures', () => {
    const r = rawOf({ ...loss(1, [101, 50], [100, 49], [100, 49]), ...loss(5, [99, 40], [100, 41], [120, 50]), ...loss(20, [10, 10], [11, 12]) });
    expect(line(r, '1 % loss above udx-native').pass).toBe(true);
    expect(line(r, '1 % loss above KCP').pass).toBe(true);
    expect(line(r, '5 % loss above udx-native')).toMatchObject({ value: '0.98 ×', pass: false });
    expect(line(r, '5 % loss above KCP')).toMatchObject({ value: '0.81 ×', pass: false });
    expect(line(r, '20 % loss above udx-native').pass).toBe(false);
    // Equal is not above.
    expect(line(rawOf(loss(1, [100], [100])), '1 % loss above udx-native')).toMatchObject({ value: '1.00 ×', pass: false });
    // Warm: the second transfer's MB/s, not the first (cold) one.
    const warm = (cold: number, w: number) => [bulk(cold, { warm: bulk(w) })];
    const text = 'warm bulk above udx-native warm';
    expect(line(rawOf({ 'warm//ours': warm(50, 210), 'warm//udx': warm(100, 200) }), text)).toMatchObject({ value: '1.05 ×', pass: true });
    expect(line(rawOf({ 'warm//ours': warm(150, 190), 'warm//udx': warm(100, 200) }), text)).toMatchObject({ value: '0.95 ×', pass: false });
  });

  it('20 % loss: a capped run fails the completion target however fast it was', () => {
    const text = '20 % loss completes within the cap (no run capped)';
    const done = rawOf({ 'loss/20 % loss/ours': [bulk(30), bulk(30)], 'loss/20 % loss/udx': [bulk(10), bulk(10)] });
    expect(line(done, text)).toEqual({ text, value: '0 of 2 runs capped', pass: true });
    const capped = rawOf({ 'loss/20 % loss/ours': [bulk(30), bulk(300, { capped: true }), null], 'loss/20 % loss/udx': [bulk(10), bulk(10), bulk(10)] });
    expect(line(capped, text)).toEqual({ text, value: '1 of 2 runs capped', pass: false });
    // It is still above udx-native: the two are separate lines.
    expect(line(capped, '20 % loss above udx-native').pass).toBe(true);
  });

  it('ping-pong p99 ≤ 1.5 × raw node:dgram echo, p50 ≤ 1.05 ×, each on its own percentile', () => {
    // At the bound in both rounds: 60 ÷ 40 and 66 ÷ 44.
    const dgram = [ping(20, 40), ping(22, 44)];
    const ok = rawOf({ 'pingpong//ours': [ping(21, 60), ping(23, 66)], 'pingpong//dgram': dgram });
    expect(line(ok, 'ping-pong p99 ≤ 1.5 × raw node:dgram echo')).toMatchObject({ value: '1.50 ×', pass: true });
    expect(line(ok, 'ping-pong p50 ≤ 1.05 × raw node:dgram echo').pass).toBe(true);
    const tail = rawOf({ 'pingpong//ours': [ping(21, 62), ping(23, 68)], 'pingpong//dgram': dgram });
    expect(line(tail, 'ping-pong p99 ≤ 1.5 × raw node:dgram echo')).toMatchObject({ value: '1.55 ×', pass: false });
    expect(line(tail, 'ping-pong p50 ≤ 1.05 × raw node:dgram echo').pass).toBe(true);
  });

  it('warm CPU, cold bulk and app-level against our bulk', () => {
    const w = (mbps: number, cpu: number) => bulk(mbps, { warm: bulk(mbps, { cpu }) });
    const cpu = 'warm CPU ms/MB (both ends) ≤ 1.15 × raw node:dgram warm';
    expect(line(rawOf({ 'warm//ours': [w(200, 11.4)], 'warm//dgram': [w(200, 10)] }), cpu).pass).toBe(true);
    expect(line(rawOf({ 'warm//ours': [w(200, 11.6)], 'warm//dgram': [w(200, 10)] }), cpu).pass).toBe(false);
    const cold = 'cold bulk (fresh processes) ≥ 0.70 × raw node:dgram';
    expect(line(rawOf({ 'bulk//ours': [bulk(71)], 'bulk//dgram': [bulk(100)] }), cold).pass).toBe(true);
    expect(line(rawOf({ 'bulk//ours': [bulk(69)], 'bulk//dgram': [bulk(100)] }), cold).pass).toBe(false);
    const app = `app-level (${APP_FILE}) ≥ 0.85 × our bulk (${APP_MEM})`;
    const file = `app/${APP_FILE}/ours`;
    const mem = `app/${APP_MEM}/ours`;
    expect(line(rawOf({ [file]: [bulk(86)], [mem]: [bulk(100)] }), app)).toMatchObject({ value: '0.86 ×', pass: true });
    expect(line(rawOf({ [file]: [bulk(84)], [mem]: [bulk(100)] }), app).pass).toBe(false);
    // No round in common: median ÷ median, said so; without memory → memory, the bulk figure is the base.
    expect(line(rawOf({ [file]: [bulk(90), null], [mem]: [null, bulk(100)] }), app)).toMatchObject({ value: '0.90 × (median ÷ median)', pass: true });
    expect(line(rawOf({ [file]: [bulk(80)], 'bulk//ours': [bulk(100)] }), app)).toMatchObject({ value: '0.80 × (median ÷ median, bulk figure)', pass: false });
  });

  it('a target whose figure or baseline did not run says not measured', () => {
    // The loss figure without KCP (it needs node-kcp), nothing else run.
    const r = rawOf({ 'loss/0 % loss/ours': [bulk(100)], ...loss(1, [90], [50]), ...loss(5, [80], [40]) });
    const all = targets(r);
    expect(line(r, '1 % loss above KCP')).toEqual({ text: '1 % loss above KCP', value: 'not measured', pass: null });
    expect(line(r, '5 % loss above KCP').pass).toBeNull();
    expect(line(r, '1 % loss above udx-native').pass).toBe(true);
    expect(line(r, '100 ms RTT through 100 Mbit/s ≥ 90 % utilisation alone').value).toBe('not measured');
    expect(line(r, '20 % loss completes within the cap (no run capped)').value).toBe('not measured');
    // Measured: the four loss lines with values; everything else is not.
    expect(all.filter((x) => x.pass !== null).map((x) => x.text)).toEqual([
      '1 % loss ≥ 0.85 × our lossless',
      '1 % loss above udx-native',
      '5 % loss ≥ 0.75 × our lossless',
      '5 % loss above udx-native',
    ]);
    expect(all.every((x) => x.pass !== null || x.value === 'not measured')).toBe(true);
  });

  it('bulk, warm and ping-pong tables: a dgram-min row with its ratios, and a note on what it is; no target line uses it', () => {
    const w = (cold: number, warm: number, steady: number) => bulk(cold, { warm: bulk(warm), steady: bulk(steady, { cpu: 4 }) });
    const raw = rawOf({
      'bulk//dgram': [bulk(100), bulk(200)],
      'bulk//dgram-min': [bulk(90), bulk(160)],
      'warm//dgram': [w(100, 200, 250)],
      'warm//dgram-min': [w(80, 180, 200)],
      'pingpong//dgram': [ping(20, 40), ping(30, 50)],
      'pingpong//dgram-min': [ping(22, 48), ping(36, 55)],
      'pingpong//tcp': [ping(40, 80), ping(40, 80)],
    });
    const meta = { date: '', mode: 'quick' as const, node: '', cpu: '', cpus: 1, commit: '', command: '', durationS: 0, ourApi: '' };
    const { md } = buildReport(raw, plan({ quick: true, only: ALL_FIGURES, impls: [] }, { ok: true, reason: '' }).sizes, [], meta);
    const row = (text: string) => md.split('\n').filter((l) => l.startsWith(`| ${IMPL_LABEL['dgram-min']} |`) && l.includes(text));
    // Bulk: MB/s 90 and 160 (median 125), ÷ raw 0.9 and 0.8 paired by round.
    expect(row('| 125.0 [90.0..160.0] | 0.85 [0.80..0.90] |')).toHaveLength(1);
    // Warm: cold 80 ÷ 100, warm 180 ÷ 200.
    expect(row('| 80.0 | 0.80 | 180.0 | 0.90 |')).toHaveLength(1);
    // The 4th transfer: 200 ÷ 250, and its CPU (4 ms/MB each) ÷ raw's.
    expect(row('| 200.0 | 0.80 | 4.00 | 1.00 |')).toHaveLength(1);
    // Ping-pong: p50 22 and 36 (median 29), ÷ raw 1.1 and 1.2, ÷ TCP 0.55 and 0.9; p99 48 and 55, ÷ raw 1.2 and 1.1.
    expect(row('| 29.0 [22.0..36.0] | 1.15 [1.10..1.20] | 0.73 [0.55..0.90] | 51.5 [48.0..55.0] | 1.15 [1.10..1.20] |')).toHaveLength(1);
    const notes = md.split('\n').filter((l) => l.startsWith(`- ${IMPL_LABEL['dgram-min']}: `));
    expect(notes).toHaveLength(3);
    expect(notes[2]).toMatch(/per round trip\.$/);
    expect(md.indexOf(notes[2]!)).toBeGreaterThan(md.indexOf('## 64-byte ping-pong'));
    expect(targets(raw).every((t) => t.pass === null)).toBe(true);
  });

  it('lists exactly the current targets, in order', () => {
    expect(targets(new Map()).map((x) => x.text)).toEqual([
      'warm bulk (2nd transfer, same processes) ≥ 0.90 × raw node:dgram warm',
      'warm bulk above udx-native warm',
      'warm CPU ms/MB (both ends) ≤ 1.15 × raw node:dgram warm',
      'cold bulk (fresh processes) ≥ 0.70 × raw node:dgram',
      `app-level (${APP_FILE}) ≥ 0.85 × our bulk (${APP_MEM})`,
      '1 % loss ≥ 0.85 × our lossless',
      '1 % loss above udx-native',
      '1 % loss above KCP',
      '5 % loss ≥ 0.75 × our lossless',
      '5 % loss above udx-native',
      '5 % loss above KCP',
      '20 % loss completes within the cap (no run capped)',
      '20 % loss above udx-native',
      'against one TCP flow: within ±25 % of an equal share',
      '20 ms RTT through 100 Mbit/s ≥ 90 % utilisation alone',
      '100 ms RTT through 100 Mbit/s ≥ 90 % utilisation alone',
      'ping-pong p50 ≤ 1.05 × raw node:dgram echo',
      'ping-pong p99 ≤ 1.5 × raw node:dgram echo',
    ]);
  });
});

describe('loopback setup (lo.ts)', () => {
  it("the environment overrides the figure's setup: RD_LO_MTU, RD_LO_GSO, RD_TCP_CC", () => {
    const saved = { ...process.env };
    try {
      delete process.env.RD_LO_MTU;
      delete process.env.RD_LO_GSO;
      delete process.env.RD_TCP_CC;
      expect(withEnv(SHARE_LO)).toEqual(SHARE_LO);
      process.env.RD_LO_MTU = '9000';
      process.env.RD_LO_GSO = 'on';
      process.env.RD_TCP_CC = 'bbr';
      expect(withEnv(SHARE_LO)).toEqual({ mtu: 9000, gso: true, ingressRate: '100mbit', tcpCc: 'bbr' });
      expect(withEnv(undefined)).toEqual({ mtu: 9000, gso: true, tcpCc: 'bbr' });
    } finally {
      process.env = saved;
    }
  });

  it('describes what ran', () => {
    expect(describeLo(SHARE_LO)).toBe(
      "TCP congestion control: reno; loopback MTU 1500, GSO off, shaped to 100mbit on its ingress (ifb), not in TCP's own qdisc.",
    );
  });

  it("refuses to touch the host's own settings (outside a netlab namespace), and does nothing when asked nothing", () => {
    expect(() => applyLo({ mtu: 1500 })).toThrow();
    expect(() => applyLo({})).not.toThrow();
  });
});

describe('minimal TCP floor over a Duplex (benchmarks/lib/raw-dgram.ts)', () => {
  it('echoes through its Duplex each way with our header: in-order bytes only, a duplicate re-sends the reply', async () => {
    const { decode } = await import('../src/index.js');
    const { connectTo, minConnect, minListen, udpSocket } = await import('../benchmarks/lib/raw-dgram.js');
    const server = await udpSocket();
    const client = await udpSocket();
    const wire: Buffer[] = [];
    client.on('message', (m: Buffer) => wire.push(m));
    minListen(server, (d) => d.on('data', (b: Buffer) => d.write(b)));
    await connectTo(client, server.address().port);
    const c = minConnect(client);
    const got: string[] = [];
    c.duplex.on('data', (b: Buffer) => got.push(String(b)));
    const settle = () => new Promise((r) => setTimeout(r, 20));
    c.duplex.write('ping');
    await settle();
    c.duplex.write('pong!');
    await settle();
    c.resend(); // 'pong!' again, as after a lost reply: the echo re-sends its reply, which the client drops
    await settle();
    expect(got).toEqual(['ping', 'pong!']);
    const segs = wire.map((m) => decode(m));
    expect(segs.map((r) => (r.ok ? [r.segment.seq, r.segment.ack, String(r.segment.payload)] : r.reason))).toEqual([
      [0, 4, 'ping'],
      [4, 9, 'pong!'],
      [4, 9, 'pong!'],
    ]);
    for (const s of [server, client]) s.close();
  });
});

describe('delay relay (benchmarks/lib/delay-relay.ts)', () => {
  it('answers its first sender for good: a datagram from another port is forwarded, the way back stays', async () => {
    const dgram = await import('node:dgram');
    const { startRelay } = await import('../benchmarks/lib/delay-relay.js');
    const bind = () =>
      new Promise<import('node:dgram').Socket>((resolve) => {
        const s = dgram.createSocket('udp4');
        s.bind(0, '127.0.0.1', () => resolve(s));
      });
    const server = await bind();
    const seen: string[] = [];
    server.on('message', (m, r) => {
      seen.push(String(m));
      server.send(`re:${m}`, r.port, r.address);
    });
    const relay = await startRelay({ port: server.address().port, rttMs: 2 });
    const client = await bind();
    const probe = await bind(); // as reachability.ts's throw-away socket: another port of the client's host
    const back: string[] = [];
    client.on('message', (m) => back.push(String(m)));
    client.send('syn', relay.clientPort, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 20));
    probe.send('p', relay.clientPort, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 20));
    client.send('data', relay.clientPort, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toEqual(['syn', 'p', 'data']);
    expect(back).toEqual(['re:syn', 're:p', 're:data']);
    for (const s of [server, client, probe]) s.close();
    relay.close();
  });
});
