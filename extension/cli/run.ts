/**
 * `parallel-run run`: a command template, a Python script, a function (--call) or a notebook over
 * many inputs in parallel, with GNU Parallel's input syntax:
 *
 *   parallel-run run [options] -- <command template...> [::: VALUES... | :::: FILE...]...
 *   parallel-run run [options] --script analyze.py [-- extra args...]
 *
 * The options before the first `--` are parsed by parseArgs; the input sources (`:::`, `::::`,
 * `:::+`, `::::+`) are split off first, wherever they come, and everything after `--` is the
 * command template (or the script's extra arguments).
 */
import * as fs from 'fs';
import * as path from 'path';
import { dryRun } from '../core/run/dryRun';
import { startRun } from '../core/run/engine';
import { parseHalt } from '../core/run/failures';
import { openSource } from '../core/run/fileSources';
import { fsEncode, hasRawBytes, recordName } from '../core/run/fsNames';
import { fingerprint } from '../core/run/journal';
import { parseGrid, POSITIONAL, readInputs } from '../core/run/inputs';
import { newRunId, readDefinition } from '../core/run/runDir';
import { MAX_WORKERS, workersWarning } from '../core/run/workerLimits';
import { UsageError, type FileSource, type InputSourceSpec, type InputsSpec, type RunEvent, type RunOptions, type TaskCommand } from '../core/run/types';
import { resolvePython } from '../core/python/interpreter';
import { logicalCores, THREAD_ENV_VARS } from '../core/threads';
import { shellQuote } from '../core/slurm/script';
import { byteSize, CliContext, DEFAULT_RUNS_DIR, EXIT, jobsSpec, parseCommandLine, pythonName, seconds, wholeNumber, type OptionsSpec, type Values } from './args';
import { exitCodeFor, GroupedOutput, Joblog, progressLine, summaryText } from './output';
import { runSlurmFromCli, SLURM_CLI_USAGE, SLURM_OPTIONS, slurmArgsFrom, type SlurmCliArgs } from './slurm';

