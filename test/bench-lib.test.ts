// The benchmark harness's logic, never a timing: the second-half CPU figure's
// interpolation, medians and paired ratios, percentiles, second-half goodput,
// shares of a bottleneck, --only parsing, which configurations a run plans, and
// when an app-level transfer counts as a figure.
import { describe, expect, it } from 'vitest';
import { appTransferProblems, type AppCheck } from '../benchmarks/lib/appfile.js';
import { interpolate } from '../benchmarks/lib/common.js';
import { ALL_FIGURES, APP_FILE, APP_MEM, parseOnly, plan, type Options } from '../benchmarks/lib/plan.js';
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
  const all = ['dgram', 'tcp', 'udx', 'utp', 'kcp', 'ours', 'ours-bbr'] as Options['impls'];
  const run = (o: Partial<Options>) => plan({ quick: true, only: ALL_FIGURES, impls: all, ...o }, netlab);

  it('warm: a two-transfer bulk run for raw dgram, udx-native and ours', () => {
    const { configs } = run({ only: ['warm'] });
    expect(configs.map((c) => c.impl)).toEqual(['dgram', 'udx', 'ours']);
    for (const c of configs) expect(c.scenario).toMatchObject({ kind: 'bulk', transfers: 2 });
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
