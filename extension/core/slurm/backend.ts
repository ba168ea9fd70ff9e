/**
 * The Slurm backend: the same run definition as a local run, submitted as ONE job array.
 *
 * prepare → (preview) → submit → watch → collect:
 * - prepare: read the input files, pack them into M array tasks (≥ targetTaskSeconds each), write the
 *   manifest, per-task lists, plan.json, the sbatch script and README.txt into `<run>/slurm/`, and
 *   run.json into the run directory. Nothing is submitted (dry run / export stop here).
 * - submit: `sbatch --parsable` once per part (arrays larger than MaxArraySize are split).
 * - watch: poll `squeue` with backoff; read the array tasks' shard journals as they grow (per-file
 *   progress); report.json is rewritten as things change so the Runs view shows the run live.
 * - collect: final per-task states from `sacct` (when accounting is on) else `scontrol show job`;
 *   shard journals merged into the run's journal.ndjson (slot = array task = timeline lane); files
 *   whose array task died without a journal line get a record from the Slurm state.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { openSource } from '../run/fileSources';
import { failedFiles } from '../run/history';
import { fsEncode, fsPath, nameOfRecord } from '../run/fsNames';
import { fileKey, fingerprint, JournalLine, readJournal, succeededFiles, unchanged } from '../run/journal';
import { ReportBuilder } from '../run/report';
import { readTail } from '../run/taskRunner';
import { validateTemplate } from '../run/templates';
import { InputLayout, layoutOfHeader, MAX_TASKS_WITHOUT_YES, readInputs, tupleKey, tupleLabel, tuplesLines, validateTupleTemplate } from '../run/inputs';
import { ResultsWriter } from '../run/results';
import { resolvePython } from '../python/interpreter';
import { newRunId, readDefinition, writeJsonAtomic } from '../run/runDir';
import { acquireRunLock, assertNotLocked, processStartTicks, RunLock } from '../run/runLock';
import { logicalCores, physicalCores, threadEnv } from '../threads';
import { timerMs } from '../timers';
import { FileSource, InputsSpec, RUN_FILES, RunDefinition, RunEvent, RunHandle, RunReport, TaskCommand, TaskRecord, TaskStatus, UsageError } from '../run/types';
import type { ParallelRunSettings } from '../settings';
import { ClusterInfo, clusterInfo, parseSbatchJobId, SlurmClient, SlurmError, slurmExec } from './commands';
import { arraySpec, MeasuredTimes, packFiles, PackPlan, splitArrays } from './pack';
import { ArrayTaskState, DEFAULT_MAX_ARRAY_SIZE, FINAL_STATES, mergeStates, parseSacct, parseScontrolJobs, parseSqueue, SACCT_FIELDS, sacctDisabled } from './parse';
import { normaliseExtraDirectives, renderSbatchScript, shellQuote } from './script';
import {
  readJson, readManifest, readTuplesManifest, shardDirPath, SLURM_FILES, slurmDirOf, SlurmPlanFile, SlurmSubmissionFile, taskId,
} from './layout';
import { measuredTimesFromHistory } from './history';

export type SlurmSettings = ParallelRunSettings['slurm'];

/** A run definition for Slurm: the local run's options plus the Slurm settings. */
export interface SlurmRunOptions {
  command: TaskCommand;
  files: FileSource;
  /**
   * Several input sources combined into tuples (as a local run's RunOptions.inputs): the tuples run
   * as one array, packed by tuple; `files` is then not used.
   */
  inputs?: InputsSpec;
  /** allow more than MAX_TASKS_WITHOUT_YES tuples */
  yes?: boolean;
  cwd?: string;
  /** CPUs per array task = BLAS/OpenMP threads per file (default 1) */
  threads?: number;
  timeoutSec?: number;
  retries?: number;
  /** the run directory (created; must not hold another run) */
  outDir: string;
  env?: Record<string, string>;
  label?: string;
  /** skip files that already succeeded in this run directory's journal */
  resume?: boolean;
  slurm: SlurmSettings;
  /** absolute path of dist/cli.js (what each array task runs) */
  cliPath: string;
  /** node executable written into the script (default: this process's) */
  nodePath?: string;
  /** runs directory searched for measured task times of the same script */
  runsDir?: string;
  /** measured times to use instead of searching history */
  measured?: MeasuredTimes;
  /** how to reach Slurm's client commands */
  client?: SlurmClient;
  /** use this MaxArraySize instead of asking the controller (export for another cluster) */
  maxArraySize?: number;
  /** export for another cluster: relative log paths, no controller needed */
  exportOnly?: boolean;
  /** 'cli' | 'vscode' */
  runner?: string;
  /** the run these files are re-submitted from (failed files only) */
  parentRunDir?: string;
}

/** What prepare wrote; enough to preview, submit or hand over. */
export interface PreparedSlurmRun {
  runDir: string;
  slurmDir: string;
  scriptPath: string;
  script: string;
  readmePath: string;
  def: RunDefinition;
  plan: SlurmPlanFile;
  /** the exact sbatch command lines (for the preview and the README) */
  submitLines: string[];
}

/** A live Slurm run: the engine's RunHandle plus the array's own state. */
export interface SlurmRunHandle extends RunHandle {
  /** array task states by Slurm state name (PENDING, RUNNING, COMPLETED, ...) */
  arrayStates(): Record<string, number>;
  /** every array task's last known state (node list included once it ran) */
  arrayTasks(): ArrayTaskState[];
  jobIds(): number[];
}

export interface WatchOptions {
  client?: SlurmClient;
  /** cancels the run (scancel) when aborted */
  signal?: AbortSignal;
  /** squeue poll interval: starts at min, grows ×1.5 while nothing changes, up to max (ms) */
  pollMinMs?: number;
  pollMaxMs?: number;
  /** 'cli' | 'vscode' (recorded in run.json's sessions) */
  runner?: string;
}

const LIST_DIGITS_MIN = 5;

