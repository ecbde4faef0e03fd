// The app figure's input: one file of random bytes in a fresh temporary
// directory, made once per run, with its sha256; removed when the run ends
// (normally, on error, or on Ctrl-C).
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface AppFile {
  dir: string;
  file: string;
  bytes: number;
  sha256: string;
  /** A path in `dir` for a receiver's copy. */
  outPath(tag: string): string;
  remove(): void;
}

export function makeAppFile(bytes: number): AppFile {
  const dir = mkdtempSync(join(tmpdir(), 'rd-bench-app-'));
  const remove = (): void => rmSync(dir, { recursive: true, force: true });
  process.once('exit', remove);
  const file = join(dir, 'source.bin');
  const hash = createHash('sha256');
  const fd = openSync(file, 'w');
  try {
    for (let left = bytes; left > 0; ) {
      const b = randomBytes(Math.min(left, 1 << 20));
      writeSync(fd, b);
      hash.update(b);
      left -= b.length;
    }
  } finally {
    closeSync(fd);
  }
  let n = 0;
  return { dir, file, bytes, sha256: hash.digest('hex'), outPath: (tag) => join(dir, `received-${tag}-${n++}.bin`), remove };
}

/** What the app figure's two ends report, and what was sent (the file's size and hash). */
export interface AppCheck {
  expected: { bytes: number; sha256: string };
  source: { bytes: number; sha256: string; error?: string };
  sink: { bytes: number; fileBytes: number; sha256: string; capped: boolean; error?: string };
  capMs: number;
}

/**
 * Why an app-level transfer is not a figure: every reason, empty if it is one.
 * It is one only when the sender read the whole file (its size and hash), the
 * receiver's hash of what arrived equals the sender's, the written file has the
 * file's size, neither pipeline failed and the cap was not hit.
 */
export function appTransferProblems(c: AppCheck): string[] {
  const p: string[] = [];
  const h = (x: string): string => `${x.slice(0, 12)}…`;
  if (c.source.error) p.push(c.source.error);
  if (c.sink.error) p.push(c.sink.error);
  if (c.sink.capped) p.push(`capped at ${c.capMs} ms`);
  if (c.source.bytes !== c.expected.bytes || c.source.sha256 !== c.expected.sha256) {
    p.push(`sender read ${c.source.bytes} bytes, sha256 ${h(c.source.sha256)}; the file has ${c.expected.bytes}, ${h(c.expected.sha256)}`);
  }
  if (c.sink.sha256 !== c.source.sha256 || c.sink.bytes !== c.source.bytes) {
    p.push(`sha256 mismatch: sent ${h(c.source.sha256)} (${c.source.bytes} bytes), received ${h(c.sink.sha256)} (${c.sink.bytes} bytes)`);
  }
  if (c.sink.fileBytes !== c.expected.bytes) p.push(`written file has ${c.sink.fileBytes} bytes, expected ${c.expected.bytes}`);
  return p;
}
