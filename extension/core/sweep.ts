/**
 * Scaling sweep planning and analysis (pure; the runner that executes a plan is sweepRunner.ts).
 *
 * A sweep runs a sample of the user's files under several (workers, BLAS threads) configurations:
 * workers ∈ {1, 2, 4, …, cores} (cores itself included when it is not a power of two) × threads
 * from the same ladder with workers × threads ≤ cores, plus ONE deliberately oversubscribed
 * configuration to show what stacking process pools on multi-threaded BLAS costs. The sample is sized
 * from a probe of the per-file time so the whole sweep fits a time budget; points whose repeated
 * timings disagree are repeated; the recommendation prefers fewer resources when the difference is
 * within the measured noise.
 */
import { amdahlVerdict, fasterOrSlower, processorsUsed as sharedProcessorsUsed, type AmdahlVerdict } from '../shared/figures';
import { amdahlSpeedup, efficiencyOf, fitAmdahl, karpFlatt, sampleStats, speedupOf, type AmdahlFit } from './speedup';

/** One configuration of the sweep grid. */
export interface SweepConfig {
  workers: number;
  threads: number;
  /** workers × threads exceeds the cores: measured to show its cost, never recommended. */
  oversubscribed: boolean;
}

/** 1, 2, 4, …, up to `max`, plus `max` itself when it is not a power of two. */
export function powerLadder(max: number): number[] {
  const n = Math.max(1, Math.floor(max));
  const out: number[] = [];
  for (let v = 1; v <= n; v *= 2) out.push(v);
  if (out[out.length - 1] !== n) out.push(n);
  return out;
}

export interface GridOptions {
  /** Also vary BLAS threads (default true). False = threads fixed at 1 (scripts that use no BLAS). */
  varyThreads?: boolean;
  /** Add the oversubscribed configuration (default true). */
  oversubscribed?: boolean;
}

/**
 * The sweep grid for a machine with `cores` logical cores, serial baseline (1 × 1) first, then by
 * workers and threads. The oversubscribed point is what a process pool gets when BLAS keeps its
 * default of one thread per core in every process: workers = cores, threads = cores (on one core:
 * 2 workers).
 */
export function planGrid(cores: number, opts: GridOptions = {}): SweepConfig[] {
  const c = Math.max(1, Math.floor(cores));
  const ladder = powerLadder(c);
  const threadLadder = opts.varyThreads === false ? [1] : ladder;
  const grid: SweepConfig[] = [];
  for (const w of ladder) {
    for (const t of threadLadder) {
      if (w * t <= c) grid.push({ workers: w, threads: t, oversubscribed: false });
    }
  }
  if (opts.oversubscribed !== false) {
    grid.push(c > 1 && opts.varyThreads !== false
      ? { workers: c, threads: c, oversubscribed: true }
      : { workers: 2 * c, threads: 1, oversubscribed: true });
  }
  return grid;
}

/** Processors a configuration can actually use: workers × threads, capped at the cores. */
export function processorsUsed(cfg: { workers: number; threads: number }, cores: number): number {
  return sharedProcessorsUsed(cfg.workers, cfg.threads, cores);
}

export interface SampleSizeInput {
  /** Probe: mean wall ms of one file run serially (including interpreter start-up). */
  perFileMs: number;
  /** Fixed cost of starting and finishing one run (pool, journal, report), ms; default 0. */
  perRunOverheadMs?: number;
  /** Files available. */
  totalFiles: number;
  /** Whole-sweep budget, seconds. */
  budgetSec: number;
  cores: number;
  grid: readonly SweepConfig[];
  /** Measurements per point planned up front (default 2: the least that shows a spread). */
  repeats?: number;
  /** Share of the budget kept back for repeating noisy points (default 0.2). */
  repeatReserve?: number;
  /** The whole budget when `budgetSec` is what is left of it (for the messages). */
  totalBudgetSec?: number;
  /** Smallest useful sample (default: 2 × the most workers, so every worker gets files). */
  minFiles?: number;
}

export interface SamplePlan {
  /** Files to run per configuration. */
  sampleSize: number;
  /** Predicted sweep duration in seconds for that sample (repeats included, reserve excluded). */
  estimatedSec: number;
  repeats: number;
  /** Human-readable caveats (budget too small, all files used, …). */
  notes: string[];
}

/**
 * Sizes the sample so the sweep fits the budget. Cost model per configuration: a fixed run overhead
 * plus n files in n · perFile / min(workers, cores) — BLAS threads are assumed to give nothing
 * (conservative: the estimate can only come out long). The sample is rounded down to a multiple of the most workers
 * so no configuration ends with idle workers on a ragged last wave.
 */
