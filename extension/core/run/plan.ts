/**
 * Planning a run: every check happens here, before anything starts or is written — working
 * directory, limits (-j, threads, timeouts, --memfree, retries, --halt, the early stop), the command
 * (program on PATH, interpreter, script compiled but not run, --call, warm host), the inputs, the run
 * directory. Bad input is a UsageError naming the fix. Then (not for a dry run) the run directory is
 * created and locked, and its run definition (`run.json`, written by the engine) is built.
 *
 * Also what a plan's tasks are made of, shared by the engine and the dry run: a task's command line
 * (`taskArgv`), its logs' name (`logStem`) and the resume check of one input (`resumeCheck`).
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { hostPython, resolvePython } from '../python/interpreter';
import { checkPythonSyntax, ScriptSyntaxError, templatePythonScript } from '../python/syntaxCheck';
import { defaultThreads, logicalCores, machineOf, physicalCores, threadEnv } from '../threads';
import { formatBytes } from '../../shared/format';
import type { TaskWorkerInit } from '../../shared/workerApi';
import { callHostPath, callRequest, callShape, checkCall } from './callPlan';
import { completionsFile } from './completions';
import { EARLY_STOP_DEFAULT, type HaltRule, haltText, parseHalt } from './failures';
import { openSource, OpenedSource } from './fileSources';
import { fsPath } from './fsNames';
import { expandTuple, InputLayout, MAX_TASKS_WITHOUT_YES, namedValues, readInputs, TaskInput, tupleHasReplacement, tupleItems, tupleKey, tupleLogPart, validateTupleTemplate } from './inputs';
import { type DoneEntry, fileKey, fingerprint, unchanged } from './journal';
import { ignoreInGit, mkdirp, readDefinition } from './runDir';
import { acquireRunLock, assertNotLocked, processStartTicks, RunLock, runnerAlive } from './runLock';
import { expandTemplate, validateTemplate } from './templates';
import { checkTimeout } from './timeoutPolicy';
import { RUN_FILES, RunDefinition, RunOptions, TaskCommand, UsageError } from './types';
import { MAX_WORKERS, WORKER_COST, workersWarning } from './workerLimits';

/** Path of media/python/warm_host.py, relative to the bundles (dist/workers/../../media/python). */
export function hostScriptPath(workersDir: string): string {
  return path.resolve(workersDir, '..', '..', 'media', 'python', 'warm_host.py');
}

/**
 * Path of media/python/exec_host.py: an exec host imports warm_host.py as a module instead of running
 * it as a script, so Python compiles it once into __pycache__ rather than at every host's start.
 */
export function execHostScriptPath(workersDir: string): string {
  return path.resolve(workersDir, '..', '..', 'media', 'python', 'exec_host.py');
}

/** The engine's input: files from a file source, or the tuples of several sources. */
export interface PlannedInput {
  items: AsyncIterable<TaskInput>;
  close(): void;
  count?: () => Promise<number | undefined>;
  /** a run over tuples: what their columns are */
  layout?: InputLayout;
  /** what reading the input skipped or merged (see OpenedSource.notes) */
  notes?: () => string[];
}

