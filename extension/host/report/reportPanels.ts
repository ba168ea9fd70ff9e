/**
 * The report panels: one webview per run (or per comparison), data only by postMessage after the
 * webview's `ready`, live runs fed by a throttled LiveFeed, restored after a reload by a
 * WebviewPanelSerializer from the small state the webview keeps (run directories, not data).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { readReport } from '../../core/run/history';
import { findResultLog, readResultsTable } from '../../core/run/resultsTable';
import { resolveTaskLog } from '../../core/run/taskLog';
import { RUN_FILES, type RunHandle, type RunReport, type TaskRecord } from '../../core/run/types';
import { Commands, WEBVIEW_REPORT } from '../../shared/ids';
import type { ReportFromWebview, ReportPanelState, ReportRendered, ReportSubject, ReportToWebview, SweepResult } from '../../shared/protocol';
import { executeForUser } from '../commands';
import type { Services } from '../services';
import { BlasOfPython } from './blasOfPython';
import { malformedReason } from './checkMessage';
import { LiveFeed } from './liveFeed';
import { readSweep } from './sweepFile';
import { reportHtml, webviewOptions } from './webviewHtml';

/** What a panel shows. */
export type PanelSource = RunSource | { kind: 'compare'; a: ReportSubject; b: ReportSubject };

/** A run: finished (subject), live (feed; subject set once it finishes) or a sweep on its own. */
export interface RunSource {
  kind: 'run';
  runDir?: string;
  report?: RunReport;
  feed?: LiveFeed;
  subject?: ReportSubject;
  sweep?: SweepResult;
}

export interface RenderedEvent {
  panel: ReportPanel;
  rendered: ReportRendered;
}

/** Something that says which run: a directory, a Uri, a Runs-view item ({runDir}/{dir}/{outDir}). */
export function runDirOf(arg: unknown): string | undefined {
  if (typeof arg === 'string' && arg) return arg;
  if (arg instanceof vscode.Uri) return arg.fsPath;
  if (arg && typeof arg === 'object') {
    const o = arg as Record<string, unknown>;
    for (const k of ['runDir', 'outDir', 'dir']) if (typeof o[k] === 'string' && o[k]) return o[k] as string;
    if (o.resourceUri instanceof vscode.Uri) return o.resourceUri.fsPath;
  }
  return undefined;
}

export class ReportPanel implements vscode.Disposable {
  private ready = false;
  private readonly queue: ReportToWebview[] = [];
  private readonly subs: vscode.Disposable[] = [];
  lastRendered: ReportRendered | undefined;
  /** every message posted to the webview (type only), newest last: diagnostics and tests */
  readonly postedTypes: string[] = [];
  private disposed = false;

  constructor(
    readonly panel: vscode.WebviewPanel,
    private source: PanelSource,
    private readonly owner: ReportPanels,
  ) {
    panel.webview.options = webviewOptions(owner.extensionUri);
    panel.iconPath = vscode.Uri.joinPath(owner.extensionUri, 'media', 'icons', 'parallel-run.svg');
    this.subs.push(
      panel.webview.onDidReceiveMessage((m: ReportFromWebview) => void this.handleMessage(m)),
      // without retainContextWhenHidden a hidden webview is destroyed: it will send `ready` again
      panel.onDidChangeViewState(() => {
        if (!panel.visible) this.ready = false;
      }),
      panel.onDidDispose(() => this.dispose()),
    );
    this.setTitle();
    panel.webview.html = reportHtml(panel.webview, owner.extensionUri);
  }

  get key(): string {
    return keyOf(this.source);
  }

  get runDir(): string | undefined {
    return this.source.kind === 'run' ? this.source.runDir ?? this.source.feed?.handle.outDir : undefined;
  }

  get current(): PanelSource {
    return this.source;
  }