export function planSampleSize(input: SampleSizeInput): SamplePlan {
  const notes: string[] = [];
  const repeats = Math.max(1, Math.floor(input.repeats ?? 2));
  const reserve = Math.min(0.9, Math.max(0, input.repeatReserve ?? 0.2));
  const perFile = Math.max(1e-3, input.perFileMs);
  const maxWorkers = Math.max(1, ...input.grid.map((g) => Math.min(g.workers, Math.max(1, input.cores))));
  // ms per file summed over the grid: the cost of adding one file to the sample
  const costPerFile = repeats * input.grid.reduce((a, g) => a + perFile / Math.max(1, Math.min(g.workers, input.cores)), 0);
  const overheadMs = repeats * input.grid.length * Math.max(0, input.perRunOverheadMs ?? 0);
  const usableMs = input.budgetSec * 1000 * (1 - reserve) - overheadMs;
  let n = Math.floor(usableMs / costPerFile);
  if (n >= maxWorkers) n -= n % maxWorkers;
  const minFiles = Math.max(1, input.minFiles ?? 2 * maxWorkers);
  if (n < minFiles) {
    n = minFiles;
    const budget = input.totalBudgetSec && input.totalBudgetSec > input.budgetSec
      ? `${Math.round(input.totalBudgetSec)} s budget (${Math.round(input.budgetSec)} s left after the probe)`
      : `${Math.round(input.budgetSec)} s budget`;
    notes.push(`The ${budget} is too small for files of about ${fmtMs(perFile)} each; using the minimum useful sample of ${minFiles} files (about ${Math.round((n * costPerFile + overheadMs) / 1000)} s).`);
  }
  if (n > input.totalFiles) {
    n = input.totalFiles;
    notes.push(`All ${input.totalFiles} files fit in the budget; the sweep uses every file.`);
  }
  if (n < maxWorkers) notes.push(`Only ${n} file(s): configurations with more than ${n} workers cannot keep every worker busy, so their speedup is capped.`);
  return { sampleSize: n, estimatedSec: (n * costPerFile + overheadMs) / 1000, repeats, notes };
}

/**
 * An evenly spaced sample of `n` items (first, …, last), so files of every kind and size are
 * represented rather than just the first few in directory order. Keeps the input order.
 */
export function pickSample<T>(items: readonly T[], n: number): T[] {
  const k = Math.max(0, Math.min(items.length, Math.floor(n)));
  if (k === items.length) return [...items];
  if (k === 0) return [];
  if (k === 1) return [items[0]];
  const out: T[] = [];
  for (let i = 0; i < k; i++) out.push(items[Math.round((i * (items.length - 1)) / (k - 1))]);
  return out;
}

export interface RepeatPolicy {
  /** Repeat while relative spread (max − min)/median exceeds this (default 0.10). */
  maxSpread?: number;
  /** Never more than this many measurements per point (default 5). */
  maxRepeats?: number;
  /** At least this many (default 2). */
  minRepeats?: number;
}

/** Whether a point with these wall times needs another measurement. */
export function needsRepeat(samplesMs: readonly number[], policy: RepeatPolicy = {}): boolean {
  const min = policy.minRepeats ?? 2;
  const max = policy.maxRepeats ?? 5;
  if (samplesMs.length < min) return true;
  if (samplesMs.length >= max) return false;
  return sampleStats(samplesMs).spread > (policy.maxSpread ?? 0.1);
}

/** The raw measurements of one configuration. */
export interface PointSamples extends SweepConfig {
  /** Wall time of each repeat, ms. */
  samplesMs: number[];
  /** Tasks that did not succeed in any repeat (a failing sample makes timings meaningless). */
  failures?: number;
  /** Run ids of the repeats (run history). */
  runIds?: string[];
}

/** One row of the sweep table. */
export interface SweepPoint extends PointSamples {
  medianMs: number;
  minMs: number;
  maxMs: number;
  /** Relative spread (max − min)/median. */
  spread: number;
  /** Against the 1 × 1 serial median. */
  speedup: number;
  /** speedup / processors used (workers × threads capped at cores). */
  efficiency: number;
  processors: number;
  /** Karp–Flatt serial fraction (null for the serial point). */
  karpFlatt: number | null;
}

export interface Recommendation {
  workers: number;
  threads: number;
  speedup: number;
  /** Why this point won (ties and noise explained). */
  reason: string;
}

export interface SweepAnalysis {
  cores: number;
  baselineMs: number;
  points: SweepPoint[];
  /** Amdahl fit of speedup vs workers, one per thread count with at least one point at p > 1. */
  fits: Array<{ threads: number; fit: AmdahlFit }>;
  /** The fit used for the headline serial fraction (threads = 1 when it exists). */
  amdahl: AmdahlFit | null;
  /** Whether that fit may be quoted (enough points, a good enough fit, no ceiling below a measured speedup). */
  verdict: AmdahlVerdict;
  recommendation: Recommendation | null;
  notes: string[];
}

export interface RecommendOptions {
  /** Differences smaller than this relative amount are always treated as noise (default 0.05). */
  minTolerance?: number;
}

/**
 * Turns raw measurements into the sweep table, fits and recommendation. The baseline is the 1 × 1
 * point (required). Speedup uses medians: robust to one slow outlier run.
 */
