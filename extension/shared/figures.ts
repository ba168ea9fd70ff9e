/**
 * The figures a user reads about a run — speedup, efficiency, throughput, the machine's load — and
 * their rounding, in ONE place. The report panel, the end-of-run notification, the CLI summary,
 * Compare Runs and the sweep all take their numbers and their text from here, so the same run never
 * shows 1.21× in one place and 1.23× in another. Pure (no Node, no DOM): webviews import it too.
 */
import type { LoadSummary, RunReport, TaskRecord } from '../core/run/types';
import { formatDuration } from './format';

export { formatDuration };

// ---------------------------------------------------------------------------------------------
// Rounding

/** 3.456 → "3.46×", 12.34 → "12.3×", 123.4 → "123×" */
export function formatFactor(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  return `${x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)}×`;
}

/** 0.873 → "87%" */
export function formatPercent(fraction: number | null | undefined, digits = 0): string {
  if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) return '—';
  return `${(fraction * 100).toFixed(digits)}%`;
}

/** Files per second (per minute below one a second). */
export function formatRate(perSec: number | null | undefined): string {
  if (perSec === null || perSec === undefined || !Number.isFinite(perSec)) return '—';
  if (perSec >= 100) return `${perSec.toFixed(0)} files/s`;
  if (perSec >= 1) return `${perSec.toFixed(2)} files/s`;
  if (perSec > 0) return `${(perSec * 60).toFixed(perSec * 60 >= 10 ? 1 : 2)} files/min`;
  return '0 files/s';
}

/** Cores' worth of CPU: 0.94 → "0.9 cores", 1 → "1.0 core". */
export function formatCores(cores: number): string {
  const v = Math.max(0, cores).toFixed(1);
  return `${v} core${v === '1.0' ? '' : 's'}`;
}

/** "2 workers × 1 thread" */
export function workersThreads(workers: number, threads: number): string {
  return `${workers} worker${workers === 1 ? '' : 's'} × ${threads} thread${threads === 1 ? '' : 's'}`;
}

/**
 * A speedup as words: "2.40× faster" at or above 1, "2.40× slower" below (1 / speedup), so a
 * slowdown is never printed as a "speedup" of 0.42×. Both sides round through formatFactor.
 */
export function fasterOrSlower(speedup: number): string {
  if (!Number.isFinite(speedup) || speedup <= 0) return 'not measured';
  return speedup >= 1 ? `${formatFactor(speedup)} faster` : `${formatFactor(1 / speedup)} slower`;
}

// ---------------------------------------------------------------------------------------------
// Processors and efficiency

/** Cores a configuration can actually use: workers × threads, capped at the logical cores. */
export function processorsUsed(workers: number, threads: number, logicalCores: number): number {
  return Math.max(1, Math.min(Math.max(1, workers) * Math.max(1, threads), Math.max(1, logicalCores)));
}

// ---------------------------------------------------------------------------------------------
// Load

/** Cores used by other processes above which a measurement is called pessimistic (a fifth of a core). */
export const BUSY_CORES = 0.2;

/** The sentence for a busy machine, or undefined when it was quiet (or nothing was sampled). */
export function busySentence(load: LoadSummary | null | undefined): string | undefined {
  if (!load || !load.busy) return undefined;
  return `the machine was busy: ${formatCores(load.othersCores)} used by other processes; these numbers are pessimistic`;
}

/** "quiet (0.1 cores used by other processes)", "busy: …", "not measured" */
export function loadText(load: LoadSummary | null | undefined): string {
  if (!load || load.samples === 0) return 'not measured';
  return load.busy
    ? `busy: ${formatCores(load.othersCores)} used by other processes`
    : `quiet (${formatCores(load.othersCores)} used by other processes)`;
}

/** Capitalises the first letter (for a sentence that starts with a helper's phrase). */
export function sentenceCase(s: string): string {
  return s ? s[0].toUpperCase() + s.slice(1) : s;
}

// ---------------------------------------------------------------------------------------------
// A run's figures

/** How the tasks ran: a fresh interpreter per file, a forked warm worker, or a call in a warm worker. */
export type RunMode = 'cold' | 'warm' | 'call' | 'command';