  /** Replaces what the panel shows (same run re-shown, live run finished, …). */
  setSource(source: PanelSource): void {
    if (this.source.kind === 'run' && this.source.feed && this.source.feed !== (source.kind === 'run' ? source.feed : undefined)) this.source.feed.dispose();
    this.source = source;
    this.setTitle();
    if (this.ready) this.sendSnapshot();
  }

  private setTitle(): void {
    const s = this.source;
    if (s.kind === 'compare') this.panel.title = `Compare: ${nameOf(s.a.report)} vs ${nameOf(s.b.report)}`;
    else {
      const r = s.feed ? s.feed.handle.report() : s.report;
      this.panel.title = r ? `Report: ${nameOf(r)}` : 'Run report';
    }
  }

  /**
   * Posts now when the webview is ready, else queues (the snapshot on `ready` supersedes deltas).
   * A report or sweep whose data is not fit for the view (read from files anyone can edit) is
   * replaced by the message saying what is wrong with it.
   */
  post(msg: ReportToWebview): void {
    if (this.disposed) return;
    const malformed = malformedReason(msg);
    if (malformed) {
      this.owner.log.warn(`report panel: ${malformed}`);
      msg = { type: 'error', message: malformed };
    }
    if (!this.ready) {
      if (msg.type !== 'delta') this.queue.push(msg);
      return;
    }
    this.postedTypes.push(msg.type);
    void this.panel.webview.postMessage(msg);
  }

  private sendSnapshot(): void {
    const s = this.source;
    this.queue.length = 0;
    if (s.kind === 'compare') this.post({ type: 'compare', a: s.a, b: s.b });
    else if (s.feed) this.post(s.feed.snapshot());
    else if (s.subject) this.post({ type: 'report', subject: s.subject, live: false });
    else if (s.sweep) this.post({ type: 'sweep', sweep: s.sweep });
  }

  /** Handles one webview message (public so tests can drive the host side directly). */
  async handleMessage(m: ReportFromWebview): Promise<void> {
    try {
      switch (m.type) {
        case 'ready': {
          this.ready = true;
          const pending = this.queue.splice(0);
          this.sendSnapshot();
          // errors queued before the webview loaded still deserve to be seen
          for (const q of pending) if (q.type === 'error') this.post(q);
          break;
        }
        case 'rendered':
          this.lastRendered = m.rendered;
          this.owner.fireRendered({ panel: this, rendered: m.rendered });
          break;
        case 'openLog':
          await this.openLog(m.index, m.stream, m.side);
          break;
        case 'export':
          await vscode.commands.executeCommand('parallelRun.exportReport', { panel: this, format: m.format });
          break;
        case 'compareWith':
          if (this.runDir) await vscode.commands.executeCommand('parallelRun.compareRuns', this.runDir);
          break;
        case 'applyRecommendation':
          // the setting comes from this panel's sweep.json on disk, never from the webview
          if (this.runDir) await vscode.commands.executeCommand(Commands.applyRecommendation, { sweepDir: this.runDir });
          break;
        case 'measureAgain': {
          // the script comes from the sweep's run.json on disk; the inputs are asked again
          const script = this.runDir ? await sweepScript(this.runDir) : undefined;
          if (script) void executeForUser(Commands.measureSpeedup, { script });
          break;
        }
        case 'rerunFailed':
        case 'failureGroup':
        case 'debugTask':
          await this.failureAction(m);
          break;
        case 'openResults':
          await this.openResults(m.side);
          break;
        case 'openResultLog':
          await this.openResultLog(m.inputs, m.side);
          break;
        default: {
          const never: never = m;
          this.owner.log.warn(`report panel: unknown message ${JSON.stringify(never)}`);
        }
      }
    } catch (err) {
      this.owner.log.warn(`report panel: ${(err as Error).message}`);
      void vscode.window.showErrorMessage((err as Error).message);
    }
  }

