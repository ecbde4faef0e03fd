// Property tests run with a fixed seed (FC_SEED, default 42) and a bounded number
// of runs (FC_RUNS scales them); fast-check prints the seed and path on failure.
import fc from 'fast-check';

const seed = Number(process.env.FC_SEED ?? 42);
const scale = Number(process.env.FC_RUNS_SCALE ?? 1);
fc.configureGlobal({ seed, numRuns: Math.max(1, Math.round(100 * scale)), verbose: 1 });
