/**
 * `parallel-run run --backend slurm [--dry-run] ...`: the CLI side of the Slurm backend. Its options
 * are parsed with the run's (`SLURM_OPTIONS` joins the run's option table); `slurmArgsFrom` checks
 * them, and `runSlurmFromCli` submits (or only writes) the array and follows it like a local run.
 */
import * as path from 'path';
import { RunEvent, RunOptions, RunReport, UsageError } from '../core/run/types';
import { parseHalt } from '../core/run/failures';
import { validateSettings } from '../core/settings';
import type { SlurmSettings } from '../core/slurm/backend';
import type { OptionsSpec, Values } from './args';

/** Help lines appended to `parallel-run run --help`. */
export const SLURM_CLI_USAGE = `Slurm (one job array instead of local workers):
  --backend slurm       submit to Slurm (default: local)
  --dry-run             with --backend slurm: only write the sbatch script, manifest and README
                        (export to another cluster); nothing is submitted
  --partition P  --time HH:MM:SS  --mem 4G  --account A
  --sbatch LINE         extra #SBATCH line, repeatable (e.g. --sbatch --qos=high)
  --target-task-seconds S   pack files so each array task runs ≥ S s (default 30)
  --max-concurrent K    at most K array tasks at once (%K); default: -j when given, else no limit
  --max-array-size N    with --dry-run: the target cluster's MaxArraySize (default 1001)
  --threads T           = --cpus-per-task; BLAS threads per file (default 1)`;

/** The Slurm options of `run` (parsed together with the run's own). */
export const SLURM_OPTIONS = {
  backend: { type: 'string' },
  'dry-run': { type: 'boolean' },
  partition: { type: 'string' },
  time: { type: 'string' },
  mem: { type: 'string' },
  account: { type: 'string' },
  sbatch: { type: 'string', multiple: true },
  'target-task-seconds': { type: 'string' },
  'max-concurrent': { type: 'string' },
  'max-array-size': { type: 'string' },
} as const satisfies OptionsSpec;

export interface SlurmCliArgs {
  backend: 'local' | 'slurm';
  dryRun: boolean;
  slurm: Partial<SlurmSettings>;
  maxArraySize?: number;
}

function positiveNumber(flag: string, v: string | undefined, integer: boolean): number {
  const n = Number(v);
  if (v === undefined || v.trim() === '' || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new UsageError(`${flag} needs a ${integer ? 'whole ' : ''}number > 0, not "${v ?? ''}". E.g. ${flag} ${integer ? 4 : 30}.`);
  }
  return n;
}

/** The Slurm options of a parsed `run` command line, checked. */
export function slurmArgsFrom(v: Values<typeof SLURM_OPTIONS>): SlurmCliArgs {
  const out: SlurmCliArgs = { backend: 'local', dryRun: !!v['dry-run'], slurm: {} };
  if (v.backend !== undefined) {
    if (v.backend !== 'local' && v.backend !== 'slurm') throw new UsageError(`--backend must be "local" or "slurm", not "${v.backend}".`);
    out.backend = v.backend;
  }
  if (v.partition !== undefined) out.slurm.partition = v.partition;
  if (v.time !== undefined) out.slurm.timeLimit = v.time;
  if (v.mem !== undefined) out.slurm.memory = v.mem;
  if (v.account !== undefined) out.slurm.account = v.account;
  if (v.sbatch?.length) out.slurm.extraDirectives = [...v.sbatch];
  if (v['target-task-seconds'] !== undefined) out.slurm.targetTaskSeconds = positiveNumber('--target-task-seconds', v['target-task-seconds'], false);
  if (v['max-concurrent'] !== undefined) out.slurm.maxConcurrent = positiveNumber('--max-concurrent', v['max-concurrent'], true);
  if (v['max-array-size'] !== undefined) out.maxArraySize = positiveNumber('--max-array-size', v['max-array-size'], true);
  // --dry-run alone is a local dry run (the commands); with --backend slurm, the array files
  const slurmOnly = Object.keys(out.slurm).length > 0 || out.maxArraySize !== undefined;
  if (slurmOnly && out.backend !== 'slurm') {
    throw new UsageError('The Slurm options (--partition, --time, --mem, --max-array-size, ...) need --backend slurm.');
  }
  return out;
}

