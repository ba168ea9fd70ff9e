/**
 * `parallel-run`: plain-Node command line over the core engine (no vscode), familiar to GNU Parallel
 * users. Each subcommand is a small function in SUBCOMMANDS.
 *
 *   parallel-run run [options] -- <command template...>
 *   parallel-run run [options] --script analyze.py [-- extra args...]
 *   parallel-run runs [--runs-dir DIR]            list runs
 *   parallel-run report [RUN_DIR] [--json]        print a run's report
 *
 * Exit codes: 0 all succeeded, 1 some tasks failed, 2 bad usage or input (nothing started), 130 cancelled.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Transform } from 'stream';
import * as v8 from 'v8';
import {
  dryRun,
  FileSource,
  InputSourceSpec,
  InputsSpec,
  parseGrid,
  logicalCores,
  fingerprint,
  listRuns,
  newRunId,
  readDefinition,
  readReport,
  resolvePython,
  RunEvent,
  RunOptions,
  RunReport,
  startRun,
  taskArgv,
  TaskCommand,
  TaskRecord,
  UsageError,
} from './core';
import { prepareNotebookRun } from './core/python/notebookRun';
import { openSource } from './core/run/fileSources';
import { POSITIONAL, readInputs } from './core/run/inputs';
import { MAX_WORKERS, workersWarning } from './core/run/workerLimits';
import { groupFailures, groupLine, parseHalt } from './core/run/failures';
import { measureSubcommands } from './core/sweepCli';
import { extractSlurmArgs, runSlurmFromCli, SLURM_CLI_USAGE } from './core/slurm/cli';
import { shellQuote } from './core/slurm/script';
import { figuresLine } from './shared/figures';
import { formatDuration } from './shared/format';

export const EXIT = { ok: 0, failed: 1, usage: 2, cancelled: 130 } as const;

/** Where run directories go when --out is not given (relative to the working directory). */
const DEFAULT_RUNS_DIR = path.join('.parallel-run', 'runs');

interface Subcommand {
  summary: string;
  usage: string;
  run(argv: string[]): Promise<number>;
}

const RUN_USAGE = `usage: parallel-run run [options] -- <command template...> [::: VALUES... | :::: FILE...]...
       parallel-run run [options] --script analyze.py [-- extra args...] [::: VALUES...]...
       parallel-run run [options] --notebook analysis.ipynb [::: FILES...]

Runs the command (or Python script) once per input file, or once per input tuple, in parallel.
Replacement strings (as in GNU Parallel): {} {.} {/} {//} {/.} {#} {%}; none = file appended.
Several input sources (as in GNU Parallel) make tuples: "::: a b ::: 1 2" is the product (the last
source varies fastest), ":::+" / "::::+" link a source to the one before (zip); {1} {2} ... and
{name} (--header, --grid) address the values, with the modifiers {1.} {1/} {1//} {1/.}; with no
replacement string the values are appended. E.g. --script lik.py --grid mu=0:1:0.1 --grid sigma=1,2
-- --mu {mu} --sigma {sigma}. Each tuple is a task: its key for resume and retries, its log name.
Results: a task that prints a JSON object as its last line of stdout (or writes JSON to the file
named by $PARALLEL_RUN_RESULT) gets it in the run's results.csv and results.ndjson: a row per input
(inputs, status, seconds, max_rss_mb, the result's keys), written as tasks finish.

  -j, --jobs N          workers (default: cores); also +N / -N (cores plus/minus N), N% of cores
  --files GLOB          input files; repeatable; a folder means all files below it
  --files-from FILE|-   one path per line (or NUL-separated with -0/--null); "-" = stdin
  ::: FILES...          (at the end, as in GNU Parallel) these files; :::: LIST = --files-from LIST
  -0, --null            --files-from is NUL-separated
  --script FILE         run a Python script: python FILE <file> [extra args]
  --python PATH         interpreter for --script (default: $PARALLEL_RUN_PYTHON or python3)
  --warm                warm Python workers (with --script): imports paid once per worker
  --notebook NB.ipynb   run a notebook once per file: its code cells as one script (cold, or --warm),
                        the file assigned in a cell injected after the cell tagged "parameters"
  --file-var NAME       (with --notebook) the parameters-cell name the file goes to (default: the
                        first name that cell assigns)
  --save-notebooks      (with --notebook) also write an executed copy per file, with its outputs, to
                        <notebook>-outputs/ (runs each file in a Jupyter kernel: needs nbformat,
                        nbclient and ipykernel; Debian: apt install python3-nbformat python3-nbclient
                        python3-ipykernel)
  --call FUNC           (with --script) in-process calls, for tasks of milliseconds: each worker
                        imports the script once and calls FUNC(file, **inputs) (FUNC(**inputs)
                        with no file source) per task with no fork; arguments converted by FUNC's
                        annotations (int, float, bool, str, Path); the return value is the result;
                        a raise fails the task (traceback in its log); a timeout or a crash
                        replaces the worker. State can leak between calls in one worker.
  --threads T           BLAS/OpenMP threads per task (default: cores / jobs)
  --timeout SEC         kill a task (and every process it started) after SEC seconds (at most
                        10000000, about 115 days); or N% (above 100):
                        after N% of the median time of the files done so far (from the 3rd
                        success on, never under 1 s), as GNU Parallel's --timeout 200%
  --retries N           retry a failed task N times
  --memfree SIZE        start a file only while SIZE of memory is available (e.g. 4G; when
                        nothing runs, the next file starts anyway), as GNU Parallel's --memfree
  --halt [RULE]         GNU Parallel's halt rules: now,fail=N (kill running tasks), soon,fail=N%
                        (let them finish), now,success=N, soon,done=N, never; bare --halt =
                        now,fail=1 (stop at the first failure)
  --stop-early K        stop when the first K files to finish all failed with the same error
                        (default 5; running files finish); --no-stop-early (or 0) turns it off
  --out DIR             run directory: journal, logs, report.json (default: ${DEFAULT_RUNS_DIR}/<id>)
  --resume              skip files that already succeeded for this run definition
                        (without --out: the latest matching run in ${DEFAULT_RUNS_DIR})
  --label TEXT          a name for the run history
  --json                NDJSON events on stdout instead of the human view
  --quiet               do not pass task output through
  -k, --keep-order      pass task output through in input order (as GNU Parallel's -k); the
                        logs and journal are the same either way
  --tag                 start each line of task output with the file and a TAB
  --joblog FILE         also write GNU Parallel's job log (TAB-separated, a line per finished file)
  --grid NAME=VALUES    one more input source named NAME ({NAME}): a comma list (1,2,5) or an
                        inclusive range START:STOP:STEP (0:1:0.1 = 11 values, exact decimals)
  -C, --colsep REGEX    split each input line into columns (a regular expression, as GNU Parallel)
  --header :            the first line of each ::: / :::: source names its columns ({name})
  --tuples-from FILE|-  whole tuples, one task each, as the Slurm array tasks get them: NDJSON, the
                        first line {"names": [...], "resultNames": [...]}, then a JSON array of
                        strings per tuple ("-" = stdin); no other input source
  --yes                 allow a run of more than 1,000,000 tasks
  --dry-run             print each file's command (shell-quoted) and start nothing; with --resume,
                        only the files still to do; {%} as the first round of slots gets them
  -h, --help            this help

Exit codes: 0 all succeeded, 1 some tasks failed, 2 bad usage or input, 130 cancelled.`;

