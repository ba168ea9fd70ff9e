/**
 * Turns a running engine's events into report-panel messages: a full snapshot when the webview
 * (re)loads, then throttled deltas (at most one per `intervalMs`, default 250 ms = 4/s) carrying only
 * the tasks finished and CPU samples taken since. No `vscode` import: unit-tested against real runs.
 *
 * A very large run keeps only its latest task records in memory (`tasksOmitted` counts the rest);
 * the final message then carries report.json from disk, which has every task.
 *
 * Results rows follow results.ndjson as the engine appends them (each row is written before its
 * task's event), bounded by core/run/resultsTable like a finished run's; the final message carries
 * the table read whole from disk (the engine may have rewritten it in input order at the end).
 */
import { readReport } from '../../core/run/history';
import { readResultsTable, ResultsFollower } from '../../core/run/resultsTable';
import type { RunEvent, RunHandle, RunReport, TaskRecord } from '../../core/run/types';
import type { ReportDelta, ReportSubject, ReportToWebview } from '../../shared/protocol';

/** Files of each failure group sent with a live update (the panel lists the first 20). */
const FILES_IN_DELTA = 20;

export interface LiveFeedOptions {
  intervalMs?: number;
  /** injectable timers (tests use the real ones; kept for clarity of ownership) */
  now?: () => number;
  /**
   * How many files the run will have, when the caller knows before the engine does (the engine
   * streams its inputs and knows the total only once it has listed them all; the host counted them
   * up front). Gives the panel done/total and an ETA from the first finished task.
   */
  expectedTotal?: () => number | null | undefined;
  /** The BLAS library of the run's interpreter, when known (shown in the thread settings). */
  blas?: (python: string) => string | undefined;
}

export class LiveFeed {
  private readonly intervalMs: number;
  private readonly now: () => number;
  private readonly unsubscribe: () => void;
  private finishedSince: TaskRecord[] = [];
  private readonly running = new Map<number, ReportDelta['running'][number]>();
  private sentSamples = 0;
  private lastPost = -Infinity;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private finalReport: RunReport | undefined;
  private finalResults: ReportSubject['results'];
  private readonly results: ResultsFollower;
  /** total and ETA from progress events: the live report may not carry them yet */
  private total: number | null = null;
  private etaMs: number | null = null;
  private disposed = false;
  private readonly expectedTotal: LiveFeedOptions['expectedTotal'];
  private readonly blas: LiveFeedOptions['blas'];
  /** messages posted (count), for diagnostics and tests */
  posts = 0;

  constructor(
    readonly handle: RunHandle,
    private readonly sink: (msg: ReportToWebview) => void,
    opts: LiveFeedOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 250;
    this.now = opts.now ?? Date.now;
    this.expectedTotal = opts.expectedTotal;
    this.blas = opts.blas;
    this.results = new ResultsFollower(handle.outDir);
    this.unsubscribe = handle.onEvent((e) => this.onEvent(e));
    // the run may already be over (or finish before the first event reaches us)
    void handle.done.then((r) => {
      if (!this.finalReport) this.finish(r);
    });
  }

  /** The full current report (webview loaded or reloaded); deltas continue from here. */
  snapshot(): ReportToWebview {
    const report = this.finalReport ?? this.withProgress(this.handle.report());
    const seen = new Set(report.tasks.map((t) => t.index));
    this.finishedSince = this.finishedSince.filter((t) => !seen.has(t.index));
    this.sentSamples = report.cpuSamples.length;
    if (this.finalReport) return { type: 'report', subject: { report, runDir: this.handle.outDir, results: this.finalResults }, live: false };
    // a (re)loaded view needs every row again: the first part now, the rest with the next updates
    this.results.restart();
    const first = this.results.read();
    if (this.results.behind) this.schedule();
    const results = first ? { columns: first.columns, inputs: first.inputs, rows: first.rows, omitted: first.omitted, bounded: first.bounded, source: 'results.ndjson' as const } : undefined;
    return { type: 'report', subject: { report, runDir: this.handle.outDir, results }, live: true };
  }

