/**
 * How many files the next free slot gets at once. Short tasks (under BATCH_BELOW_MS on average) spend
 * most of their time in the round trip runner → worker → host and back; in a batch, the slot's Python
 * host starts each task as soon as the one before ends (results still come back, and are journaled,
 * one by one). A batch holds about BATCH_TARGET_MS of work, and at most a quarter of each slot's share
 * of what is left, so the slots still end together. Long tasks, runs without a Python host and inputs
 * whose total is not known (stdin, pipes) go one at a time, and so do the first files while the early
 * stop is undecided. PARALLEL_RUN_BATCH=1 turns batches off. Pure: the engine tells it what finished.
 */

/** Tasks shorter than this on average go in batches... */
export const BATCH_BELOW_MS = 100;
/** ...of about this much work... */
export const BATCH_TARGET_MS = 250;
/** ...and at most this many files (PARALLEL_RUN_BATCH sets another maximum; 1 = no batches). */
export const BATCH_MAX = 64;
/** In-process calls (--call) of a millisecond or less: the host's reply per call is all they cost, so a
 *  batch may hold more of them (still BATCH_TARGET_MS of work at most). */
export const BATCH_MAX_CALL = 1024;

/** The most files in a batch: PARALLEL_RUN_BATCH when it is a whole number ≥ 1, else BATCH_MAX
 *  (BATCH_MAX_CALL for in-process calls). */
export function batchLimitOf(env: string | undefined, call = false): number {
  const v = Number(env);
  return Number.isInteger(v) && v >= 1 ? v : call ? BATCH_MAX_CALL : BATCH_MAX;
}

/** What the engine knows when a slot is free. */
export interface BatchContext {
  /** the slots start tasks through a Python host (only a host runs batches) */
  hosted: boolean;
  /** the early stop has not yet decided (a batch would start files after the Kth failure) */
  earlyStopUndecided: boolean;
  /** the input's total, or null while unknown (stdin, a pipe) */
  total: number | null;
  /** files taken from the input so far */
  taken: number;
}

export class BatchPolicy {
  /** mean wall time of recent tasks (exponential average; undefined before the first) */
  private recentMs: number | undefined;
  private finished = 0;

  constructor(
    private readonly workers: number,
    /** the most files in a batch (1 = no batches) */
    readonly limit = batchLimitOf(process.env.PARALLEL_RUN_BATCH),
  ) {}

  /** A task finished (whatever its status) after `wallMs`. */
  taskFinished(wallMs: number): void {
    this.finished++;
    this.recentMs = this.recentMs === undefined ? wallMs : 0.8 * this.recentMs + 0.2 * wallMs;
  }

  /** The recent mean wall time, ms (undefined before the first task finished). */
  get recentWallMs(): number | undefined {
    return this.recentMs;
  }

  /** How many files the next free slot gets (1 = one at a time). */
  size(c: BatchContext): number {
    // until every slot's first task finished, one at a time
    if (!c.hosted || this.limit <= 1 || this.recentMs === undefined || this.finished < this.workers) return 1;
    if (c.earlyStopUndecided) return 1;
    if (this.recentMs >= BATCH_BELOW_MS) return 1;
    let k = Math.min(this.limit, Math.floor(BATCH_TARGET_MS / Math.max(this.recentMs, 1)));
    // without a total (stdin, a pipe: read once, maybe slowly) nothing waits for more input
    if (c.total === null) return 1;
    k = Math.min(k, Math.floor((c.total - c.taken) / (this.workers * 4)) + 1);
    return Math.max(1, k);
  }
}
