/**
 * Executes a scaling sweep with the batch engine: a probe run sizes the sample to the time budget,
 * then every grid configuration runs the same sample as a real run, in rounds that alternate the order
 * (A B C, then C B A: ABBA, so a slow drift of the machine lands on every point alike), noisy points
 * are repeated while the budget allows, the load other processes put on the machine is sampled
 * before and during (core/load.ts),
 * and the result is written as `sweep.json` in a run directory under the runs folder. That directory
 * also holds the run of the recommended configuration (run.json, journal, logs, report.json with
 * `speedupMeasured`), so run history and the report panel show the sweep like any run.
 */
import * as fs from 'fs';
import * as path from 'path';
import { startRun } from './run/engine';
import { openSource } from './run/fileSources';
import { InputLayout, MAX_TASKS_WITHOUT_YES, readInputs, tupleLabel, tuplesLines } from './run/inputs';
import { RUN_FILES, UsageError, type FileSource, type InputsSpec, type RunOptions, type RunReport, type TaskCommand } from './run/types';
import { logicalCores, physicalCores } from './threads';
import {
  analyseSweep, needsRepeat, pickSample, planGrid, planSampleSize,
  type PointSamples, type RepeatPolicy, type SweepAnalysis, type SweepConfig, type SweepPoint,
} from './sweep';
import { sampleStats } from './speedup';
import { LoadWatch, othersCores, readLoad } from './load';
import { BUSY_CORES, busySentence, formatFactor, formatPercent, loadText, recommendationText, sentenceCase, taskPhaseOf } from '../shared/figures';
import type { LoadSummary } from './run/types';

export const SWEEP_FILE = 'sweep.json';

export interface SweepOptions {
  command: TaskCommand;
  /** Candidate input files (relative to cwd or absolute); the sample is drawn from these. */
  files: string[];
  /**
   * A run over input tuples (files × --grid, tables...): the sample is drawn from its tuples, each a
   * whole tuple (the task of the run); `files` is then not used.
   */
  inputs?: InputsSpec;
  cwd: string;
  /** Runs folder: the sweep gets its own run directory inside it. */
  runsDir: string;
  /** Absolute path of dist/workers. */
  workersDir: string;
  /** Whole-sweep time budget in seconds (default 60). */
  budgetSec?: number;
  /** Default: logical cores of this machine. */
  cores?: number;
  /** Vary BLAS threads too (default true). */
  varyThreads?: boolean;
  /** Extra env for every task. */
  env?: Record<string, string>;
  timeoutSec?: number;
  /** Files run serially by the probe (default 3). */
  probeFiles?: number;
  repeatPolicy?: RepeatPolicy;
  signal?: AbortSignal;
  onEvent?: (e: SweepEvent) => void;
  /** Human label (default: the command). */
  label?: string;
  /** How long the load of other processes is sampled before the sweep starts, ms (default 1000). */
  loadBeforeMs?: number;
}

export type SweepEvent =
  | { type: 'probe'; files: number }
  | { type: 'plan'; sampleSize: number; totalFiles: number; perFileMs: number; estimatedSec: number; budgetSec: number; grid: SweepConfig[]; cores: number; notes: string[] }
  | { type: 'pointStarted'; workers: number; threads: number; repeat: number; step: number; fraction: number }
  | { type: 'pointFinished'; workers: number; threads: number; repeat: number; wallMs: number; failed: number; othersCores?: number }
  | { type: 'done'; dir: string; result: SweepFileData };

