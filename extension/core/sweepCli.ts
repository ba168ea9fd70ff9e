/**
 * CLI subcommands for measuring (sweep, blas, matrix demo), plugged into extension/cli.ts's SUBCOMMANDS table:
 *   parallel-run sweep [options] --script analyze.py --files GLOB   scaling sweep + recommendation
 *   parallel-run sweep [options] --files GLOB -- <command template...>
 *   parallel-run blas [--python PATH] [--bench N] [--json]          BLAS inspector + benchmark
 *   parallel-run matrix [--workers 1,2] [--blocks 10] [--json] ml-matrix chunked product
 * Exit codes follow the CLI: 0 ok, 1 failed, 2 bad usage, 130 cancelled.
 */
import * as path from 'path';
import { formatMatrixDemo, runMatrixDemo } from './demos/matrixDemo';
import { benchmarkBlas, formatBlasReport, inspectBlas } from './python/blasProbe';
import { resolvePython } from './python/interpreter';
import { parseGrid } from './run/inputs';
import { UsageError, type FileSource, type InputsSpec, type TaskCommand } from './run/types';
import { collectFiles, formatSweep, runSweep } from './sweepRunner';
import { logicalCores } from './threads';

export interface CliSubcommand {
  summary: string;
  usage: string;
  run(argv: string[]): Promise<number>;
}

const EXIT = { ok: 0, failed: 1, usage: 2, cancelled: 130 } as const;

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

function positive(flag: string, v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} needs a positive number, not "${v}". E.g. ${flag} 60.`);
  return n;
}

/** Generic flag walker: `--flag value`, `--flag=value`, `--` ends options. */
function walk(argv: string[], cmd: string, onFlag: (flag: string, value: () => string) => boolean): string[] {
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i];
    if (raw === '--') return argv.slice(i + 1);
    const eq = raw.startsWith('--') ? raw.indexOf('=') : -1;
    const flag = eq > 0 ? raw.slice(0, eq) : raw;
    const inline = eq > 0 ? raw.slice(eq + 1) : undefined;
    const value = (): string => {
      if (inline !== undefined) return inline;
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value. See "parallel-run ${cmd} --help".`);
      return v;
    };
    if (!onFlag(flag, value)) throw new UsageError(`Unknown option ${raw}. See "parallel-run ${cmd} --help".`);
  }
  return [];
}

/** Parses `sweep` options (exported for tests). */
export function parseSweepArgs(argv: string[]): SweepArgs {
  const a: SweepArgs = { files: [], grids: [], noThreads: false, json: false, help: false, rest: [] };
  a.rest = walk(argv, 'sweep', (flag, value) => {
    switch (flag) {
      case '--files': a.files.push(value()); return true;
      case '--files-from': a.filesFrom = value(); return true;
      case '--grid': a.grids.push(parseGrid(value())); return true;
      case '--script': a.script = value(); return true;
      case '--python': a.python = value(); return true;
      case '--budget': a.budget = positive('--budget', value()); return true;
      case '--no-threads': a.noThreads = true; return true;
      case '--timeout': a.timeout = positive('--timeout', value()); return true;
      case '--runs-dir': a.runsDir = value(); return true;
      case '--json': a.json = true; return true;
      case '-h': case '--help': a.help = true; return true;
      default: return false;
    }
  });
  return a;
}

async function cmdSweep(argv: string[], workersDir: string): Promise<number> {
  const a = parseSweepArgs(argv);
  if (a.help) {
    process.stdout.write(SWEEP_USAGE + '\n');
    return EXIT.ok;
  }
  const cwd = process.cwd();
  let command: TaskCommand;
  if (a.script !== undefined) {
    const py = await resolvePython(a.python ?? process.env.PARALLEL_RUN_PYTHON ?? 'python3');
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
      command, files, ...(inputs ? { inputs } : {}), cwd, runsDir: a.runsDir ?? path.join('.parallel-run', 'runs'), workersDir,
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

export const BLAS_USAGE = `usage: parallel-run blas [--python PATH] [--bench N] [--json]

Shows numpy's BLAS (vendor, version, threading layer), its default and current thread counts and
the thread environment variables. --bench N also times mat.dot(mat.T) (1000 x 1500) N times with
1 thread and with all cores, each in a fresh process (the tutorial's benchmark).`;

async function cmdBlas(argv: string[], mediaDir: string): Promise<number> {
  let python: string | undefined;
  let bench = 0;
  let json = false;
  let help = false;
  walk(argv, 'blas', (flag, value) => {
    switch (flag) {
      case '--python': python = value(); return true;
      case '--bench': bench = Math.round(positive('--bench', value())); return true;
      case '--json': json = true; return true;
      case '-h': case '--help': help = true; return true;
      default: return false;
    }
  });
  if (help) {
    process.stdout.write(BLAS_USAGE + '\n');
    return EXIT.ok;
  }
  const py = await resolvePython(python ?? process.env.PARALLEL_RUN_PYTHON ?? 'python3');
  const ins = await inspectBlas(py.executable, mediaDir);
  const cores = logicalCores();
  const b = bench > 0 && ins.current.numpy ? await benchmarkBlas(py.executable, mediaDir, { threadCounts: cores > 1 ? [1, cores] : [1], number: bench }) : undefined;
  process.stdout.write(json ? JSON.stringify({ ...ins, bench: b }, null, 1) + '\n' : formatBlasReport(ins, b, cores));
  return EXIT.ok;
}

export const MATRIX_USAGE = `usage: parallel-run matrix [--workers 1,N] [--blocks 10] [--json]

The tutorial's chunked mat · matᵀ (1000 x 1500) with ml-matrix on worker threads, 1 worker vs N,
checked against the serial product.`;

async function cmdMatrix(argv: string[], workersDir: string): Promise<number> {
  let workerCounts: number[] | undefined;
  let blocks: number | undefined;
  let json = false;
  let help = false;
  walk(argv, 'matrix', (flag, value) => {
    switch (flag) {
      case '--workers': workerCounts = value().split(',').map((x) => Math.round(positive('--workers', x))); return true;
      case '--blocks': blocks = Math.round(positive('--blocks', value())); return true;
      case '--json': json = true; return true;
      case '-h': case '--help': help = true; return true;
      default: return false;
    }
  });
  if (help) {
    process.stdout.write(MATRIX_USAGE + '\n');
    return EXIT.ok;
  }
  const r = await runMatrixDemo({ workersDir, workerCounts, blocks });
  process.stdout.write(json ? JSON.stringify(r, null, 1) + '\n' : formatMatrixDemo(r) + '\n');
  return r.maxAbsDiff < 1e-9 ? EXIT.ok : EXIT.failed;
}

/**
 * The subcommands for the CLI table. `distDir` is the bundle's folder (dist/): workers live in
 * dist/workers, python helpers in ../media/python.
 */
export function measureSubcommands(distDir: string): Record<string, CliSubcommand> {
  const workersDir = path.join(distDir, 'workers');
  const mediaDir = path.join(distDir, '..', 'media');
  return {
    sweep: { summary: 'measure speedup (workers x BLAS threads) on a sample and recommend a setting', usage: SWEEP_USAGE, run: (argv) => cmdSweep(argv, workersDir) },
    blas: { summary: "show numpy's BLAS and its threads; --bench times 1 vs all cores", usage: BLAS_USAGE, run: (argv) => cmdBlas(argv, mediaDir) },
    matrix: { summary: 'demo: chunked mat·matᵀ on ml-matrix worker threads, 1 vs N', usage: MATRIX_USAGE, run: (argv) => cmdMatrix(argv, workersDir) },
  };
}
