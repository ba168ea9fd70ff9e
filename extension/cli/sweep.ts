/**
 * `parallel-run sweep`: the scaling sweep (workers x BLAS threads on a sample of the files) and its
 * recommendation.
 *   parallel-run sweep [options] --script analyze.py --files GLOB   scaling sweep + recommendation
 *   parallel-run sweep [options] --files GLOB -- <command template...>
 */
import * as path from 'path';
import { resolvePython } from '../core/python/interpreter';
import { parseGrid } from '../core/run/inputs';
import { UsageError, type FileSource, type InputsSpec, type TaskCommand } from '../core/run/types';
import { CliContext, EXIT, noPositionals, parseCommandLine, positive, pythonName, type Values } from './args';

export const SWEEP_USAGE = `usage: parallel-run sweep [options] --script analyze.py --files GLOB [-- extra args...]
       parallel-run sweep [options] --files GLOB -- <command template...>

Measures speedup on a sample of the files: workers 1, 2, 4, ... cores x BLAS threads (workers x
threads <= cores) plus one oversubscribed configuration, each run on the same sample, repeated when
noisy. Prints the table, the Amdahl serial fraction and the recommended workers x threads.

  --files GLOB          input files; repeatable
  --files-from FILE     one path per line
  --grid NAME=VALUES    a named input ({NAME}), repeatable: a comma list or START:STOP:STEP; with
                        files, the run goes over files × values; the sample is drawn from whole
                        tuples, each one task as in the run
  --script FILE         Python script run once per file (file = sys.argv[1])
  --python PATH         interpreter for --script (default: $PARALLEL_RUN_PYTHON or python3)
  --budget SEC          time budget of the whole sweep (default 60); the sample is sized to fit
  --no-threads          vary workers only (the script uses no BLAS)
  --timeout SEC         per-task timeout
  --runs-dir DIR        where the sweep directory goes (default .parallel-run/runs)
  --json                print sweep.json instead of the table
  -h, --help            this help`;

const SWEEP_OPTIONS = {
  files: { type: 'string', multiple: true },
  'files-from': { type: 'string' },
  grid: { type: 'string', multiple: true },
  script: { type: 'string' },
  python: { type: 'string' },
  budget: { type: 'string' },
  'no-threads': { type: 'boolean' },
  timeout: { type: 'string' },
  'runs-dir': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

interface SweepArgs {
  files: string[];
  grids: Array<{ name: string; values: string[] }>;
  filesFrom?: string;
  script?: string;
  python?: string;
  budget?: number;
  noThreads: boolean;
  timeout?: number;
  runsDir?: string;
  json: boolean;
  help: boolean;
  rest: string[];
}

/** Parses `sweep` options (exported for tests). */
export function parseSweepArgs(argv: string[]): SweepArgs {
  const parsed = parseCommandLine('sweep', argv, SWEEP_OPTIONS);
  noPositionals('sweep', parsed);
  const v: Values<typeof SWEEP_OPTIONS> = parsed.values;
  return {
    files: v.files ?? [],
    grids: (v.grid ?? []).map(parseGrid),
    filesFrom: v['files-from'],
    script: v.script,
    python: v.python,
    budget: v.budget !== undefined ? positive('--budget', v.budget) : undefined,
    noThreads: !!v['no-threads'],
    timeout: v.timeout !== undefined ? positive('--timeout', v.timeout) : undefined,
    runsDir: v['runs-dir'],
    json: !!v.json,
    help: !!v.help,
    rest: parsed.rest ?? [],
  };
}

export async function run(argv: string[], ctx: CliContext): Promise<number> {
  const a = parseSweepArgs(argv);
  if (a.help) {
    process.stdout.write(SWEEP_USAGE + '\n');
    return EXIT.ok;
  }
  // the sweep and the engine load only for a sweep (not for --help or a usage error)
  const { collectFiles, formatSweep, runSweep } = await import(/* webpackChunkName: "sweepRunner" */ '../core/sweepRunner');
  const cwd = process.cwd();
  let command: TaskCommand;
  if (a.script !== undefined) {
    const py = await resolvePython(pythonName(a.python));
    command = { kind: 'python', python: py.executable, script: path.resolve(cwd, a.script), args: a.rest, warm: false };
  } else {
    if (a.rest.length === 0) throw new UsageError('No command given. Give --script FILE, or put the command template after "--" (e.g. -- wc -l {}).');
    command = { kind: 'template', argv: a.rest };
  }
  let src: FileSource | undefined;
  if (a.filesFrom !== undefined && a.files.length > 0) throw new UsageError('Give either --files or --files-from, not both.');
  if (a.filesFrom !== undefined) src = { kind: 'listFile', path: path.resolve(cwd, a.filesFrom), nulSeparated: false };
  else if (a.files.length > 0) src = { kind: 'globs', patterns: a.files, cwd };
  else if (a.grids.length === 0) throw new UsageError('No input files. Give --files GLOB (repeatable), --files-from FILE or --grid NAME=VALUES.');
  // with --grid: input tuples (files first, then each grid), sampled whole
  const inputs: InputsSpec | undefined = a.grids.length ? { sources: [...(src ? [{ kind: 'files' as const, source: src }] : []), ...a.grids.map((g) => ({ kind: 'grid' as const, ...g }))] } : undefined;
  const files = inputs || !src ? [] : await collectFiles(src);

  const ac = new AbortController();
  const onSig = (): void => ac.abort();
  process.once('SIGINT', onSig);
  process.once('SIGTERM', onSig);
  const say = (s: string): void => void (a.json ? undefined : process.stderr.write(s + '\n'));
  try {
    const { dir, result } = await runSweep({
      command, files, ...(inputs ? { inputs } : {}), cwd, runsDir: a.runsDir ?? path.join('.parallel-run', 'runs'), workersDir: path.join(ctx.distDir, 'workers'),
      budgetSec: a.budget ?? 60, varyThreads: !a.noThreads, timeoutSec: a.timeout, signal: ac.signal,
      onEvent: (e) => {
        if (e.type === 'probe') say(`sweep: probing ${e.files} file(s) serially for the time per file...`);
        else if (e.type === 'plan') say(`sweep: ${e.cores} cores; sample of ${e.sampleSize} of ${e.totalFiles} files, ~${Math.round(e.perFileMs)} ms/file; ${e.grid.length} configurations; about ${Math.round(e.estimatedSec)} s (budget ${e.budgetSec} s)`);
        else if (e.type === 'pointFinished') say(`  ${e.workers} x ${e.threads} (repeat ${e.repeat}): ${(e.wallMs / 1000).toFixed(2)} s${e.failed ? `, ${e.failed} failed` : ''}`);
      },
    });
    process.stdout.write(a.json ? JSON.stringify(result, null, 1) + '\n' : formatSweep(result) + `\nsweep: ${dir}\n`);
    return result.status === 'cancelled' ? EXIT.cancelled : result.status === 'failed' ? EXIT.failed : EXIT.ok;
  } finally {
    process.removeListener('SIGINT', onSig);
    process.removeListener('SIGTERM', onSig);
  }
}