export const MODE_TEXT: Record<RunMode, string> = {
  cold: 'cold (a new interpreter per file)',
  warm: 'warm (forked from a worker that imported once)',
  call: 'call (a function call in a warm worker)',
  command: 'command (one process per file)',
};

/** The mode a run used, from its command (and its tasks, for runs written by other versions). */
export function runMode(r: Pick<RunReport, 'command' | 'tasks'>): RunMode {
  const c = r.command as RunReport['command'] & { call?: unknown };
  if (c.kind === 'python' && typeof c.call === 'string' && c.call) return 'call';
  const modes = new Set<string>((r.tasks ?? []).map((t) => t.mode as string));
  if (modes.has('call')) return 'call';
  if (c.kind !== 'python') return 'command';
  return c.warm || modes.has('warm') ? 'warm' : 'cold';
}

type FiguresInput = Pick<RunReport, 'status' | 'counts' | 'wallMs' | 'sumTaskMs' | 'speedupMeasured' | 'workers' | 'threads' | 'cores'> &
  Partial<Pick<RunReport, 'sumSucceededMs' | 'tasks' | 'tasksOmitted' | 'load' | 'startedAt' | 'endedAt' | 'taskPhase'>>;

/**
 * The speedup a run can estimate about itself: what one worker would need — the same start and finish
 * of the run plus every succeeded file one after another — over the wall time it took. (A stopwatch
 * comparing -j 1 with -j N sees the start-up on both sides, so leaving it out would understate short runs.)
 */
export function estimateSpeedup(succeededMs: number, overheadMs: number, wallMs: number): number {
  // nothing succeeded: nothing was sped up (the run's start-up alone is no speedup)
  return wallMs > 0 && succeededMs > 0 ? (succeededMs + Math.max(0, overheadMs)) / wallMs : 0;
}

/** First start and last end of these tasks (skipped ones did not run); undefined when none ran. */
export function taskPhaseOf(tasks: readonly Pick<TaskRecord, 'status' | 'start' | 'end'>[]): { start: number; end: number } | undefined {
  let start = Infinity;
  let end = -Infinity;
  for (const t of tasks) {
    if (t.status === 'skipped') continue;
    start = Math.min(start, t.start);
    end = Math.max(end, t.end);
  }
  return end >= start ? { start, end } : undefined;
}

/** The run's own start-up (before its first task) and finish (after its last), ms; 0 when unknown. */
export function runOverheadMs(r: Partial<Pick<RunReport, 'startedAt' | 'endedAt' | 'taskPhase' | 'status' | 'wallMs'>>): number {
  const p = r.taskPhase;
  if (!p || r.startedAt === undefined || !(p.end >= p.start)) return 0;
  const before = Math.max(0, p.start - r.startedAt);
  // while running, the time after the last finished task is not overhead: tasks are still going
  const after = r.status === 'running' || r.endedAt === null || r.endedAt === undefined ? 0 : Math.max(0, r.endedAt - p.end);
  return Math.min(before + after, Math.max(0, r.wallMs ?? Infinity));
}

export interface RunFigures {
  /** at least one file succeeded: the figures below exist */
  ok: boolean;
  /** measured against a serial baseline, or estimated from task times */
  kind: 'measured' | 'estimate';
  speedup: number | null;
  /** speedup ÷ the cores the run could use (workers × threads, capped at the cores) */
  efficiency: number | null;
  /** succeeded files per second of wall time */
  throughput: number | null;
  /** the estimate from task times, also when a measured speedup is the headline */
  estimate: number | null;
  processors: number;
  /** what the speedup is measured against, or why there are no figures */
  basis: string;
  /** the busy-machine sentence, when the run's load sample says so */
  busy?: string;
}