/**
 * The watcher's backoff: the next squeue poll delay. A change (a file finished, a task changed
 * state) resets it to `min` so progress shows promptly; a quiet poll grows it ×1.5, capped at `max`,
 * so a long queue wait costs the controller a few calls a minute, not four a second.
 */
export function nextPollDelay(prev: number, changed: boolean, min: number, max: number): number {
  if (changed) return min;
  return Math.max(min, Math.min(max, Math.round(prev * 1.5)));
}

async function readAllFiles(src: FileSource, cwd: string): Promise<string[]> {
  const opened = await openSource(src); // UsageError: nothing matched / unreadable
  const out: string[] = [];
  try {
    // array tasks run elsewhere (other nodes, other cwd): absolute paths only
    for await (const f of opened.files) out.push(path.resolve(cwd, f));
  } finally {
    opened.close();
  }
  return out;
}

async function resolveCommand(command: TaskCommand, cwd: string, exportOnly: boolean, layout?: InputLayout): Promise<{ command: TaskCommand; python?: RunDefinition['python'] }> {
  if (command.kind === 'template') {
    if (layout) validateTupleTemplate(command.argv, layout);
    else validateTemplate(command.argv);
    return { command: { kind: 'template', argv: [...command.argv] } };
  }
  if (layout) validateTupleTemplate(command.args, layout, 'The script arguments (after --)');
  const call = command.call !== undefined ? { call: command.call } : {};
  const script = path.resolve(cwd, command.script);
  try {
    if (!fs.statSync(script).isFile()) throw new Error();
  } catch {
    throw new UsageError(`Script ${script} not found. Give the path of an existing Python script (relative to ${cwd}).`);
  }
  if (exportOnly && command.python.includes('/')) {
    // exporting for another cluster: keep the path the user gave (it names that cluster's interpreter)
    return { command: { ...command, script, args: [...command.args] }, python: { executable: command.python } };
  }
  const py = await resolvePython(command.python);
  return { command: { kind: 'python', python: py.executable, script, args: [...command.args], warm: !!command.warm && !call.call, ...call }, python: { executable: py.executable, version: py.version } };
}

/**
 * Prepares a Slurm run: validates the definition (UsageError / SlurmError before anything is
 * written), packs the files and writes every file the array needs. Submits nothing.
 */
