/**
 * The run report: counts, timings, the speedup ESTIMATE (sum of task wall times / run wall time),
 * efficiency, throughput, thread/oversubscription facts and the per-task records for a timeline.
 * Built incrementally while a run goes (bounded memory) and rebuilt from the journal when needed.
 */
import { estimateSpeedup, processorsUsed, runOverheadMs } from '../../shared/figures';
import { oversubscription } from '../threads';
import { failureSignature, FailureGrouper } from './failures';
import { CpuSample, LoadSummary, RunDefinition, RunReport, RunStatus, TaskRecord } from './types';

/** Tails kept in memory per succeeded task (failures keep their whole recorded tail). */
const SUCCESS_TAIL_CHARS = 240;
/**
 * Task records kept in memory (the live report and the `done` report). A longer run keeps the most
 * recent ones (between this and twice this), plus every failure; report.json is written from the
 * journal at the end and holds them all. Keeps a 100,000-file runner's memory flat.
 */
export const TASKS_IN_MEMORY = 5_000;
/** Most CPU samples kept (at 1 Hz: over two hours, then thinned by half). */
const MAX_SAMPLES = 8000;

export function emptyCounts(): RunReport['counts'] {
  return { total: null, done: 0, succeeded: 0, failed: 0, timedOut: 0, cancelled: 0, skipped: 0, retried: 0 };
}

/** A task record as the report keeps it: a succeeded task's tails shortened (a copy, when they are longer), failures whole. */
export function reportRecord(rec: TaskRecord): TaskRecord {
  return rec.status === 'succeeded' && (rec.stdoutTail.length > SUCCESS_TAIL_CHARS || rec.stderrTail.length > SUCCESS_TAIL_CHARS)
    ? { ...rec, stdoutTail: rec.stdoutTail.slice(-SUCCESS_TAIL_CHARS), stderrTail: rec.stderrTail.slice(-SUCCESS_TAIL_CHARS) }
    : rec;
}

/** Accumulates one session's task records into a RunReport. */
export class ReportBuilder {
  readonly counts = emptyCounts();
  private tasks: TaskRecord[] = [];
  private readonly failureList: RunReport['failures'] = [];
  /** records dropped from `tasks` (oldest first) to bound memory */
  omitted = 0;
  private readonly samples: CpuSample[] = [];
  private sumTaskMs = 0;
  private sumSucceededMs = 0;
  private taskPhase: { start: number; end: number } | undefined;
  private finishedThisSession = 0;
  /** the load on the machine from other processes (the engine's LoadWatch), when sampled */
  loadOf: (() => LoadSummary | undefined) | undefined;
  readonly notes: string[] = [];
  status: RunStatus = 'running';
  endedAt: number | null = null;
  /** short tasks the engine sent to its slots in batches (see RunReport.batched) */
  readonly batched = { batches: 0, tasks: 0 };
  /** the failures grouped by error signature */
  private readonly groups = new FailureGrouper();
  /** why the run stopped before its end (see RunReport.stopped) */
  stopped: RunReport['stopped'];

  constructor(readonly def: RunDefinition, readonly startedAt: number, private readonly keepTasks = TASKS_IN_MEMORY) {}

  /** Adds a finished task (after all its attempts). */
  add(rec: TaskRecord): void {
    this.finishedThisSession++;
    this.sumTaskMs += rec.wallMs;
    if (rec.status !== 'skipped' && rec.end >= rec.start) {
      this.taskPhase = this.taskPhase
        ? { start: Math.min(this.taskPhase.start, rec.start), end: Math.max(this.taskPhase.end, rec.end) }
        : { start: rec.start, end: rec.end };
    }
    this.count(rec);
  }

  /**
   * A record from an earlier session, shown with this one (a re-run of some of the run's files): it
   * counts and joins its failure group, but took none of this session's time.
   */
  carry(rec: TaskRecord): void {
    this.count({ ...rec, carried: true });
  }

