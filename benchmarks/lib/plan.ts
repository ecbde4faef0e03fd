// What runs: figures, their configurations, sizes and durations, and why an
// implementation is left out of a figure.
import { ALL_IMPLS, JUMBO_PAYLOAD, type ImplName } from './common.js';
import { SHARE_LO } from './lo.js';
import type { NetlabOpts } from './proc.js';
import type { Scenario } from './scenarios.js';

export type FigureId = 'bulk' | 'warm' | 'jumbo' | 'app' | 'pingpong' | 'loss' | 'bottleneck' | 'share' | 'rtt' | 'setup';
export const SETUP_OWN = 'socket per connection';
export const SETUP_SHARED = 'one shared endpoint';
/** The bottleneck figure's second group: our stack with path MTU probing up to JUMBO_PAYLOAD. */
export const BOTTLENECK_JUMBO = `100 Mbit/s, maxMss ${JUMBO_PAYLOAD}`;
/** The app figure's two groups: file to file through pipeline(), and the same bytes memory to memory (the bulk figure's way). */
export const APP_FILE = 'file → file';
export const APP_MEM = 'memory → memory';
export const ALL_FIGURES: FigureId[] = ['bulk', 'warm', 'jumbo', 'app', 'pingpong', 'loss', 'bottleneck', 'share', 'rtt', 'setup'];
/** Names `--only` takes besides the figures': each stands for the figures listed. */
export const FIGURE_ALIASES: Record<string, FigureId[]> = {
  fair: ['share', 'rtt'],
  ping: ['pingpong'],
};

/**
 * `--only`'s value: comma-separated figure names, aliases (FIGURE_ALIASES) and `extra`
 * words (e.g. 'profile'), in the order of ALL_FIGURES, each once; everything when
 * empty. Throws on an unknown name.
 */
export function parseOnly(s: string | undefined, extra: string[] = []): { figures: FigureId[]; extra: string[] } {
  if (s === undefined || s.trim() === '') return { figures: [...ALL_FIGURES], extra: [] };
  const want = new Set<string>();
  const ex = new Set<string>();
  for (const x of s
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean)) {
    if ((ALL_FIGURES as string[]).includes(x)) want.add(x);
    else if (FIGURE_ALIASES[x]) for (const f of FIGURE_ALIASES[x]) want.add(f);
    else if (extra.includes(x)) ex.add(x);
    else throw new Error(`unknown figure '${x}' (one of ${[...ALL_FIGURES, ...Object.keys(FIGURE_ALIASES), ...extra].join(', ')})`);
  }
  return { figures: ALL_FIGURES.filter((f) => want.has(f)), extra: extra.filter((e) => ex.has(e)) };
}

export interface Options {
  quick: boolean;
  /** Overrides every figure's round count. */
  rounds?: number;
  only: FigureId[];
  impls: ImplName[];
  /** Whether `--impls` was given: implementations marked OPTIONAL in a figure run only when named there. */
  implsExplicit?: boolean;
}

export interface Sizes {
  bulkBytes: number;
  /** The app figure: a file of this size through pipeline(); the run fails past the cap. */
  appBytes: number;
  appCapMs: number;
  /** Untimed round trips first: a JavaScript stack needs ~2000 before its p50 settles (JIT). */
  pingWarmup: number;
  pingCount: number;
  lossBytes: number;
  lossCapMs: number;
  lossLevels: number[];
  bottleneckMs: number;
  shareMs: number;
  rttMs: Record<number, number>;
  /** Link rate behind the delay relay, Mbit/s. */
  rttRateMbit: number;
  setupIterations: number;
  setupCapMs: number;
  /** Rounds for the short figures (bulk, jumbo, ping-pong, set-up) and the timed ones. */
  fastRounds: number;
  slowRounds: number;
}

const MiB = 1 << 20;
/** Transfers in the warm figure's processes: the second is the warm figure; the last shows where the JIT settles. */
export const WARM_TRANSFERS = 4;

export function sizes(o: Options): Sizes {
  const s: Sizes = o.quick
    ? {
        bulkBytes: 32 * MiB,
        appBytes: 64 * MiB,
        appCapMs: 60_000,
        pingWarmup: 2000,
        pingCount: 1000,
        lossBytes: 4 * MiB,
        lossCapMs: 5_000,
        lossLevels: [0, 1, 5, 10, 20],
        bottleneckMs: 3_000,
        shareMs: 4_000,
        rttMs: { 20: 4_000, 100: 6_000 },
        rttRateMbit: 100,
        setupIterations: 100,
        setupCapMs: 10_000,
        fastRounds: 3,
        slowRounds: 1,
      }
    : {
        bulkBytes: 64 * MiB,
        appBytes: 256 * MiB,
        appCapMs: 60_000,
        pingWarmup: 2000,
        pingCount: 5000,
        lossBytes: 32 * MiB,
        lossCapMs: 10_000,
        lossLevels: [0, 1, 5, 10, 20],
        bottleneckMs: 8_000,
        shareMs: 40_000, // two Reno-paced flows need a few loss cycles (4-5 s each) to share: see README
        rttMs: { 20: 8_000, 100: 12_000 },
        rttRateMbit: 100,
        setupIterations: 500,
        setupCapMs: 30_000,
        fastRounds: 5,
        slowRounds: 3,
      };
  if (o.rounds !== undefined) s.fastRounds = s.slowRounds = o.rounds;
  return s;
}

