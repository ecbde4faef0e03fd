// Examples exit by themselves once every socket is closed. This guard only
// fires if something still holds the event loop (or hangs) after `ms`.
export function watchdog(name: string, ms = 30_000): void {
  setTimeout(() => {
    console.error(`${name}: still running after ${ms} ms, giving up`);
    process.exit(1);
  }, ms).unref();
}

/** Run `main`, print an error and exit 1 if it throws. */
export function run(name: string, main: () => Promise<void>, ms?: number): void {
  watchdog(name, ms);
  main().catch((err: unknown) => {
    console.error(`${name}: failed:`, err);
    process.exit(1);
  });
}