/** Wall-clock milliseconds of the succeeded tasks (failed and cancelled tasks did no useful work). */
export function succeededTaskMs(r: FiguresInput): number {
  if (typeof r.sumSucceededMs === 'number' && Number.isFinite(r.sumSucceededMs)) return r.sumSucceededMs;
  const c = r.counts;
  if (c.failed + c.timedOut + c.cancelled === 0) return r.sumTaskMs;
  // an older report: add up what it holds (all of it unless a huge live run trimmed its records)
  const tasks = r.tasks ?? [];
  const sum = tasks.reduce((s, t) => s + (t.status === 'succeeded' ? t.wallMs : 0), 0);
  return r.tasksOmitted ? (sum * c.succeeded) / Math.max(1, tasks.filter((t) => t.status === 'succeeded').length) : sum;
}

/**
 * The run's headline figures. Only succeeded tasks count: a run where every file failed at once has
 * no speedup, and says so in a sentence instead of "1.77×, 88%".
 */
export function runFigures(r: FiguresInput): RunFigures {
  const processors = processorsUsed(r.workers, r.threads, r.cores.logical);
  const busy = busySentence(r.load);
  const measured = r.speedupMeasured && Number.isFinite(r.speedupMeasured.value) && r.speedupMeasured.value > 0 ? r.speedupMeasured : undefined;
  const kind = measured ? 'measured' : 'estimate';
  if (r.counts.succeeded === 0) {
    const basis = r.status === 'running'
      ? 'No file has succeeded yet: speedup, efficiency and throughput appear once one does.'
      : 'No file succeeded, so there is no speedup, efficiency or throughput to report.';
    return { ok: false, kind, speedup: null, efficiency: null, throughput: null, estimate: null, processors, basis, busy };
  }
  const okMs = succeededTaskMs(r);
  // a trimmed live report does not hold its first tasks: no phase from it
  const overheadMs = runOverheadMs({ ...r, taskPhase: r.taskPhase ?? (r.tasksOmitted ? undefined : taskPhaseOf(r.tasks ?? [])) });
  const estimate = estimateSpeedup(okMs, overheadMs, r.wallMs);
  const speedup = measured ? measured.value : estimate;
  const throughput = r.wallMs > 0 ? r.counts.succeeded / (r.wallMs / 1000) : 0;
  const failed = r.counts.failed + r.counts.timedOut + r.counts.cancelled;
  const onlyOk = failed > 0 ? ` Only the ${r.counts.succeeded} succeeded files count; the ${failed} that failed or were cancelled are left out.` : '';
  const basis = measured
    ? `Measured: serial baseline ${formatDuration(measured.baselineWallMs)} (${measured.source}) ÷ ${formatDuration(measured.wallMs ?? r.wallMs)}${measured.wallMs !== undefined ? ' (the same phase with this setting)' : ' wall time'}. The estimate from task times is ${formatFactor(estimate)}.${onlyOk}`
    : `Estimate: the succeeded files' times one after another (${formatDuration(okMs)})${overheadMs > 0 ? ` plus the run's own start and finish (${formatDuration(overheadMs)})` : ''}, ÷ wall time (${formatDuration(r.wallMs)}). ` +
      'It assumes each file would take as long run alone; tasks that slow each other down (shared memory bandwidth, disk, ' +
      `BLAS threads) make it optimistic. Run "Measure Speedup" for a measured serial baseline.${onlyOk}`;
  return { ok: true, kind, speedup, efficiency: speedup / processors, throughput, estimate, processors, basis, busy };
}

/**
 * The figures in one line, for the notification, the CLI summary and logs:
 * "speedup 1.96× (estimate) on 2 workers × 1 thread, efficiency 98%, 3.20 files/s" (+ the busy sentence).
 */
export function figuresLine(r: FiguresInput): string {
  const f = runFigures(r);
  const setting = workersThreads(r.workers, r.threads);
  const head = f.ok
    ? `speedup ${formatFactor(f.speedup)} (${f.kind}) on ${setting}, efficiency ${formatPercent(f.efficiency)}, ${formatRate(f.throughput)}`
    : `${f.basis.replace(/\.$/, '')} (${setting})`;
  return f.busy ? `${head}; ${f.busy}` : head;
}

/**
 * What every report's header states: the mode, workers × threads on how many cores, and whether the
 * machine was busy. ["mode: cold (a new interpreter per file)", "2 workers × 1 thread on 2 cores", "machine: busy: …"]
 */
