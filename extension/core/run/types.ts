import type { FailureGroup, FailureSignature } from './failureTypes';

/**
 * The batch engine's contract: what a run is, what it records, what it reports.
 * Everything that consumes runs (CLI, VS Code host, report panel, sweep, Slurm backend) codes
 * against these types. No `vscode` import below core/.
 */

/** What to run for each file. */
export type TaskCommand =
  | {
      kind: 'template';
      /** argv array with GNU Parallel replacement strings: {} {.} {/} {//} {/.} {#} {%}.
       *  No replacement string => the file is appended as the last argument. Never run through a shell. */
      argv: string[];
    }
  | {
      kind: 'python';
      /** Real interpreter executable (already resolved, not a pyenv shim). */
      python: string;
      /** Absolute path of the script; the file is sys.argv[1]. */
      script: string;
      /** Extra args after the file path. */
      args: string[];
      /** Warm worker hosts (fork per file) instead of one cold interpreter per file. */
      warm: boolean;
      /**
       * In-process calls: each worker imports the script once and calls this top-level function per
       * task in the same process (no fork): FUNC(file, **inputs), or FUNC(**inputs) with no file
       * source; its return value is the result. Opt-in: state can leak between calls in a worker.
       */
      call?: string;
    };

/** Where the input files come from. Streamed: never materialised as one big array up front. */
export type FileSource =
  | { kind: 'globs'; patterns: string[]; cwd: string }
  | { kind: 'folder'; path: string; recursive: boolean }
  | { kind: 'listFile'; path: string; nulSeparated: boolean }
  | { kind: 'stdin'; nulSeparated: boolean }
  | { kind: 'list'; files: string[] };

/** One input source of a run with several (see InputsSpec). `link`: zipped with the source before it. */
export type InputSourceSpec =
  /** `::: v1 v2 ...` */
  | { kind: 'values'; values: string[]; link?: boolean }
  /** `:::: FILE`: one value per line (a table with --colsep) */
  | { kind: 'table'; path: string; link?: boolean }
  /** input files (globs, folder, list file...), one column named "file" */
  | { kind: 'files'; source: FileSource; link?: boolean }
  /** `--grid NAME=VALUES` */
  | { kind: 'grid'; name: string; values: string[]; link?: boolean }
  /** a parameter table: CSV (or TSV: .tsv/.tab) with a header line naming its columns, read as CSV
   *  (quotes, embedded commas and newlines), unlike --colsep's regular-expression split */
  | { kind: 'csv'; path: string; link?: boolean }
  /**
   * tuples already combined, one task each (what a Slurm array task runs): NDJSON lines read from
   * `source`, the first `{"names": [...], "resultNames": [...]}` (a column's {name} or null, and its
   * results.csv name), then one JSON array of strings per tuple. The only source of its run.
   */
  | { kind: 'tuples'; source: FileSource; link?: boolean };

/** The inputs of a run over tuples: its sources, combined as a product (or linked), one task a tuple. */
export interface InputsSpec {
  sources: InputSourceSpec[];
  /** --colsep: a regular expression splitting each value of a values/table source into columns */
  colsep?: string;
  /** --header : the first value of each values/table source names its columns */
  header?: boolean;
  /**
   * Exactly these tuples (each a value per column, as the journal records them), not the product: a
   * re-run of some tasks of a run over tuples (RunOptions.subset). The sources still give the names.
   */
  only?: string[][];
}

