/**
 * Speedup maths for the scaling sweep and the run report: measured speedup and efficiency, Amdahl's
 * law fitted to measured points (least squares over the serial fraction), and the Karp–Flatt
 * experimentally determined serial fraction per point. Pure functions; no I/O.
 */

/** Measured speedup of a parallel wall time against the serial baseline (both in the same unit). */
export function speedupOf(serialMs: number, parallelMs: number): number {
  if (!(serialMs > 0) || !(parallelMs > 0)) return 0;
  return serialMs / parallelMs;
}

/** Parallel efficiency: speedup per processor actually used (1 = perfect scaling). */
export function efficiencyOf(speedup: number, processors: number): number {
  if (!(processors > 0)) return 0;
  return speedup / processors;
}

/**
 * Amdahl's law: the speedup on `p` processors of a program whose fraction `serialFraction` of the
 * serial time cannot be parallelised.
 */
export function amdahlSpeedup(serialFraction: number, p: number): number {
  const f = Math.min(1, Math.max(0, serialFraction));
  return 1 / (f + (1 - f) / p);
}

/**
 * Karp–Flatt metric: the serial fraction implied by ONE measured point,
 * e = (1/S − 1/p) / (1 − 1/p). Undefined (null) for p ≤ 1 or a non-positive speedup.
 * A value that grows with p points at parallel overhead (start-up, contention) rather than serial code.
 */
export function karpFlatt(speedup: number, p: number): number | null {
  if (!(p > 1) || !(speedup > 0)) return null;
  return (1 / speedup - 1 / p) / (1 - 1 / p);
}

/** One measured point for a fit: `p` processors gave speedup `speedup` over the serial run. */
export interface ScalingPoint {
  p: number;
  speedup: number;
}

export interface AmdahlFit {
  /** Fitted serial fraction in [0, 1]. */
  serialFraction: number;
  /** Root-mean-square error of the fitted speedups against the measured ones. */
  rmse: number;
  /** rmse relative to the mean measured speedup of the fitted points (the fit's quality: 0.02 = within 2%) */
  relError: number;
  /** Largest speedup the fit predicts for infinitely many processors (1/f; Infinity for f = 0). */
  maxSpeedup: number;
  /** Points used (p > 1). */
  points: number;
}

/**
 * Least-squares fit of Amdahl's law. Amdahl is linear in f once written in normalised time:
 * T(p)/T(1) = 1/S = 1/p + f·(1 − 1/p). Minimising Σ (1/S_i − 1/p_i − f·x_i)², x_i = 1 − 1/p_i gives
 * f = Σ x_i·y_i / Σ x_i², y_i = 1/S_i − 1/p_i. Fitting the times rather than the speedups weights the
 * points by what was measured (wall times) and has a closed form, so exact synthetic data are
 * recovered exactly. Returns null when no point has p > 1.
 */
export function fitAmdahl(points: readonly ScalingPoint[]): AmdahlFit | null {
  let sxx = 0;
  let sxy = 0;
  let n = 0;
  for (const pt of points) {
    if (!(pt.p > 1) || !(pt.speedup > 0) || !Number.isFinite(pt.speedup)) continue;
    const x = 1 - 1 / pt.p;
    const y = 1 / pt.speedup - 1 / pt.p;
    sxx += x * x;
    sxy += x * y;
    n++;
  }
  if (n === 0 || sxx === 0) return null;
  // Superlinear points (cache effects) give f < 0; noise can give f > 1. Amdahl's f lives in [0, 1].
  const f = Math.min(1, Math.max(0, sxy / sxx));
  let sse = 0;
  let sum = 0;
  for (const pt of points) {
    if (!(pt.p > 1) || !(pt.speedup > 0) || !Number.isFinite(pt.speedup)) continue;
    const d = amdahlSpeedup(f, pt.p) - pt.speedup;
    sse += d * d;
    sum += pt.speedup;
  }
  const rmse = Math.sqrt(sse / n);
  return { serialFraction: f, rmse, relError: rmse / (sum / n), maxSpeedup: f > 0 ? 1 / f : Infinity, points: n };
}

/** Summary statistics of repeated wall-time measurements of one configuration. */
export interface SampleStats {
  n: number;
  median: number;
  min: number;
  max: number;
  mean: number;
  /** Relative spread (max − min) / median; 0 for a single sample. */
  spread: number;
}

/** Median, extremes and relative spread of repeated measurements (throws on an empty list). */
export function sampleStats(samples: readonly number[]): SampleStats {
  if (samples.length === 0) throw new RangeError('sampleStats: no samples');
  const s = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  const min = s[0];
  const max = s[s.length - 1];
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return { n: s.length, median, min, max, mean, spread: median > 0 ? (max - min) / median : 0 };
}