// ------------------------------------------------------------------------------------------------
// argument parsing

interface RunArgs {
  jobs?: number;
  files: string[];
  filesFrom?: string;
  nul: boolean;
  script?: string;
  python?: string;
  warm: boolean;
  notebook?: string;
  fileVar?: string;
  saveNotebooks?: boolean;
  threads?: number;
  timeout?: number;
  /** --timeout N% */
  timeoutPercent?: number;
  memFree?: number;
  retries?: number;
  /** true = bare --halt, a string = its rule */
  halt: boolean | string;
  /** K of the early stop (0 = off) */
  stopEarly?: number;
  out?: string;
  resume: boolean;
  label?: string;
  json: boolean;
  quiet: boolean;
  keepOrder: boolean;
  tag: boolean;
  joblog?: string;
  help: boolean;
  rest: string[];
  /** `::: a b c` / `:::: LIST`, in order; `:::+` / `::::+` link to the source before */
  sources: InputSourceSpec[];
  /** --colsep REGEX */
  colsep?: string;
  /** --header : */
  header: boolean;
  /** --grid NAME=VALUES, in order */
  grids: Array<{ name: string; values: string[] }>;
  /** --yes: run more than a million tasks */
  yes: boolean;
  /** --call FUNC (with --script) */
  call?: string;
  /** --tuples-from FILE|- */
  tuplesFrom?: string;
}

function wholeNumber(flag: string, v: string, min: number): number {
  if (!/^\d+$/.test(v.trim()) || Number(v) < min) {
    throw new UsageError(`${flag} needs a whole number${min > 0 ? ` ≥ ${min}` : ''}, not "${v}". E.g. ${flag} ${Math.max(min, 2)}.`);
  }
  return Number(v);
}

/**
 * -j as GNU Parallel reads it: N, +N / -N (cores plus or minus N), or N% of the cores; at least 1
 * worker when relative to the cores (e.g. -j -1 on a 1-core machine).
 */
export function jobsSpec(v: string, cores = logicalCores()): number {
  const t = v.trim();
  let m = /^([+-])(\d+)$/.exec(t);
  if (m) return Math.max(1, cores + (m[1] === '+' ? 1 : -1) * Number(m[2]));
  m = /^(\d+(?:\.\d+)?)%$/.exec(t);
  if (m && Number(m[1]) > 0) return Math.max(1, Math.floor((cores * Number(m[1])) / 100));
  if (/^\d+$/.test(t) && Number(t) >= 1) return Number(t);
  throw new UsageError(`-j needs a whole number ≥ 1 (or +N, -N, N% of the ${cores} cores), not "${v}". E.g. -j 2, -j -1, -j 50%.`);
}

/** A size in bytes: a number with an optional K, M, G or T (powers of 1024, either case), e.g. 4G. */
export function byteSize(flag: string, v: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$/i.exec(v);
  if (!m) throw new UsageError(`${flag} needs a size such as 4G, 512M or 1.5G (powers of 1024), not "${v}".`);
  return Math.round(Number(m[1]) * 1024 ** ' kmgt'.indexOf((m[2] || ' ').toLowerCase()));
}

function seconds(flag: string, v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new UsageError(`${flag} needs a number of seconds ≥ 0, not "${v}". E.g. ${flag} 60.`);
  return n;
}

const SEPARATORS = [':::', '::::', ':::+', '::::+'];

/**
 * GNU Parallel's input sources, wherever they come (after the command or the options): `::: a b c`
 * (these values), `:::: FILE...` (each file one source, a value per line); `:::+` / `::::+` link the
 * source to the one before it. Returns the arguments before the first and the sources in order.
 */