export interface RunOptions {
  command: TaskCommand;
  /** the input files (ignored when `inputs` is given) */
  files: FileSource;
  /**
   * Several input sources (values, tables, files, --grid axes) combined into tuples, one task each
   * (see inputs.ts); the tuple is the task's key. Absent = one task per file of `files`.
   */
  inputs?: InputsSpec;
  /** Allow more than MAX_TASKS_WITHOUT_YES tasks (a run that large is refused otherwise). */
  yes?: boolean;
  /** Working directory of every task (default: process.cwd()). */
  cwd?: string;
  /** Parallel tasks; default = logical cores. */
  workers?: number;
  /** BLAS/OpenMP threads per task; default max(1, floor(cores / workers)). */
  threads?: number;
  /** Per-attempt timeout in seconds; 0/undefined = none. */
  timeoutSec?: number;
  /**
   * Per-attempt timeout relative to the median run time of the files that succeeded so far, in percent
   * (GNU Parallel's --timeout 200%): once 3 have succeeded, an attempt running longer than median ×
   * percent / 100 is killed (no limit before). Not with timeoutSec.
   */
  timeoutPercent?: number;
  /**
   * Start a file only while at least this many bytes of memory are available (the machine's
   * MemAvailable, capped by a cgroup's memory limit minus its use: containers, Slurm jobs), as GNU
   * Parallel's --memfree; when nothing runs, the next file starts anyway (else the run could never end).
   * 0/undefined = no check.
   */
  memFreeBytes?: number;
  /** Retries after a failed/timed-out attempt. */
  retries?: number;
  /**
   * Stop at the first failure (after retries) instead of keeping going: `true` = GNU Parallel's
   * now,fail=1; a string = any GNU Parallel --halt rule ("soon,fail=10%", "now,success=1", "never").
   */
  halt?: boolean | string;
  /**
   * Stop on a systematic failure: when the first K tasks to finish all failed with the same error
   * signature, start nothing more (running tasks finish). Default 5; 0 = off.
   */
  stopEarly?: number;
  /**
   * The files (`files` a 'list') are a part of this run's input, re-run in its directory (resume):
   * run.json keeps the run's own input, and the report counts the run's other files as they last ended.
   */
  subset?: boolean;
  /** Run directory: journal.ndjson, logs/, report.json, run.json. */
  outDir: string;
  /** Skip files already succeeded for the same run definition (same fingerprint). */
  resume?: boolean;
  /** Extra env for every task; user values of the thread env vars win over ours. */
  env?: Record<string, string>;
  /** Absolute path of dist/workers/ (where taskWorker.js lives). */
  workersDir: string;
  /** Cancellation: abort() cancels the run, kills all process groups, exit status 'cancelled'. */
  signal?: AbortSignal;
  /** A label for humans (run history). */
  label?: string;
  /** Who started the run ('cli', 'vscode', 'sweep', ...), recorded in run.json. */
  runner?: string;
  /** 'auto' (default): cold tasks are fork+exec'd by a small Python host that measures exact CPU time
   *  and peak RSS with os.wait4; 'node': Node spawns them directly (CPU/RSS sampled from /proc). */
  spawnVia?: 'auto' | 'node';
}

export type TaskStatus = 'succeeded' | 'failed' | 'timedOut' | 'cancelled' | 'skipped';

/** One finished task (after all its attempts); one journal line each. */
export interface TaskRecord {
  /** 1-based sequence number ({#}). */
  index: number;
  /** the input, as shown (a file name that is not UTF-8 shows U+FFFD for its bad bytes: see fileBytes) */
  file: string;
  /** a file name that is not valid UTF-8: its bytes (base64), what resume, retries and re-runs go by (fsNames.ts) */
  fileBytes?: string;
  /** 1-based worker slot ({%}); the timeline lane. */
  slot: number;
  status: TaskStatus;
  attempts: number;
  /** epoch ms of the last attempt's start and end. */
  start: number;
  end: number;
  wallMs: number;
  exitCode: number | null;
  signal: string | null;
  /** user + system CPU seconds of the child (and its waited-for children). */
  cpuUserSec: number;
  cpuSysSec: number;
  /** Linux peak RSS in KiB, when known. */
  maxRssKb: number | null;
  stdoutTail: string;
  stderrTail: string;
  /** Log files (relative to the run directory). */
  stdoutLog: string;
  stderrLog: string;
  /** The exact thread env vars the child received. */
  threadEnv: Record<string, string>;
  /** 'cold' | 'warm' | 'call' (in-process, --call) */
  mode: 'cold' | 'warm' | 'call';
  /** argv actually run (template mode), for the record. */
  argv?: string[];
  /** Resume fingerprint of the file: size + mtime. */
  fileSize?: number;
  fileMtimeMs?: number;
  /** A run over tuples: the task's values by column (its key); `file` is then the tuple's label. */
  inputs?: string[];
  /** What the task reported (JSON on its last stdout line, or in its $PARALLEL_RUN_RESULT file). */
  result?: Record<string, unknown>;
  /** Why a result that looked like one could not be read (a note in its results row). */
  resultNote?: string;
  /** failed / timed out: what it died of (the failure groups' key) */
  error?: FailureSignature;
  /** the record comes from an earlier session of the run (a re-run of some files shows the others as they ended) */
  carried?: boolean;
  /** written on resume from the completions file: the task ended well but its runner was killed before journaling it */
  recovered?: boolean;
}

