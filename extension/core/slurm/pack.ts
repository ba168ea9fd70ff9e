/**
 * Packing files into array tasks. A Slurm array task costs about half a second of scheduling per slot
 * (reference measurements), so tiny files are grouped until each task runs for at least
 * `targetTaskSeconds`. Estimates come from measured task times (an earlier run of the same script, or a
 * sweep) when present, else from a stated guess. Files keep their order: task k gets a contiguous
 * slice, which keeps the manifest readable and the shards easy to inspect.
 */

/** Seconds per file assumed when nothing has been measured (stated in the plan's notes). */
export const GUESSED_SECONDS_PER_FILE = 1;

/** Measured wall times: per file (absolute path → ms) and/or a mean for files not measured. */
export interface MeasuredTimes {
  perFileMs?: Map<string, number>;
  meanMs?: number;
  /** where the numbers come from, for the notes ("run 2026-11-25T02-40-00 (120 tasks)") */
  source: string;
}

/** One array task: a contiguous slice of the manifest. */
export interface PackedTask {
  /** 0-based global task number (array index + part offset) */
  task: number;
  /** 0-based index of the first file in the manifest */
  first: number;
  /** number of files */
  count: number;
  /** estimated seconds of work */
  estimateSec: number;
}

export interface PackPlan {
  tasks: PackedTask[];
  /** estimated seconds per file used (mean) */
  secondsPerFile: number;
  estimateTotalSec: number;
  /** "measured" when any time came from history, else "guess" */
  basis: 'measured' | 'guess';
  notes: string[];
}

export interface PackOptions {
  /** target seconds of work per array task (slurm.targetTaskSeconds) */
  targetTaskSeconds: number;
  measured?: MeasuredTimes;
  /** what the inputs are called in the notes: 'files' (default) or 'tuples' (a run over input tuples) */
  unit?: 'files' | 'tuples';
  /** upper bound on the number of tasks (e.g. a user cap); default: number of files */
  maxTasks?: number;
}

/**
 * Packs `files` (in order) into array tasks of about `targetTaskSeconds` each.
 * M = ceil(total estimate / target), at least 1 and at most the number of files; the cut points
 * split the cumulative estimate evenly, so measured slow files get smaller groups.
 */
export function packFiles(files: readonly string[], opts: PackOptions): PackPlan {
  if (!(opts.targetTaskSeconds > 0)) throw new RangeError(`targetTaskSeconds must be > 0 (got ${opts.targetTaskSeconds})`);
  const n = files.length;
  const notes: string[] = [];
  const unit = opts.unit ?? 'files';
  const one = unit === 'files' ? 'file' : 'tuple';
  if (n === 0) return { tasks: [], secondsPerFile: 0, estimateTotalSec: 0, basis: 'guess', notes };
  const m = opts.measured;
  const measuredMean = m?.meanMs !== undefined && m.meanMs >= 0 ? m.meanMs / 1000 : meanOf(m?.perFileMs);
  const fallback = measuredMean ?? GUESSED_SECONDS_PER_FILE;
  let measuredCount = 0;
  const est = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const ms = m?.perFileMs?.get(files[i]);
    if (ms !== undefined && ms >= 0) {
      est[i] = ms / 1000;
      measuredCount++;
    } else {
      est[i] = fallback;
    }
  }
  let total = 0;
  for (let i = 0; i < n; i++) total += est[i];
  const basis: PackPlan['basis'] = measuredMean !== undefined ? 'measured' : 'guess';
  if (basis === 'measured') {
    notes.push(`Task times measured in ${m!.source}: ${measuredCount} of ${n} ${unit} by name, the rest at the mean ${fmt(fallback)} s.`);
  } else {
    notes.push(`No measured task times (no earlier run or sweep of this script): guessed ${fmt(GUESSED_SECONDS_PER_FILE)} s per ${one}.`);
  }
  const cap = Math.max(1, Math.min(n, Math.floor(opts.maxTasks ?? n)));
  // A zero estimate (instant tasks) still needs one task.
  const wanted = total > 0 ? Math.ceil(total / opts.targetTaskSeconds - 1e-9) : 1;
  const count = Math.max(1, Math.min(cap, wanted));
  const tasks: PackedTask[] = [];
  let first = 0;
  let acc = 0;
  for (let t = 0; t < count; t++) {
    const remainingTasks = count - t;
    // leave at least one file for every later task
    const lastAllowed = n - remainingTasks;
    const goal = (total * (t + 1)) / count;
    let end = first; // exclusive
    let sum = 0;
    do {
      sum += est[end];
      end++;
    } while (end <= lastAllowed && (t === count - 1 || acc + sum + est[end] / 2 <= goal + 1e-12));
    if (t === count - 1) {
      for (; end < n; end++) sum += est[end];
    }
    tasks.push({ task: t, first, count: end - first, estimateSec: sum });
    acc += sum;
    first = end;
  }
  notes.push(`${n} ${n === 1 ? one : unit} packed into ${count} array task${count === 1 ? '' : 's'} (target ≥ ${fmt(opts.targetTaskSeconds)} s each, estimated ${fmt(total)} s of work).`);
  return { tasks, secondsPerFile: total / n, estimateTotalSec: total, basis, notes };
}

function meanOf(map: Map<string, number> | undefined): number | undefined {
  if (!map || map.size === 0) return undefined;
  let s = 0;
  for (const v of map.values()) s += v;
  return s / map.size / 1000;
}

function fmt(x: number): string {
  return x >= 10 ? x.toFixed(0) : x >= 1 ? x.toFixed(1) : x.toFixed(3);
}

/** One `sbatch` submission: array indices 0..count-1 standing for global tasks offset..offset+count-1. */
export interface ArrayPart {
  part: number;
  offset: number;
  count: number;
}

/**
 * Splits M tasks into arrays no larger than the cluster's MaxArraySize (indices must be
 * < MaxArraySize, so one array holds at most MaxArraySize tasks).
 */
export function splitArrays(taskCount: number, maxArraySize: number): ArrayPart[] {
  if (!(maxArraySize >= 1)) throw new RangeError(`MaxArraySize must be ≥ 1 (got ${maxArraySize})`);
  const parts: ArrayPart[] = [];
  for (let offset = 0, part = 0; offset < taskCount; offset += maxArraySize, part++) {
    parts.push({ part, offset, count: Math.min(maxArraySize, taskCount - offset) });
  }
  return parts;
}

/** `0-(count-1)` plus `%K` when a concurrency limit is set (K ≥ 1). */
export function arraySpec(count: number, maxConcurrent: number): string {
  if (!(count >= 1)) throw new RangeError(`an array needs at least one task (got ${count})`);
  const range = count === 1 ? '0' : `0-${count - 1}`;
  return maxConcurrent > 0 ? `${range}%${maxConcurrent}` : range;
}