export function splitInputSources(argv: string[]): { before: string[]; sources: InputSourceSpec[] } {
  const at = argv.findIndex((x) => SEPARATORS.includes(x));
  if (at < 0) return { before: argv, sources: [] };
  const sources: InputSourceSpec[] = [];
  for (let i = at; i < argv.length; ) {
    const sep = argv[i];
    let j = i + 1;
    while (j < argv.length && !SEPARATORS.includes(argv[j])) j++;
    const args = argv.slice(i + 1, j);
    const link = sep.endsWith('+');
    if (args.length === 0) {
      throw new UsageError(`Nothing after "${sep}" (an empty input source). Give the values there (e.g. ${sep.startsWith('::::') ? ':::: list.txt' : '::: data/*.fits or ::: 0.1 0.2'}), or remove it.`);
    }
    if (sep.startsWith('::::')) args.forEach((f, k) => sources.push({ kind: 'table', path: f, link: link && k === 0 }));
    else sources.push({ kind: 'values', values: args, link });
    i = j;
  }
  return { before: argv.slice(0, at), sources };
}

/**
 * Parses `run` options. Everything after `--` is the command template (or the script's extra args);
 * `::: FILES` or `:::: LIST` at the end give the input as in GNU Parallel.
 */
export function parseRunArgs(all: string[]): RunArgs {
  const a: RunArgs = { files: [], nul: false, warm: false, halt: false, resume: false, json: false, quiet: false, keepOrder: false, tag: false, help: false, rest: [], header: false, grids: [], yes: false, sources: [] };
  const { before: argv, sources } = splitInputSources(all);
  a.sources = sources;
  let i = 0;
  const value = (flag: string, inline: string | undefined): string => {
    if (inline !== undefined) return inline;
    const v = argv[++i];
    if (v === undefined) throw new UsageError(`${flag} needs a value. See "parallel-run run --help".`);
    return v;
  };
  for (; i < argv.length; i++) {
    const raw = argv[i];
    if (raw === '--') {
      a.rest = argv.slice(i + 1);
      break;
    }
    let flag = raw;
    let inline: string | undefined;
    const eq = raw.startsWith('--') ? raw.indexOf('=') : -1;
    if (eq > 0) {
      flag = raw.slice(0, eq);
      inline = raw.slice(eq + 1);
    } else if (/^-j\d+$/.test(raw)) {
      flag = '-j';
      inline = raw.slice(2);
    }
    switch (flag) {
      case '-j': case '--jobs': a.jobs = jobsSpec(value(flag, inline)); break;
      case '--files': a.files.push(value(flag, inline)); break;
      case '--files-from': a.filesFrom = value(flag, inline); break;
      case '-0': case '--null': a.nul = true; break;
      case '--script': a.script = value(flag, inline); break;
      case '--python': a.python = value(flag, inline); break;
      case '--warm': a.warm = true; break;
      case '--notebook': a.notebook = value(flag, inline); break;
      case '--file-var': a.fileVar = value(flag, inline); break;
      case '--save-notebooks': a.saveNotebooks = true; break;
      case '--threads': a.threads = wholeNumber('--threads', value(flag, inline), 1); break;
      case '--timeout': {
        const v = value(flag, inline);
        if (/^\s*[\d.]+\s*%\s*$/.test(v)) a.timeoutPercent = seconds('--timeout N%: N', v.replace('%', ''));
        else a.timeout = seconds('--timeout', v);
        break;
      }
      case '--memfree': a.memFree = byteSize('--memfree', value(flag, inline)); break;
      case '--retries': a.retries = wholeNumber('--retries', value(flag, inline), 0); break;
      case '--halt': {
        // the rule is optional: take the next word only when it reads as one
        const next = inline ?? argv[i + 1];
        if (inline !== undefined) a.halt = inline;
        else if (next !== undefined && /^(?:now|soon|never|-?\d+%?$)|^[a-z]+,\w+=/i.test(next)) a.halt = argv[++i];
        else a.halt = true;
        if (typeof a.halt === 'string') parseHalt(a.halt); // a bad rule is a usage error now
        break;
      }
      case '--stop-early': a.stopEarly = wholeNumber('--stop-early', value(flag, inline), 0); break;
      case '--no-stop-early': a.stopEarly = 0; break;
      case '--out': a.out = value(flag, inline); break;
      case '--resume': a.resume = true; break;
      case '--label': a.label = value(flag, inline); break;
      case '--json': a.json = true; break;
      case '--quiet': case '-q': a.quiet = true; break;
      case '-k': case '--keep-order': a.keepOrder = true; break;
      case '--tag': a.tag = true; break;
      case '--joblog': a.joblog = value(flag, inline); break;
      case '--colsep': case '-C': a.colsep = value(flag, inline); break;
      case '--header': {
        const v = value(flag, inline);
        if (v !== ':') throw new UsageError(`--header takes ":" (the first line of each input source names its columns, as in GNU Parallel), not "${v}".`);
        a.header = true;
        break;
      }
      case '--grid': a.grids.push(parseGrid(value(flag, inline))); break;
      case '--yes': a.yes = true; break;
      case '--call': a.call = value(flag, inline); break;
      case '--tuples-from': a.tuplesFrom = value(flag, inline); break;
      case '-h': case '--help': a.help = true; break;
      default:
        if (raw.startsWith('-') && raw !== '-') {
          throw new UsageError(`Unknown option ${raw}. See "parallel-run run --help"; put the command after "--".`);
        }
        // an unquoted --files *.csv expanded by the shell: the extra names are more inputs
        if (a.files.length > 0) a.files.push(raw);
        else throw new UsageError(`Unexpected argument "${raw}". Put the command template after "--", e.g. parallel-run run --files "*.txt" -- wc -l {}`);
    }
  }
  return a;
}

/**
 * --notebook: the notebook as the script the engine runs (checked before anything starts). Over input
 * tuples, the one column without a name goes to the file variable, each named column
 * (--grid, --header) to the parameters-cell name it is called.
 */
