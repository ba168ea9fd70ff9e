/**
 * The one way a run is shown while it goes, whatever runs it (the local engine, a Slurm job array):
 * progress from its `progress` events (done / total / failed / ETA), a cancellable notification
 * ("Parallel Run: <label>", "3/12 files · 1 failed · about 5 s left", percent of the files), and a
 * spinner status bar item for the newest run, opening its live report. The owner (RunService,
 * the Slurm feature) adds what only it knows through the options: words after the progress (a Slurm
 * run's array task states), its own handling of each event (log lines), and its end of run.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import type { RunEvent, RunHandle } from '../../core/run/types';
import { Commands } from '../../shared/ids';
import { formatDuration } from './format';

export interface TrackOptions<H extends RunHandle = RunHandle> {
  label: string;
  /** what is counted: 'files' or 'tasks' */
  unit?: string;
  /** a cancellable progress notification (else only the status bar item) */
  notification: boolean;
  /** the notification's first message */
  startMessage?: string;
  /** the number of inputs counted before the run listed them (gives n/total and an ETA at once) */
  expectedTotal?: number;
  /** words after the progress message ("array tasks: 3 running") */
  moreMessage?(): string;
  /** words at the end of the status bar text (" · 3 running") */
  moreStatus?(): string;
  /** a sentence before "Click for the live report" in the tooltip ("Job array 12.") */
  tooltipNote?(): string;
  /** each event, after the tracker took its progress */
  onEvent?(e: RunEvent, run: TrackedRun<H>): void;
}

/** A run as the tracker shows it. */
export interface TrackedRun<H extends RunHandle = RunHandle> {
  readonly handle: H;
  readonly options: TrackOptions<H>;
  total: number | null;
  done: number;
  failed: number;
  etaMs: number | null;
  readonly started: number;
  /** the notification's title and last message ('' without a notification), and its percent */
  title: string;
  message: string;
  percent: number;
}

/** What the status bar item shows (tests). */
export interface TrackerStatus {
  visible: boolean;
  text: string;
  tooltip: string;
  command: string | undefined;
}

export class RunTracker<H extends RunHandle = RunHandle> implements vscode.Disposable {
  private readonly runs = new Map<string, TrackedRun<H>>();
  private readonly item: vscode.StatusBarItem;

  /**
   * @param statusPrefix before the counts in the status bar ("Slurm ")
   * @param several the tooltip's last line when several runs go ("(2 runs going)")
   */
  constructor(id: string, name: string, priority: number, private readonly statusPrefix: string, private readonly several: (n: number) => string) {
    this.item = vscode.window.createStatusBarItem(id, vscode.StatusBarAlignment.Left, priority);
    this.item.name = name;
  }

  /** Shows `handle` until it ends; returns its tracked state. */
  track(handle: H, options: TrackOptions<H>): TrackedRun<H> {
    const run: TrackedRun<H> = {
      handle, options, total: options.expectedTotal ?? null, done: 0, failed: 0, etaMs: null, started: Date.now(), title: '', message: '', percent: 0,
    };
    const key = path.resolve(handle.outDir);
    this.runs.set(key, run);
    let report: ((message: string, increment: number) => void) | undefined;
    let reportedPct = 0;
    const unsubscribe = handle.onEvent((e) => {
      if (e.type === 'total') run.total = e.total;
      else if (e.type === 'progress') {
        run.done = e.done;
        run.failed = e.failed;
        if (e.total !== null) run.total = e.total;
        // no ETA from the run before it listed every input: from the total counted up front
        run.etaMs = e.etaMs ?? (run.total !== null && e.done > 0 ? ((Date.now() - run.started) / e.done) * Math.max(0, run.total - e.done) : null);
      }
      options.onEvent?.(e, run);
      if (e.type !== 'progress') return;
      this.updateStatus();
      if (report) {
        const pct = run.total ? Math.min(100, (100 * e.done) / run.total) : 0;
        report(this.message(run), Math.max(0, pct - reportedPct));
        reportedPct = Math.max(reportedPct, pct);
      }
    });
    this.updateStatus();
    if (options.notification) {
      run.title = `Parallel Run: ${options.label}`;
      void vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: run.title, cancellable: true }, (p, token) => {
        report = (message, increment) => {
          run.message = message;
          run.percent += increment;
          p.report({ message, increment });
        };
        report(options.startMessage ?? 'starting…', 0);
        token.onCancellationRequested(() => handle.cancel());
        return handle.done.catch(() => undefined);
      });
    }
    const end = () => {
      unsubscribe();
      if (this.runs.get(key) === run) this.runs.delete(key);
      this.updateStatus();
    };
    handle.done.then(end, end);
    return run;
  }

  /** The run of a directory, while it goes. */
  get(runDir: string): TrackedRun<H> | undefined {
    return this.runs.get(path.resolve(runDir));
  }

  /** Runs shown now, oldest first. */
  active(): TrackedRun<H>[] {
    return [...this.runs.values()];
  }

  /** "3/12 files · 1 failed · about 5 s left" and the owner's words. */
  message(run: TrackedRun<H>): string {
    const parts = [`${run.done}/${run.total ?? '?'} ${run.options.unit ?? 'files'}`];
    if (run.failed) parts.push(`${run.failed} failed`);
    if (run.etaMs !== null) parts.push(`about ${formatDuration(run.etaMs)} left`);
    const more = run.options.moreMessage?.();
    if (more) parts.push(more);
    return parts.join(' · ');
  }

  status(): TrackerStatus {
    const tip = this.item.tooltip;
    const cmd = this.item.command;
    return {
      visible: this.runs.size > 0,
      text: this.item.text,
      tooltip: typeof tip === 'string' ? tip : tip?.value ?? '',
      command: typeof cmd === 'string' ? cmd : cmd?.command,
    };
  }

  /** The newest run in the status bar ("$(loading~spin) 3/12 $(error) 1 · 5 s left"); hidden when none goes. */
  updateStatus(): void {
    const all = [...this.runs.values()];
    const run = all[all.length - 1];
    if (!run) {
      this.item.hide();
      return;
    }
    this.item.text = `$(loading~spin) ${this.statusPrefix}${run.done}/${run.total ?? '?'}${run.failed ? ` $(error) ${run.failed}` : ''}` +
      `${run.etaMs !== null ? ` · ${formatDuration(run.etaMs)} left` : ''}${run.options.moreStatus?.() ?? ''}`;
    const note = run.options.tooltipNote?.();
    this.item.tooltip = `Parallel Run: ${run.options.label}\n${this.message(run)}\n${note ? `${note} ` : ''}Click for the live report; cancel from the notification or the Runs view.` +
      `${all.length > 1 ? `\n${this.several(all.length)}` : ''}`;
    this.item.command = { command: Commands.showReport, title: 'Show Run Report', arguments: [{ runDir: run.handle.outDir }] };
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}
