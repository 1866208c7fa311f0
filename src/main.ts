#!/usr/bin/env node
/**
 * The `sextant` command: the server (default) and the subcommands `check config` and
 * `promqltest`. Flags follow Prometheus's; see `sextant --help`.
 */
import { FlagError, parseFlags, usage } from './flags/index.js';
import { VERSION } from './version.js';
import { runServer } from './server.js';

async function main(argv: string[]): Promise<number> {
  // `check config` takes promtool's own flag; it is not a server flag.
  if (argv[0] === 'check' && argv[1] === 'config') {
    const rest = argv.slice(2);
    const syntaxOnly = rest.includes('--syntax-only');
    const files = rest.filter((a) => a !== '--syntax-only');
    if (files.length === 0 || files.some((f) => f.startsWith('--'))) return commandUsage('check config [--syntax-only] <file>...');
    const { checkConfigCommand } = await import('./config/index.js');
    return checkConfigCommand(files, { stdout: process.stdout, stderr: process.stderr }, { syntaxOnly });
  }
  let flags;
  try {
    flags = parseFlags(argv);
  } catch (err) {
    if (err instanceof FlagError) {
      process.stderr.write(`sextant: error: ${err.message}, try --help\n\n${usage('sextant')}`);
      return 1;
    }
    throw err;
  }
  if (flags.help) {
    process.stdout.write(usage('sextant'));
    return 0;
  }
  if (flags.version) {
    process.stdout.write(`sextant, version ${VERSION} (node ${process.version})\n`);
    return 0;
  }
  const [cmd, ...rest] = flags.args;
  if (cmd === undefined) return runServer(flags);
  return runCommand(cmd, rest);
}

async function runCommand(cmd: string, args: string[]): Promise<number> {
  if (cmd === 'promqltest') {
    if (args.length === 0) return commandUsage('promqltest <file>...');
    const { runPromqltestCommand } = await import('../promql/index.js');
    return runPromqltestCommand(args, process.stdout);
  }
  process.stderr.write(`sextant: error: unexpected command "${[cmd, ...args].join(' ')}", try --help\n`);
  return 1;
}

function commandUsage(u: string): number {
  process.stderr.write(`usage: sextant ${u}\n`);
  return 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    // Everything is closed by now; leftover timers of closed subsystems must not keep us alive.
    process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`sextant: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