async function notebookCommand(a: RunArgs, cwd: string, workersDir: string): Promise<TaskCommand> {
  if (a.script !== undefined) throw new UsageError('Give --script or --notebook, not both.');
  if (a.rest.length) throw new UsageError(`A notebook takes its input in its parameters cell, not as extra arguments (${a.rest.join(' ')}). Drop them.`);
  if (a.warm && a.saveNotebooks) throw new UsageError('--save-notebooks runs each file in a Jupyter kernel, which warm workers cannot do. Drop --warm or --save-notebooks.');
  const py = await resolvePython(a.python ?? process.env.PARALLEL_RUN_PYTHON ?? 'python3');
  const { inputs } = inputsFromArgs(a, cwd, { kind: 'python', python: py.executable, script: '', args: [], warm: a.warm });
  let tuple: { fileColumn?: number; names: string[] } | undefined;
  if (inputs) {
    if (inputs.sources.some((s) => (s.kind === 'files' || s.kind === 'tuples') && s.source.kind === 'stdin')) throw new UsageError('A notebook over input tuples reads its inputs before the run: give the list as a file (:::: LIST), not stdin.');
    const { layout } = await readInputs(inputs, openSource);
    const unnamed = layout.names.map((n, i) => (n === undefined ? i : -1)).filter((i) => i >= 0);
    if (unnamed.length > 1) throw new UsageError(`Input columns ${unnamed.map((i) => i + 1).join(' and ')} have no name, so only one of them can be the file. Name the others (--header : with a header line, or --grid NAME=VALUES).`);
    tuple = { fileColumn: unnamed[0], names: layout.names.filter((n): n is string => n !== undefined) };
  }
  const nb = prepareNotebookRun({
    notebook: path.resolve(cwd, a.notebook!), cwd, python: py.executable, mediaDir: path.resolve(workersDir, '..', '..', 'media'),
    fileVar: a.fileVar, saveExecuted: a.saveNotebooks, tuple,
  });
  return { kind: 'python', python: py.executable, script: nb.script, args: nb.args, warm: a.warm };
}

/** Turns parsed arguments into RunOptions (resolving the interpreter). Throws UsageError. */
export async function runOptionsFromArgs(a: RunArgs, cwd: string, workersDir: string): Promise<RunOptions> {
  let command: TaskCommand;
  if (a.notebook !== undefined) {
    command = await notebookCommand(a, cwd, workersDir);
  } else if (a.fileVar !== undefined || a.saveNotebooks) {
    throw new UsageError(`${a.fileVar !== undefined ? '--file-var' : '--save-notebooks'} goes with --notebook NB.ipynb.`);
  } else if (a.script !== undefined) {
    const py = await resolvePython(a.python ?? process.env.PARALLEL_RUN_PYTHON ?? 'python3');
    if (a.call !== undefined && a.warm) throw new UsageError('--call and --warm are two ways of running the script in warm workers: give one (--call FUNC calls a function in-process; --warm forks per task).');
    command = { kind: 'python', python: py.executable, script: path.resolve(cwd, a.script), args: a.rest, warm: a.warm, ...(a.call !== undefined ? { call: a.call } : {}) };
  } else {
    if (a.warm) throw new UsageError('--warm needs --script (warm workers run a Python script). Give --script FILE, or drop --warm.');
    if (a.call !== undefined) throw new UsageError('--call FUNC needs --script (the Python script that defines FUNC). Give --script FILE.');
    if (a.rest.length === 0) throw new UsageError('No command given. Put the command template after "--" (e.g. -- wc -l {}), or give --script FILE.');
    command = { kind: 'template', argv: a.rest };
  }
  const { files, inputs } = inputsFromArgs(a, cwd, command);

  let outDir = a.out !== undefined ? path.resolve(cwd, a.out) : undefined;
  const env: Record<string, string> = {};
  // thread variables exported in the shell count as the user's override (unless --threads is explicit)
  if (a.threads === undefined) {
    for (const k of ['OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS', 'VECLIB_MAXIMUM_THREADS', 'NUMEXPR_NUM_THREADS', 'BLIS_NUM_THREADS']) {
      const v = process.env[k];
      if (v) env[k] = v;
    }
  }
  if (!outDir && a.resume) outDir = latestMatchingRun(path.join(cwd, DEFAULT_RUNS_DIR), fingerprint(command, cwd, env));
  if (!outDir) outDir = path.join(cwd, DEFAULT_RUNS_DIR, newRunId());
  return {
    command,
    files,
    ...(inputs ? { inputs, yes: a.yes } : {}),
    cwd,
    workers: a.jobs,
    threads: a.threads,
    timeoutSec: a.timeout,
    timeoutPercent: a.timeoutPercent,
    memFreeBytes: a.memFree,
    retries: a.retries,
    halt: a.halt,
    stopEarly: a.stopEarly,
    outDir,
    resume: a.resume,
    env,
    workersDir,
    label: a.label,
    runner: 'cli',
    // benchmarks compare the two ways of spawning cold tasks
    spawnVia: process.env.PARALLEL_RUN_SPAWN_VIA === 'node' ? 'node' : 'auto',
  };
}


/**
 * The run's input: files (one task per file, as before), or tuples when there are several sources, a
 * --grid, --colsep, --header, or positional replacement strings. Sources in order (the last varies
 * fastest): --files / --files-from, each --grid (options come first), then each ::: / :::: source,
 * so ":::+" after a --grid links to it.
 */