/** `sweep.json`: the sweep table, fits and recommendation (the report panel reads it). */
export interface SweepFileData {
  version: 1;
  kind: 'sweep';
  status: 'completed' | 'cancelled' | 'failed';
  createdAt: number;
  endedAt: number;
  label: string;
  cores: { logical: number; physical: number };
  budgetSec: number;
  perFileMs: number;
  estimatedSec: number;
  totalFiles: number;
  /** Files (or input tuples) per configuration. */
  sampleFiles: number;
  /** the sample: its files, or its tuples' labels ("mu=0.5 sigma=2") */
  sampleFileList: string[];
  /** the sample of a run over tuples: each tuple's values */
  sampleTuples?: string[][];
  grid: SweepConfig[];
  /** The table; `wallMs` = median wall time of the repeats. */
  points: Array<SweepPoint & { wallMs: number }>;
  /** Headline Amdahl fit (threads = 1 series) as {serialFraction, rmse, relError, points, maxSpeedup}. */
  fit: { serialFraction: number; rmse?: number; relError?: number; points?: number; maxSpeedup?: number } | null;
  /** Whether the fit may be quoted, and the sentence the report, the notification and the CLI all print. */
  fitVerdict?: SweepAnalysis['verdict'];
  /** CPU other processes used before and during the sweep (absent off Linux). */
  load?: LoadSummary;
  fits: SweepAnalysis['fits'];
  baselineMs: number | null;
  recommendation: SweepAnalysis['recommendation'];
  notes: string[];
  /**
   * Run directory of every measurement, relative to the sweep directory; wallMs = task phase;
   * round = the measuring round (order alternates); othersCores = other processes' CPU during it.
   */
  runs: Array<{ workers: number; threads: number; repeat: number; dir: string; wallMs: number; runWallMs: number; round?: number; othersCores?: number }>;
}

/**
 * Wall time of a run's task phase: first task start to last task end. A small sample would
 * otherwise be dominated by the fixed cost of starting a run (pool, interpreter host), which a
 * full-size run pays once; report.wallMs is the fallback when no task ran.
 */
export function taskSpanMs(r: Pick<RunReport, 'tasks' | 'wallMs'>): number {
  const phase = taskPhaseOf(r.tasks);
  return phase && phase.end > phase.start ? phase.end - phase.start : r.wallMs;
}

function cancelled(signal?: AbortSignal): boolean {
  return !!signal?.aborted;
}

function stamp(d = new Date()): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** "python cpu_task.py", "wc -l {}" */
function describeCommand(c: TaskCommand): string {
  return c.kind === 'python' ? `python ${path.basename(c.script)}${c.args.length ? ' ' + c.args.join(' ') : ''}` : c.argv.join(' ');
}

/**
 * Runs the sweep. Rejects with a UsageError for bad input before anything starts. On cancel, writes
 * what was measured (status 'cancelled') and resolves. Returns the sweep directory and its data.
 */