export async function prepareSlurmRun(opts: SlurmRunOptions): Promise<PreparedSlurmRun> {
  const cwd = path.resolve(opts.cwd ?? process.cwd());
  if (!fs.existsSync(cwd)) throw new UsageError(`Working directory ${cwd} does not exist. Run from (or pass cwd as) an existing folder.`);
  const threads = opts.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1 || threads > 1024) {
    throw new UsageError(`Threads per task (--threads, = --cpus-per-task on Slurm) must be a whole number from 1 to 1024, not ${JSON.stringify(opts.threads)}.`);
  }
  const timeoutSec = opts.timeoutSec ?? 0;
  const retries = opts.retries ?? 0;
  const s = opts.slurm;
  let extra: string[];
  try {
    extra = normaliseExtraDirectives(s.extraDirectives);
    for (const [k, v] of [['partition', s.partition], ['timeLimit', s.timeLimit], ['memory', s.memory], ['account', s.account]] as const) {
      if (/[\r\n]/.test(v)) throw new RangeError(`Setting parallelRun.slurm.${k} contains a line break. Remove it.`);
    }
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (!fs.existsSync(opts.cliPath)) {
    throw new UsageError(`The Parallel Run CLI ${opts.cliPath} is missing; every array task runs it. Build it first (npm run build).`);
  }
  // a run over tuples: every source read and checked now (a malformed table writes nothing)
  const inputs = opts.inputs ? await readInputs(opts.inputs, openSource) : undefined;
  if (inputs && inputs.count > MAX_TASKS_WITHOUT_YES && !opts.yes) {
    throw new UsageError(`These inputs make ${inputs.count.toLocaleString('en-US')} tasks (more than ${MAX_TASKS_WITHOUT_YES.toLocaleString('en-US')}). Check the grid, or pass --yes to run them all.`);
  }
  const { command, python } = await resolveCommand(opts.command, cwd, !!opts.exportOnly, inputs?.layout);

  // Ask the cluster first: a missing sbatch or an unreachable controller is reported before any file is written.
  let cluster: ClusterInfo | undefined;
  if (opts.maxArraySize === undefined && !opts.exportOnly) cluster = await clusterInfo(opts.client ?? {});
  const maxArraySize = opts.maxArraySize ?? cluster?.maxArraySize ?? DEFAULT_MAX_ARRAY_SIZE;

  const outDir = path.resolve(cwd, opts.outDir);
  assertNotLocked(outDir);
  if (fs.existsSync(path.join(outDir, RUN_FILES.definition)) && !opts.resume) {
    throw new UsageError(`Run directory ${outDir} already holds a run. Choose a new --out (or pass --resume to submit only the files not yet succeeded).`);
  }
  const env = { ...(opts.env ?? {}) };
  const fp = fingerprint(command, cwd, env);
  // each task's key (packing, resume): a file's absolute path, or the whole tuple
  let tuples = inputs ? [...inputs.tuples()] : undefined;
  let files = tuples ? tuples.map(tupleKey) : await readAllFiles(opts.files, cwd);
  /** a resume submits some of the inputs: each one's 1-based position in all of them (journal order) */
  let positions: number[] | undefined;
  const what = tuples ? 'tuples' : 'files';
  const notes: string[] = [];
  if (opts.resume) {
    // a watcher collecting this directory's array must not see its slurm/ folder replaced
    assertNotLocked(outDir);
    const done = await succeededFiles(path.join(outDir, RUN_FILES.journal), fp, cwd);
    const before = files.length;
    const todo = files.map((f) => {
      if (tuples) return !done.has(f);
      let st: fs.Stats | undefined;
      try {
        st = fs.statSync(fsPath(path.resolve(cwd, f)));
      } catch {
        st = undefined;
      }
      return !unchanged(done.get(fileKey(f, cwd)), st);
    });
    positions = [];
    for (let i = 0; i < todo.length; i++) if (todo[i]) positions.push(i + 1);
    files = files.filter((_, i) => todo[i]);
    tuples = tuples?.filter((_, i) => todo[i]);
    notes.push(`Resume: ${before - files.length} of ${before} ${what} already succeeded and are not submitted again.`);
    if (files.length === 0) throw new UsageError(`Nothing to submit: all ${before} ${what} already succeeded in ${outDir}.`);
    // a resumed Slurm run is a new array in the same folder: start its slurm/ afresh
    fs.rmSync(slurmDirOf(outDir), { recursive: true, force: true });
  }

  const measured = opts.measured ?? (opts.runsDir ? await measuredTimesFromHistory(opts.runsDir, command, cwd, outDir) : undefined);
  const packed: PackPlan = packFiles(files, { targetTaskSeconds: s.targetTaskSeconds, measured, unit: tuples ? 'tuples' : 'files' });
  const parts = splitArrays(packed.tasks.length, maxArraySize);
  notes.push(...packed.notes);
  if (parts.length > 1) notes.push(`${packed.tasks.length} array tasks exceed the cluster's MaxArraySize (${maxArraySize}): submitted as ${parts.length} arrays.`);
  const taskDigits = Math.max(LIST_DIGITS_MIN, String(packed.tasks.length - 1).length);
  const nulLists = !tuples && files.some((f) => f.includes('\n'));

  // ---- write
  const slurmDir = slurmDirOf(outDir);
  try {
    fs.mkdirSync(path.join(slurmDir, SLURM_FILES.shards), { recursive: true });
    fs.mkdirSync(path.join(slurmDir, SLURM_FILES.logs), { recursive: true });
  } catch (e) {
    throw new UsageError(`Cannot write the run directory ${outDir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}). Choose another --out, or fix its permissions.`);
  }
  const sep = nulLists ? '\0' : '\n';
  if (tuples && inputs) fs.writeFileSync(path.join(slurmDir, SLURM_FILES.tuples), [...tuplesLines(inputs.layout, tuples)].map((l) => l + '\n').join(''));
  // as bytes: a name that is not UTF-8 reaches its array task as it is (see run/fsNames.ts)
  else fs.writeFileSync(path.join(slurmDir, SLURM_FILES.manifest), fsEncode(files.map((f) => f + sep).join('')));
  // one small index instead of a list file per task: creating thousands of files is slow (NFS)
  fs.writeFileSync(path.join(slurmDir, SLURM_FILES.tasks), packed.tasks.map((t) => `${t.task} ${t.first + 1} ${t.first + t.count}\n`).join(''));
  const runId = readDefinition(outDir)?.runId ?? newRunId();
  const plan: SlurmPlanFile = {
    version: 1, runId, files: files.length, tasks: packed.tasks, parts, taskDigits, nulLists,
    cpusPerTask: threads, maxConcurrent: s.maxConcurrent, maxArraySize, clusterCpus: cluster?.cpus, notes, parentRunDir: opts.parentRunDir,
    ...(inputs ? { tuples: { names: inputs.layout.names.map((n) => n ?? null), resultNames: inputs.layout.resultNames } } : {}),
    ...(positions ? { positions } : {}),
  };
  writeJsonAtomic(path.join(slurmDir, SLURM_FILES.plan), plan);
  const script = renderSbatchScript({
    runId, label: opts.label, slurmDir, arrayCount: parts[0].count, totalTasks: packed.tasks.length, totalFiles: files.length, parts: parts.length,
    maxConcurrent: s.maxConcurrent, cpusPerTask: threads, partition: s.partition, timeLimit: s.timeLimit, memory: s.memory, account: s.account,
    extraDirectives: extra, node: opts.nodePath ?? process.execPath, cli: opts.cliPath, command, cwd, timeoutSec, retries, env,
    nulLists, tuples: !!tuples, taskDigits, portable: !!opts.exportOnly, notes: packed.notes,
  });
  const scriptPath = path.join(slurmDir, SLURM_FILES.script);
  fs.writeFileSync(scriptPath, script, { mode: 0o755 });
  const submitLines = parts.map((p) => sbatchArgs(p, s.maxConcurrent, parts.length, SLURM_FILES.script).map(shellQuote).join(' '));
  const readmePath = path.join(slurmDir, SLURM_FILES.readme);
  fs.writeFileSync(readmePath, readme(plan, submitLines, slurmDir, !!opts.exportOnly, command));

  const logical = cluster?.cpus ?? logicalCores();
  const def: RunDefinition = {
    version: 1,
    runId,
    label: opts.label,
    backend: 'slurm',
    fingerprint: fp,
    command,
    files: tuples ? { kind: 'list', files: [] } : { kind: 'listFile', path: path.join(slurmDir, SLURM_FILES.manifest), nulSeparated: nulLists },
    ...(opts.inputs && inputs ? { inputs: opts.inputs, inputNames: inputs.layout.resultNames } : {}),
    cwd,
    workers: lanesOf(plan),
    threads,
    timeoutSec,
    retries,
    halt: false,
    env,
    threadEnv: threadEnv(threads, env),
    cores: { logical, physical: cluster?.cpus ?? physicalCores() },
    python,
    createdAt: readDefinition(outDir)?.createdAt ?? Date.now(),
    sessions: readDefinition(outDir)?.sessions ?? [],
  };
  writeJsonAtomic(path.join(outDir, RUN_FILES.definition), def);
  return { runDir: outDir, slurmDir, scriptPath, script, readmePath, def, plan, submitLines };
}

/** Timeline lanes = array tasks (capped by the concurrency limit when one is set). */
function lanesOf(plan: SlurmPlanFile): number {
  return Math.max(1, plan.maxConcurrent > 0 ? Math.min(plan.tasks.length, plan.maxConcurrent) : plan.tasks.length);
}