export function inputsFromArgs(a: RunArgs, cwd: string, command: TaskCommand): { files: FileSource; inputs?: InputsSpec } {
  if (a.files.length > 0 && a.filesFrom !== undefined) throw new UsageError('Give the input files one way, not with --files and --files-from.');
  let files: FileSource | undefined;
  if (a.filesFrom === '-') files = { kind: 'stdin', nulSeparated: a.nul };
  else if (a.filesFrom !== undefined) files = { kind: 'listFile', path: path.resolve(cwd, a.filesFrom), nulSeparated: a.nul };
  else if (a.files.length > 0) files = { kind: 'globs', patterns: a.files, cwd };
  if (a.tuplesFrom !== undefined) {
    if (files || a.sources.length || a.grids.length) throw new UsageError('--tuples-from gives whole tuples: give no other input (--files, :::, ::::, --grid) with it.');
    const source: FileSource = a.tuplesFrom === '-' ? { kind: 'stdin', nulSeparated: false } : { kind: 'listFile', path: path.resolve(cwd, a.tuplesFrom), nulSeparated: false };
    return { files: { kind: 'list', files: [] }, inputs: { sources: [{ kind: 'tuples', source }] } };
  }
  const template = command.kind === 'template' ? command.argv : command.args;
  const sourceCount = a.sources.length + a.grids.length + (files ? 1 : 0);
  const tuples = sourceCount > 1 || a.grids.length > 0 || a.colsep !== undefined || a.header || template.some((x) => POSITIONAL.test(x));
  if (!tuples) {
    const s = a.sources[0];
    if (s?.kind === 'values') files = { kind: 'list', files: s.values };
    else if (s?.kind === 'table') files = s.path === '-' ? { kind: 'stdin', nulSeparated: a.nul } : { kind: 'listFile', path: path.resolve(cwd, s.path), nulSeparated: a.nul };
    if (!files) throw new UsageError('No input files. Give --files GLOB (repeatable), --files-from FILE|-, ::: FILES after the command, or --grid NAME=VALUES.');
    return { files };
  }
  const sources: InputSourceSpec[] = [];
  if (files) sources.push({ kind: 'files', source: files });
  for (const g of a.grids) sources.push({ kind: 'grid', ...g });
  for (const s of a.sources) {
    if (s.kind === 'table' && s.path === '-') sources.push({ kind: 'files', source: { kind: 'stdin', nulSeparated: a.nul }, link: s.link });
    else sources.push(s.kind === 'table' ? { ...s, path: path.resolve(cwd, s.path) } : s);
  }
  if (sources.length === 0) throw new UsageError('No inputs. Give --files GLOB, ::: VALUES, :::: TABLE or --grid NAME=VALUES.');
  return { files: { kind: 'list', files: [] }, inputs: { sources, ...(a.colsep !== undefined ? { colsep: a.colsep } : {}), ...(a.header ? { header: true } : {}) } };
}

/** The newest run directory in `runsDir` with this definition fingerprint. */
function latestMatchingRun(runsDir: string, fp: string): string | undefined {
  let best: { dir: string; t: number } | undefined;
  let names: string[] = [];
  try {
    names = fs.readdirSync(runsDir);
  } catch {
    return undefined;
  }
  for (const n of names) {
    const dir = path.join(runsDir, n);
    const def = readDefinition(dir);
    if (!def || def.fingerprint !== fp) continue;
    const t = def.sessions[def.sessions.length - 1]?.startedAt ?? def.createdAt;
    if (!best || t > best.t) best = { dir, t };
  }
  return best?.dir;
}

// ------------------------------------------------------------------------------------------------
// human view

/** One progress line: bar, counts, failures, ETA. */
export function progressLine(done: number, total: number | null, failed: number, etaMs: number | null, width = 80): string {
  const counts = total !== null ? `${done}/${total}` : `${done}/?`;
  const pct = total ? Math.floor((100 * done) / total) : null;
  const tail = `${counts}${pct !== null ? ` ${pct}%` : ''}${failed ? ` ${failed} failed` : ''}${etaMs !== null ? ` ETA ${formatDuration(etaMs)}` : ''}`;
  const barWidth = Math.max(10, Math.min(40, width - tail.length - 4));
  const filled = total ? Math.round((barWidth * done) / total) : 0;
  return `[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}] ${tail}`;
}

/** Copies task logs to our stdout/stderr one task at a time (GNU Parallel's --group), streaming. */
class GroupedOutput {
  private chain: Promise<void> = Promise.resolve();
  /** keepOrder: finished (a record) or skipped (null) files not printed yet, by index */
  private readonly waiting = new Map<number, TaskRecord | null>();
  private next = 1;
  constructor(
    private readonly outDir: string,
    private readonly opts: { keepOrder: boolean; tag: boolean },
    private readonly before: () => void,
    private readonly after: () => void,
  ) {}

  /** A file finished: its output now, or (keepOrder) once every file before it is printed or skipped. */
  push(rec: TaskRecord): void {
    if (!this.opts.keepOrder) return this.print(rec);
    this.waiting.set(rec.index, rec);
    this.release();
  }

  /** keepOrder: a file resume skipped (it prints nothing, and no longer holds back the files after it). */
  skipped(index: number): void {
    if (!this.opts.keepOrder) return;
    this.waiting.set(index, null);
    this.release();
  }

  private release(): void {
    for (let r = this.waiting.get(this.next); r !== undefined; r = this.waiting.get(this.next)) {
      this.waiting.delete(this.next++);
      if (r) this.print(r);
    }
  }

  private print(rec: TaskRecord): void {
    this.chain = this.chain.then(async () => {
      this.before();
      const tag = this.opts.tag ? rec.file : undefined;
      await copy(path.join(this.outDir, rec.stdoutLog), process.stdout, tag);
      await copy(path.join(this.outDir, rec.stderrLog), process.stderr, tag);
      this.after();
    });
  }

  /** All output printed; at the end of a cancelled or halted run, what waits behind files that never ran too. */
  drained(): Promise<void> {
    for (const i of [...this.waiting.keys()].sort((x, y) => x - y)) {
      const r = this.waiting.get(i);
      if (r) this.print(r);
    }
    this.waiting.clear();
    return this.chain;
  }
}

/**
 * --joblog FILE: GNU Parallel's job log, one TAB-separated line per finished file (after its last
 * attempt), written as each finishes: Seq Host Starttime JobRuntime Send Receive Exitval Signal
 * Command. Host is ":" (this machine), Send/Receive 0; a task killed by a signal has Exitval -1.
 * A new run starts the file over; --resume appends to it.
 */