export async function runSweep(opts: SweepOptions): Promise<{ dir: string; result: SweepFileData }> {
  // what the sample is drawn from: the files, or (a run over tuples) every whole tuple
  const tuples = opts.inputs ? await allTuples(opts.inputs) : undefined;
  const items: ReadonlyArray<string | string[]> = tuples ? tuples.list : opts.files;
  if (items.length === 0) throw new UsageError('Cannot measure speedup: no input files matched. Pick files (a glob or a folder) that the script processes.');
  const inputsOf = (sample: ReadonlyArray<string | string[]>): Pick<RunOptions, 'files' | 'inputs'> => tuples
    ? { files: { kind: 'list', files: [] }, inputs: { sources: [{ kind: 'tuples', source: { kind: 'list', files: [...tuplesLines(tuples.layout, sample as string[][])] } }] } }
    : { files: { kind: 'list', files: sample as string[] } };
  const budgetSec = opts.budgetSec ?? 60;
  if (!(budgetSec > 0)) throw new UsageError(`Cannot measure speedup: the time budget ${budgetSec} s must be positive (setting parallelRun.sweep.budgetSeconds or --budget).`);
  const cores = Math.max(1, Math.floor(opts.cores ?? logicalCores()));
  const label = opts.label ?? `Speedup sweep: ${describeCommand(opts.command)}`;
  const createdAt = Date.now();
  const dir = path.resolve(opts.cwd, opts.runsDir, `sweep-${stamp()}-${process.pid % 1000}`);
  const pointsDir = path.join(dir, 'points');
  await fs.promises.mkdir(pointsDir, { recursive: true });
  const emit = (e: SweepEvent): void => opts.onEvent?.(e);
  // the machine's load from other processes: one second before anything starts, then throughout
  const load = await LoadWatch.start({ beforeMs: opts.loadBeforeMs ?? 1000 });
  const t0 = Date.now();

  const base: Omit<RunOptions, 'workers' | 'threads' | 'outDir' | 'files'> = {
    command: opts.command, cwd: opts.cwd, env: opts.env, timeoutSec: opts.timeoutSec,
    workersDir: opts.workersDir, signal: opts.signal, runner: 'sweep',
  };
  const runOnce = async (cfg: { workers: number; threads: number }, sample: ReadonlyArray<string | string[]>, outDir: string, label2: string): Promise<RunReport> => {
    const h = await startRun({ ...base, workers: cfg.workers, threads: cfg.threads, ...inputsOf(sample), outDir, label: label2 });
    return h.done;
  };

  // 1. probe: a few files, serially, for the per-file time (interpreter start-up included)
  const grid = planGrid(cores, { varyThreads: opts.varyThreads });
  const probeFiles = pickSample(items, Math.min(opts.probeFiles ?? 3, items.length));
  emit({ type: 'probe', files: probeFiles.length });
  const probe = await runOnce({ workers: 1, threads: 1 }, probeFiles, path.join(pointsDir, 'probe'), `${label} (probe)`);
  const runs: SweepFileData['runs'] = [];
  const notes: string[] = [];
  if (probe.status === 'cancelled' || cancelled(opts.signal)) return finish('cancelled', [], null);
  if (probe.counts.succeeded === 0) {
    notes.push(`The probe run failed on every file (${probe.counts.failed} failed, ${probe.counts.timedOut} timed out): fix the script first (see ${path.join(pointsDir, 'probe', RUN_FILES.logs)}).`);
    return finish('failed', [], null);
  }
  // task time per file, and what a run costs beyond its tasks (pool start, journal, report)
  const perFileMs = (probe.sumTaskMs || probe.wallMs) / Math.max(1, probe.counts.done);
  const perRunOverheadMs = Math.max(0, probe.wallMs - (probe.sumTaskMs || probe.wallMs));
  if (perRunOverheadMs > 1000) notes.push(`Starting a run took about ${(perRunOverheadMs / 1000).toFixed(1)} s beyond its tasks; timings measure the task phase (first task start to last task end) so this fixed cost does not hide the scaling.`);

  // 2. plan the sample to fit what is left of the budget
  const leftSec = Math.max(1, budgetSec - (Date.now() - t0) / 1000);
  const plan = planSampleSize({ perFileMs, perRunOverheadMs, totalFiles: items.length, budgetSec: leftSec, totalBudgetSec: budgetSec, cores, grid, repeats: opts.repeatPolicy?.minRepeats ?? 2 });
  const sample = pickSample(items, plan.sampleSize);
  notes.push(...plan.notes);
  emit({ type: 'plan', sampleSize: sample.length, totalFiles: items.length, perFileMs, estimatedSec: plan.estimatedSec, budgetSec, grid, cores, notes: plan.notes });

  // 3. measure: round-robin passes; then extra repeats of noisy points while the budget allows
  const raw: PointSamples[] = grid.map((g) => ({ ...g, samplesMs: [], failures: 0, runIds: [] }));
  const minRepeats = opts.repeatPolicy?.minRepeats ?? 2;
  const maxRepeats = opts.repeatPolicy?.maxRepeats ?? 5;
  const plannedSteps = grid.length * minRepeats;
  let step = 0;
  let round = 0;
  const measure = async (p: PointSamples): Promise<boolean> => {
    const repeat = p.samplesMs.length + 1;
    const name = `${p.workers}x${p.threads}-r${repeat}`;
    emit({ type: 'pointStarted', workers: p.workers, threads: p.threads, repeat, step, fraction: Math.min(0.99, step / plannedSteps) });
    const before = readLoad();
    const r = await runOnce(p, sample, path.join(pointsDir, name), `${label} (${p.workers} × ${p.threads}, repeat ${repeat})`);
    const after = readLoad();
    step++;
    if (r.status === 'cancelled' || cancelled(opts.signal)) return false;
    const failed = r.counts.failed + r.counts.timedOut;
    const span = taskSpanMs(r);
    p.samplesMs.push(span);
    p.failures = (p.failures ?? 0) + failed;
    p.runIds!.push(r.runId);
    const others = before && after ? Math.round(othersCores(before, after) * 100) / 100 : undefined;
    runs.push({ workers: p.workers, threads: p.threads, repeat, dir: path.join('points', name), wallMs: span, runWallMs: r.wallMs, round, othersCores: others });
    emit({ type: 'pointFinished', workers: p.workers, threads: p.threads, repeat, wallMs: span, failed, othersCores: others });
    return true;
  };
  // rounds alternate the order (A B C, C B A, A B C, …): a machine that slows down or speeds up over
  // the sweep then weighs on every configuration alike instead of on the last ones
  const inOrder = (list: PointSamples[]): PointSamples[] => (round % 2 === 0 ? list : [...list].reverse());
  for (let pass = 0; pass < minRepeats; pass++, round++) {
    for (const p of inOrder(raw)) if (!(await measure(p))) return finish('cancelled', raw, perFileMs, plan, sample);
  }
  const deadline = t0 + budgetSec * 1000;
  for (;; round++) {
    const noisy = raw.filter((p) => needsRepeat(p.samplesMs, { ...opts.repeatPolicy, minRepeats, maxRepeats }));
    if (noisy.length === 0) break;
    // one more measurement of each noisy point, if it (by its own median) still fits the budget
    let any = false;
    for (const p of inOrder(noisy)) {
      const expect = [...p.samplesMs].sort((a, b) => a - b)[Math.floor(p.samplesMs.length / 2)];
      if (Date.now() + expect > deadline) continue;
      any = true;
      if (!(await measure(p))) return finish('cancelled', raw, perFileMs, plan, sample);
    }
    if (!any) {
      notes.push(`Points still noisy after the budget ran out: ${noisy.map((p) => `${p.workers} × ${p.threads}`).join(', ')}; their spread is shown.`);
      break;
    }
  }
  return finish('completed', raw, perFileMs, plan, sample);

  async function finish(status: SweepFileData['status'], measured: PointSamples[], perFile: number | null, samplePlan?: { estimatedSec: number }, sampleList: ReadonlyArray<string | string[]> = []): Promise<{ dir: string; result: SweepFileData }> {
    let analysis: SweepAnalysis | null = null;
    if (measured.some((p) => p.workers === 1 && p.threads === 1 && p.samplesMs.length > 0)) {
      analysis = analyseSweep(measured.filter((p) => p.samplesMs.length > 0), cores);
      notes.push(...analysis.notes);
    } else if (status === 'cancelled') {
      notes.push('Cancelled before the serial baseline was measured: no speedup can be computed.');
    }
    if (status === 'cancelled' && analysis) notes.push('Cancelled: the table shows the points measured so far.');
    const loadSummary = load.stop();
    const busy = busySentence(loadSummary);
    if (busy) {
      const hit = runs.filter((r) => (r.othersCores ?? 0) > BUSY_CORES).map((r) => `${r.workers} × ${r.threads} (repeat ${r.repeat})`);
      notes.unshift(`${sentenceCase(busy)}${hit.length ? ` (worst during ${hit.slice(0, 4).join(', ')}${hit.length > 4 ? ', …' : ''})` : ''}. Measure again on a quieter machine before you rely on the recommendation.`);
    }
    const result: SweepFileData = {
      version: 1, kind: 'sweep', status, createdAt, endedAt: Date.now(), label,
      cores: { logical: cores, physical: Math.min(cores, physicalCores()) },
      budgetSec, perFileMs: perFile ?? 0, estimatedSec: samplePlan?.estimatedSec ?? 0,
      totalFiles: items.length, sampleFiles: sampleList.length, grid,
      sampleFileList: sampleList.map((x) => (typeof x === 'string' ? x : tupleLabel(tuples!.layout, x))),
      ...(tuples ? { sampleTuples: sampleList as string[][] } : {}),
      points: (analysis?.points ?? []).map((p) => ({ ...p, wallMs: p.medianMs })),
      fit: analysis?.amdahl ? {
        serialFraction: analysis.amdahl.serialFraction, rmse: analysis.amdahl.rmse, relError: analysis.amdahl.relError, points: analysis.amdahl.points,
        maxSpeedup: Number.isFinite(analysis.amdahl.maxSpeedup) ? analysis.amdahl.maxSpeedup : undefined,
      } : null,
      fitVerdict: analysis?.verdict,
      fits: analysis?.fits ?? [], baselineMs: analysis?.baselineMs ?? null,
      recommendation: analysis?.recommendation ?? null, notes, runs,
      ...(loadSummary ? { load: loadSummary } : {}),
    };
    await adoptHeadlineRun(dir, result);
    await fs.promises.writeFile(path.join(dir, SWEEP_FILE), JSON.stringify(result, null, 2));
    emit({ type: 'done', dir, result });
    return { dir, result };
  }
}

