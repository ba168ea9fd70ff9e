/**
 * What the report says, derived from a RunReport (pure; unit-tested in Node). The webview renders
 * these facts; keeping the reasoning here means the sentences a user reads are tested.
 */
import type { RunReport, TaskRecord } from '../../core/run/types';
import type { SweepResult } from '../../shared/protocol';
import { amdahlVerdict, recommendationText, workersThreads } from '../../shared/figures';
import { formatFactor } from './format';

/** Timeline classes: each drawn distinctly (colour AND pattern, for colour-blind and HC themes). */
export type BarKind = 'ok' | 'retried' | 'failed' | 'timedOut' | 'cancelled' | 'running';

export function barKind(t: Pick<TaskRecord, 'status' | 'attempts'>): BarKind | undefined {
  switch (t.status) {
    case 'succeeded':
      return t.attempts > 1 ? 'retried' : 'ok';
    case 'failed':
      return 'failed';
    case 'timedOut':
      return 'timedOut';
    case 'cancelled':
      return 'cancelled';
    case 'skipped':
      return undefined; // resumed from an earlier run: nothing ran, nothing to draw
  }
}

export interface OversubscriptionFacts {
  factor: number;
  totalThreads: number;
  level: 'ok' | 'warning';
  /** plain-language explanation; always present */
  text: string;
}

export function oversubscriptionFacts(r: RunReport): OversubscriptionFacts {
  const logical = Math.max(1, r.cores.logical);
  const total = r.workers * r.threads;
  const factor = Number.isFinite(r.oversubscription) && r.oversubscription > 0 ? r.oversubscription : total / logical;
  if (factor > 1 + 1e-9) {
    const fit = Math.max(1, Math.floor(logical / Math.max(1, r.workers)));
    return {
      factor,
      totalThreads: total,
      level: 'warning',
      text:
        `Oversubscribed ${formatFactor(factor)}: ${r.workers} workers × ${r.threads} BLAS threads = ${total} threads compete for ` +
        `${logical} logical cores. Threads take turns and spin-wait, so runs are often slower than with fewer threads. ` +
        `Set threads per task to ${fit} (cores ÷ workers) or use fewer workers.`,
    };
  }
  return {
    factor,
    totalThreads: total,
    level: 'ok',
    text: `${r.workers} workers × ${r.threads} BLAS threads = ${total} threads on ${logical} logical cores: no oversubscription.`,
  };
}