/** sbatch arguments for one part; the script's own #SBATCH --array covers a single-part run. */
function sbatchArgs(p: { offset: number; count: number }, maxConcurrent: number, parts: number, script: string): string[] {
  const args = ['sbatch'];
  if (parts > 1) args.push(`--array=${arraySpec(p.count, maxConcurrent)}`);
  args.push(script);
  if (parts > 1) args.push(String(p.offset));
  return args;
}

function readme(plan: SlurmPlanFile, submitLines: string[], slurmDir: string, exportOnly: boolean, command: TaskCommand): string {
  const L: string[] = [];
  L.push(`Parallel Run: run ${plan.runId} as a Slurm job array`);
  L.push('');
  L.push(`${plan.files} ${plan.tuples ? 'input tuples' : 'files'} in ${plan.tasks.length} array tasks, ${plan.cpusPerTask} CPU(s) per task.`);
  for (const n of plan.notes) L.push(`- ${n}`);
  L.push('');
  L.push('To submit (from this folder):');
  L.push(`  cd ${shellQuote(slurmDir)}`);
  for (const l of submitLines) L.push(`  ${l}`);
  L.push('');
  if (exportOnly) {
    L.push('On another cluster: copy this folder there, edit NODE, CLI' + (command.kind === 'python' ? ', PYTHON' : '') + ' and WORKDIR at the top of');
    L.push('submit.sbatch to that cluster\'s paths (Parallel Run\'s dist/cli.js must exist there), make the input files');
    L.push(plan.tuples ? 'and tables the tuples name exist there, then run the lines above.' : 'listed in manifest.txt exist at the same paths (or rewrite manifest.txt line by line), then run the lines above.');
    L.push('');
  }
  if (plan.tuples) {
    L.push('Files: tuples.ndjson = line 1 names the columns, then every input tuple (a JSON array) in task order;');
    L.push('tasks.txt = "N FIRST LAST": array task N runs tuples FIRST..LAST (lines FIRST+1..LAST+1 of tuples.ndjson);');
  } else {
    L.push('Files: manifest.txt = every input file in task order; tasks.txt = "N FIRST LAST": array task N runs lines');
    L.push('FIRST..LAST of manifest.txt;');
  }
  L.push('shards/N/ = task N\'s own run directory (journal.ndjson, logs/, report.json); logs/JOB_INDEX.out|.err = Slurm\'s');
  L.push('per-task stdout/stderr. Parallel Run merges the shards into ../journal.ndjson, ../report.json and');
  L.push('../results.csv + ../results.ndjson (one row per input).');
  L.push('');
  return L.join('\n');
}

/** Submits a prepared run (one sbatch per part) and starts watching it. */
export async function submitSlurmRun(prep: PreparedSlurmRun, opts: WatchOptions = {}): Promise<SlurmRunHandle> {
  const client = opts.client ?? {};
  // one watcher collects a run directory: held until the watcher has written the final report
  const lock = acquireRunLock(prep.runDir);
  const plan = prep.plan;
  const jobs: SlurmSubmissionFile['jobs'] = [];
  const submittedAt = Date.now();
  try {
    for (const p of plan.parts) {
      const args = ['--parsable', ...sbatchArgs(p, plan.maxConcurrent, plan.parts.length, prep.scriptPath).slice(1)];
      const r = await slurmExec(client, 'sbatch', args, { cwd: prep.slurmDir });
      jobs.push({ part: p.part, jobId: parseSbatchJobId(r.stdout), offset: p.offset, count: p.count });
      writeJsonAtomic(path.join(prep.slurmDir, SLURM_FILES.submission), { version: 1, submittedAt, jobs } satisfies SlurmSubmissionFile);
    }
  } catch (e) {
    // parts already accepted must not run on unwatched
    if (jobs.length) await slurmExec(client, 'scancel', jobs.map((j) => String(j.jobId))).catch(() => undefined);
    lock.release();
    throw e;
  }
  const def = prep.def;
  def.sessions = [...def.sessions, { session: crypto.randomBytes(6).toString('hex'), startedAt: submittedAt, pid: process.pid, pidStart: processStartTicks(process.pid), resume: false, runner: opts.runner }];
  writeJsonAtomic(path.join(prep.runDir, RUN_FILES.definition), def);
  const watch = new SlurmWatch(prep.runDir, def, plan, { version: 1, submittedAt, jobs }, opts, lock);
  watch.start();
  return watch.handle;
}

/** prepare + submit. */
export async function startSlurmRun(opts: SlurmRunOptions, watch: WatchOptions = {}): Promise<SlurmRunHandle> {
  const prep = await prepareSlurmRun(opts);
  return submitSlurmRun(prep, { ...watch, client: watch.client ?? opts.client, runner: opts.runner });
}

/** True when `runDir` is a submitted Slurm run (has submission.json). */
export function isSlurmRun(runDir: string): boolean {
  return fs.existsSync(path.join(slurmDirOf(runDir), SLURM_FILES.submission));
}

/**
 * Re-attaches to a submitted Slurm run (e.g. after VS Code restarted): watches it again if the array
 * is still queued, or just collects it. Rejects with a UsageError when `runDir` is not a Slurm run.
 */
export async function attachSlurmRun(runDir: string, opts: WatchOptions = {}): Promise<SlurmRunHandle> {
  const def = readDefinition(runDir);
  const plan = readJson<SlurmPlanFile>(path.join(slurmDirOf(runDir), SLURM_FILES.plan));
  const sub = readJson<SlurmSubmissionFile>(path.join(slurmDirOf(runDir), SLURM_FILES.submission));
  if (!def || !plan || !sub) throw new UsageError(`${runDir} is not a submitted Slurm run (no slurm/submission.json). Submit it with "Parallel Run: Submit to Slurm…".`);
  // a second watcher (another window, the CLI) would merge the same shards into the same journal
  const lock = acquireRunLock(runDir);
  // this process watches it now (history tells a live watcher from a dead one by this session)
  def.sessions = [...def.sessions, { session: crypto.randomBytes(6).toString('hex'), startedAt: Date.now(), pid: process.pid, pidStart: processStartTicks(process.pid), resume: true, runner: opts.runner }];
  writeJsonAtomic(path.join(runDir, RUN_FILES.definition), def);
  const watch = new SlurmWatch(runDir, def, plan, sub, opts, lock);
  watch.start();
  return watch.handle;
}

