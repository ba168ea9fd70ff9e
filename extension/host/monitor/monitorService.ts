/**
 * The window's one Sampler and who needs it. Consumers (status bar, monitor panel) declare
 * interest; sampling runs only while someone is interested AND (the window is focused OR a run is
 * active) — nobody looking and nothing running costs nothing. Published as `services.monitor`.
 */
import * as os from 'os';
import * as vscode from 'vscode';
import { describeLimits, Sampler, SystemSample } from '../../core/monitor';
import type { ParallelRunSettings } from '../../core/settings';
import { memoryWarning, RunActivity } from '../../shared/monitorFormat';
import type { MonitorUpdate } from '../../shared/protocol';

/** What the run feature reports while a run is active (values or live getters). */
export interface ActiveRunInfo {
  busy: number | (() => number);
  workers: number;
  /** the run's child processes (workers); their descendants are folded in by the sampler */
  pids: number[] | (() => number[]);
}

export type MonitorConsumer = 'statusBar' | 'panel';

export class MonitorService implements vscode.Disposable {
  readonly sampler: Sampler;
  private readonly updates = new vscode.EventEmitter<MonitorUpdate>();
  /** every new sample, with the derived warning and limit note */
  readonly onDidUpdate = this.updates.event;
  private readonly samplingChanges = new vscode.EventEmitter<boolean>();
  /** fires true/false when sampling starts/pauses */
  readonly onDidChangeSampling = this.samplingChanges.event;
  private readonly consumers = new Set<MonitorConsumer>();
  private readonly hostCores = os.cpus().length;
  private run: ActiveRunInfo | undefined;
  private focused: boolean;
  private unsubscribe: (() => void) | undefined;
  private last: MonitorUpdate | undefined;
  private pausedAt: number | undefined = Date.now();
  private readonly subs: vscode.Disposable[] = [];

  constructor(private settings: ParallelRunSettings['monitor']) {
    this.sampler = new Sampler({ intervalMs: settings.intervalMs });
    this.focused = vscode.window.state.focused;
    this.subs.push(vscode.window.onDidChangeWindowState((e) => {
      this.focused = e.focused;
      this.reconcile();
    }));
  }

  /** The run feature calls this on every change of its active run, and with undefined at the end. */
  setActiveRun(info: ActiveRunInfo | undefined): void {
    const wasActive = this.run !== undefined;
    this.run = info;
    if (!!info !== wasActive) {
      // tasks run in their own process groups under this extension host: found even without pids
      this.sampler.watchProcesses(info ? () => this.runPids() : undefined, { groupLeadersOf: process.pid });
      this.reconcile();
    }
    // the busy count changed (or the run ended): show it now rather than at the next tick
    if (this.last) this.publish(this.derive(this.last.sample));
  }

  /** The active run's busy/workers, if any. */
  activity(): RunActivity | undefined {
    const r = this.run;
    if (!r) return undefined;
    return { busy: typeof r.busy === 'function' ? r.busy() : r.busy, workers: r.workers };
  }

  /** A consumer starts or stops needing samples. */
  want(consumer: MonitorConsumer, on: boolean): void {
    if (on) this.consumers.add(consumer);
    else this.consumers.delete(consumer);
    this.reconcile();
  }

  /** Settings changed (interval, threshold). */
  configure(settings: ParallelRunSettings['monitor']): void {
    this.settings = settings;
    if (this.sampler.interval !== settings.intervalMs) this.sampler.setIntervalMs(settings.intervalMs);
    if (this.last) this.publish(this.derive(this.last.sample));
  }

  /** Takes a sample now and publishes it (first paint, tests, a run starting). */
  refresh(): MonitorUpdate {
    const update = this.derive(this.sampler.sample());
    this.publish(update);
    return update;
  }

  latest(): MonitorUpdate | undefined {
    return this.last;
  }

  get sampling(): boolean {
    return this.unsubscribe !== undefined;
  }

  /** When sampling paused (epoch ms), or undefined while it runs. */
  get pausedSince(): number | undefined {
    return this.pausedAt;
  }

  get memoryWarningPercent(): number {
    return this.settings.memoryWarningPercent;
  }

  dispose(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.sampler.dispose();
    this.subs.forEach((d) => d.dispose());
    this.updates.dispose();
    this.samplingChanges.dispose();
  }

  private runPids(): number[] {
    const p = this.run?.pids;
    return typeof p === 'function' ? p() : p ?? [];
  }

  private reconcile(): void {
    const needed = this.consumers.size > 0 && (this.focused || this.run !== undefined);
    if (needed && !this.unsubscribe) {
      this.pausedAt = undefined;
      this.unsubscribe = this.sampler.subscribe((s) => this.publish(this.derive(s)));
      this.samplingChanges.fire(true);
    } else if (!needed && this.unsubscribe) {
      this.unsubscribe();
      this.unsubscribe = undefined;
      this.pausedAt = Date.now();
      this.samplingChanges.fire(false);
    }
  }

  private derive(sample: SystemSample): MonitorUpdate {
    const run = this.activity();
    const runRss = run ? sample.processes.reduce((a, p) => a + p.rssBytes, 0) : undefined;
    return {
      sample,
      run,
      warning: memoryWarning(sample, this.settings.memoryWarningPercent, runRss),
      limitNote: describeLimits(sample.limits, this.hostCores, sample.memory.hostTotalBytes),
    };
  }

  private publish(update: MonitorUpdate): void {
    this.last = update;
    this.updates.fire(update);
  }
}