  /**
   * The failures section's buttons. The files come from the report this host holds (a group by its
   * key, a task by its index), never from names the webview sent.
   */
  private async failureAction(m: Extract<ReportFromWebview, { type: 'rerunFailed' | 'failureGroup' | 'debugTask' }>): Promise<void> {
    const subject = this.subjects();
    const runDir = subject?.kind === 'run' ? subject.subject.runDir : undefined;
    if (!runDir || subject?.kind !== 'run') throw new Error('This report was not loaded from a run directory: its files cannot be run again from here.');
    const report = subject.subject.report;
    if (m.type === 'rerunFailed') {
      await vscode.commands.executeCommand(Commands.rerunFiles, { runDir });
      return;
    }
    if (m.type === 'debugTask') {
      const task = report.tasks.find((t) => t.index === m.index);
      if (!task) throw new Error(`Task ${m.index} is not in this report.`);
      await vscode.commands.executeCommand(Commands.debugFile, { runDir, file: task.file });
      return;
    }
    const g = report.failureGroups?.find((x) => x.key === m.key);
    if (!g) throw new Error('That group of failures is no longer in the report (the files were run again?). Reopen the report.');
    switch (m.action) {
      case 'rerun':
        await vscode.commands.executeCommand(Commands.rerunFiles, { runDir, files: g.files });
        break;
      case 'copy':
        await vscode.commands.executeCommand(Commands.copyFileList, { runDir, files: g.files });
        break;
      case 'debug':
        await vscode.commands.executeCommand(Commands.debugFile, { runDir, file: g.files[0] });
        break;
      case 'openLog':
        if (g.indexes[0] !== undefined) await this.openLog(g.indexes[0], 'stderr');
        break;
    }
  }

  /** The subjects this panel shows right now (for export). */
  subjects(): { kind: 'run'; subject: ReportSubject } | { kind: 'compare'; a: ReportSubject; b: ReportSubject } | undefined {
    const s = this.source;
    if (s.kind === 'compare') return { kind: 'compare', a: s.a, b: s.b };
    if (s.feed) return { kind: 'run', subject: { report: s.feed.handle.report(), runDir: s.feed.handle.outDir } };
    return s.subject ? { kind: 'run', subject: s.subject } : undefined;
  }

  /** The run a message is about: this panel's run, or side a/b of a comparison. */
  private subjectOf(side?: 'a' | 'b'): ReportSubject | undefined {
    const s = this.source;
    if (s.kind === 'compare') return side === 'b' ? s.b : s.a;
    if (s.feed) return { report: s.feed.handle.report(), runDir: s.feed.handle.outDir };
    return s.subject;
  }