export interface CpuSample {
  /** epoch ms */
  t: number;
  /** 0..100 total machine CPU */
  cpu: number;
  /** bytes used */
  memUsed?: number;
}

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'cancelled' | 'halted' | 'interrupted';

export interface RunReport {
  version: 1;
  runId: string;
  label?: string;
  backend: 'local' | 'slurm';
  status: RunStatus;
  /** Definition fingerprint (script content hash + template + options) used by resume. */
  fingerprint: string;
  command: TaskCommand;
  cwd: string;
  startedAt: number;
  endedAt: number | null;
  /** run wall time in ms (so far, when running) */
  wallMs: number;
  counts: { total: number | null; done: number; succeeded: number; failed: number; timedOut: number; cancelled: number; skipped: number; retried: number };
  /** sum of task wall times, ms */
  sumTaskMs: number;
  /** (succeeded task time + the run's own start-up and finish) / wallMs — an ESTIMATE, named as such */
  speedupEstimate: number;
  /** sum of the succeeded tasks' wall times, ms (speedup and throughput count succeeded tasks only) */
  sumSucceededMs?: number;
  /** epoch ms of this session's first task start and last task end (the run's start-up and finish lie outside) */
  taskPhase?: { start: number; end: number };
  /**
   * when a measured serial baseline exists (sweep): value = baselineWallMs ÷ wallMs, where wallMs is
   * the measured time with this setting (absent: the run's wall time)
   */
  speedupMeasured?: { value: number; baselineWallMs: number; source: string; wallMs?: number };
  /** speedupEstimate / workers */
  efficiency: number;
  /** tasks per second */
  throughput: number;
  /** remaining ms, while running */
  etaMs: number | null;
  workers: number;
  threads: number;
  cores: { logical: number; physical: number };
  /** host name and CPU model (absent in reports written before it was recorded) */
  machine?: { host: string; cpu: string };
  /** workers * threads / logical cores */
  oversubscription: number;
  /** env vars every child got (the thread env) */
  threadEnv: Record<string, string>;
  python?: { executable: string; version?: string; blas?: string };
  tasks: TaskRecord[];
  /**
   * Records of this session NOT in `tasks` above because a very large run keeps only its most recent
   * records in memory (report.json, written from the journal at the end, has them all). Absent = none.
   */
  tasksOmitted?: number;
  /**
   * Short tasks sent to a slot several at a time (their Python host started each as the one before
   * ended, with no round trip through the runner between them): how many batches, of how many tasks
   * in all. Absent = every task went on its own.
   */
  batched?: { batches: number; tasks: number };
  failures: Array<{ index: number; file: string; status: TaskStatus; exitCode: number | null; signal: string | null; stderrLog: string; stderrTail: string }>;
  /** the failed and timed-out files grouped by error signature, largest group first */
  failureGroups?: FailureGroup[];
  /** why the run stopped before its end: the early stop on a systematic failure, or a --halt rule */
  stopped?: { reason: 'early' | 'halt'; message: string; rule?: string };
  cpuSamples: CpuSample[];
  /** warm mode fell back to cold, and why */
  notes: string[];
  /** CPU used by other processes on the machine while the run went (absent: not sampled) */
  load?: LoadSummary;
  /** a demo, not a run over files: what it measures (the report says it instead of thread advice) */
  demo?: { measures: string };
}

/**
 * CPU time used by processes OUTSIDE a measurement's own process tree, from /proc, in cores' worth
 * (1 = one core kept busy). Sampled before and during a measurement (core/load.ts).
 */
export interface LoadSummary {
  /** the figure the verdict uses: the mean during the measurement, else the one before */
  othersCores: number;
  /** over a short window before the measurement started (null: not sampled) */
  beforeCores: number | null;
  /** mean over the measurement (null: it ended before one interval passed) */
  duringCores: number | null;
  /** the highest one-interval value */
  peakCores: number;
  /** intervals sampled */
  samples: number;
  /** othersCores above the threshold: the figures are pessimistic */
  busy: boolean;
  /** logical cores of the machine */
  cores: number;
}

