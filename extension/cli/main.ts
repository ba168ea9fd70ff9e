/**
 * `parallel-run`: the plain-Node command line over core (no vscode), familiar to GNU Parallel users.
 * The subcommand table names each subcommand and loads its module on first use, so a run does not
 * load the sweep, ml-matrix or Slurm (each is its own chunk of the bundle).
 *
 * Exit codes: 0 all succeeded, 1 some tasks failed, 2 bad usage or input (nothing started), 130 cancelled.
 */
import * as path from 'path';
import { UsageError } from '../core/run/types';
import { CliContext, EXIT } from './args';

interface Subcommand {
  summary: string;
  run(argv: string[], ctx: CliContext): Promise<number>;
}

/** The subcommand table: add one entry per subcommand (its module is imported when it runs). */
export const SUBCOMMANDS: Record<string, Subcommand> = {
  run: { summary: 'run a command template or Python script over many files in parallel', run: runWithHeadStart },
  runs: { summary: 'list runs (default folder .parallel-run/runs)', run: async (argv) => (await import(/* webpackChunkName: "history" */ './history')).runs(argv) },
  report: { summary: "print a run's report (latest run by default)", run: async (argv) => (await import(/* webpackChunkName: "history" */ './history')).report(argv) },
  sweep: { summary: 'measure speedup (workers x BLAS threads) on a sample and recommend a setting', run: async (argv, ctx) => (await import(/* webpackChunkName: "sweep" */ './sweep')).run(argv, ctx) },
  blas: { summary: "show numpy's BLAS and its threads; --bench times 1 vs all cores", run: async (argv, ctx) => (await import(/* webpackChunkName: "blas" */ './blas')).run(argv, ctx) },
  matrix: { summary: 'demo: chunked mat·matᵀ on ml-matrix worker threads, 1 vs N', run: async (argv, ctx) => (await import(/* webpackChunkName: "matrix" */ './matrix')).run(argv, ctx) },
};

/** Options (before the command's `--`) with which `run` starts no task worker thread: no local task,
 *  or (--call) in-process calls, whose slots live in the runner's thread (core/run/inProcessPool.ts). */
const NO_LOCAL_TASKS = new Set(['-h', '--help', '--dry-run', '--backend', '--call']);

/**
 * `run --warm`: its first task worker starts booting before the engine loads, so the first task does
 * not wait for a thread to start (see core/run/taskPool.ts); a worker no run took is ended. A cold
 * run's first task needs no worker: the runner's thread runs it (core/run/firstTask.ts), and a thread
 * booting meanwhile would only take CPU from it.
 */
async function runWithHeadStart(argv: string[], ctx: CliContext): Promise<number> {
  const end = argv.indexOf('--');
  const opts = (end < 0 ? argv : argv.slice(0, end)).map((a) => a.split('=')[0]);
  const starts = opts.includes('--warm') && !opts.some((a) => NO_LOCAL_TASKS.has(a));
  const pool = starts ? await import(/* webpackChunkName: "taskPool" */ '../core/run/taskPool') : undefined;
  pool?.prestartTaskPool(path.join(ctx.distDir, 'workers', 'taskWorker.js'));
  try {
    return await (await import(/* webpackChunkName: "run" */ './run')).run(argv, ctx);
  } finally {
    // not awaited: the CLI exits next, which ends it anyway
    void pool?.dropPrestartedPool();
  }
}

function mainHelp(): string {
  const lines = ['usage: parallel-run <command> [options]', '', 'commands:'];
  for (const [name, s] of Object.entries(SUBCOMMANDS)) lines.push(`  ${name.padEnd(10)} ${s.summary}`);
  lines.push('', 'Run "parallel-run <command> --help" for its options.');
  return lines.join('\n') + '\n';
}

export async function main(argv: string[], ctx: CliContext): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(mainHelp());
    return argv.length === 0 ? EXIT.usage : EXIT.ok;
  }
  const sub = Object.hasOwn(SUBCOMMANDS, argv[0]) ? SUBCOMMANDS[argv[0]] : undefined;
  if (!sub) throw new UsageError(`Unknown command "${argv[0]}". Commands: ${Object.keys(SUBCOMMANDS).join(', ')}. Try "parallel-run --help".`);
  return sub.run(argv.slice(1), ctx);
}
