#!/usr/bin/env node
// reliable-dgram's command-line tool: netcat and iperf habits over TCP's
// semantics on UDP. Commands live in their own files; this one dispatches.

import { createRequire } from 'node:module';
import { helpFor, shortUsage, USAGE, UsageError } from './args.js';
import { demo } from './demo.js';
import { perf } from './perf.js';
import { connect, listen } from './pipe.js';
import { exit, EXIT_OK, EXIT_USAGE, failWith, log } from './runtime.js';
import { recv, send } from './transfer.js';

const COMMANDS: Record<string, (args: string[]) => void | Promise<void>> = { listen, connect, send, recv, perf, demo };

function version(): string {
  const pkg = createRequire(import.meta.url)('reliable-dgram/package.json') as { version: string };
  return pkg.version;
}

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === '--version' || command === '-V') {
    process.stdout.write(`reliable-dgram ${version()}\n`);
    return exit(EXIT_OK);
  }
  if (command === undefined) {
    log(USAGE);
    return exit(EXIT_USAGE);
  }
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${helpFor(command === 'help' ? rest[0] : undefined)}\n`);
    return exit(EXIT_OK);
  }
  const run = COMMANDS[command];
  if (!run) throw new UsageError(`unknown command '${command}'`);
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${helpFor(command)}\n`);
    return exit(EXIT_OK);
  }
  await run(rest);
}

// Writing to a closed pipe (`reliable-dgram recv 7000 | head`) ends quietly.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(EXIT_OK);
  throw err;
});

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof UsageError) {
    log(`reliable-dgram${err.command ? ` ${err.command}` : ''}: ${err.message}\n${shortUsage(err.command)}`);
    exit(EXIT_USAGE);
  } else if (err && typeof err === 'object' && 'code' in err) {
    failWith(err);
  } else {
    log(`reliable-dgram: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    exit(70); // an internal error (sysexits EX_SOFTWARE)
  }
});
