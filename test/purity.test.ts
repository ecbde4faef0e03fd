// docs/ARCHITECTURE.md, Layers: the protocol core never reads a clock, draws randomness, arms a
// timer or opens a socket; those come in through Env, Clock and Transport.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const CORE = ['src/wire', 'src/protocol', 'src/endpoint', 'src/sim', 'src/util'];
const FORBIDDEN =
  /node:dgram|from 'dgram'|setTimeout\(|setInterval\(|setImmediate\(|Date\.now\(|performance\.now\(|Math\.random\(|randomBytes\(|process\.hrtime/;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('the pure core', () => {
  it('docs/ARCHITECTURE.md, Layers: no clock, timer, randomness or socket in src/wire, src/protocol, src/endpoint, src/sim', () => {
    const hits: string[] = [];
    const all = CORE.flatMap(files);
    expect(all.length).toBeGreaterThan(10);
    for (const f of all) {
      readFileSync(f, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (/^\s*(\/\/|\/?\*)/.test(line)) return;
          if (FORBIDDEN.test(line)) hits.push(`${f}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(hits).toEqual([]);
  });

  it('docs/ARCHITECTURE.md, Layers: arrows point down (wire imports nothing; protocol never imports endpoint, io or stream)', () => {
    const bad: string[] = [];
    for (const f of files('src/wire')) if (/from '\.\.\//.test(readFileSync(f, 'utf8'))) bad.push(f);
    for (const f of files('src/protocol')) {
      const src = readFileSync(f, 'utf8').replace(/import type[^;]+;/g, '');
      if (/from '\.\.\/(endpoint|io|stream|sim)\//.test(src)) bad.push(f);
    }
    for (const dir of ['src/endpoint', 'src/sim']) {
      for (const f of files(dir)) if (/from '\.\.\/(io|stream)\//.test(readFileSync(f, 'utf8'))) bad.push(f);
    }
    expect(bad).toEqual([]);
  });
});