/** One configuration: run once per round, as its own set of processes. */
export interface RunConfig {
  figure: FigureId;
  /** Unique: figure/group/impl. */
  key: string;
  /** Sub-configuration within the figure ('1 % loss', '20 ms RTT'), '' if none. */
  group: string;
  impl: ImplName;
  scenario: Scenario;
  netlab: NetlabOpts | null;
  timeoutMs: number;
  rounds: number;
}

export interface Skip {
  figure: FigureId;
  impl: ImplName;
  reason: string;
}

// Our stack with BBR runs where the controller matters: loss, bottleneck, share and RTT.
const BBR_SAME = 'same stack as reliable-dgram; the controller does not change this figure';
/**
 * Marks an implementation that runs in a figure only when `--impls` names it: the
 * long timed figures keep to the comparisons the project tracks, to bound a full
 * run's duration (README, "Durations").
 */
export const OPTIONAL = 'optional';
const OPT_WHY = 'left out of the default run to bound its duration (`--impls` naming it adds it)';
const IMPLS_FOR: Record<FigureId, Partial<Record<ImplName, string>>> = {
  // value: reason for leaving the implementation out ('' = included, OPTIONAL = only when named in --impls;
  // absent = not listed at all: dgram-min, the minimal TCP floor, is a baseline for the bulk and ping-pong figures only)
  bulk: { dgram: '', 'dgram-min': '', tcp: '', udx: '', utp: '', ours: '', 'ours-bbr': BBR_SAME },
  // The bulk transfer again in the same processes: a warm JIT, as in a long-lived process.
  warm: {
    dgram: '',
    'dgram-min': '',
    udx: '',
    ours: '',
    tcp: 'the kernel does its work: nothing to warm up (its bulk figure is its warm figure)',
    utp: OPTIONAL,
    'ours-bbr': BBR_SAME,
  },
  // The bulk transfer at an 8 KiB payload: what path MTU probing buys where the path allows it.
  jumbo: {
    dgram: '',
    ours: '',
    tcp: "the kernel's TCP already uses 64 KiB segments on loopback (it is in the bulk figure)",
    udx: 'its packet size is its own, with no option to set it (stream.mtu is read-only)',
    utp: 'libutp picks its own packet size, with no option to set it',
    'ours-bbr': BBR_SAME,
  },
  // An application's transfer through stream.pipeline and the file system: our node:net API against node:net's.
  app: {
    tcp: '',
    ours: '',
    dgram: 'not a stream',
    udx: 'the figure compares drop-in node:net sockets (udx-native streams are streamx, not node:net)',
    utp: 'the figure compares drop-in node:net sockets',
    'ours-bbr': BBR_SAME,
  },
  pingpong: { dgram: '', 'dgram-min': '', tcp: '', udx: '', utp: '', ours: '', 'ours-bbr': BBR_SAME },
  loss: {
    dgram: 'a fixed-window blast without congestion control is not a transport under loss',
    tcp: 'netlab drops UDP only: TCP would run lossless',
    udx: '',
    kcp: '',
    ours: '',
    utp: OPTIONAL,
    'ours-bbr': OPTIONAL,
  },
  bottleneck: {
    dgram: 'no congestion control: a fixed window only overruns the queue',
    tcp: '',
    udx: '',
    utp: OPTIONAL,
    ours: '',
    'ours-bbr': OPTIONAL,
  },
  share: { dgram: 'no congestion control', tcp: 'it is the competing flow', udx: '', utp: OPTIONAL, ours: '', 'ours-bbr': OPTIONAL },
  rtt: {
    dgram: 'a fixed window measures the window, not the transport',
    tcp: 'the delay relay forwards UDP only',
    udx: '',
    utp: OPTIONAL,
    ours: '',
    'ours-bbr': OPTIONAL,
  },
  setup: {
    dgram: 'no connections',
    tcp: '',
    udx: 'no handshake: stream ids are exchanged out of band',
    utp: '',
    ours: '',
    'ours-bbr': BBR_SAME,
  },
};