class Joblog {
  private fd = -1;
  private constructor(private readonly file: string, private readonly command: TaskCommand) {}

  /** Checks the file can be written, creating and changing nothing yet (the run may still be refused). */
  static open(file: string, opts: RunOptions): Joblog {
    const cannot = (why: string) => new UsageError(`Cannot write the job log ${file} (${why}). Choose another --joblog path.`);
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw cannot((e as NodeJS.ErrnoException).code ?? (e as Error).message);
    }
    if (st?.isDirectory()) throw cannot('EISDIR');
    try {
      fs.accessSync(st ? file : path.dirname(file), fs.constants.W_OK);
    } catch (e) {
      throw cannot((e as NodeJS.ErrnoException).code ?? (e as Error).message);
    }
    return new Joblog(file, opts.command);
  }

  /** The run started: opens (creates) the file; a new run starts it over, --resume appends. */
  begin(resume: boolean): void {
    try {
      this.fd = fs.openSync(this.file, 'a');
      if (resume && fs.fstatSync(this.fd).size > 0) return;
      fs.ftruncateSync(this.fd, 0);
      fs.writeSync(this.fd, 'Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n');
    } catch {
      /* checked before the run; a full disk must not stop it (the journal has every record) */
    }
  }

  add(r: TaskRecord): void {
    const argv = r.argv ?? taskArgv(this.command, r.file, r.index, r.slot, false);
    const sig = r.signal ? (os.constants.signals as Record<string, number>)[r.signal] ?? 0 : 0;
    const exit = r.exitCode ?? (sig ? -1 : 0);
    const cols = [r.index, ':', (r.start / 1000).toFixed(3), (r.wallMs / 1000).toFixed(3), 0, 0, exit, sig, argv.map(shellQuote).join(' ').replace(/[\t\n]/g, ' ')];
    try {
      fs.writeSync(this.fd, cols.join('\t') + '\n');
    } catch {
      /* a full disk must not stop the run: the journal has every record */
    }
  }

  close(): void {
    if (this.fd < 0) return;
    try {
      fs.closeSync(this.fd);
    } catch {
      /* closed */
    }
    this.fd = -1;
  }
}

/** Copies a task's log to the terminal; with `tag`, each line starts with it and a TAB (GNU Parallel's --tag). */
function copy(file: string, to: NodeJS.WriteStream, tag?: string): Promise<void> {
  return new Promise((resolve) => {
    let size = 0;
    try {
      size = fs.statSync(file).size;
    } catch {
      return resolve();
    }
    if (size === 0) return resolve();
    const rs = fs.createReadStream(file);
    rs.on('error', () => resolve());
    if (tag === undefined) {
      rs.on('end', () => resolve());
      rs.pipe(to, { end: false });
    } else {
      const tagged = tagLines(tag);
      tagged.on('end', () => resolve());
      rs.pipe(tagged).pipe(to, { end: false });
    }
  });
}

/** Puts `tag` + TAB at the start of every line going through (lines split on \n, bytes kept as they are). */
export function tagLines(tag: string): Transform {
  const prefix = Buffer.from(`${tag}\t`);
  let atStart = true;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      const parts: Buffer[] = [];
      for (let from = 0; from < chunk.length; ) {
        if (atStart) parts.push(prefix);
        const nl = chunk.indexOf(10, from);
        const end = nl < 0 ? chunk.length : nl + 1;
        parts.push(chunk.subarray(from, end));
        atStart = nl >= 0;
        from = end;
      }
      cb(null, Buffer.concat(parts));
    },
  });
}

function summaryText(r: RunReport, outDir: string): string {
  const c = r.counts;
  const parts = [`${c.succeeded} succeeded`];
  if (c.skipped) parts.push(`${c.skipped} skipped (done before)`);
  if (c.failed) parts.push(`${c.failed} failed`);
  if (c.timedOut) parts.push(`${c.timedOut} timed out`);
  if (c.cancelled) parts.push(`${c.cancelled} cancelled`);
  if (c.retried) parts.push(`${c.retried} needed retries`);
  const lines = [
    `parallel-run: ${r.status}: ${parts.join(', ')} in ${formatDuration(r.wallMs)}; ${figuresLine(r)}`,
  ];
  if (r.stopped) lines.push(`  ${r.stopped.reason === 'early' ? `stopped early: ${r.stopped.message}` : r.stopped.message}`);
  lines.push(...failureGroupLines(r, outDir));
  for (const n of r.notes) if (!r.stopped || !n.includes(r.stopped.message)) lines.push(`  note: ${n}`);
  lines.push(`  report: ${path.join(outDir, 'report.json')}`);
  return lines.join('\n') + '\n';
}

/** Groups shown in the end summary (report.json has them all). */
const SUMMARY_GROUPS = 10;

/**
 * The failures, a line per error signature, largest group first, with a log to read:
 *   312 files: KeyError: 'EXPTIME' (analyze.py:57), e.g. field_0042.fits
 *       log: runs/…/logs/000042-field_0042.fits.err
 */
function failureGroupLines(r: RunReport, outDir: string): string[] {
  const groups = r.failureGroups ?? groupFailures(r.tasks);
  if (groups.length === 0) return [];
  const lines = [`  failures by error (largest first):`];
  for (const g of groups.slice(0, SUMMARY_GROUPS)) {
    lines.push(`  ${groupLine(g)}`);
    if (g.logs[0]) lines.push(`      log: ${path.join(outDir, g.logs[0])}`);
  }
  if (groups.length > SUMMARY_GROUPS) {
    const rest = groups.slice(SUMMARY_GROUPS).reduce((n, g) => n + g.count, 0);
    lines.push(`  ... and ${groups.length - SUMMARY_GROUPS} more kinds of error (${rest} files; see report.json)`);
  }
  return lines;
}