export function settingFacts(r: Pick<RunReport, 'command' | 'tasks' | 'workers' | 'threads' | 'cores' | 'load'>): { mode: string; setting: string; machine: string; busy: boolean } {
  return {
    mode: `mode: ${MODE_TEXT[runMode(r)]}`,
    setting: `${workersThreads(r.workers, r.threads)} on ${r.cores.logical} logical core${r.cores.logical === 1 ? '' : 's'}`,
    machine: `machine: ${loadText(r.load)}`,
    busy: !!r.load?.busy,
  };
}

// ---------------------------------------------------------------------------------------------
// The scaling sweep

/** An Amdahl fit as the sweep stores it: the serial fraction, its error and how many points it used. */
export interface FitInput {
  serialFraction: number;
  /** root-mean-square error of the fitted speedups relative to the mean measured speedup */
  relError?: number;
  /** measured points with more than one worker that the fit used */
  points?: number;
}

export interface AmdahlVerdict {
  /** the fit describes the measurements and its serial fraction may be quoted */
  shown: boolean;
  quality: 'good' | 'fair' | 'poor' | 'untestable' | 'none';
  /** the most any number of workers could reach by this fit (null: none claimed) */
  ceiling: number | null;
  sentence: string;
}

/** Fits off by more than this (relative RMS error) are not shown. */
const FIT_FAIR = 0.08;
const FIT_GOOD = 0.03;

/**
 * Whether an Amdahl fit may be quoted, and the sentence that says so. A fit through a single
 * parallel point is exact by construction and tests nothing; a poor fit is not a law of this script;
 * and no ceiling below a speedup already measured is ever claimed.
 */
export function amdahlVerdict(fit: FitInput | null | undefined, bestMeasured: number): AmdahlVerdict {
  const f = fit?.serialFraction;
  if (!fit || f === undefined || !Number.isFinite(f)) {
    return { shown: false, quality: 'none', ceiling: null, sentence: 'Not enough points for an Amdahl fit.' };
  }
  const n = fit.points ?? 0;
  if (n < 2) {
    return {
      shown: false, quality: 'untestable', ceiling: null,
      sentence: 'Only one measurement with more than one worker: Amdahl\'s law cannot be tested on it, so no serial fraction or ceiling is claimed.',
    };
  }
  const err = fit.relError ?? NaN;
  if (!Number.isFinite(err) || err > FIT_FAIR) {
    return {
      shown: false, quality: 'poor', ceiling: null,
      sentence: `Amdahl's law does not fit these measurements (off by ${Number.isFinite(err) ? formatPercent(err) : 'an unknown amount'} on average), so no serial fraction or ceiling is claimed.`,
    };
  }
  const ceiling = f > 0 ? 1 / f : Infinity;
  const quality = err <= FIT_GOOD ? 'good' : 'fair';
  const fitted = `Amdahl fit (${quality}: within ${formatPercent(err, 1)} of the measurements over ${n} points): serial fraction ${formatPercent(f, 1)}`;
  if (Number.isFinite(ceiling) && ceiling < bestMeasured) {
    return { shown: true, quality, ceiling: null, sentence: `${fitted}; its ceiling of ${formatFactor(ceiling)} is below the ${formatFactor(bestMeasured)} already measured, so no ceiling is claimed.` };
  }
  return {
    shown: true, quality, ceiling: Number.isFinite(ceiling) ? ceiling : null,
    sentence: Number.isFinite(ceiling)
      ? `${fitted}, so more workers could reach at most ${formatFactor(ceiling)} if nothing else limits them.`
      : `${fitted}: no serial part shows at this scale.`,
  };
}

/** "Recommended: 2 workers × 1 thread (1.96× faster than 1 × 1 on 2 cores)" — notification, report and CLI alike. */
export function recommendationText(rec: { workers: number; threads: number; speedup: number }, cores: number): string {
  return `Recommended: ${workersThreads(rec.workers, rec.threads)} (${fasterOrSlower(rec.speedup)} than 1 worker × 1 thread on ${cores} core${cores === 1 ? '' : 's'})`;
}