  /** Opens results.csv of the run (as the user would: vscode.open, so a CSV viewer they installed shows it). */
  private async openResults(side?: 'a' | 'b'): Promise<void> {
    const runDir = this.subjectOf(side)?.runDir;
    if (!runDir) throw new Error('Cannot open results.csv: this report was not loaded from a run directory.');
    const file = path.join(runDir, RUN_FILES.resultsCsv);
    if (!fs.existsSync(file)) throw new Error(`This run has no results.csv (${file}): it was written by a version without results, or deleted. Run it again to get one.`);
    await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(file), { preview: true, viewColumn: vscode.ViewColumn.Beside });
    this.owner.fireLogOpened(file);
  }

  /**
   * Opens the log of the results row with these inputs: the task's record in the report the host
   * holds (the error log of a failed task, the output of a succeeded one), else the row's log in
   * results.ndjson; either way through resolveTaskLog, which only opens files inside logs/.
   */
  private async openResultLog(inputs: string[], side?: 'a' | 'b'): Promise<void> {
    const subject = this.subjectOf(side);
    if (!subject?.runDir) throw new Error('Cannot open the log: this report was not loaded from a run directory.');
    if (!Array.isArray(inputs) || !inputs.every((v) => typeof v === 'string')) return;
    const want = JSON.stringify(inputs);
    const task = [...subject.report.tasks].reverse().find((t) => JSON.stringify(t.inputs ?? [t.file]) === want);
    if (task) {
      await this.openLog(task.index, task.status === 'succeeded' ? 'stdout' : 'stderr', side);
      return;
    }
    const rel = await findResultLog(subject.runDir, inputs);
    if (!rel) throw new Error(`No log for the row ${inputs.join(', ')}: results.ndjson does not name one (the task may still be running).`);
    const file = await resolveTaskLog(subject.runDir, rel, `the log of ${inputs.join(', ')}`);
    await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: true, viewColumn: vscode.ViewColumn.Beside });
    this.owner.fireLogOpened(file);
  }

  private async openLog(index: number, stream: 'stdout' | 'stderr', side?: 'a' | 'b'): Promise<void> {
    const subject = this.subjectOf(side);
    if (!subject?.runDir) throw new Error('Cannot open the log: this report was not loaded from a run directory.');
    const task: TaskRecord | undefined = subject.report.tasks.find((t) => t.index === index);
    if (!task) throw new Error(`Task ${index} has no log yet: it is still running. Its log opens once it finishes.`);
    // resolve from the record the host holds, never from a path the webview sent; links are followed
    // only while they stay inside the run's logs folder
    const rel = stream === 'stdout' ? task.stdoutLog : task.stderrLog;
    const file = await resolveTaskLog(subject.runDir, rel, `the ${stream} log of ${path.basename(String(task.file))}`, { neverWritten: task.mode === 'call' });
    await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: true, viewColumn: vscode.ViewColumn.Beside });
    this.owner.fireLogOpened(file);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.source.kind === 'run') this.source.feed?.dispose();
    for (const d of this.subs) d.dispose();
    this.owner.forget(this);
    this.panel.dispose();
  }
}

function nameOf(r: Pick<RunReport, 'label' | 'runId'>): string {
  return String(r.label || r.runId);
}


function keyOf(s: PanelSource): string {
  if (s.kind === 'compare') return `compare:${s.a.runDir ?? s.a.report.runId}|${s.b.runDir ?? s.b.report.runId}`;
  const dir = s.runDir ?? s.feed?.handle.outDir;
  return `run:${dir ? path.resolve(dir) : s.report?.runId ?? s.subject?.report.runId ?? '?'}`;
}

export class ReportPanels implements vscode.Disposable, vscode.WebviewPanelSerializer<ReportPanelState> {
  private readonly panels = new Set<ReportPanel>();
  private readonly renderedEmitter = new vscode.EventEmitter<RenderedEvent>();
  private readonly logEmitter = new vscode.EventEmitter<string>();
  /** Fires whenever a webview acknowledges a render (what it drew). */
  readonly onDidRender = this.renderedEmitter.event;
  /** Fires with the path of each log (or results.csv) opened from a panel. */
  readonly onDidOpenLog = this.logEmitter.event;

  /** BLAS library per interpreter, probed once in the background (the report's thread settings) */
  readonly blas: BlasOfPython;

  constructor(private readonly services: Services) {
    this.blas = new BlasOfPython(services.mediaDir, 20_000, (m) => services.log.info(m));
  }

  get extensionUri(): vscode.Uri {
    return this.services.context.extensionUri;
  }

  get log(): vscode.LogOutputChannel {
    return this.services.log;
  }

  fireRendered(e: RenderedEvent): void {
    this.renderedEmitter.fire(e);
  }

  fireLogOpened(file: string): void {
    this.logEmitter.fire(file);
  }

  forget(p: ReportPanel): void {
    this.panels.delete(p);
  }

  all(): ReportPanel[] {
    return [...this.panels];
  }

  /** The focused report panel, if any. */
  active(): ReportPanel | undefined {
    return this.all().find((p) => p.panel.active) ?? this.all().find((p) => p.panel.visible);
  }

