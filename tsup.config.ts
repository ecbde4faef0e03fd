import { defineConfig } from 'tsup';

// Library: index and sim, ESM and CJS, with code splitting so both entry points
// share one copy of the core per format (a Connection from 'reliable-dgram' is
// the Connection 'reliable-dgram/sim' uses). Source maps ship without embedded
// sources (they point at src/, which is not in the tarball).
// CLI: ESM only, with 'reliable-dgram' left external: it imports the package
// itself through the `exports` map, so it runs on the same dist/index.js.
export default defineConfig([
  {
    entry: { index: 'src/index.ts', sim: 'src/sim.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: false, // `npm run build` empties dist/ first; tsup cleaning here would race the CLI build
    target: 'node20',
    splitting: true,
    esbuildOptions(o) {
      o.sourcesContent = false;
    },
  },
  {
    entry: { cli: 'src/cli/main.ts' },
    format: ['esm'],
    dts: false,
    sourcemap: false,
    clean: false,
    target: 'node20',
    splitting: false,
    external: ['reliable-dgram', 'reliable-dgram/sim'],
  },
]);