/**
 * Cancels a submitted Slurm run with `scancel` (all its arrays). The watcher (if any) then collects
 * it and marks it cancelled; without a watcher, call attachSlurmRun to collect.
 */
export async function cancelSlurmRun(runDir: string, client: SlurmClient = {}): Promise<void> {
  const file = path.join(slurmDirOf(runDir), SLURM_FILES.submission);
  const sub = readJson<SlurmSubmissionFile>(file);
  if (!sub) throw new UsageError(`${runDir} is not a submitted Slurm run (no slurm/submission.json).`);
  if (!sub.cancelledAt) writeJsonAtomic(file, { ...sub, cancelledAt: Date.now() });
  await slurmExec(client, 'scancel', sub.jobs.map((j) => String(j.jobId)));
}

/**
 * Re-submits only the failed files of an earlier run (Slurm or local) as a new Slurm run with the
 * same definition. `overrides` may change the Slurm settings, the output folder or the label.
 */
export async function resubmitFailed(runDir: string, base: Omit<SlurmRunOptions, 'command' | 'files' | 'outDir'> & { outDir?: string }, watch: WatchOptions = {}): Promise<SlurmRunHandle> {
  const def = readDefinition(runDir);
  if (!def) throw new UsageError(`${runDir} holds no run (run.json missing). Pick a run from the Runs view.`);
  const outDir = base.outDir ?? path.join(path.dirname(runDir), `${newRunId()}-failed`);
  const common = {
    command: def.command,
    cwd: def.cwd,
    threads: base.threads ?? def.threads,
    timeoutSec: base.timeoutSec ?? def.timeoutSec,
    retries: base.retries ?? def.retries,
    env: base.env ?? def.env,
    outDir,
    runsDir: base.runsDir ?? path.dirname(runDir),
    parentRunDir: runDir,
  };
  if (def.inputs) {
    // a run over tuples: the tuples that did not succeed, as whole tuples with the run's columns
    const failed = await failedTuples(runDir, def.fingerprint);
    if (failed.length === 0) throw new UsageError(`Run ${def.runId} has no failed tuples to re-run.`);
    const header = readJson<SlurmPlanFile>(path.join(slurmDirOf(runDir), SLURM_FILES.plan))?.tuples;
    const layout = header ? layoutOfHeader(header) : (await readInputs(def.inputs, openSource)).layout;
    return startSlurmRun({
      ...base, ...common,
      files: { kind: 'list', files: [] },
      inputs: { sources: [{ kind: 'tuples', source: { kind: 'list', files: [...tuplesLines(layout, failed)] } }] },
      label: base.label ?? `${def.label ?? def.runId} (failed tuples)`,
    }, watch);
  }
  const files = await failedFiles(runDir);
  if (files.length === 0) throw new UsageError(`Run ${def.runId} has no failed files to re-run.`);
  return startSlurmRun({ ...base, ...common, files: { kind: 'list', files }, label: base.label ?? `${def.label ?? def.runId} (failed files)` }, watch);
}

/** The tuples of a run over tuples whose latest record did not succeed (a success anywhere stands), in input order. */
async function failedTuples(runDir: string, fp: string): Promise<string[][]> {
  const latest = new Map<string, JournalLine>();
  for await (const l of readJournal(path.join(runDir, RUN_FILES.journal))) {
    if (l.fp !== fp || !l.inputs) continue;
    const k = tupleKey(l.inputs);
    const prev = latest.get(k);
    if (!prev || prev.status !== 'succeeded') latest.set(k, l);
  }
  return [...latest.values()].filter((l) => l.status !== 'succeeded').sort((a, b) => a.index - b.index).map((l) => l.inputs!);
}

// ------------------------------------------------------------------------------------------ watch

interface ShardReader {
  task: number;
  journal: string;
  offset: number;
  rest: string;
  /** position in the run's inputs (0-based) → merged record */
  records: Map<number, TaskRecord>;
}

class SlurmWatch {
  private readonly listeners = new Set<(e: RunEvent) => void>();
  private readonly builder: ReportBuilder;
  private readonly slurmDir: string;
  /** each input's key, in task order: a file's absolute path, or a tuple's tupleKey */
  private readonly keys: string[];
  /** a run over tuples: the tuples (task order) and their columns */
  private readonly tuples: string[][] | undefined;
  private readonly layout: InputLayout | undefined;
  /** results.csv / results.ndjson (undefined when they cannot be written: a note says so) */
  private results: ResultsWriter | undefined;
  private readonly shards: ShardReader[];
  private readonly client: SlurmClient;
  private states = new Map<string, ArrayTaskState>();
  private cancelRequested = false;
  private finished = false;
  /** journal lines of earlier sessions for files not in this submission (resume) */
  private readonly earlier: string[] = [];
  private readonly earlierDone = new Set<string>();
  private resolveDone!: (r: RunReport) => void;
  readonly done: Promise<RunReport>;
  readonly handle: SlurmRunHandle;
  private wake: (() => void) | undefined;