/** Progress events through the typed API (the CLI's --json prints these as NDJSON). */
export type RunEvent =
  | { type: 'runStarted'; runId: string; outDir: string; workers: number; threads: number; resumeSkipped: number; t: number }
  | { type: 'total'; total: number; t: number }
  | { type: 'taskStarted'; index: number; file: string; slot: number; attempt: number; t: number }
  /** resume: this file succeeded in an earlier session and is unchanged, so it does not run */
  | { type: 'taskSkipped'; index: number; file: string; t: number }
  | { type: 'taskOutput'; index: number; stream: 'stdout' | 'stderr'; text: string; t: number }
  | { type: 'taskRetried'; index: number; file: string; attempt: number; reason: string; t: number }
  | { type: 'taskTimedOut'; index: number; file: string; attempt: number; t: number }
  | { type: 'taskFinished'; record: TaskRecord; t: number }
  | { type: 'progress'; done: number; total: number | null; failed: number; etaMs: number | null; t: number }
  | { type: 'runCancelled'; t: number }
  | { type: 'runFinished'; report: RunReport; t: number };

export interface RunHandle {
  readonly runId: string;
  readonly outDir: string;
  /** Subscribe to events; returns an unsubscribe function. */
  onEvent(listener: (e: RunEvent) => void): () => void;
  /** The current report (live while running). */
  report(): RunReport;
  /** Resolves with the final report; never rejects for task failures. */
  readonly done: Promise<RunReport>;
  cancel(): void;
}

/** One start (or resume) of a run, as recorded in run.json. */
export interface RunSession {
  session: string;
  startedAt: number;
  /** runner process id and its start time (clock ticks since boot, Linux) to tell a dead runner */
  pid: number;
  pidStart?: string;
  resume: boolean;
  /** 'cli' | 'vscode' | ... */
  runner?: string;
  /** a re-run of some of the run's files (RunOptions.subset) */
  subset?: boolean;
  /** set when the session ended (absent: still running, or the runner died) */
  endedAt?: number;
  status?: RunStatus;
}

/** run.json: everything needed to understand, resume or re-run a run. */
export interface RunDefinition {
  version: 1;
  runId: string;
  label?: string;
  backend: 'local' | 'slurm';
  fingerprint: string;
  command: TaskCommand;
  /** the input source; a 'stdin' source cannot be re-read by a resume */
  files: FileSource;
  /** a run over tuples: its sources (then `files` is not used) and its columns' names (results.csv) */
  inputs?: InputsSpec;
  inputNames?: string[];
  cwd: string;
  workers: number;
  threads: number;
  timeoutSec: number;
  /** timeout relative to the median of succeeded files, percent (see RunOptions.timeoutPercent) */
  timeoutPercent?: number;
  /** see RunOptions.memFreeBytes */
  memFreeBytes?: number;
  retries: number;
  /** false, or the GNU Parallel --halt rule ("now,fail=1", …); `true` (older runs) = now,fail=1 */
  halt: boolean | string;
  /** see RunOptions.stopEarly (absent = the default) */
  stopEarly?: number;
  /** the user's extra env (not process.env) */
  env: Record<string, string>;
  threadEnv: Record<string, string>;
  cores: { logical: number; physical: number };
  /** host name and CPU model of the machine of the latest session */
  machine?: { host: string; cpu: string };
  python?: { executable: string; version?: string };
  createdAt: number;
  sessions: RunSession[];
}

/** One line of run history (listRuns). */
export interface RunSummary {
  runId: string;
  /** absolute run directory */
  dir: string;
  /** the same as `dir` (both names are in use) */
  runDir: string;
  label?: string;
  /** 'interrupted' when the runner died without finishing */
  status: RunStatus;
  counts: RunReport['counts'];
  startedAt: number;
  endedAt: number | null;
  wallMs: number;
  backend: 'local' | 'slurm';
  workers: number;
  threads: number;
  /** human summary of what ran, e.g. "python analyze.py" */
  commandLabel: string;
}

/** Files in a run directory (relative names). */
export const RUN_FILES = {
  definition: 'run.json',
  journal: 'journal.ndjson',
  report: 'report.json',
  logs: 'logs',
  resultsCsv: 'results.csv',
  resultsNdjson: 'results.ndjson',
  /** tasks their Python host saw exit 0, before the runner journaled them (see completions.ts) */
  completions: 'completions.log',
} as const;

/** Thrown for bad input before anything starts; the CLI maps it to exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