/** Slowest succeeded tasks, slowest first, with how many times the median they took (failures have their own section). */
export function stragglers(tasks: readonly TaskRecord[], n = 10): Array<{ task: TaskRecord; timesMedian: number }> {
  const ran = tasks.filter((t) => t.status === 'succeeded');
  if (ran.length === 0) return [];
  const med = median(ran.map((t) => t.wallMs));
  // partial selection would be O(n); a sort of 10k numbers is ~1 ms and keeps this obvious
  const top = [...ran].sort((a, b) => b.wallMs - a.wallMs || a.index - b.index).slice(0, n);
  return top.map((task) => ({ task, timesMedian: med > 0 ? task.wallMs / med : NaN }));
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Number of timeline lanes: the worker slots (a resumed or Slurm run may use more slots than workers). */
export function laneCount(r: Pick<RunReport, 'workers'>, tasks: readonly Pick<TaskRecord, 'slot'>[]): number {
  let max = Math.max(1, r.workers | 0);
  for (const t of tasks) if (t.slot > max) max = t.slot;
  return max;
}

/** Amdahl's law: speedup on p workers with serial fraction f. */
export function amdahl(p: number, f: number): number {
  return 1 / (f + (1 - f) / p);
}

/**
 * The sweep chart's data, x = workers: measured speedup per BLAS thread count (oversubscribed points
 * are left out: they are in the table, with their cost), the ideal line and the Amdahl fit (null
 * when the fit may not be quoted).
 */
export function sweepCurves(s: SweepResult): { x: number[]; measured: Array<{ threads: number; y: Array<number | null> }>; ideal: number[]; fit: number[] | null } {
  const maxW = Math.max(1, ...s.points.map((p) => p.workers));
  const xs = new Set<number>();
  for (let w = 1; w <= maxW; w++) xs.add(w);
  for (const p of s.points) xs.add(p.workers);
  const x = [...xs].sort((a, b) => a - b);
  const threads = [...new Set(s.points.filter((p) => !p.oversubscribed).map((p) => p.threads))].sort((a, b) => a - b);
  const measured = threads.map((t) => {
    const at = new Map<number, number>();
    for (const p of s.points) if (p.threads === t && !p.oversubscribed) at.set(p.workers, Math.max(at.get(p.workers) ?? 0, p.speedup));
    return { threads: t, y: x.map((w) => at.get(w) ?? null) };
  });
  // the fit is drawn only when it may be quoted (enough points, close enough to them)
  const f = sweepVerdict(s).shown && Number.isFinite(s.fit?.serialFraction) ? Math.min(1, Math.max(0, s.fit.serialFraction)) : NaN;
  return {
    x,
    measured,
    ideal: x.map((w) => w),
    // no curve at all when the fit may not be quoted (an all-NaN series would break the chart's scale)
    fit: Number.isFinite(f) ? x.map((w) => amdahl(w, f)) : null,
  };
}

/** Whether the sweep's Amdahl fit may be quoted, in one sentence (the same one the notification and CLI print). */
export function sweepSentence(s: SweepResult): string {
  return sweepVerdict(s).sentence;
}

export function sweepVerdict(s: SweepResult) {
  return amdahlVerdict(s.fit, Math.max(0, ...s.points.map((p) => (Number.isFinite(p.speedup) ? p.speedup : 0))));
}

/** "Recommended: 2 workers × 1 thread (1.96× faster than 1 worker × 1 thread on 2 cores): reason." */
export function sweepRecommendation(s: SweepResult): string {
  const rec = s.recommendation;
  if (!rec) return '';
  const point = s.points.find((p) => p.workers === rec.workers && p.threads === rec.threads && !p.oversubscribed);
  const speedup = rec.speedup ?? point?.speedup;
  const head = speedup !== undefined ? recommendationText({ ...rec, speedup }, s.cores ?? Math.max(...s.points.map((p) => p.workers))) : `Recommended: ${workersThreads(rec.workers, rec.threads)}`;
  return `${head}${rec.reason ? `: ${rec.reason}` : ''}.`;
}

/** Run status in words for the header badge. */
export function statusText(r: Pick<RunReport, 'status' | 'counts'>): string {
  switch (r.status) {
    case 'running':
      return r.counts.total ? `running — ${r.counts.done} of ${r.counts.total}` : `running — ${r.counts.done} done`;
    case 'succeeded':
      return 'succeeded';
    case 'failed':
      return `finished with ${r.counts.failed + r.counts.timedOut} failed`;
    case 'cancelled':
      return 'cancelled';
    case 'halted':
      return 'halted at first failure';
    case 'interrupted':
      return 'interrupted (resume to finish)';
  }
}

/**
 * The mean number of tasks running over each interval between sample times (like the CPU samples,
 * which are each interval's mean): index 0, with no interval before it, gets the count at that time.
 */
export function meanConcurrency(times: readonly number[], tasks: readonly Pick<TaskRecord, 'start' | 'end' | 'status'>[]): number[] {
  const ev: Array<[number, number]> = [];
  for (const t of tasks) if (t.status !== 'skipped') ev.push([t.start, 1], [t.end, -1]);
  ev.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: number[] = [];
  let j = 0;
  let c = 0;
  for (let i = 0; i < times.length; i++) {
    let area = 0;
    let t = i > 0 ? times[i - 1] : times[0];
    for (; j < ev.length && ev[j][0] <= times[i]; j++) {
      if (ev[j][0] > t) {
        area += c * (ev[j][0] - t);
        t = ev[j][0];
      }
      c += ev[j][1];
    }
    const dt = i > 0 ? times[i] - times[i - 1] : 0;
    out.push(dt > 0 ? (area + c * (times[i] - t)) / dt : c);
  }
  return out;
}