  private onEvent(e: RunEvent): void {
    if (this.disposed) return;
    switch (e.type) {
      case 'taskStarted':
        this.running.set(e.index, { index: e.index, file: e.file, slot: e.slot, start: e.t, attempt: e.attempt });
        break;
      case 'taskFinished':
        this.running.delete(e.record.index);
        this.finishedSince.push(e.record);
        break;
      case 'runFinished':
        this.finish(e.report);
        return;
      case 'total':
        this.total = e.total;
        break;
      case 'progress':
        if (e.total !== null) this.total = e.total;
        this.etaMs = e.etaMs;
        break;
      case 'runStarted':
      case 'taskSkipped':
      case 'taskOutput':
      case 'taskRetried':
      case 'taskTimedOut':
      case 'runCancelled':
        break;
      default: {
        const never: never = e;
        void never;
      }
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.finalReport) return;
    const wait = Math.max(0, this.lastPost + this.intervalMs - this.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, wait);
  }

  private flush(): void {
    if (this.disposed || this.finalReport) return;
    const { tasks: _t, cpuSamples, ...summary } = this.withProgress(this.handle.report());
    const newSamples = cpuSamples.length >= this.sentSamples ? cpuSamples.slice(this.sentSamples) : cpuSamples;
    this.sentSamples = cpuSamples.length;
    // a group's whole file list stays here (the panel's buttons take it from the report); the view shows a few
    if (summary.failureGroups) summary.failureGroups = summary.failureGroups.map((g) => ({ ...g, files: g.files.slice(0, FILES_IN_DELTA), indexes: g.indexes.slice(0, FILES_IN_DELTA) }));
    const results = this.results.read();
    const delta: ReportDelta = { summary, newTasks: this.finishedSince, newSamples, running: [...this.running.values()], ...(results ? { results } : {}) };
    this.finishedSince = [];
    this.lastPost = this.now();
    this.posts++;
    this.sink({ type: 'delta', delta });
    // a long table is sent a part at a time
    if (this.results.behind) this.schedule();
  }

  /**
   * Fills in the total and ETA the live report does not have yet: from progress events, else from
   * the expected total and the rate so far (the same estimate the status bar shows).
   */
  private withProgress(r: RunReport): RunReport {
    const total = r.counts.total ?? this.total ?? this.expectedTotal?.() ?? null;
    let etaMs = r.etaMs ?? this.etaMs;
    const ran = r.counts.done - r.counts.skipped;
    if (etaMs === null && r.status === 'running' && total !== null && ran > 0) {
      etaMs = Math.round((r.wallMs / ran) * Math.max(0, total - r.counts.done));
    }
    return this.withBlas(total === r.counts.total && etaMs === r.etaMs ? r : { ...r, counts: { ...r.counts, total }, etaMs });
  }

  private withBlas(r: RunReport): RunReport {
    if (!r.python || r.python.blas || !this.blas) return r;
    const blas = this.blas(r.python.executable);
    return blas ? { ...r, python: { ...r.python, blas } } : r;
  }

  private finish(report: RunReport): void {
    if (this.disposed || this.finalReport) return;
    this.finalReport = report;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.running.clear();
    this.finalPosted = Promise.all([this.complete(report), readResultsTable(this.handle.outDir).catch(() => undefined)]).then(([full, results]) => {
      this.finalReport = full;
      this.finalResults = results;
      if (this.disposed) return;
      this.posts++;
      this.sink({ type: 'report', subject: { report: full, runDir: this.handle.outDir, results }, live: false });
    });
  }

  /** The final report with every task: report.json from disk when the in-memory one was trimmed. */
  private async complete(report: RunReport): Promise<RunReport> {
    let full = report;
    if ((report.tasksOmitted ?? 0) > 0) full = (await readReport(this.handle.outDir).catch(() => undefined)) ?? report;
    return this.withBlas(full);
  }

  /** Resolves once the final report has been posted (report.json may have to be read first). */
  finalPosted: Promise<void> | undefined;

  dispose(): void {
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.unsubscribe();
  }
}
