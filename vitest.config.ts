import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (f: string) => fileURLToPath(new URL(`./src/${f}`, import.meta.url));

export default defineConfig({
  // Examples import the package by name (self-reference); in-process tests get the sources, as tsc and tsx do (tsconfig paths).
  resolve: {
    alias: [
      { find: /^reliable-dgram$/, replacement: src('index.ts') },
      { find: /^reliable-dgram\/sim$/, replacement: src('sim.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Off unless asked for (`--coverage`, as .ci/run does on Node 20): v8's own counters, src/ only.
    coverage: {
      provider: 'v8',
      include: ['src/**'],
      reporter: ['text-summary', 'json-summary'],
      reportsDirectory: 'coverage',
    },
  },
});
