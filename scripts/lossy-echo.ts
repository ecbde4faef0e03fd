// Issue 14's measurement: N seeds of a 256 KiB echo over a hostile simulated link (30-50 %
// loss each way, 30 % reordering, 10 % duplication) with default settings. Prints how many
// complete intact, the median and maximum virtual time, and the largest RTT sample; and, on
// a fixed 100 ms path at 20 % loss, the largest RTT sample (invariant 14).
//
//   npx tsx scripts/lossy-echo.ts [seeds=200]

import { RttEstimator } from '../src/protocol/recovery/rtt.js';
import { echo } from '../test/lifecycle/lossy-echo.js';

let maxSample = 0;
const sample = RttEstimator.prototype.sample;
RttEstimator.prototype.sample = function (this: RttEstimator, r: number) {
  if (r > maxSample) maxSample = r;
  sample.call(this, r);
};

const seeds = Number(process.env.SEEDS ?? process.argv[2] ?? 200);
const times: number[] = [];
const failed: string[] = [];
const t0 = performance.now();
for (let seed = 1; seed <= seeds; seed++) {
  const lossUp = 0.3 + ((seed * 7919) % 21) / 100;
  const lossDown = 0.3 + ((seed * 13 + 5) % 21) / 100;
  const link = { loss: lossUp, reorder: 0.3, duplicate: 0.1, delay: [10, 50] as [number, number] };
  const r = echo(seed, link, 10 * 3_600_000, { loss: lossDown });
  if (r.intact) times.push(r.doneAt);
  else failed.push(`seed ${seed}: ${r.error ?? 'incomplete'}`);
}
times.sort((x, y) => x - y);
const median = times.length ? times[times.length >> 1]! : NaN;
console.log(
  `lossy echo: ${times.length}/${seeds} complete intact; virtual time median ${(median / 1000).toFixed(1)} s, max ${((times.at(-1) ?? NaN) / 1000).toFixed(1)} s; largest RTT sample ${maxSample.toFixed(0)} ms (path RTT 20-100 ms); ${((performance.now() - t0) / 1000).toFixed(0)} s of wall time`,
);
if (failed.length) console.log(`  not complete: ${failed.join('; ')}`);

maxSample = 0;
let worst = 0;
for (let seed = 1; seed <= 20; seed++) {
  echo(seed, { loss: 0.2, delay: [50, 50] }, 3_600_000);
  worst = Math.max(worst, maxSample);
  maxSample = 0;
}
console.log(`fixed 100 ms path, 20 % loss each way, 20 seeds: largest RTT sample ${worst.toFixed(0)} ms (bound: 100 + 25 ms peer ACK delay)`);
