// npm run fuzz [-- --inputs N --seed S --zoo-life N --out DIR --write-corpus]
// Feeds N (default 1,000,000) random and mutated datagrams to decode and to an
// endpoint holding connections in every state (test/fuzz/fuzzer.ts), then
// prints one JSON line: count, seconds, rate, crashes. Crashing inputs are
// saved to DIR (default fuzz-crashes/) as .bin plus a .json with how to replay.
// --write-corpus regenerates test/fuzz/corpus/ (captured kinds + edge cases).

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runFuzz, type Crash } from '../test/fuzz/fuzzer.js';
import { CORPUS_DIR, edgeCases, pickCaptured } from '../test/fuzz/corpus.js';
import { buildZoo } from '../test/fuzz/zoo.js';

const { values } = parseArgs({
  options: {
    inputs: { type: 'string', default: '1000000' },
    seed: { type: 'string' },
    'zoo-life': { type: 'string', default: '2500' },
    out: { type: 'string', default: 'fuzz-crashes' },
    'write-corpus': { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
  },
});

if (values['write-corpus']) {
  mkdirSync(CORPUS_DIR, { recursive: true });
  const files = { ...pickCaptured(buildZoo(1)), ...edgeCases() };
  for (const [name, data] of Object.entries(files)) writeFileSync(join(CORPUS_DIR, `${name}.bin`), data);
  console.log(JSON.stringify({ corpus: CORPUS_DIR, files: Object.keys(files).length }));
  process.exit(0);
}

const inputs = Number(values.inputs);
const seed = values.seed !== undefined ? Number(values.seed) : Date.now() & 0x7fffffff;
const saved: string[] = [];
const save = (c: Crash): void => {
  mkdirSync(values.out, { recursive: true });
  const base = join(values.out, `crash-${c.seed}-${c.zoo}-${c.index}`);
  if (c.input) {
    writeFileSync(`${base}.bin`, c.input);
    saved.push(`${base}.bin`);
  }
  const { input: _input, ...meta } = c;
  writeFileSync(`${base}.json`, JSON.stringify({ ...meta, replay: `npm run fuzz -- --seed ${c.seed} --inputs ${c.index + 1}` }, null, 2));
  console.error(`crash (${c.kind}) at input ${c.index}: ${c.message.split('\n')[0]} -> ${base}.json`);
};

const t0 = performance.now();
let heapMax = 0;
const report = runFuzz({
  seed,
  inputs,
  zooLife: Number(values['zoo-life']),
  onCrash: save,
  onProgress: (n) => {
    heapMax = Math.max(heapMax, process.memoryUsage().heapUsed);
    if (!values.quiet && n % 131072 === 0) {
      const s = (performance.now() - t0) / 1000;
      console.error(`${n} inputs, ${s.toFixed(1)} s, ${Math.round(n / s)}/s`);
    }
  },
});
const seconds = (performance.now() - t0) / 1000;
const { crashes, ...rest } = report;
console.log(
  JSON.stringify({
    ...rest,
    seed,
    seconds: Number(seconds.toFixed(2)),
    rate: Math.round(report.inputs / seconds),
    heapMaxMiB: Number((heapMax / 2 ** 20).toFixed(1)),
    crashes: crashes.length,
    saved,
  }),
);
process.exit(crashes.length > 0 ? 1 : 0);