  private count(rec: TaskRecord): void {
    this.counts.done++;
    switch (rec.status) {
      case 'succeeded': this.counts.succeeded++; this.sumSucceededMs += rec.wallMs; break;
      case 'failed': this.counts.failed++; break;
      case 'timedOut': this.counts.timedOut++; break;
      case 'cancelled': this.counts.cancelled++; break;
      case 'skipped': this.counts.skipped++; break;
    }
    if (rec.attempts > 1) this.counts.retried++;
    this.tasks.push(reportRecord(rec));
    if (rec.status === 'failed' || rec.status === 'timedOut') {
      this.failureList.push({ index: rec.index, file: rec.file, status: rec.status, exitCode: rec.exitCode, signal: rec.signal, stderrLog: rec.stderrLog, stderrTail: rec.stderrTail });
      this.groups.add(rec, rec.error ?? failureSignature(rec));
    }
    if (this.tasks.length >= 2 * this.keepTasks) {
      // drop the oldest half at once (amortised O(1) per task)
      const drop = this.tasks.length - this.keepTasks;
      this.tasks = this.tasks.slice(drop);
      this.omitted += drop;
    }
  }

  /** A file skipped by resume (succeeded in an earlier session). */
  skip(): void {
    this.counts.done++;
    this.counts.skipped++;
  }

  sample(s: CpuSample): void {
    this.samples.push(s);
    if (this.samples.length > MAX_SAMPLES) {
      // thin evenly rather than drop the start of the run
      for (let i = 1; i < this.samples.length; i++) this.samples.splice(i, 1);
    }
  }

  note(text: string): void {
    if (!this.notes.includes(text)) this.notes.push(text);
  }

  /** Remaining time at the rate so far (null until the total is known and a task finished). O(1). */
  etaMs(now = Date.now()): number | null {
    if (this.status !== 'running' || this.counts.total === null || this.finishedThisSession === 0) return null;
    const wallMs = Math.max(0, now - this.startedAt);
    const remaining = Math.max(0, this.counts.total - this.counts.done);
    return Math.round((remaining * wallMs) / this.finishedThisSession);
  }

  /** The report now (live while running). O(tasks): call it for a view, not per event. */
  snapshot(now = Date.now()): RunReport {
    const def = this.def;
    const end = this.endedAt ?? now;
    const wallMs = Math.max(0, end - this.startedAt);
    // speedup and throughput count useful work only: a file that failed at once made nothing faster
    const speedupEstimate = estimateSpeedup(this.sumSucceededMs, runOverheadMs({ startedAt: this.startedAt, endedAt: this.endedAt, taskPhase: this.taskPhase, status: this.status, wallMs }), wallMs);
    const throughput = wallMs > 0 ? this.counts.succeeded / (wallMs / 1000) : 0;
    const load = this.loadOf?.();
    const etaMs = this.etaMs(now);
    const failures = [...this.failureList];
    return {
      version: 1,
      runId: def.runId,
      label: def.label,
      backend: def.backend,
      status: this.status,
      fingerprint: def.fingerprint,
      command: def.command,
      cwd: def.cwd,
      startedAt: this.startedAt,
      endedAt: this.endedAt,
      wallMs,
      counts: { ...this.counts },
      sumTaskMs: this.sumTaskMs,
      sumSucceededMs: this.sumSucceededMs,
      ...(this.taskPhase ? { taskPhase: { ...this.taskPhase } } : {}),
      speedupEstimate,
      efficiency: speedupEstimate / processorsUsed(def.workers, def.threads, def.cores.logical),
      throughput,
      etaMs,
      workers: def.workers,
      threads: def.threads,
      cores: def.cores,
      ...(def.machine ? { machine: def.machine } : {}),
      oversubscription: oversubscription(def.workers, def.threads, def.cores.logical),
      threadEnv: def.threadEnv,
      python: def.python,
      tasks: [...this.tasks],
      ...(this.omitted > 0 ? { tasksOmitted: this.omitted } : {}),
      ...(this.batched.batches > 0 ? { batched: { ...this.batched } } : {}),
      failures,
      failureGroups: this.groups.groups(),
      ...(this.stopped ? { stopped: { ...this.stopped } } : {}),
      cpuSamples: [...this.samples],
      notes: [...this.notes],
      ...(load ? { load } : {}),
    };
  }
}