export function analyseSweep(raw: readonly PointSamples[], cores: number, opts: RecommendOptions = {}): SweepAnalysis {
  const notes: string[] = [];
  const base = raw.find((r) => r.workers === 1 && r.threads === 1 && r.samplesMs.length > 0);
  if (!base) throw new RangeError('analyseSweep: the serial 1 × 1 point is missing; it is the baseline every speedup is measured against');
  const baselineMs = sampleStats(base.samplesMs).median;
  const points: SweepPoint[] = [];
  for (const r of raw) {
    if (r.samplesMs.length === 0) continue;
    const st = sampleStats(r.samplesMs);
    const processors = processorsUsed(r, cores);
    const s = speedupOf(baselineMs, st.median);
    points.push({
      ...r,
      medianMs: st.median, minMs: st.min, maxMs: st.max, spread: st.spread,
      speedup: s, efficiency: efficiencyOf(s, processors), processors,
      karpFlatt: karpFlatt(s, processors),
    });
  }
  const fits: SweepAnalysis['fits'] = [];
  for (const t of [...new Set(points.filter((p) => !p.oversubscribed).map((p) => p.threads))].sort((a, b) => a - b)) {
    // Speedup vs workers within one thread count; for t > 1 the series' own 1-worker point is its
    // baseline, so the fit describes how the workers scale and is not polluted by BLAS gains.
    const series = points.filter((p) => p.threads === t && !p.oversubscribed);
    const own = series.find((p) => p.workers === 1);
    if (!own) continue;
    const fit = fitAmdahl(series.map((p) => ({ p: p.workers, speedup: speedupOf(own.medianMs, p.medianMs) })));
    if (fit) fits.push({ threads: t, fit });
  }
  const amdahl = fits.find((f) => f.threads === 1)?.fit ?? fits[0]?.fit ?? null;
  const verdict = amdahlVerdict(amdahl, Math.max(0, ...points.map((p) => p.speedup)));
  if (points.some((p) => (p.failures ?? 0) > 0)) notes.push('Some tasks failed during the sweep; timings of those configurations include failed runs.');
  const over = points.find((p) => p.oversubscribed);
  const best = recommend(points, opts);
  if (over && best) {
    const rel = over.medianMs / (points.find((p) => p.workers === best.workers && p.threads === best.threads)?.medianMs ?? over.medianMs);
    notes.push(rel > 1.05
      ? `Oversubscribed (${over.workers} workers × ${over.threads} threads on ${cores} cores) was ${fasterOrSlower(1 / rel)} than the recommendation.`
      : `Oversubscribed (${over.workers} workers × ${over.threads} threads on ${cores} cores) cost nothing measurable here; it still risks slowdowns when tasks use BLAS heavily.`);
  }
  return { cores, baselineMs, points, fits, amdahl, verdict, recommendation: best, notes };
}

/**
 * Picks the configuration to recommend. The fastest point (lowest median) sets the bar; every
 * non-oversubscribed point whose median is within the noise of it is a candidate, where noise =
 * max(minTolerance, the mean relative spread of the two points). Among candidates the fewest processors win
 * (workers × threads), then fewer BLAS threads (process parallelism over files scales more
 * predictably than BLAS threading), then the faster median. Ties and noise are named in the reason.
 */
export function recommend(points: readonly SweepPoint[], opts: RecommendOptions = {}): Recommendation | null {
  const eligible = points.filter((p) => !p.oversubscribed && (p.failures ?? 0) === 0 && p.medianMs > 0);
  if (eligible.length === 0) return null;
  const minTol = opts.minTolerance ?? 0.05;
  const fastest = eligible.reduce((a, b) => (b.medianMs < a.medianMs ? b : a));
  const within = (p: SweepPoint): boolean => {
    // spread is the full relative range (max − min)/median; two points are indistinguishable when
    // their medians differ by less than the mean of the two ranges
    const tol = Math.max(minTol, (fastest.spread + p.spread) / 2);
    return p.medianMs <= fastest.medianMs * (1 + tol);
  };
  const candidates = eligible.filter(within).sort((a, b) =>
    a.workers * a.threads - b.workers * b.threads || a.threads - b.threads || a.medianMs - b.medianMs);
  const pick = candidates[0];
  let reason: string;
  if (pick === fastest) {
    reason = candidates.length > 1
      ? `fastest, and no configuration using fewer resources came within the measurement noise`
      : `fastest measured configuration`;
  } else {
    const diff = ((pick.medianMs / fastest.medianMs - 1) * 100).toFixed(1);
    reason = `within the measurement noise (${diff}% slower) of the fastest (${fastest.workers} × ${fastest.threads}) while using fewer resources`;
  }
  return { workers: pick.workers, threads: pick.threads, speedup: pick.speedup, reason };
}

/** The Amdahl curve for plotting: fitted speedup at each worker count 1..maxP. */
export function amdahlCurve(fit: AmdahlFit, maxP: number): Array<{ p: number; speedup: number }> {
  const out: Array<{ p: number; speedup: number }> = [];
  for (let p = 1; p <= Math.max(1, maxP); p++) out.push({ p, speedup: amdahlSpeedup(fit.serialFraction, p) });
  return out;
}

function fmtMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}