export const RUN_USAGE = `usage: parallel-run run [options] -- <command template...> [::: VALUES... | :::: FILE...]...
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
                        nothing runs, the next file starts anyway); below SIZE/2 the youngest
                        running task is killed and queued again (never the last one), as GNU
                        Parallel's --memfree
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

/** The options of `run` (the Slurm ones join them: one table, one parse). */
const RUN_OPTIONS = {
  jobs: { type: 'string', short: 'j' },
  files: { type: 'string', multiple: true },
  'files-from': { type: 'string' },
  null: { type: 'boolean', short: '0' },
  script: { type: 'string' },
  python: { type: 'string' },
  warm: { type: 'boolean' },
  notebook: { type: 'string' },
  'file-var': { type: 'string' },
  'save-notebooks': { type: 'boolean' },
  call: { type: 'string' },
  threads: { type: 'string' },
  timeout: { type: 'string' },
  retries: { type: 'string' },
  memfree: { type: 'string' },
  halt: { type: 'optional' },
  'stop-early': { type: 'string' },
  'no-stop-early': { type: 'boolean' },
  out: { type: 'string' },
  resume: { type: 'boolean' },
  label: { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  'keep-order': { type: 'boolean', short: 'k' },
  tag: { type: 'boolean' },
  joblog: { type: 'string' },
  grid: { type: 'string', multiple: true },
  colsep: { type: 'string', short: 'C' },
  header: { type: 'string' },
  'tuples-from': { type: 'string' },
  yes: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  ...SLURM_OPTIONS,
} as const satisfies OptionsSpec;

/** A word that reads as a --halt rule (the rule is optional: `--halt` alone stops at the first failure). */
const HALT_RULE = /^(?:now|soon|never|-?\d+%?$)|^[a-z]+,\w+=/i;

/**
 * Parses `run` options. Everything after `--` is the command template (or the script's extra args);
 * `::: FILES` or `:::: LIST` at the end give the input as in GNU Parallel. The Slurm options come
 * back in `slurm`.
 */
export function parseRunArgs(all: string[]): RunArgs & { slurm: SlurmCliArgs } {
  const { before, sources } = splitInputSources(all);
  const parsed = parseCommandLine('run', before, RUN_OPTIONS, '; put the command after "--"');
  const v: Values<typeof RUN_OPTIONS> = parsed.values;
  const a: RunArgs = {
    files: [...(v.files ?? [])], nul: !!v.null, warm: !!v.warm, halt: false, resume: !!v.resume, json: !!v.json, quiet: !!v.quiet,
    keepOrder: !!v['keep-order'], tag: !!v.tag, help: !!v.help, rest: parsed.rest ?? [], header: false, grids: [], yes: !!v.yes, sources,
    filesFrom: v['files-from'], script: v.script, python: v.python, notebook: v.notebook, fileVar: v['file-var'], saveNotebooks: !!v['save-notebooks'],
    out: v.out, label: v.label, joblog: v.joblog, colsep: v.colsep, call: v.call, tuplesFrom: v['tuples-from'],
  };
  // positionals: the rule of a bare --halt, or (an unquoted --files *.csv the shell expanded) more inputs
  let filesSeen = false;
  let haltRule: string | undefined;
  parsed.tokens.forEach((t, k) => {
    if (t.kind === 'option') {
      if (t.name === 'files') filesSeen = true;
      return;
    }
    const prev = parsed.tokens[k - 1];
    if (prev?.kind === 'option' && prev.name === 'halt' && prev.value === undefined && prev.index === t.index - 1 && HALT_RULE.test(t.value)) haltRule = t.value;
    else if (filesSeen) a.files.push(t.value);
    else throw new UsageError(`Unexpected argument "${t.value}". Put the command template after "--", e.g. parallel-run run --files "*.txt" -- wc -l {}`);
  });
  if (a.help) return { ...a, slurm: { backend: 'local', dryRun: false, slurm: {} } };
  const slurm = slurmArgsFrom(v);
  if (v.jobs !== undefined) a.jobs = jobsSpec(v.jobs);
  if (v.threads !== undefined) a.threads = wholeNumber('--threads', v.threads, 1);
  if (v.timeout !== undefined) {
    if (/^\s*[\d.]+\s*%\s*$/.test(v.timeout)) a.timeoutPercent = seconds('--timeout N%: N', v.timeout.replace('%', ''));
    else a.timeout = seconds('--timeout', v.timeout);
  }
  if (v.memfree !== undefined) a.memFree = byteSize('--memfree', v.memfree);
  if (v.retries !== undefined) a.retries = wholeNumber('--retries', v.retries, 0);
  if (v.halt !== undefined) {
    a.halt = haltRule ?? v.halt;
    if (typeof a.halt === 'string') parseHalt(a.halt); // a bad rule is a usage error now
  }
  if (v['stop-early'] !== undefined) a.stopEarly = wholeNumber('--stop-early', v['stop-early'], 0);
  if (v['no-stop-early']) a.stopEarly = 0;
  if (v.header !== undefined) {
    if (v.header !== ':') throw new UsageError(`--header takes ":" (the first line of each input source names its columns, as in GNU Parallel), not "${v.header}".`);
    a.header = true;
  }
  for (const g of v.grid ?? []) a.grids.push(parseGrid(g));
  return { ...a, slurm };
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
  const py = await resolvePython(pythonName(a.python));
  const { inputs } = inputsFromArgs(a, cwd, { kind: 'python', python: py.executable, script: '', args: [], warm: a.warm });
  let tuple: { fileColumn?: number; names: string[] } | undefined;
  if (inputs) {
    if (inputs.sources.some((s) => (s.kind === 'files' || s.kind === 'tuples') && s.source.kind === 'stdin')) throw new UsageError('A notebook over input tuples reads its inputs before the run: give the list as a file (:::: LIST), not stdin.');
    const { layout } = await readInputs(inputs, openSource);
    const unnamed = layout.names.map((n, i) => (n === undefined ? i : -1)).filter((i) => i >= 0);
    if (unnamed.length > 1) throw new UsageError(`Input columns ${unnamed.map((i) => i + 1).join(' and ')} have no name, so only one of them can be the file. Name the others (--header : with a header line, or --grid NAME=VALUES).`);
    tuple = { fileColumn: unnamed[0], names: layout.names.filter((n): n is string => n !== undefined) };
  }
  // the notebook machinery loads only for a notebook run
  const { prepareNotebookRun } = await import(/* webpackChunkName: "notebookRun" */ '../core/python/notebookRun');
  const nb = await prepareNotebookRun({
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
    const py = await resolvePython(pythonName(a.python));
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
    for (const k of THREAD_ENV_VARS) {
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

/** Command lines as bytes: a file name that is not UTF-8 is printed as its own bytes (`--dry-run | bash` runs that file). */
function commandBytes(text: string): string | Buffer {
  return hasRawBytes(text) ? fsEncode(text) : text;
}

/** `run --dry-run` (local): each file's command on stdout (NDJSON with --json), a summary on stderr. */
async function printDryRun(opts: RunOptions, json: boolean): Promise<number> {
  const d = await dryRun(opts);
  let n = 0;
  let chunk = '';
  for await (const t of d.tasks) {
    n++;
    chunk += json ? JSON.stringify({ type: 'dryRun', index: t.index, ...recordName(t.file), ...(t.inputs ? { inputs: t.inputs } : {}), argv: t.argv }) + '\n' : t.argv.map(shellQuote).join(' ') + '\n';
    if (chunk.length > 1 << 16) {
      if (!process.stdout.write(commandBytes(chunk))) await new Promise((r) => process.stdout.once('drain', r));
      chunk = '';
    }
  }
  process.stdout.write(commandBytes(chunk));
  const skipped = d.skipped();
  const env = Object.entries(d.threadEnv).map(([k, v]) => `${k}=${v}`).join(' ');
  process.stderr.write(`parallel-run: dry run: ${n} command${n === 1 ? '' : 's'}${skipped ? ` (${skipped} already succeeded, left out)` : ''} on ${d.workers} workers x ${d.threads} threads; each task gets ${env}. Nothing was started.\n`);
  for (const note of d.notes) process.stderr.write(`parallel-run: ${note}\n`);
  return EXIT.ok;
}

export async function run(argv: string[], ctx: CliContext): Promise<number> {
  const a = parseRunArgs(argv);
  const slurm = a.slurm;
  if (a.help) {
    process.stdout.write(RUN_USAGE + '\n\n' + SLURM_CLI_USAGE + '\n');
    return EXIT.ok;
  }
  const opts = await runOptionsFromArgs(a, process.cwd(), path.join(ctx.distDir, 'workers'));
  if (slurm.backend === 'slurm') {
    if (opts.memFreeBytes) throw new UsageError('--memfree does not apply to --backend slurm: ask Slurm for the memory per array task with --mem.');
    if (opts.timeoutPercent !== undefined) {
      throw new UsageError('--timeout N% (of the median) does not apply to --backend slurm: each array task sees only its few files. Give the timeout in seconds.');
    }
    return runSlurmFromCli(opts, slurm, { cliPath: path.join(ctx.distDir, 'cli.js'), json: a.json, stdout: process.stdout, stderr: process.stderr });
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