/**
 * Makes the sweep directory a run of its own for history and the report panel: a copy of the
 * typical repeat (the one nearest the point's median) of the recommended configuration (else the
 * serial baseline, else the probe), with `speedupMeasured` = the sweep's own figure for that point
 * (serial median ÷ its median, both task phases), so the report, the table and the notification agree.
 */
async function adoptHeadlineRun(dir: string, result: SweepFileData): Promise<void> {
  const rec = result.recommendation;
  const pick = (w: number, t: number): SweepFileData['runs'][number] | undefined => {
    const reps = result.runs.filter((r) => r.workers === w && r.threads === t);
    const median = result.points.find((p) => p.workers === w && p.threads === t)?.medianMs ?? 0;
    return reps.sort((a, b) => Math.abs(a.wallMs - median) - Math.abs(b.wallMs - median))[0];
  };
  const chosen = (rec && pick(rec.workers, rec.threads)) ?? pick(1, 1);
  const src = chosen ? path.join(dir, chosen.dir) : path.join(dir, 'points', 'probe');
  if (!fs.existsSync(path.join(src, RUN_FILES.definition))) return;
  // journal first, report last: history trusts report.json only when it is newer than the journal
  for (const f of [RUN_FILES.journal, RUN_FILES.definition]) {
    if (fs.existsSync(path.join(src, f))) await fs.promises.copyFile(path.join(src, f), path.join(dir, f));
  }
  if (fs.existsSync(path.join(src, RUN_FILES.logs))) await fs.promises.cp(path.join(src, RUN_FILES.logs), path.join(dir, RUN_FILES.logs), { recursive: true });
  const def = JSON.parse(await fs.promises.readFile(path.join(dir, RUN_FILES.definition), 'utf8')) as { label?: string };
  def.label = result.label + (rec ? ` (recommended ${rec.workers} × ${rec.threads})` : '');
  await fs.promises.writeFile(path.join(dir, RUN_FILES.definition), JSON.stringify(def, null, 2));
  try {
    const report = JSON.parse(await fs.promises.readFile(path.join(src, RUN_FILES.report), 'utf8')) as RunReport;
    report.label = def.label;
    // the same figure the sweep table and the notification show: baseline median ÷ this point's median
    const point = chosen && result.points.find((p) => p.workers === chosen.workers && p.threads === chosen.threads);
    if (point && result.baselineMs) {
      report.speedupMeasured = {
        value: point.speedup, baselineWallMs: result.baselineMs, wallMs: point.medianMs,
        source: `scaling sweep: median task phase of the serial 1 × 1 runs over the same ${result.sampleFiles} files, against this setting's median`,
      };
    }
    if (result.load) report.load = result.load;
    if (result.status !== 'completed') report.notes = [...report.notes, `Sweep ${result.status}.`];
    await fs.promises.writeFile(path.join(dir, RUN_FILES.report), JSON.stringify(report));
  } catch {
    /* no report (cancelled run): history rebuilds it from the journal */
  }
}