function exitCodeFor(r: RunReport): number {
  if (r.status === 'cancelled') return EXIT.cancelled;
  if (r.status === 'succeeded') return EXIT.ok;
  // --halt now,success=N (or done=N) with nothing failed: a wanted stop
  if (r.status === 'halted' && r.stopped?.reason === 'halt' && r.counts.failed + r.counts.timedOut === 0) return EXIT.ok;
  return EXIT.failed;
}

function workersDirOfBundle(): string {
  // dist/cli.js → dist/workers
  return path.join(__dirname, 'workers');
}

/** `run --dry-run` (local): each file's command on stdout (NDJSON with --json), a summary on stderr. */
async function printDryRun(opts: RunOptions, json: boolean): Promise<number> {
  const d = await dryRun(opts);
  let n = 0;
  let chunk = '';
  for await (const t of d.tasks) {
    n++;
    chunk += json ? JSON.stringify({ type: 'dryRun', index: t.index, file: t.file, ...(t.inputs ? { inputs: t.inputs } : {}), argv: t.argv }) + '\n' : t.argv.map(shellQuote).join(' ') + '\n';
    if (chunk.length > 1 << 16) {
      if (!process.stdout.write(chunk)) await new Promise((r) => process.stdout.once('drain', r));
      chunk = '';
    }
  }
  process.stdout.write(chunk);
  const skipped = d.skipped();
  const env = Object.entries(d.threadEnv).map(([k, v]) => `${k}=${v}`).join(' ');
  process.stderr.write(`parallel-run: dry run: ${n} command${n === 1 ? '' : 's'}${skipped ? ` (${skipped} already succeeded, left out)` : ''} on ${d.workers} workers x ${d.threads} threads; each task gets ${env}. Nothing was started.\n`);
  for (const note of d.notes) process.stderr.write(`parallel-run: ${note}\n`);
  return EXIT.ok;
}

async function cmdRun(argv: string[]): Promise<number> {
  const { slurm, rest } = extractSlurmArgs(argv);
  const a = parseRunArgs(rest);
  if (a.help) {
    process.stdout.write(RUN_USAGE + '\n\n' + SLURM_CLI_USAGE + '\n');
    return EXIT.ok;
  }
  const opts = await runOptionsFromArgs(a, process.cwd(), workersDirOfBundle());
  if (slurm.backend === 'slurm') {
    if (opts.memFreeBytes) throw new UsageError('--memfree does not apply to --backend slurm: ask Slurm for the memory per array task with --mem.');
    if (opts.timeoutPercent !== undefined) {
      throw new UsageError('--timeout N% (of the median) does not apply to --backend slurm: each array task sees only its few files. Give the timeout in seconds.');
    }
    return runSlurmFromCli(opts, slurm, { cliPath: path.join(__dirname, 'cli.js'), json: a.json, stdout: process.stdout, stderr: process.stderr });
  }
  if (slurm.dryRun) return printDryRun(opts, a.json);
  // said now, before the workers start (the report keeps it as a note too)
  const tooMany = opts.workers !== undefined && opts.workers <= MAX_WORKERS ? workersWarning(opts.workers, logicalCores()) : undefined;
  if (tooMany && !a.json) process.stderr.write(`parallel-run: warning: ${tooMany}\n`);
  const joblog = a.joblog !== undefined ? Joblog.open(path.resolve(process.cwd(), a.joblog), opts) : undefined;
  let handle;
  try {
    handle = await startRun(opts);
  } catch (e) {
    joblog?.close();
    throw e;
  }
  joblog?.begin(!!opts.resume);
  const outDir = handle.outDir;
  const tty = !a.json && !!process.stderr.isTTY;
  let bar = '';
  let lastDraw = 0;
  let last = { done: 0, total: null as number | null, failed: 0, etaMs: null as number | null };
  const clearBar = () => {
    if (tty && bar) process.stderr.write('\r\x1b[K');
  };
  const drawBar = (force = false) => {
    if (!tty) return;
    const now = Date.now();
    if (!force && now - lastDraw < 100) return;
    lastDraw = now;
    bar = progressLine(last.done, last.total, last.failed, last.etaMs, process.stderr.columns || 80);
    process.stderr.write('\r\x1b[K' + bar);
  };
  const grouped = new GroupedOutput(outDir, { keepOrder: a.keepOrder, tag: a.tag }, clearBar, () => drawBar(true));
  handle.onEvent((e: RunEvent) => {
    if (joblog && e.type === 'taskFinished') joblog.add(e.record);
    if (a.json) {
      // the per-task records already went out as taskFinished lines and are in report.json: the
      // closing line carries the report without them (a 100,000-task report would be an 80 MB line)
      const line = e.type === 'runFinished' ? { ...e, report: { ...e.report, tasks: [], tasksInReportFile: e.report.tasks.length } } : e;
      process.stdout.write(JSON.stringify(line) + '\n');
      return;
    }
    switch (e.type) {
      case 'taskFinished':
        if (!a.quiet) grouped.push(e.record);
        break;
      case 'taskSkipped':
        grouped.skipped(e.index);
        break;
      case 'progress':
        last = { done: e.done, total: e.total, failed: e.failed, etaMs: e.etaMs };
        drawBar();
        break;
      case 'runStarted':
        if (tty) process.stderr.write(`parallel-run: run ${e.runId}: ${e.workers} workers x ${e.threads} threads -> ${e.outDir}\n`);
        break;
      case 'total':
        last.total = e.total;
        break;
      case 'taskRetried':
      case 'taskTimedOut':
        if (tty) {
          clearBar();
          process.stderr.write(e.type === 'taskRetried' ? `parallel-run: retrying ${e.file} (attempt ${e.attempt}): ${e.reason}\n` : `parallel-run: ${e.file} timed out\n`);
          drawBar(true);
        }
        break;
      default:
        break;
    }
  });
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupts++;
    if (interrupts > 1) {
      // a second Ctrl-C: leave now; the run's watchdog kills what is left
      process.stderr.write(`\nparallel-run: ${sig} again, exiting now\n`);
      process.exit(EXIT.cancelled);
    }
    if (!a.json) {
      clearBar();
      process.stderr.write(`parallel-run: ${sig}: cancelling (killing running tasks; again to exit at once)\n`);
    }
    handle.cancel();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const report = await handle.done;
  joblog?.close();
  await grouped.drained();
  clearBar();
  if (!a.json) process.stderr.write(summaryText(report, outDir));
  return exitCodeFor(report);
}