  constructor(
    private readonly runDir: string,
    private readonly def: RunDefinition,
    private readonly plan: SlurmPlanFile,
    private sub: SlurmSubmissionFile,
    private readonly opts: WatchOptions,
    private readonly lock?: RunLock,
  ) {
    this.client = opts.client ?? {};
    this.slurmDir = slurmDirOf(runDir);
    if (plan.tuples) {
      this.tuples = readTuplesManifest(this.slurmDir);
      this.layout = layoutOfHeader(plan.tuples);
      this.keys = this.tuples.map(tupleKey);
    } else {
      this.keys = readManifest(this.slurmDir, plan.nulLists);
    }
    this.builder = new ReportBuilder(def, sub.submittedAt, Infinity); // the Slurm report writes every record itself
    this.builder.counts.total = this.keys.length;
    for (const n of plan.notes) this.builder.note(n);
    this.builder.note(`Slurm job array${sub.jobs.length > 1 ? 's' : ''} ${sub.jobs.map((j) => j.jobId).join(', ')}: ${plan.tasks.length} array tasks × ${plan.cpusPerTask} CPU(s); timeline lanes are array tasks.`);
    this.shards = plan.tasks.map((t) => ({ task: t.task, journal: path.join(shardDirPath(this.slurmDir, t.task, plan.taskDigits), RUN_FILES.journal), offset: 0, rest: '', records: new Map() }));
    this.done = new Promise((r) => (this.resolveDone = r));
    const self = this;
    this.handle = {
      runId: def.runId,
      outDir: runDir,
      onEvent(l) {
        self.listeners.add(l);
        return () => self.listeners.delete(l);
      },
      report: () => this.builder.snapshot(),
      done: this.done,
      cancel: () => void this.cancel(),
      arrayStates: () => this.stateCounts(),
      arrayTasks: () => [...this.states.values()],
      jobIds: () => this.sub.jobs.map((j) => j.jobId),
    };
  }