export interface SlurmCliContext {
  /** absolute path of dist/cli.js (what each array task runs) */
  cliPath: string;
  json: boolean;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

/**
 * Runs `parallel-run run --backend slurm`: writes the array files, and unless --dry-run submits them,
 * follows the array (progress on stderr, or NDJSON events with --json) and returns the exit code
 * (0 all succeeded, 1 some failed, 130 cancelled by SIGINT/SIGTERM → scancel).
 */
export async function runSlurmFromCli(opts: RunOptions, args: SlurmCliArgs, ctx: SlurmCliContext): Promise<number> {
  if (opts.halt === true || (typeof opts.halt === 'string' && parseHalt(opts.halt) !== undefined)) {
    throw new UsageError('--halt does not apply to --backend slurm: the array tasks run independently on the cluster. Drop --halt; re-run the failed files afterwards instead.');
  }
  // the backend (sbatch, sacct, shards) loads only for a Slurm run
  const { prepareSlurmRun, submitSlurmRun } = await import('../core/slurm/backend');
  const slurm: SlurmSettings = { ...validateSettings({}).slurm, ...args.slurm };
  if (args.slurm.maxConcurrent === undefined && opts.workers !== undefined) slurm.maxConcurrent = opts.workers;
  const prep = await prepareSlurmRun({
    command: opts.command, files: opts.files, inputs: opts.inputs, yes: opts.yes, cwd: opts.cwd, threads: opts.threads, timeoutSec: opts.timeoutSec, retries: opts.retries,
    outDir: opts.outDir, env: opts.env, label: opts.label, resume: opts.resume, slurm, cliPath: ctx.cliPath,
    runsDir: path.dirname(opts.outDir), exportOnly: args.dryRun, maxArraySize: args.maxArraySize, runner: 'cli',
  });
  const say = (s: string) => ctx.stderr.write(`parallel-run: ${s}\n`);
  if (args.dryRun) {
    if (ctx.json) ctx.stdout.write(JSON.stringify({ type: 'slurmPrepared', runDir: prep.runDir, script: prep.scriptPath, submit: prep.submitLines }) + '\n');
    say(`wrote ${prep.scriptPath} (${prep.plan.files} ${prep.plan.tuples ? 'input tuples' : 'files'} in ${prep.plan.tasks.length} array tasks; nothing submitted)`);
    say(`to submit: cd ${prep.slurmDir} && ${prep.submitLines.join(' && ')}   (see ${prep.readmePath})`);
    return 0;
  }
  const handle = await submitSlurmRun(prep, { runner: 'cli' });
  say(`submitted job array ${handle.jobIds().join(', ')}: ${prep.plan.files} ${prep.plan.tuples ? 'input tuples' : 'files'} in ${prep.plan.tasks.length} array tasks (run ${prep.runDir})`);
  const tty = !ctx.json && !!ctx.stderr.isTTY;
  handle.onEvent((e: RunEvent) => {
    if (ctx.json) ctx.stdout.write(JSON.stringify(e) + '\n');
    else if (e.type === 'progress' && tty) {
      const states = Object.entries(handle.arrayStates()).map(([k, v]) => `${v} ${k.toLowerCase()}`).join(', ');
      ctx.stderr.write(`\r\x1b[K${e.done}/${e.total ?? '?'} files${e.failed ? `, ${e.failed} failed` : ''}; array tasks: ${states || 'queued'}`);
    }
  });
  let signals = 0;
  const onSignal = () => {
    if (++signals > 1) process.exit(130);
    if (!ctx.json) ctx.stderr.write('\nparallel-run: cancelling the job array (scancel)…\n');
    handle.cancel();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const report: RunReport = await handle.done;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  if (tty) ctx.stderr.write('\r\x1b[K');
  if (!ctx.json) {
    const c = report.counts;
    say(`${report.status}: ${c.succeeded} succeeded, ${c.failed + c.timedOut} failed, ${c.cancelled} cancelled in ${(report.wallMs / 1000).toFixed(1)} s (Slurm)`);
    for (const f of report.failures.slice(0, 10)) ctx.stderr.write(`  failed: ${f.file} (${f.signal ?? `exit ${f.exitCode}`}) log: ${path.join(prep.runDir, f.stderrLog)}\n`);
    ctx.stderr.write(`  report: ${path.join(prep.runDir, 'report.json')}\n`);
  }
  return report.status === 'cancelled' ? 130 : report.status === 'succeeded' ? 0 : 1;
}