async function cmdRuns(argv: string[]): Promise<number> {
  let dir = path.resolve(DEFAULT_RUNS_DIR);
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '-h' || argv[i] === '--help') {
      process.stdout.write(SUBCOMMANDS.runs.usage + '\n');
      return EXIT.ok;
    }
    if (argv[i] === '--runs-dir' && argv[i + 1]) dir = path.resolve(argv[++i]);
    else if (argv[i] === '--json') json = true;
    else throw new UsageError(`Unknown argument "${argv[i]}" for "runs". Usage: parallel-run runs [--runs-dir DIR] [--json]`);
  }
  const runs = await listRuns(dir);
  if (json) {
    process.stdout.write(JSON.stringify(runs) + '\n');
    return EXIT.ok;
  }
  if (runs.length === 0) process.stdout.write(`no runs in ${dir}\n`);
  for (const r of runs) {
    const c = r.counts;
    process.stdout.write(`${r.runId}  ${r.status.padEnd(11)} ${c.succeeded + c.skipped}/${c.total ?? '?'} ok  ${c.failed + c.timedOut} failed  ${(r.wallMs / 1000).toFixed(1)} s  ${r.commandLabel}\n`);
  }
  return EXIT.ok;
}

async function cmdReport(argv: string[]): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    process.stdout.write(SUBCOMMANDS.report.usage + '\n');
    return EXIT.ok;
  }
  const json = argv.includes('--json');
  const dirs = argv.filter((x) => x !== '--json');
  const unknown = dirs.find((x) => x.startsWith('-'));
  if (unknown) throw new UsageError(`Unknown option ${unknown} for "report". ${SUBCOMMANDS.report.usage}`);
  let dir = dirs[0];
  if (!dir) {
    const runs = await listRuns(path.resolve(DEFAULT_RUNS_DIR));
    if (runs.length === 0) throw new UsageError(`No runs in ${path.resolve(DEFAULT_RUNS_DIR)}. Give a run directory: parallel-run report DIR`);
    dir = runs[0].dir;
  }
  const r = await readReport(path.resolve(dir));
  if (!r) throw new UsageError(`${dir} holds no run (no run.json). Give a run directory made by "parallel-run run --out DIR".`);
  process.stdout.write(json ? JSON.stringify(r, null, 1) + '\n' : summaryText(r, path.resolve(dir)));
  return EXIT.ok;
}

/** The subcommand table: add one entry per subcommand. */
export const SUBCOMMANDS: Record<string, Subcommand> = {
  run: { summary: 'run a command template or Python script over many files in parallel', usage: RUN_USAGE, run: cmdRun },
  runs: { summary: 'list runs (default folder .parallel-run/runs)', usage: 'usage: parallel-run runs [--runs-dir DIR] [--json]', run: cmdRuns },
  report: { summary: "print a run's report (latest run by default)", usage: "usage: parallel-run report [RUN_DIR] [--json]\n\nPrints a run's summary (the latest run in .parallel-run/runs by default); --json prints its report.json.", run: cmdReport },
  // sweep, blas, matrix-demo; dist/cli.js → dist/
  ...measureSubcommands(__dirname),
};

function mainHelp(): string {
  const lines = ['usage: parallel-run <command> [options]', '', 'commands:'];
  for (const [name, s] of Object.entries(SUBCOMMANDS)) lines.push(`  ${name.padEnd(10)} ${s.summary}`);
  lines.push('', 'Run "parallel-run <command> --help" for its options.');
  return lines.join('\n') + '\n';
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(mainHelp());
    return argv.length === 0 ? EXIT.usage : EXIT.ok;
  }
  const sub = SUBCOMMANDS[argv[0]];
  if (!sub) throw new UsageError(`Unknown command "${argv[0]}". Commands: ${Object.keys(SUBCOMMANDS).join(', ')}. Try "parallel-run --help".`);
  return sub.run(argv.slice(1));
}

if (require.main === module) {
  // A run keeps its live data bounded (the latest task records; report.json is written from the
  // journal), but V8 lets the heap grow with garbage far past that over a 100,000-file run: a modest
  // old-generation cap keeps the runner's RSS flat. Not when the user chose a limit.
  const sub0 = process.argv[2];
  if (sub0 === 'run' && !/max[-_]old[-_]space[-_]size/.test(`${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`)) {
    v8.setFlagsFromString('--max-old-space-size=96');
  }
  // `parallel-run ... | head`: a closed pipe must not crash the run (the tasks still finish and journal)
  for (const s of [process.stdout, process.stderr]) s.on('error', (e: NodeJS.ErrnoException) => { if (e.code !== 'EPIPE') throw e; });
  main(process.argv.slice(2)).then(
    (code) => {
      // let piped stdout drain before leaving
      process.stdout.write('', () => process.exit(code));
    },
    (err) => {
      process.stderr.write(`parallel-run: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(err instanceof UsageError ? EXIT.usage : EXIT.failed);
    },
  );
}