  private open(source: PanelSource, reveal = true): ReportPanel {
    const key = keyOf(source);
    const existing = this.all().find((p) => p.key === key);
    if (existing) {
      existing.setSource(source);
      if (reveal) existing.panel.reveal(undefined, false);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(WEBVIEW_REPORT, 'Run report', { viewColumn: vscode.ViewColumn.Active, preserveFocus: false }, webviewOptions(this.extensionUri));
    const p = new ReportPanel(panel, source, this);
    this.panels.add(p);
    return p;
  }

  /** A live run's handle for this directory, if the run feature has one going. */
  private liveHandleFor(runDir: string): RunHandle | undefined {
    return (this.services.runs?.activeRuns() ?? []).find((h) => path.resolve(h.outDir) === path.resolve(runDir));
  }

  /** Shows a finished (or running) run from its directory, or a report object. */
  async show(target: string | RunReport | { runDir: string } | vscode.Uri): Promise<ReportPanel> {
    if (target && typeof target === 'object' && 'version' in target && 'tasks' in target) {
      return this.open({ kind: 'run', report: target, subject: { report: target } });
    }
    const runDir = runDirOf(target);
    if (!runDir) throw new Error('Show Run Report: give a run directory (a folder under the runs directory holding report.json).');
    const live = this.liveHandleFor(runDir);
    if (live) return this.showLive(live);
    const source = await this.loadRun(runDir);
    return this.open(source);
  }

  private async loadRun(runDir: string): Promise<PanelSource> {
    const [report, sweep, results] = await Promise.all([readReport(runDir).catch(() => undefined), readSweep(runDir), readResults(runDir)]);
    if (!report && !sweep) {
      throw new Error(`No report in ${runDir}: the run has not written report.json or journal.ndjson yet (or the folder is not a run directory). Pick a run in the Parallel Run view.`);
    }
    // a sweep directory without a run of its own: show the sweep alone
    if (!report) return { kind: 'run', runDir, sweep };
    const shown = await this.withBlas(report);
    return { kind: 'run', runDir, report: shown, subject: { report: shown, runDir, sweep, results } };
  }

  /** The report with its interpreter's BLAS library filled in when a (cached) probe can tell quickly. */
  private async withBlas(report: RunReport): Promise<RunReport> {
    const py = report.python;
    if (!py?.executable || py.blas) return report;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // a first probe imports numpy (a fraction of a second); never hold the panel back for long
    const blas = await Promise.race([this.blas.get(py.executable), new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), 5_000)))]);
    clearTimeout(timer);
    return blas ? { ...report, python: { ...py, blas } } : report;
  }

  /** Files the run feature counted before the engine listed them (n/total and the ETA from the start). */
  private expectedTotal(runDir: string): number | null | undefined {
    return this.services.runs?.expectedTotal(runDir);
  }

  /** Shows a run while it is going; updates at most 4 times a second, final when done. */
  showLive(handle: RunHandle): ReportPanel {
    const existing = this.all().find((p) => p.key === `run:${path.resolve(handle.outDir)}`);
    const cur = existing?.current;
    if (existing && cur?.kind === 'run' && cur.feed?.handle === handle) {
      existing.panel.reveal(undefined, false);
      return existing;
    }
    let panel: ReportPanel | undefined;
    const source = this.liveSource(handle, () => panel);
    panel = this.open(source);
    return panel;
  }

  private liveSource(handle: RunHandle, panel: () => ReportPanel | undefined): RunSource {
    const source: RunSource = { kind: 'run', runDir: handle.outDir };
    source.feed = new LiveFeed(
      handle,
      (msg) => {
        // finished: a later reload shows the final report (every task, from report.json) from this subject
        if (msg.type === 'report' && !msg.live) source.subject = msg.subject;
        panel()?.post(msg);
      },
      { expectedTotal: () => this.expectedTotal(handle.outDir), blas: (py) => this.blas.peek(py) },
    );
    return source;
  }

  /** Two runs side by side (a = baseline). */
  async compare(a: string | RunReport, b: string | RunReport): Promise<ReportPanel> {
    const load = async (x: string | RunReport): Promise<ReportSubject> => {
      if (typeof x !== 'string') return { report: x };
      const live = this.liveHandleFor(x);
      const [report, results] = await Promise.all([live ? live.report() : readReport(x).catch(() => undefined), readResults(x)]);
      if (!report) throw new Error(`Cannot compare: no report in ${x}. Pick runs that have finished (or are running).`);
      return { report, runDir: x, results };
    };
    const [sa, sb] = await Promise.all([load(a), load(b)]);
    return this.open({ kind: 'compare', a: sa, b: sb });
  }

  /** WebviewPanelSerializer: a window reload brings the panel back from its state. */
  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: ReportPanelState | undefined): Promise<void> {
    let source: PanelSource;
    let error: string | undefined;
    try {
      if (state?.kind === 'compare') {
        const [a, b, ra, rb] = await Promise.all([readReport(state.a), readReport(state.b), readResults(state.a), readResults(state.b)]);
        if (!a || !b) throw new Error(`Cannot restore the comparison: ${!a ? state.a : state.b} has no report any more.`);
        source = { kind: 'compare', a: { report: a, runDir: state.a, results: ra }, b: { report: b, runDir: state.b, results: rb } };
      } else if (state?.kind === 'run' && state.runDir) {
        const live = this.liveHandleFor(state.runDir);
        if (live) {
          let p: ReportPanel | undefined;
          const src = this.liveSource(live, () => p);
          p = new ReportPanel(panel, src, this);
          this.panels.add(p);
          return;
        }
        source = await this.loadRun(state.runDir);
      } else {
        throw new Error('This report panel was saved without a run directory; open it again with "Show Run Report".');
      }
    } catch (err) {
      error = (err as Error).message;
      source = { kind: 'run' };
    }
    const p = new ReportPanel(panel, source, this);
    this.panels.add(p);
    if (error) p.post({ type: 'error', message: error });
  }

  /** Resolves with the next render acknowledgement matching `pred` (tests; diagnostics). */
  waitForRendered(pred: (r: ReportRendered, p: ReportPanel) => boolean, timeoutMs = 30_000): Promise<RenderedEvent> {
    return new Promise((resolve, reject) => {
      for (const p of this.panels) {
        if (p.lastRendered && pred(p.lastRendered, p)) return resolve({ panel: p, rendered: p.lastRendered });
      }
      const timer = setTimeout(() => {
        sub.dispose();
        reject(new Error(`report panel: no matching render within ${timeoutMs} ms (last: ${JSON.stringify(this.all().map((p) => p.lastRendered))}; posted: ${JSON.stringify(this.all().map((p) => p.postedTypes))})`));
      }, timeoutMs);
      const sub = this.onDidRender((e) => {
        if (pred(e.rendered, e.panel)) {
          clearTimeout(timer);
          sub.dispose();
          resolve(e);
        }
      });
    });
  }

  dispose(): void {
    for (const p of this.all()) p.dispose();
    this.renderedEmitter.dispose();
    this.logEmitter.dispose();
  }
}

/** A run's results table for a view (bounded), or undefined when it has none or it cannot be read. */
export async function readResults(runDir: string): Promise<ReportSubject['results']> {
  return readResultsTable(runDir).catch(() => undefined);
}

/** The Python script a sweep directory measured (its run.json), when there is one. */
async function sweepScript(runDir: string): Promise<string | undefined> {
  try {
    const def = JSON.parse(await fs.promises.readFile(path.join(runDir, 'run.json'), 'utf8')) as { command?: { kind?: string; script?: unknown } };
    return def.command?.kind === 'python' && typeof def.command.script === 'string' ? def.command.script : undefined;
  } catch {
    return undefined;
  }
}