export function plan(o: Options, netlab: { ok: boolean; reason: string }): { configs: RunConfig[]; skips: Skip[]; sizes: Sizes } {
  const z = sizes(o);
  const configs: RunConfig[] = [];
  const skips: Skip[] = [];
  for (const figure of ALL_FIGURES) {
    if (!o.only.includes(figure)) continue;
    const needsNetlab = figure === 'loss' || figure === 'bottleneck' || figure === 'share';
    for (const impl of ALL_IMPLS) {
      let why = IMPLS_FOR[figure][impl];
      if (why === undefined || !o.impls.includes(impl)) continue;
      if (why === OPTIONAL) why = o.implsExplicit ? '' : OPT_WHY;
      if (why) {
        skips.push({ figure, impl, reason: why });
        continue;
      }
      if (needsNetlab && !netlab.ok) {
        skips.push({ figure, impl, reason: netlab.reason });
        continue;
      }
      const add = (group: string, scenario: Scenario, nl: NetlabOpts | null, ms: number, rounds: number): void => {
        configs.push({ figure, key: `${figure}/${group}/${impl}`, group, impl, scenario, netlab: nl, timeoutMs: ms + 40_000, rounds });
      };
      switch (figure) {
        case 'bulk':
          add('', { kind: 'bulk', impl, bytes: z.bulkBytes, capMs: 60_000 }, null, 60_000, z.fastRounds);
          break;
        case 'warm':
          add('', { kind: 'bulk', impl, bytes: z.bulkBytes, capMs: 60_000, transfers: WARM_TRANSFERS }, null, 60_000 * WARM_TRANSFERS, z.fastRounds);
          break;
        case 'app':
          // file/sha256/outFile are filled in by the runner, which makes the file once per run.
          add(APP_FILE, { kind: 'app', impl, bytes: z.appBytes, capMs: z.appCapMs, file: '', sha256: '', outFile: '' }, null, z.appCapMs, z.slowRounds);
          add(APP_MEM, { kind: 'bulk', impl, bytes: z.appBytes, capMs: z.appCapMs }, null, z.appCapMs, z.slowRounds);
          break;
        case 'jumbo':
          add('', { kind: 'bulk', impl, bytes: z.bulkBytes, capMs: 60_000, payload: JUMBO_PAYLOAD }, null, 60_000, z.fastRounds);
          break;
        case 'pingpong':
          add('', { kind: 'pingpong', impl, size: 64, warmup: z.pingWarmup, count: z.pingCount }, null, 60_000, z.fastRounds);
          break;
        case 'loss':
          for (const loss of z.lossLevels) {
            add(`${loss} % loss`, { kind: 'bulk', impl, bytes: z.lossBytes, capMs: z.lossCapMs, fromFirstByte: true }, { loss }, z.lossCapMs, z.slowRounds);
          }
          break;
        case 'bottleneck':
          add('100 Mbit/s', { kind: 'flows', impls: [impl], durationMs: z.bottleneckMs }, { rate: '100mbit' }, z.bottleneckMs, z.slowRounds);
          // The kernel's TCP fills loopback's 64 KiB MTU; ours probes up to 8 KiB here (RFC 8899).
          if (impl === 'ours' || impl === 'ours-bbr') {
            add(
              BOTTLENECK_JUMBO,
              { kind: 'flows', impls: [impl], durationMs: z.bottleneckMs, payload: JUMBO_PAYLOAD },
              { rate: '100mbit' },
              z.bottleneckMs,
              z.slowRounds,
            );
          }
          break;
        case 'share':
          // The shaper on lo's ingress, not netlab's on its egress (lo.ts: TCP Small Queues).
          add('vs TCP', { kind: 'flows', impls: [impl, 'tcp'], durationMs: z.shareMs, lo: SHARE_LO }, {}, z.shareMs, z.slowRounds);
          break;
        case 'rtt':
          for (const [rtt, ms] of Object.entries(z.rttMs)) {
            const relay = { rttMs: Number(rtt), rateMbit: z.rttRateMbit };
            add(`${rtt} ms RTT`, { kind: 'flows', impls: [impl], durationMs: ms, relay }, null, ms, z.slowRounds);
          }
          break;
        case 'setup':
          add(SETUP_OWN, { kind: 'setup', impl, size: 1024, iterations: z.setupIterations, capMs: z.setupCapMs }, null, z.setupCapMs, z.fastRounds);
          if (impl === 'ours') {
            add(
              SETUP_SHARED,
              { kind: 'setup', impl, size: 1024, iterations: z.setupIterations, capMs: z.setupCapMs, shared: true },
              null,
              z.setupCapMs,
              z.fastRounds,
            );
          }
          break;
      }
    }
  }
  return { configs, skips, sizes: z };
}
