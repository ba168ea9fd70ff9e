/**
 * `parallel-run run --backend slurm [--dry-run] ...`: the CLI side of the Slurm backend. The CLI's
 * own parser handles the run options; `extractSlurmArgs` takes the Slurm-only flags out first, and
 * `runSlurmFromCli` submits (or only writes) the array and follows it like a local run.
 */
import * as path from 'path';
import { RunEvent, RunOptions, RunReport, UsageError } from '../run/types';
import { parseHalt } from '../run/failures';
import { validateSettings } from '../settings';
import { prepareSlurmRun, SlurmSettings, submitSlurmRun } from './backend';

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

export interface SlurmCliArgs {
  backend: 'local' | 'slurm';
  dryRun: boolean;
  slurm: Partial<SlurmSettings>;
  maxArraySize?: number;
}

function positive(flag: string, v: string | undefined, integer: boolean): number {
  const n = Number(v);
  if (v === undefined || v.trim() === '' || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new UsageError(`${flag} needs a ${integer ? 'whole ' : ''}number > 0, not "${v ?? ''}". E.g. ${flag} ${integer ? 4 : 30}.`);
  }
  return n;
}

/**
 * Removes the Slurm flags from a `run` argument list (never looking past `--`, which starts the
 * command template, or `:::`/`::::`, which start the input) and returns them with the remaining
 * arguments for the engine's parser.
 */
export function extractSlurmArgs(argv: string[]): { slurm: SlurmCliArgs; rest: string[] } {
  const out: SlurmCliArgs = { backend: 'local', dryRun: false, slurm: {} };
  const rest: string[] = [];
  const extra: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i];
    if (raw === '--' || raw === ':::' || raw === '::::' || raw === ':::+' || raw === '::::+') {
      rest.push(...argv.slice(i));
      break;
    }
    const eq = raw.startsWith('--') ? raw.indexOf('=') : -1;
    const flag = eq > 0 ? raw.slice(0, eq) : raw;
    const inline = eq > 0 ? raw.slice(eq + 1) : undefined;
    const value = (): string => {
      if (inline !== undefined) return inline;
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value. See "parallel-run run --help".`);
      return v;
    };
    switch (flag) {
      case '--backend': {
        const b = value();
        if (b !== 'local' && b !== 'slurm') throw new UsageError(`--backend must be "local" or "slurm", not "${b}".`);
        out.backend = b;
        break;
      }
      case '--dry-run': out.dryRun = true; break;
      case '--partition': out.slurm.partition = value(); break;
      case '--time': out.slurm.timeLimit = value(); break;
      case '--mem': out.slurm.memory = value(); break;
      case '--account': out.slurm.account = value(); break;
      case '--sbatch': extra.push(value()); break;
      case '--target-task-seconds': out.slurm.targetTaskSeconds = positive(flag, value(), false); break;
      case '--max-concurrent': out.slurm.maxConcurrent = positive(flag, value(), true); break;
      case '--max-array-size': out.maxArraySize = positive(flag, value(), true); break;
      default: rest.push(raw);
    }
  }
  if (extra.length) out.slurm.extraDirectives = extra;
  // --dry-run alone is a local dry run (the commands); with --backend slurm, the array files
  const slurmOnly = Object.keys(out.slurm).length > 0 || out.maxArraySize !== undefined;
  if (slurmOnly && out.backend !== 'slurm') {
    throw new UsageError('The Slurm options (--partition, --time, --mem, --max-array-size, ...) need --backend slurm.');
  }
  return { slurm: out, rest };
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