/** A checked run, ready to start. */
export interface Plan {
  opts: RunOptions;
  cwd: string;
  outDir: string;
  command: TaskCommand;
  workers: number;
  threads: number;
  timeoutSec: number;
  timeoutPercent?: number;
  retries: number;
  /** the --halt rule, if any */
  halt: HaltRule | undefined;
  /** K of the early stop on a systematic failure (0 = off) */
  stopEarly: number;
  env: Record<string, string>;
  threadEnv: Record<string, string>;
  source: PlannedInput;
  def: RunDefinition;
  notes: string[];
  host?: TaskWorkerInit['host'];
  workerScript: string;
  /** template program resolved on PATH, when argv[0] holds no replacement string */
  exe?: string;
  /** the run directory's lock (not for a dry run), released when the run ends */
  lock?: RunLock;
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

/** PATH lookup, so "command not found" is a usage error before the run instead of N failed tasks. */
export function findProgram(prog: string, cwd: string, envPath: string | undefined): string | undefined {
  const executable = (p: string) => {
    try {
      const st = fs.statSync(p);
      if (!st.isFile()) return false;
      fs.accessSync(p, fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (prog.includes('/')) {
    const p = path.resolve(cwd, prog);
    return executable(p) ? p : undefined;
  }
  for (const dir of (envPath ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, prog);
    if (executable(p)) return p;
  }
  return undefined;
}

/** A safe, readable log name part from a file name, or from a tuple ("000042-mu=0.5,sigma=2"). */
export function logStem(index: number, file: string, tuple?: { layout: InputLayout; values: string[] }): string {
  const base = tuple ? tupleLogPart(tuple.layout, tuple.values) : path.basename(file).replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60);
  return `${String(index).padStart(6, '0')}-${base || 'file'}`;
}

export function fileItems(source: OpenedSource): PlannedInput {
  return {
    items: {
      async *[Symbol.asyncIterator]() {
        for await (const file of source.files) yield { file };
      },
    },
    close: () => source.close(),
    count: source.count,
    notes: source.notes,
  };
}

/**
 * A file's stats (undefined when it cannot be read: the task reports that) and whether resume skips
 * it: it succeeded in an earlier session and is unchanged. Sync: a few µs, no thread-pool round trip.
 */
export function resumeCheck(done: Map<string, DoneEntry>, file: string, cwd: string, values?: string[]): { st: fs.Stats | undefined; skip: boolean } {
  // a tuple is done when the same tuple succeeded (its values are not files to stat)
  if (values) return { st: undefined, skip: done.has(tupleKey(values)) };
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(fsPath(path.resolve(cwd, file)));
  } catch {
    st = undefined;
  }
  return { st, skip: done.size > 0 && unchanged(done.get(fileKey(file, cwd)), st) };
}

/**
 * A file's command line (exported: the CLI's job log shows it). `forHost`: a warm task's argv is what its forked child gets as sys.argv[1:]
 * (the host runs the script itself); otherwise the whole command.
 */
export function taskArgv(cmd: TaskCommand, file: string, index: number, slot: number, forHost: boolean, tuple?: { layout: InputLayout; values: string[] }): string[] {
  if (cmd.kind === 'template') return tuple ? expandTuple(cmd.argv, tuple.layout, tuple.values, index, slot) : expandTemplate(cmd.argv, file, index, slot);
  if (cmd.kind === 'python' && cmd.call !== undefined) {
    const values = tuple?.values ?? [file];
    if (forHost) return [callRequest(callShape(tuple?.layout), values)];
    return [cmd.python, cmd.script, '--call', cmd.call, ...(tuple ? Object.entries(namedValues(tuple.layout, tuple.values)).map(([k, v]) => `${k}=${v}`) : [file])];
  }
  if (cmd.kind === 'python') {
    // a tuple's values take the file's place (sys.argv[1:]), unless the args place them themselves
    const args = !tuple ? [file, ...cmd.args] : tupleHasReplacement(cmd.args, tuple.layout) ? expandTuple(cmd.args, tuple.layout, tuple.values, index, slot) : [...tuple.values, ...cmd.args];
    return cmd.warm && forHost ? args : [cmd.python, cmd.script, ...args];
  }
  return [];
}

/**
 * The run directory's earlier run, if any, after checking it may be used: no live runner holds it,
 * and it holds no run unless resuming. Throws the UsageError that says which.
 */
export function runDirInUse(outDir: string, resume: boolean, locked = false): RunDefinition | undefined {
  if (!locked) assertNotLocked(outDir);
  const previous = readDefinition(outDir);
  const journal = path.join(outDir, RUN_FILES.journal);
  const journalExists = fs.existsSync(journal);
  if (journalExists && fs.statSync(journal).isDirectory()) {
    throw new UsageError(`The run's journal ${journal} is a directory, not a file. Move it away, or choose another --out.`);
  }
  if (previous) {
    // a runner from before run directories were locked
    const last = previous.sessions?.[previous.sessions.length - 1];
    if (last && !last.endedAt && runnerAlive(last.pid, last.pidStart)) {
      throw new UsageError(`Run directory ${outDir} is in use by a running run (pid ${last.pid}). Wait for it or cancel it, or choose another --out.`);
    }
  }
  if ((previous || journalExists) && !resume) {
    throw new UsageError(`Run directory ${outDir} already holds run ${previous?.runId ?? '(journal)'}. Pass --resume to continue it (files that already succeeded are skipped), or choose a new --out.`);
  }
  return previous;
}

/** The working directory, which must exist. */
function workingDir(opts: RunOptions): string {
  const cwd = path.resolve(opts.cwd ?? process.cwd());
  try {
    if (!fs.statSync(cwd).isDirectory()) throw new Error();
  } catch {
    throw new UsageError(`Working directory ${cwd} does not exist. Run from (or pass cwd as) an existing folder.`);
  }
  return cwd;
}

/** The run's limits, checked. */
interface Limits {
  logical: number;
  workers: number;
  threads: number;
  timeoutSec: number;
  timeoutPercent?: number;
  memFreeBytes: number;
  retries: number;
  halt: HaltRule | undefined;
  stopEarly: number;
}

/** -j, --threads, --timeout (seconds or N%), --memfree, --retries, --halt, --stop-early. */
function checkLimits(opts: RunOptions, notes: string[]): Limits {
  const logical = logicalCores();
  const workers = opts.workers ?? logical;
  if (!isInt(workers) || workers < 1 || workers > MAX_WORKERS) {
    throw new UsageError(`Workers (-j/--jobs) must be a whole number from 1 to ${MAX_WORKERS}, not ${JSON.stringify(opts.workers)}. E.g. -j ${logical} (this machine's cores); each worker costs ${WORKER_COST}.`);
  }
  const tooMany = workersWarning(workers, logical);
  if (tooMany) notes.push(tooMany);
  const threads = opts.threads ?? defaultThreads(logical, workers);
  if (!isInt(threads) || threads < 1 || threads > 1024) {
    throw new UsageError(`Threads per task (--threads) must be a whole number from 1 to 1024, not ${JSON.stringify(opts.threads)}. Leave it out for cores / workers = ${defaultThreads(logical, workers)}.`);
  }
  const { timeoutSec, timeoutPercent } = checkTimeout(opts.timeoutSec, opts.timeoutPercent);
  const memFreeBytes = opts.memFreeBytes ?? 0;
  if (typeof memFreeBytes !== 'number' || !Number.isFinite(memFreeBytes) || memFreeBytes < 0) {
    throw new UsageError(`Free memory to start a file (--memfree) must be a size ≥ 0, not ${JSON.stringify(opts.memFreeBytes)}. E.g. --memfree 4G.`);
  }
  if (memFreeBytes > os.totalmem()) {
    throw new UsageError(`Free memory to start a file (--memfree) of ${formatBytes(memFreeBytes)} is more than this machine's memory (${formatBytes(os.totalmem())}): no file could start while another runs. Ask for less, e.g. --memfree ${Math.max(1, Math.floor(os.totalmem() / 4 / 2 ** 30))}G.`);
  }
  const retries = opts.retries ?? 0;
  if (!isInt(retries) || retries < 0 || retries > 100) {
    throw new UsageError(`Retries (--retries) must be a whole number from 0 to 100, not ${JSON.stringify(opts.retries)}.`);
  }
  const halt = opts.halt === true ? parseHalt('') : typeof opts.halt === 'string' ? parseHalt(opts.halt) : undefined; // UsageError naming the forms
  const stopEarly = opts.stopEarly ?? EARLY_STOP_DEFAULT;
  if (!isInt(stopEarly) || stopEarly < 0 || stopEarly > 100_000) {
    throw new UsageError(`The early stop (--stop-early K) needs a whole number of files ≥ 0, not ${JSON.stringify(opts.stopEarly)}. Use 0 to turn it off.`);
  }
  return { logical, workers, threads, timeoutSec, timeoutPercent, memFreeBytes, retries, halt, stopEarly };
}

/** What runs each task, checked: the command as the run keeps it, its interpreter and how tasks start. */
interface PlannedCommand {
  command: TaskCommand;
  python: RunDefinition['python'];
  host: TaskWorkerInit['host'];
  /** the template's program resolved once on the children's PATH (posix_spawnp would search it per task) */
  exe: string | undefined;
}

/** A template: its program on PATH, and a `python3 script.py {}` template's script compiled. */
async function planTemplate(argv: string[], cwd: string, layout: InputLayout | undefined, childPath: string | undefined): Promise<PlannedCommand> {
  if (layout) validateTupleTemplate(argv, layout);
  else validateTemplate(argv);
  let exe: string | undefined;
  const prog = argv[0];
  if (!prog.includes('{')) {
    exe = findProgram(prog, cwd, childPath);
    if (!exe) throw new UsageError(`Command "${prog}" not found${prog.includes('/') ? ' (or not executable)' : ' on PATH'}. Check the spelling, give its full path, or install it.`);
    // `python3 analyze.py {}`: the script is compiled in that interpreter before anything starts
    const py = templatePythonScript(argv);
    const script = py && path.resolve(cwd, py.script);
    if (script && fs.existsSync(script)) {
      const problem = await checkPythonSyntax(exe, script, cwd);
      if (problem) throw new ScriptSyntaxError(problem, exe);
    }
  }
  return { command: { kind: 'template', argv: [...argv] }, python: undefined, host: undefined, exe };
}

/** A Python script: its interpreter, the script compiled, then --call or --warm and their host. */
async function planPython(cmd: Extract<TaskCommand, { kind: 'python' }>, opts: RunOptions, cwd: string, layout: InputLayout | undefined, notes: string[]): Promise<PlannedCommand> {
  const py = await resolvePython(cmd.python); // UsageError naming parallelRun.python.path
  const script = path.resolve(cwd, cmd.script);
  try {
    if (!fs.statSync(script).isFile()) throw new Error();
    fs.accessSync(script, fs.constants.R_OK);
  } catch {
    throw new UsageError(`Script ${script} not found or not readable. Give the path of an existing Python script (relative to ${cwd}).`);
  }
  // --call: the signature check compiles the script too, in the same interpreter start
  if (cmd.call === undefined) {
    const problem = await checkPythonSyntax(py.executable, script, cwd);
    if (problem) throw new ScriptSyntaxError(problem, py.executable);
  }
  if (layout) validateTupleTemplate(cmd.args ?? [], layout, 'The script arguments (after --)');
  const call = cmd.call;
  let command: Extract<TaskCommand, { kind: 'python' }> = { kind: 'python', python: py.executable, script, args: [...(cmd.args ?? [])], warm: !!cmd.warm };
  const python = { executable: py.executable, version: py.version };
  let host: TaskWorkerInit['host'];
  if (call !== undefined) {
    if (command.args.length > 0) {
      throw new UsageError(`--call passes each task's inputs as the function's arguments, so the extra args after -- (${command.args.join(' ')}) have nowhere to go. Drop them, or run the script without --call.`);
    }
    await checkCall(py.executable, opts.workersDir, script, call, callShape(layout));
    command = { ...command, warm: false, call };
    host = { python: py.executable, hostScript: callHostPath(opts.workersDir), mode: 'call', script, cwd, call };
  } else if (command.warm) {
    const hostScript = hostScriptPath(opts.workersDir);
    if (process.platform === 'win32') {
      notes.push('Warm workers need os.fork, which this platform lacks: ran cold (one interpreter per file) instead.');
      command = { ...command, warm: false };
    } else if (!fs.existsSync(hostScript)) {
      notes.push(`Warm worker host ${hostScript} is missing: ran cold (one interpreter per file) instead.`);
      command = { ...command, warm: false };
    } else {
      host = { python: py.executable, hostScript, mode: 'warm', script, cwd };
    }
  }
  return { command, python, host, exe: undefined };
}

/** The command checked, and how its tasks start (a Python host, or Node spawning them). */
async function planCommand(opts: RunOptions, cwd: string, layout: InputLayout | undefined, childPath: string | undefined, notes: string[]): Promise<PlannedCommand> {
  const command = opts.command;
  let planned: PlannedCommand;
  if (command.kind === 'template') planned = await planTemplate(command.argv, cwd, layout, childPath);
  else if (command.kind === 'python') planned = await planPython(command, opts, cwd, layout, notes);
  else throw new UsageError(`Unknown command kind ${JSON.stringify((command as { kind: unknown }).kind)}: use 'template' or 'python'.`);
  // Cold tasks go through a tiny Python host that fork+execs them and reports exact CPU time and
  // peak RSS from os.wait4 (Node cannot). Without Python, Node spawns them and samples /proc.
  const hostScript = execHostScriptPath(opts.workersDir);
  if (!planned.host && opts.spawnVia !== 'node' && process.platform !== 'win32' && fs.existsSync(hostScript)) {
    const hostPy = planned.python?.executable ?? (await hostPython(childPath));
    if (hostPy) planned.host = { python: hostPy, hostScript, mode: 'exec', cwd };
    else notes.push('Python 3 not found: CPU time and peak RSS were sampled from /proc while tasks ran (short tasks may read 0).');
  }
  return planned;
}

function cannotWrite(outDir: string, code: string): UsageError {
  return new UsageError(`Cannot write the run directory ${outDir} (${code}). Choose another --out, or fix its permissions.`);
}

/** The run directory's nearest existing ancestor (or itself) must be a writable directory. */
function checkWritable(outDir: string): void {
  let d = outDir;
  for (;;) {
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw cannotWrite(outDir, (e as NodeJS.ErrnoException).code ?? 'error');
    }
    if (st) {
      if (!st.isDirectory()) throw cannotWrite(outDir, 'ENOTDIR');
      try {
        fs.accessSync(d, fs.constants.W_OK);
      } catch {
        throw cannotWrite(outDir, 'EACCES');
      }
      break;
    }
    const up = path.dirname(d);
    if (up === d) break;
    d = up;
  }
}

/**
 * Creates the run directory (and its logs/) and locks it; the checks of `runDirInUse` again, under
 * the lock (two runs started at the same instant both passed them). Closes `source` on failure.
 */
function createAndLock(outDir: string, resume: boolean, source: PlannedInput): { lock: RunLock; previous: RunDefinition | undefined } {
  try {
    mkdirp(path.join(outDir, RUN_FILES.logs));
    ignoreInGit(path.dirname(outDir), false);
    const probe = path.join(outDir, `.write-test-${process.pid}`);
    fs.writeFileSync(probe, '');
    fs.unlinkSync(probe);
  } catch (e) {
    source.close();
    throw cannotWrite(outDir, (e as NodeJS.ErrnoException).code ?? (e as Error).message);
  }
  let lock: RunLock | undefined;
  try {
    lock = acquireRunLock(outDir);
    return { lock, previous: runDirInUse(outDir, resume, true) };
  } catch (e) {
    lock?.release();
    source.close();
    throw e instanceof UsageError ? e : cannotWrite(outDir, (e as NodeJS.ErrnoException).code ?? (e as Error).message);
  }
}

/** run.json for this session: the run's options as checked, with the earlier sessions of a resumed run. */
function runDefinition(opts: RunOptions, x: { cwd: string; outDir: string; limits: Limits; command: PlannedCommand; env: Record<string, string>; threadEnv: Record<string, string>; fingerprint: string; resultNames?: string[]; previous: RunDefinition | undefined }): RunDefinition {
  const { limits, previous } = x;
  const session = crypto.randomBytes(6).toString('hex');
  // a re-run of some files keeps the run's own input (a later Resume goes over all of it)
  const filesForDef = opts.subset && previous ? previous.files : opts.files.kind === 'list' && opts.files.files.length > 100_000 ? { kind: 'list' as const, files: [] } : opts.files;
  return {
    version: 1,
    // the directory name is the id (a runs folder holds one directory per run)
    runId: previous?.runId ?? path.basename(x.outDir),
    label: opts.label ?? previous?.label,
    backend: 'local',
    fingerprint: x.fingerprint,
    command: x.command.command,
    files: filesForDef,
    // a re-run of some tuples (inputs.only) keeps the run's whole input definition, as file re-runs keep the files
    ...(opts.inputs ? { inputs: opts.subset && previous?.inputs ? previous.inputs : opts.inputs, inputNames: x.resultNames } : {}),
    cwd: x.cwd,
    workers: limits.workers,
    threads: limits.threads,
    timeoutSec: limits.timeoutSec,
    ...(limits.timeoutPercent !== undefined ? { timeoutPercent: limits.timeoutPercent } : {}),
    ...(limits.memFreeBytes > 0 ? { memFreeBytes: limits.memFreeBytes } : {}),
    retries: limits.retries,
    halt: limits.halt ? haltText(limits.halt) : false,
    ...(opts.stopEarly !== undefined ? { stopEarly: limits.stopEarly } : {}),
    env: x.env,
    threadEnv: x.threadEnv,
    cores: { logical: limits.logical, physical: physicalCores() },
    machine: machineOf(),
    python: x.command.python,
    createdAt: previous?.createdAt ?? Date.now(),
    sessions: [
      ...(previous?.sessions ?? []),
      { session, startedAt: Date.now(), pid: process.pid, pidStart: processStartTicks(process.pid), resume: !!opts.resume, runner: opts.runner, ...(opts.subset ? { subset: true } : {}) },
    ],
  };
}

/** Validates the options and prepares the run. Throws UsageError; starts nothing. `dry`: creates nothing either. */
export async function plan(opts: RunOptions, dry = false): Promise<Plan> {
  const notes: string[] = [];
  const cwd = workingDir(opts);
  const limits = checkLimits(opts, notes);
  const workerScript = path.join(opts.workersDir, 'taskWorker.js');
  if (!fs.existsSync(workerScript)) {
    throw new UsageError(`The task worker ${workerScript} is missing. Build Parallel Run first (npm run build), or pass the folder holding dist/workers.`);
  }
  const env: Record<string, string> = { ...(opts.env ?? {}) };
  const childPath = env.PATH ?? process.env.PATH;
  // a run over tuples: every source read and checked now (a malformed table starts nothing)
  const inputs = opts.inputs ? await readInputs(opts.inputs, openSource) : undefined;
  if (inputs && inputs.count > MAX_TASKS_WITHOUT_YES && !opts.yes) {
    throw new UsageError(`These inputs make ${inputs.count.toLocaleString('en-US')} tasks (more than ${MAX_TASKS_WITHOUT_YES.toLocaleString('en-US')}). Check the grid, or pass --yes to run them all.`);
  }
  const planned = await planCommand(opts, cwd, inputs?.layout, childPath, notes);

  // output directory: must be creatable and writable, and not hold another run unless resuming.
  // Checked before the input is opened, created only after it, so bad input leaves no directory.
  const outDir = path.resolve(cwd, opts.outDir);
  checkWritable(outDir);
  let previous = runDirInUse(outDir, !!opts.resume);
  if (opts.subset && (!previous || !opts.resume || opts.files.kind !== 'list')) {
    throw new UsageError(`Re-running some files of a run needs that run's directory (with its run.json), resume, and the files as a list: ${outDir} ${previous ? 'was given without them' : 'holds no run'}.`);
  }

  const tEnv = threadEnv(limits.threads, env);
  const fp = fingerprint(planned.command, cwd, env);
  const source: PlannedInput = inputs ? { ...tupleItems(inputs), layout: inputs.layout } : fileItems(await openSource(opts.files)); // UsageError: nothing matched / unreadable
  let lock: RunLock | undefined;
  if (!dry) ({ lock, previous } = createAndLock(outDir, !!opts.resume, source));

  const def = runDefinition(opts, { cwd, outDir, limits, command: planned, env, threadEnv: tEnv, fingerprint: fp, resultNames: inputs?.layout.resultNames, previous });
  if (previous && previous.fingerprint !== fp) {
    notes.push('The run definition changed since the earlier session (script, template, args or env): nothing was skipped.');
  }
  // the hosts record each task's good end in the run directory at once (see completions.ts)
  const host = planned.host && !dry ? { ...planned.host, doneFile: completionsFile(outDir) } : planned.host;
  const { workers, threads, timeoutSec, timeoutPercent, retries, halt, stopEarly } = limits;
  return { opts, cwd, outDir, command: planned.command, workers, threads, timeoutSec, timeoutPercent, retries, halt, stopEarly, env, threadEnv: tEnv, source, def, notes, host, workerScript, exe: planned.exe, lock };
}