  private emit(e: RunEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        /* a listener's bug must not stop the watcher */
      }
    }
  }

  start(): void {
    if (this.sub.cancelledAt) this.cancelRequested = true;
    const signal = this.opts.signal;
    if (signal) {
      if (signal.aborted) void this.cancel();
      else signal.addEventListener('abort', () => void this.cancel(), { once: true });
    }
    // listeners subscribe right after we return: announce on the next tick
    setImmediate(() => {
      this.emit({ type: 'runStarted', runId: this.def.runId, outDir: this.runDir, workers: this.def.workers, threads: this.def.threads, resumeSkipped: 0, t: Date.now() });
      this.emit({ type: 'total', total: this.keys.length, t: Date.now() });
      void this.loop().catch((e) => {
        this.builder.note(`Watching the Slurm array stopped on an error: ${(e as Error).message}`);
        return this.finish();
      });
    });
  }

  private stateCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.states.values()) out[s.state] = (out[s.state] ?? 0) + 1;
    return out;
  }

  async cancel(): Promise<void> {
    if (this.cancelRequested && this.sub.cancelledAt) return;
    this.cancelRequested = true;
    this.emit({ type: 'runCancelled', t: Date.now() });
    try {
      await cancelSlurmRun(this.runDir, this.client);
      this.sub = readJson<SlurmSubmissionFile>(path.join(this.slurmDir, SLURM_FILES.submission)) ?? this.sub;
    } catch (e) {
      this.builder.note(`scancel failed: ${(e as Error).message}`);
    }
    this.wake?.();
  }

  /**
   * A resumed run (--resume) submits only the files not yet succeeded: the journal's lines for the
   * other files stay, and count as skipped like in a resumed local run.
   */
  private async loadEarlierJournal(): Promise<void> {
    const mine = new Set(this.keys);
    const journal = path.join(this.runDir, RUN_FILES.journal);
    for await (const l of readJournal(journal)) {
      const key = this.keyOf(l);
      if (mine.has(key)) continue;
      this.earlier.push(JSON.stringify(l));
      if (l.status === 'succeeded' && l.fp === this.def.fingerprint && !this.earlierDone.has(key)) {
        this.earlierDone.add(key);
        this.builder.skip();
        this.builder.counts.total = (this.builder.counts.total ?? 0) + 1;
      }
    }
    // the results table: the earlier sessions' rows for inputs not in this array, then a row per
    // input of this array as its shard reports it; rewritten from the merged journal at the end
    try {
      const results = new ResultsWriter(this.runDir, this.def.inputNames ?? ['file']);
      await results.open(journal, this.def.fingerprint, true, (r) => !mine.has(this.keyOf(r)));
      this.results = results;
    } catch (e) {
      this.builder.note(`Could not write results.csv / results.ndjson (${(e as Error).message}): the journal has every result.`);
    }
  }

  /** The key of a journal record: its tuple's, or its file's absolute path. */
  private keyOf(rec: { file: string; fileBytes?: string; inputs?: string[] }): string {
    return rec.inputs ? tupleKey(rec.inputs) : path.resolve(this.def.cwd, nameOfRecord(rec));
  }

  /** What the report calls input `i`: its file, or its tuple's label ("mu=0.5 sigma=2"). */
  private labelAt(i: number): string {
    return this.tuples && this.layout ? tupleLabel(this.layout, this.tuples[i]) : this.keys[i];
  }

  private async loop(): Promise<void> {
    await this.loadEarlierJournal();
    const min = this.opts.pollMinMs ?? 250;
    const max = this.opts.pollMaxMs ?? 5000;
    let delay = min;
    let lastWrite = 0;
    for (;;) {
      const filesChanged = this.readShards();
      const statesBefore = Object.entries(this.stateCounts()).sort().join(';');
      const active = await this.queued();
      // an array task starting or ending is progress too (the status bar shows "1 running")
      const changed = filesChanged || Object.entries(this.stateCounts()).sort().join(';') !== statesBefore;
      if (changed || Date.now() - lastWrite > 5000) {
        this.writeReport();
        lastWrite = Date.now();
        const r = this.builder.snapshot();
        this.emit({ type: 'progress', done: r.counts.done, total: r.counts.total, failed: r.counts.failed + r.counts.timedOut, etaMs: r.etaMs, t: Date.now() });
      }
      if (!active) break;
      delay = nextPollDelay(delay, changed, min, max);
      await new Promise<void>((r) => {
        const t = setTimeout(r, timerMs(delay));
        this.wake = () => {
          clearTimeout(t);
          r();
        };
      });
      this.wake = undefined;
    }
    await this.finish();
  }

  /** True while any task of the array(s) is pending, running or completing. */
  private async queued(): Promise<boolean> {
    const ids = this.sub.jobs.map((j) => String(j.jobId)).join(',');
    let out: string;
    try {
      out = (await slurmExec(this.client, 'squeue', ['-h', '-t', 'all', '-j', ids, '-o', '%i|%T|%r'], { timeoutMs: 30_000, retries: 2 })).stdout;
    } catch (e) {
      if (e instanceof SlurmError && /Invalid job id/i.test(e.stderr)) return false; // long gone
      if (e instanceof SlurmError && e.kind === 'unreachable') {
        this.builder.note(e.message);
        return true; // the controller may come back; keep polling
      }
      throw e;
    }
    const list = parseSqueue(out);
    this.states = mergeStates([...this.states.values()], list);
    return list.some((s) => !FINAL_STATES.has(s.state));
  }

  /** Reads what the shard journals gained since the last poll. Returns true when something changed. */
  private readShards(): boolean {
    let changed = false;
    for (const sh of this.shards) {
      // every file of this task has its line: nothing more to read (keeps polls cheap for big arrays)
      if (sh.records.size >= this.plan.tasks[sh.task].count) continue;
      let fd: number;
      try {
        fd = fs.openSync(sh.journal, 'r');
      } catch {
        continue; // task not started yet
      }
      try {
        const size = fs.fstatSync(fd).size;
        if (size <= sh.offset) continue;
        const buf = Buffer.alloc(size - sh.offset);
        fs.readSync(fd, buf, 0, buf.length, sh.offset);
        sh.offset = size;
        const text = sh.rest + buf.toString('utf8');
        const lines = text.split('\n');
        sh.rest = lines.pop() ?? '';
        for (const line of lines) {
          if (!line.trim()) continue;
          let rec: JournalLine;
          try {
            rec = JSON.parse(line);
          } catch {
            continue;
          }
          if (!rec || typeof rec.file !== 'string') continue;
          const merged = this.mergeRecord(sh, rec);
          if (!merged) continue;
          changed = true;
        }
      } finally {
        fs.closeSync(fd);
      }
    }
    return changed;
  }

  /**
   * scancel signals every process of an array task at once: a file's script may die of it before the
   * in-job runner hears it is being cancelled, and then its journal says the file failed (killed by
   * SIGTERM/SIGKILL). After a cancel, that file was cancelled, not failed (a rerun of the failed files
   * or a resume runs it again either way). The clocks of the node and of this machine may differ a bit.
   */
  private killedByScancel(rec: Pick<TaskRecord, 'status' | 'signal' | 'end'>): boolean {
    const at = this.sub.cancelledAt;
    if (!this.cancelRequested && !at) return false;
    return rec.status === 'failed' && (rec.signal === 'SIGTERM' || rec.signal === 'SIGKILL') && (!at || rec.end >= at - 5_000);
  }

  /** Shard record → run record: global index, slot = array task + 1, logs relative to the run dir. */
  private mergeRecord(sh: ShardReader, rec: JournalLine): TaskRecord | undefined {
    const t = this.plan.tasks[sh.task];
    const key = this.keyOf(rec);
    // the shard ran its inputs in order: its index is the position in the task's slice
    let pos = rec.index >= 1 && rec.index <= t.count && this.keys[t.first + rec.index - 1] === key ? t.first + rec.index - 1 : -1;
    if (pos < 0) for (let i = t.first; i < t.first + t.count; i++) if (this.keys[i] === key) pos = i;
    if (pos < 0 && !this.tuples && rec.index >= 1 && rec.index <= t.count) pos = t.first + rec.index - 1;
    if (pos < 0) return undefined;
    if (sh.records.has(pos) && rec.status === 'skipped') return undefined;
    const shardRel = path.join(SLURM_FILES.folder, SLURM_FILES.shards, taskId(sh.task, this.plan.taskDigits));
    const { fp: _fp, session: _s, ...plain } = rec;
    if (this.killedByScancel(plain)) {
      plain.status = 'cancelled';
      plain.stderrTail = `cancelled (scancel) while this file ran: its script got the signal before the array task's runner did\n${plain.stderrTail}`.trim();
    }
    const out: TaskRecord = {
      ...plain,
      index: this.plan.positions?.[pos] ?? pos + 1,
      file: this.labelAt(pos),
      slot: sh.task + 1,
      stdoutLog: rec.stdoutLog ? path.join(shardRel, rec.stdoutLog) : rec.stdoutLog,
      stderrLog: rec.stderrLog ? path.join(shardRel, rec.stderrLog) : rec.stderrLog,
    };
    const had = sh.records.has(pos);
    sh.records.set(pos, out);
    if (!had) {
      this.addResult(out);
      this.builder.add(out);
      this.emit({ type: 'taskFinished', record: out, t: Date.now() });
    }
    return out;
  }

  /** Final array task states: sacct when accounting is on, else scontrol show job. */
  private async finalStates(): Promise<void> {
    const ids = this.sub.jobs.map((j) => String(j.jobId));
    let got: ArrayTaskState[] | undefined;
    try {
      const r = await slurmExec(this.client, 'sacct', ['-X', '-P', '-n', '-j', ids.join(','), '-o', SACCT_FIELDS.join(',')], { timeoutMs: 30_000 });
      if (!sacctDisabled(r.stdout + r.stderr)) {
        const list = parseSacct(r.stdout);
        if (list.length) got = list;
      }
    } catch {
      /* no sacct / no accounting: scontrol below */
    }
    if (!got) {
      got = [];
      for (const id of ids) {
        try {
          got.push(...parseScontrolJobs((await slurmExec(this.client, 'scontrol', ['-o', 'show', 'job', id], { timeoutMs: 30_000, retries: 2 })).stdout));
        } catch {
          /* purged after MinJobAge: the shard journals are all we have */
        }
      }
    }
    this.states = mergeStates([...this.states.values()], got);
  }

  private stateOfTask(task: number): ArrayTaskState | undefined {
    const job = this.sub.jobs.find((j) => task >= j.offset && task < j.offset + j.count);
    return job ? this.states.get(`${job.jobId}_${task - job.offset}`) : undefined;
  }

  private slurmLog(task: number, ext: 'out' | 'err'): string {
    const job = this.sub.jobs.find((j) => task >= j.offset && task < j.offset + j.count);
    return job ? path.join(SLURM_FILES.folder, SLURM_FILES.logs, `${job.jobId}_${task - job.offset}.${ext}`) : '';
  }

  /** Records for files whose array task ended without writing their journal line. */
  private synthesizeMissing(): TaskRecord[] {
    const out: TaskRecord[] = [];
    for (const sh of this.shards) {
      const t = this.plan.tasks[sh.task];
      const st = this.stateOfTask(sh.task);
      const state = st?.state ?? (this.cancelRequested ? 'CANCELLED' : 'UNKNOWN');
      for (let i = t.first; i < t.first + t.count; i++) {
        if (sh.records.has(i)) continue;
        const file = this.labelAt(i);
        const status: TaskStatus = state === 'CANCELLED' || (this.cancelRequested && !FINAL_STATES.has(state)) ? 'cancelled' : state === 'TIMEOUT' ? 'timedOut' : 'failed';
        const errLog = this.slurmLog(sh.task, 'err');
        const why = status === 'cancelled' ? 'cancelled (scancel) before this file finished'
          : state === 'TIMEOUT' ? 'the array task hit the Slurm time limit (parallelRun.slurm.timeLimit) before this file finished'
          : `the array task ended ${state}${st?.reason ? ` (${st.reason})` : ''} without running this file; see ${errLog}`;
        const rec: TaskRecord = {
          index: this.plan.positions?.[i] ?? i + 1, file, slot: sh.task + 1, status, attempts: 0,
          start: st?.startTime ?? 0, end: st?.endTime ?? st?.startTime ?? 0, wallMs: 0,
          exitCode: status === 'cancelled' ? null : st?.exitCode ?? null,
          signal: st?.signal ? `signal ${st.signal}` : null,
          cpuUserSec: 0, cpuSysSec: 0, maxRssKb: null,
          stdoutTail: '', stderrTail: `${why}\n${readTail(path.join(this.runDir, errLog), 2000)}`.trim(),
          stdoutLog: this.slurmLog(sh.task, 'out'), stderrLog: errLog,
          threadEnv: this.def.threadEnv, mode: 'cold',
          ...(this.tuples ? { inputs: this.tuples[i] } : {}),
        };
        sh.records.set(i, rec);
        this.addResult(rec);
        this.builder.add(rec);
        out.push(rec);
      }
    }
    return out;
  }

  private addResult(rec: TaskRecord): void {
    if (rec.status === 'cancelled') return; // never ran: no journal line, no row
    try {
      this.results?.add(rec);
    } catch (e) {
      this.results = undefined;
      this.builder.note(`Could not write results.csv / results.ndjson (${(e as Error).message}): the journal has every result; collecting the run again writes them.`);
    }
  }

  private writeReport(): void {
    try {
      writeJsonAtomic(path.join(this.runDir, RUN_FILES.report), this.builder.snapshot());
    } catch {
      /* the run dir vanished (deleted by the user): nothing to report to */
    }
  }

  private async finish(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    await this.finalStates();
    this.readShards();
    if (this.sub.cancelledAt) this.cancelRequested = true;
    for (const rec of this.synthesizeMissing()) this.emit({ type: 'taskFinished', record: rec, t: Date.now() });
    // the merged journal: every file's record in manifest order (cancelled files never ran: no line)
    const session = this.def.sessions[this.def.sessions.length - 1]?.session ?? 'slurm';
    const lines: string[] = [...this.earlier];
    const all: TaskRecord[] = [];
    for (const sh of this.shards) all.push(...sh.records.values());
    all.sort((a, b) => a.index - b.index);
    for (const r of all) if (r.status !== 'cancelled') lines.push(JSON.stringify({ ...r, fp: this.def.fingerprint, session } satisfies JournalLine));
    const journal = path.join(this.runDir, RUN_FILES.journal);
    const tmp = `${journal}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, lines.map((l) => l + '\n').join(''));
    fs.renameSync(tmp, journal);
    // the results table again from the merged journal: one row per input, in input order
    try {
      await (this.results ?? new ResultsWriter(this.runDir, this.def.inputNames ?? ['file'])).close(journal, this.def.fingerprint, true);
    } catch (e) {
      this.builder.note(`Could not write results.csv / results.ndjson (${(e as Error).message}): the journal has every result; collecting the run again writes them.`);
    }
    const b = this.builder;
    const starts = all.filter((r) => r.start > 0).map((r) => r.start);
    const ends = all.filter((r) => r.end > 0).map((r) => r.end);
    // wall time = submission → last file finished (queue wait included: that is what the user waited)
    b.endedAt = ends.length ? Math.max(this.sub.submittedAt, ...ends) : Date.now();
    const slurmStarts = [...this.states.values()].map((x) => x.startTime ?? 0).filter((t) => t > 0);
    if (slurmStarts.length) b.note(`Queue wait: Slurm started the first array task ${Math.max(0, (Math.min(...slurmStarts) - this.sub.submittedAt) / 1000).toFixed(0)} s after submission (1 s resolution); the first file started ${starts.length ? ((Math.min(...starts) - this.sub.submittedAt) / 1000).toFixed(1) : '?'} s after.`);
    b.status = this.cancelRequested ? 'cancelled' : b.counts.failed + b.counts.timedOut > 0 ? 'failed' : 'succeeded';
    this.writeReport();
    const report = b.snapshot();
    this.lock?.release();
    this.emit({ type: 'runFinished', report, t: Date.now() });
    this.resolveDone(report);
  }
}
