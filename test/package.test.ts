// The published shape: ESM and CJS through the `exports` map, for both entry
// points sharing one core; types under every TypeScript resolution mode; what
// the tarball holds.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, ROOT } from './cli/run.js';

const node = (args: string[], cwd = ROOT) => execFileSync(process.execPath, args, { encoding: 'utf8', timeout: 30_000, cwd });

describe('package exports', () => {
  // CI builds first; a bare `npm test` builds here (when dist/ is missing or older than src/).
  beforeAll(() => ensureBuilt(), 150_000);

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

  it("one core per format: a Host from reliable-dgram/sim is an instance of reliable-dgram's Host (ESM and CJS)", () => {
    const check =
      "const h = s.simHost(new s.SimNetwork({ seed: 1 }), { address: '10.0.0.1', port: 1 }); console.log(h instanceof m.Host, h.endpoint instanceof m.Endpoint)";
    expect(node(['--input-type=module', '-e', `const m = await import('reliable-dgram'); const s = await import('reliable-dgram/sim'); ${check}`]).trim()).toBe(
      'true true',
    );
    expect(node(['-e', `const m = require('reliable-dgram'); const s = require('reliable-dgram/sim'); ${check}`]).trim()).toBe('true true');
  });

  it('type declarations exist for both entry points and both formats', () => {
    for (const f of ['dist/index.d.ts', 'dist/index.d.cts', 'dist/sim.d.ts', 'dist/sim.d.cts']) expect(existsSync(join(ROOT, f))).toBe(true);
  });

  it('source maps carry no embedded sources', () => {
    const maps = readdirSync(join(ROOT, 'dist')).filter((f) => f.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(0);
    for (const f of maps) expect(JSON.parse(readFileSync(join(ROOT, 'dist', f), 'utf8'))).not.toHaveProperty('sourcesContent');
  });

  it('the bin is dist/cli.js, executable, with a node shebang', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    expect(pkg.bin).toEqual({ 'reliable-dgram': './dist/cli.js' });
    expect(readFileSync(join(ROOT, 'dist/cli.js'), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(statSync(join(ROOT, 'dist/cli.js')).mode & 0o111).not.toBe(0);
  });

  it('the tarball holds dist, docs, README, LICENSE, CHANGELOG and package.json, nothing else', () => {
    const [info] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 })) as [
      { files: { path: string }[] },
    ];
    const paths = info.files.map((f) => f.path);
    for (const p of ['LICENSE', 'README.md', 'CHANGELOG.md', 'package.json', 'dist/cli.js', 'dist/index.js', 'dist/sim.cjs', 'dist/sim.d.ts'])
      expect(paths).toContain(p);
    for (const p of paths) expect(p).toMatch(/^(dist\/|docs\/[\w-]+\.md$|(LICENSE|README\.md|CHANGELOG\.md|package\.json)$)/);
  });
});

describe('examples', () => {
  it("import the package by name, as a user's copy would, never the repository's src/", () => {
    const files = readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.ts'));
    for (const f of files) {
      const text = readFileSync(join(ROOT, 'examples', f), 'utf8');
      expect(text, f).not.toMatch(/from '\.\.\/src\//);
      if (/\b(connect|createServer|createEndpoint)\(/.test(text)) expect(text, f).toMatch(/from 'reliable-dgram'/);
    }
  });
});

describe('TypeScript consumers resolve both entry points', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'rd-ts-'));
    mkdirSync(join(dir, 'node_modules', '@types'), { recursive: true });
    symlinkSync(ROOT, join(dir, 'node_modules', 'reliable-dgram'), 'dir');
    symlinkSync(join(ROOT, 'node_modules', '@types', 'node'), join(dir, 'node_modules', '@types', 'node'), 'dir');
    // A Host made by the simulator's simHost is the Host that reliable-dgram exports: one set of types.
    const body =
      'const net = new SimNetwork({ seed: 1, link: { loss: 0.1 } });\n' +
      "const host: Host = simHost(net, { address: '10.0.0.1', port: 7000 });\n" +
      "const server = createServer({ transport: net.bind({ address: '10.0.0.2', port: 7000 }), clock: net.clock });\n" +
      'export const out: [Host, typeof server, typeof settle] = [host, server, settle];\n';
    const imports = (from: string, sim: string) => `import { createServer, Host } from '${from}';\nimport { SimNetwork, simHost, settle } from '${sim}';\n`;
    writeFileSync(join(dir, 'consumer.ts'), imports('reliable-dgram', 'reliable-dgram/sim') + body);
    writeFileSync(join(dir, 'consumer.mts'), imports('reliable-dgram', 'reliable-dgram/sim') + body);
    writeFileSync(join(dir, 'consumer.cts'), imports('reliable-dgram', 'reliable-dgram/sim') + body);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const tsc = (opts: string[], ...files: string[]) =>
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '--strict', '--types', 'node', ...opts, ...files], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 60_000,
    });

  // Library checking (our .d.ts files and @types/node) once, in the bundler run: it is most of tsc's time.
  it.each([
    ['node10', ['--module', 'commonjs', '--moduleResolution', 'node10', '--skipLibCheck'], ['consumer.ts']],
    ['node16, from ESM and from CJS', ['--module', 'node16', '--moduleResolution', 'node16', '--skipLibCheck'], ['consumer.mts', 'consumer.cts']],
    ['bundler', ['--module', 'esnext', '--moduleResolution', 'bundler'], ['consumer.ts']],
  ] as const)(
    '%s',
    (_name, opts, files) => {
      expect(() => tsc([...opts], ...files)).not.toThrow();
    },
    60_000,
  );
});
