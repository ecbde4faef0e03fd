// The published shape: ESM and CJS through the `exports` map, for both entry
// points, with type declarations beside them.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';

const node = (args: string[]) => execFileSync(process.execPath, args, { encoding: 'utf8', timeout: 30_000 });

describe('package exports', () => {
  beforeAll(() => {
    // CI builds first; a bare `npm test` builds here.
    if (!existsSync('dist/index.js') || !existsSync('dist/sim.cjs')) {
      execFileSync('npx', ['tsup'], { stdio: 'ignore', timeout: 120_000 });
    }
  }, 150_000);

  it('ESM: reliable-dgram and reliable-dgram/sim resolve through the exports map', () => {
    const out = node([
      '--input-type=module',
      '-e',
      "const m = await import('reliable-dgram'); const s = await import('reliable-dgram/sim');" +
        "console.log([typeof m.createServer, typeof m.connect, typeof m.Socket, typeof s.SimNetwork, typeof s.settle].join(','))",
    ]);
    expect(out.trim()).toBe('function,function,function,function,function');
  });

  it('CJS: require() gets the same API', () => {
    const out = node([
      '-e',
      "const m = require('reliable-dgram'); const s = require('reliable-dgram/sim');" +
        "console.log([typeof m.createConnection, typeof m.Server, typeof s.prngEnv].join(','))",
    ]);
    expect(out.trim()).toBe('function,function,function');
  });

  it('type declarations exist for both entry points and both formats', () => {
    for (const f of ['dist/index.d.ts', 'dist/index.d.cts', 'dist/sim.d.ts', 'dist/sim.d.cts']) expect(existsSync(f)).toBe(true);
  });
});
