/**
 * Worker method names, parameters and results. Each worker entry in
 * extension/workers/ implements one of these interfaces; callers use the method names from here.
 * Data crosses the boundary as plain structured-cloneable values (typed arrays, not class instances).
 */

// ---------------------------------------------------------------------------------------------
// matrixWorker: the tutorial's chunked mat · matᵀ with ml-matrix
// ---------------------------------------------------------------------------------------------

/** A dense row-major matrix as plain data. `data` may live on a SharedArrayBuffer (no copy). */
export interface PlainMatrix {
  rows: number;
  columns: number;
  data: Float64Array;
}

/** One computed row block and where/when it was computed (the demo's timeline). */
export interface MatrixBlockResult {
  block: PlainMatrix;
  /** worker_threads threadId of the worker that computed it. */
  threadId: number;
  /** epoch ms */
  start: number;
  end: number;
}

export interface MatrixWorkerApi {
  /** Rows [rowStart, rowEnd) of a · aᵀ (a (rowEnd − rowStart) × a.rows block). `key` names `a` so
   *  a worker converts it to an ml-matrix Matrix once and reuses it for later blocks. */
  productBlock(params: { a: PlainMatrix; key: string; rowStart: number; rowEnd: number }): MatrixBlockResult;
  /** The whole a · aᵀ in one ml-matrix call (the serial reference). */
  productSerial(params: { a: PlainMatrix }): PlainMatrix;
}

/** Bundle name of the matrix worker: dist/workers/matrixWorker.js. */
export const MATRIX_WORKER = 'matrixWorker';

// ---------------------------------------------------------------------------------------------
// taskWorker: one pool worker = one slot of the batch engine; runs one task per call
// ---------------------------------------------------------------------------------------------

/** Per-run data every task worker thread receives once (workerData). */
export interface TaskWorkerInit {
  /** process env + user env + thread env + the run's session marker, given to every child */
  env: Record<string, string>;
  /** bytes of stdout/stderr kept as tails in the record */
  tailBytes: number;
  /** grace between SIGTERM and SIGKILL of a process group, ms */
  killGraceMs: number;
  /** Spawn through a Python host that measures children with os.wait4 (else Node spawns directly). */
  host?: {
    python: string;
    hostScript: string;
    mode: 'warm' | 'exec' | 'call';
    script?: string;
    cwd: string;
    call?: string;
    /** the run's completions file: a task given a completion token (RunTaskParams.done) that exits 0 is appended there by its host at once */
    doneFile?: string;
  };
  /**
   * Shared with the runner (SharedArrayBuffer) of 1 + 2 × workers entries: [0] = stop flag (1 once the
   * run is cancelled/halted), [slot] (1-based, like {%}) = pid of the task the slot runs now when known
   * (0 = none), [workers + slot] = pid of the Python host running the slot's task (the runner stops it
   * with SIGUSR1). Lets the runner kill running tasks and the worker refuse to let a task outlive a stop,
   * without a message per task.
   */
  shared?: Int32Array;
  /** Linux: the run's cgroup directory; each task runs in its sub-cgroup named by PARALLEL_SEQ (see core/run/taskCgroup.ts) */
  cgroup?: string;
}

export interface RunTaskParams {
  index: number;
  slot: number;
  attempt: number;
  /** full argv (exec/direct), or [file, ...args] for a warm host */
  argv: string[];
  /** argv[0] already resolved on PATH (once per run, not once per task); absent = search PATH */
  exe?: string;
  cwd: string;
  /** absolute log paths */
  stdoutLog: string;
  stderrLog: string;
  /** 0 = none */
  timeoutMs: number;
  /** per-task env additions (PARALLEL_SEQ, PARALLEL_JOBSLOT) */
  env: Record<string, string>;
  /** a run over tuples: the task's values by name (header, --grid, "file", input1 ...) */
  inputs?: Record<string, string>;
  /** the completion token a Python host writes to the run's completions file when the task exits 0 (see core/run/completions.ts) */
  done?: string;
}

export interface RunTaskResult {
  start: number;
  end: number;
  /** the duration to the microsecond when a Python host measured it (start and end are whole ms) */
  wallMs?: number;
  exitCode: number | null;
  signal: string | null;
  cpuUserSec: number;
  cpuSysSec: number;
  maxRssKb: number | null;
  stdoutTail: string;
  stderrTail: string;
  timedOut: boolean;
  /** the program could not be started (or the host failed): the message is also in the stderr log */
  spawnError?: string;
  /** the child's pid (= its process group), when it started */
  pid?: number;
  /** how CPU/RSS were measured: 'wait4' exact, 'proc' sampled /proc while running */
  measured: 'wait4' | 'proc';
  /** an in-process call's result as JSON text, sent by its host with the reply (no result file) */
  resultJson?: string;
}

/** Events a task worker emits while a task (or a batch) runs (workerpool.workerEmit). */
export type TaskWorkerEvent =
  | { type: 'spawned'; index: number; attempt: number; pid: number; t: number }
  /** tasks of a batch that ended (runBatch), sent within 20 ms of their end, several at a time; the
   *  runner journals each as it gets it */
  | { type: 'tasksDone'; done: Array<{ index: number; attempt: number; result: RunTaskResult }> };

export interface TaskWorkerApi {
  runTask(params: RunTaskParams): Promise<RunTaskResult>;
  /**
   * Runs short tasks back to back on this slot (same slot for all), through the slot's Python host
   * with every request queued at once: no round trip through the runner between two tasks. Results
   * come in 'tasksDone' events (within 20 ms of their task's end); resolves with how many ran once all did.
   * Only for runs with a Python host.
   */
  runBatch(params: RunTaskParams[]): Promise<number>;
  /** Start the warm/exec host now (so the interpreter start is not billed to the first task). */
  warmUp(): Promise<{ imports: string[]; failedImports: string[]; host: boolean }>;
}

/** Bundle name of the task worker: dist/workers/taskWorker.js. */
export const TASK_WORKER = 'taskWorker';
/** Bundle name of the per-run watchdog process: dist/workers/watchdog.js. */
export const WATCHDOG = 'watchdog';

// ---------------------------------------------------------------------------------------------
// historyWorker: run history off the extension host's thread
// ---------------------------------------------------------------------------------------------

/** The report of a run directory, rebuilt from its journal when report.json is missing or stale. */
export interface HistoryWorkerApi {
  readReportHere(runDir: string): Promise<import('../core/run/types').RunReport | undefined>;
}

/** Bundle name of the history worker: dist/workers/historyWorker.js. */
export const HISTORY_WORKER = 'historyWorker';