/** The sweep table as Markdown (output channel, CLI, markdown preview). */
export function formatSweep(r: SweepFileData): string {
  const lines: string[] = [`# ${r.label}`, ''];
  lines.push(`${r.cores.logical} logical cores (${r.cores.physical} physical) · sample of ${r.sampleFiles} of ${r.totalFiles} files · about ${Math.round(r.perFileMs)} ms per file serially · budget ${r.budgetSec} s · status ${r.status} · machine ${loadText(r.load)}`, '');
  if (r.points.length) {
    lines.push('| workers | threads | median (s) | spread (max − min) | repeats | speedup | efficiency | Karp–Flatt | |', '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
    for (const p of r.points) {
      const tag = p.oversubscribed ? 'oversubscribed' : r.recommendation && p.workers === r.recommendation.workers && p.threads === r.recommendation.threads ? '**recommended**' : '';
      lines.push(`| ${p.workers} | ${p.threads} | ${(p.medianMs / 1000).toFixed(2)} | ${formatPercent(p.spread, 1)} | ${p.samplesMs.length} | ${formatFactor(p.speedup)} | ${formatPercent(p.efficiency)} | ${p.karpFlatt === null ? '–' : p.karpFlatt.toFixed(3)} | ${tag} |`);
    }
    lines.push('');
  }
  if (r.fitVerdict) lines.push(r.fitVerdict.sentence, '');
  if (r.recommendation) {
    lines.push(`**${recommendationText(r.recommendation, r.cores.logical)}**: ${r.recommendation.reason}.`, '');
  }
  for (const n of r.notes) lines.push(`- ${n}`);
  return lines.join('\n') + '\n';
}

/**
 * The sweep's outcome in two sentences, for the notification and the CLI's last line: the
 * recommendation as the report words it, and the busy-machine warning when there was one.
 */
export function sweepNotice(r: SweepFileData): string {
  const parts = [r.recommendation ? `${recommendationText(r.recommendation, r.cores.logical)}.` : `Speedup sweep ${r.status}: no recommendation.`];
  const busy = busySentence(r.load);
  if (busy) parts.push(`${sentenceCase(busy)}.`);
  return parts.join(' ');
}

/** Reads `sweep.json` of a sweep directory (undefined when absent or unreadable). */
export async function readSweepFile(dir: string): Promise<SweepFileData | undefined> {
  try {
    const data = JSON.parse(await fs.promises.readFile(path.join(dir, SWEEP_FILE), 'utf8')) as SweepFileData;
    return data.kind === 'sweep' ? data : undefined;
  } catch {
    return undefined;
  }
}

/** Every tuple of a run over tuples (the sweep samples whole tuples from them). UsageError: bad input, or too many. */
async function allTuples(spec: InputsSpec): Promise<{ layout: InputLayout; list: string[][] }> {
  const inputs = await readInputs(spec, openSource);
  if (inputs.count > MAX_TASKS_WITHOUT_YES) {
    throw new UsageError(`Cannot measure speedup over ${inputs.count.toLocaleString('en-US')} input tuples (at most ${MAX_TASKS_WITHOUT_YES.toLocaleString('en-US')}): the sample is drawn from all of them. Measure on a smaller grid of the same kind.`);
  }
  return { layout: inputs.layout, list: [...inputs.tuples()] };
}

/** Every file of a source as a list (the sweep samples from it), stopping at `limit`. */
export async function collectFiles(src: FileSource, limit = 1_000_000): Promise<string[]> {
  const opened = await openSource(src);
  const out: string[] = [];
  try {
    for await (const f of opened.files) {
      out.push(f);
      if (out.length >= limit) break;
    }
  } finally {
    opened.close();
  }
  return out;
}
