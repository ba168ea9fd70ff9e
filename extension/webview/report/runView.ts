/** One run's report: summary, thread settings, timeline, CPU, stragglers, failures, sweep, notes. */
import type { RunReport, TaskRecord } from '../../core/run/types';
import type { ReportDelta, ReportRendered, ReportSubject, SweepResult } from '../../shared/protocol';
import { CpuChart, SweepChart } from './charts';
import { card, Child, h, linkButton, table } from './dom';
import { baseName, formatBytes, formatDuration, formatFactor, formatPercent, formatRate, formatTime } from './format';
import { busySentence, runFigures, sentenceCase, settingFacts } from '../../shared/figures';
import { barKind, laneCount, oversubscriptionFacts, statusText, stragglers, sweepRecommendation, sweepSentence } from './model';
import type { Palette } from './theme';
import { Bar, TimelineIndex } from './timeline';
import { TimelineView } from './timelineView';
import { failuresBody, type FailureActions } from './failuresView';
import { ResultsView, type ResultsUiState } from './resultsView';

export interface RunViewHost {
  /** open a task's log through the extension host; undefined in an exported file */
  openLog?(index: number, stream: 'stdout' | 'stderr'): void;
  /** the sweep's Apply button (inside VS Code only) */
  applyRecommendation?(): void;
  /** the sweep's Measure Again button on a busy machine (inside VS Code only) */
  measureAgain?(): void;
  /** the failures section's buttons (re-run, copy, debug); undefined in an exported file */
  failures?: Omit<FailureActions, 'openLog'>;
  /** the Results section's "Open results.csv" and a row's log (inside VS Code only) */
  openResults?(): void;
  openResultLog?(inputs: string[]): void;
  /** the Results section's filter, order or plot changed */
  resultsChanged?(state: ResultsUiState): void;
  palette(): Palette;
}


export class RunView {
  readonly root: HTMLElement;
  private summary: Omit<RunReport, 'tasks' | 'cpuSamples'>;
  private readonly tasks: TaskRecord[] = [];
  /** task indices already drawn: a snapshot and the next delta may overlap */
  private readonly seen = new Set<number>();
  private readonly samples: RunReport['cpuSamples'] = [];
  private running: ReportDelta['running'] = [];
  private readonly index: TimelineIndex;
  private readonly timeline: TimelineView;
  private readonly cpu: CpuChart;
  private sweepChart: SweepChart | undefined;
  private sweep: SweepResult | undefined;
  private readonly slots: Record<'header' | 'summary' | 'threads' | 'timelineNote' | 'cpuNote' | 'stragglers' | 'failures' | 'sweep' | 'notes', HTMLElement>;
  /**
   * Tasks that finished before the snapshot this view started from and that the snapshot did not
   * carry (a very large live run keeps only its latest records in memory); deltas bring every later one.
   */
  private omitted: number;
  private counts = { failures: 0, stragglers: 0, fileNames: [] as string[], groups: [] as string[] };
  /** the Failures section: first when there are failures, after the stragglers otherwise */
  private readonly failuresSection: HTMLElement;
  private readonly summarySection: HTMLElement;
  /** the Results section: after the summary when tasks reported results, one line further down otherwise */
  private readonly results: ResultsView | undefined;
  private readonly resultsSection: HTMLElement | undefined;
  private readonly stragglersSection: HTMLElement;

  constructor(subject: ReportSubject, public live: boolean, private readonly host: RunViewHost, private readonly compact = false, resultsState?: ResultsUiState) {
    const { tasks, cpuSamples, ...summary } = subject.report;
    this.summary = summary;
    this.omitted = subject.report.tasksOmitted ?? 0;
    this.index = new TimelineIndex(laneCount(summary, tasks));
    this.timeline = new TimelineView(this.index, () => this.summary.startedAt, {
      describe: (bar) => this.describe(bar),
      open: host.openLog ? (bar) => this.openBar(bar) : undefined,
    });
    this.cpu = new CpuChart(host.palette());
    this.sweep = subject.sweep;
    this.slots = {
      header: h('header', { class: 'run-header' }),
      summary: h('div', { class: 'summary' }),
      threads: h('div', { class: 'threads' }),
      timelineNote: h('p', { class: 'callout info timeline-note', role: 'status' }),
      cpuNote: h('p', { class: 'muted' }),
      stragglers: h('div', null),
      failures: h('div', null),
      sweep: h('div', null),
      notes: h('div', null),
    };
    // a comparison's two sides leave results to the comparison of matching inputs above them
    if (!compact) {
      this.results = new ResultsView(subject.results, { palette: host.palette, openResults: host.openResults, openResultLog: host.openResultLog, changed: host.resultsChanged }, resultsState);
      this.resultsSection = section('Results', this.results.root);
      this.resultsSection.classList.add('results-section');
    }
    this.root = h(
      'div',
      { class: `run-view${compact ? ' compact' : ''}` },
      this.slots.header,
      (this.summarySection = section('Summary', this.slots.summary)),
      section('Thread settings', this.slots.threads),
      section('Per-worker timeline', this.slots.timelineNote, this.timeline.root),
      section('CPU utilisation', this.cpu.root, this.slots.cpuNote),
      (this.stragglersSection = section('Stragglers (slowest succeeded files)', this.slots.stragglers)),
      (this.failuresSection = section('Failures', this.slots.failures)),
      this.slots.sweep,
      this.slots.notes,
    );
    this.addTasks(tasks);
    this.samples.push(...cpuSamples);
    this.renderAll();
  }

  get runId(): string {
    return this.summary.runId;
  }

  /** Applies a live increment. */
  applyDelta(d: ReportDelta): void {
    this.summary = d.summary;
    this.live = d.summary.status === 'running';
    const finished = new Set(d.newTasks.map((t) => t.index));
    this.index.remove((b) => b.kind === 'running');
    this.addTasks(d.newTasks);
    this.samples.push(...d.newSamples);
    if (d.results) this.results?.merge(d.results);
    this.running = d.running.filter((r) => !finished.has(r.index));
    const now = this.summary.startedAt + this.summary.wallMs;
    for (const r of this.running) this.index.add({ lane: Math.max(0, r.slot - 1), start: r.start, end: Math.max(r.start + 1, now), kind: 'running', ref: -1 - r.index });
    this.renderAll();
  }

  setSweep(s: SweepResult): void {
    this.sweep = s;
    this.renderSweep();
  }

  setPalette(p: Palette): void {
    this.timeline.setPalette(p);
    this.cpu.setPalette(p);
    this.sweepChart?.setPalette(p);
    this.results?.setPalette(p);
  }

  /** The Results section's filter, order and plot (kept when a live run's final report draws again). */
  resultsState(): ResultsUiState | undefined {
    return this.results?.uiState();
  }

  rendered(): ReportRendered {
    return {
      view: 'run',
      runId: this.summary.runId,
      status: this.summary.status,
      live: this.live,
      tasks: this.tasks.length,
      lanes: this.index.laneCount,
      failures: this.counts.failures,
      stragglers: this.counts.stragglers,
      cpuSamples: this.samples.length,
      cpuDrawn: this.cpu.drawn(),
      sweepPoints: this.sweep?.points.length ?? 0,
      fileNames: this.counts.fileNames,
      failureGroups: this.counts.groups,
      total: this.summary.counts.total,
      etaMs: this.summary.status === 'running' ? this.summary.etaMs : null,
      bars: this.index.kindCounts(),
      tasksOmitted: this.omitted,
      blas: this.summary.python?.blas,
      figures: Object.fromEntries([...this.slots.summary.querySelectorAll('.card')].map((c) => [c.querySelector('.card-label')?.textContent ?? '', c.querySelector('.card-value')?.textContent ?? ''])),
      header: { setting: this.slots.header.querySelector('.setting')?.textContent ?? '', busy: this.slots.header.querySelector('.busy.callout')?.textContent ?? undefined },
      results: this.results?.rendered(),
    };
  }

  private addTasks(tasks: readonly TaskRecord[]): void {
    for (const t of tasks) {
      if (this.seen.has(t.index)) continue;
      this.seen.add(t.index);
      const pos = this.tasks.length;
      this.tasks.push(t);
      const kind = barKind(t);
      if (kind) this.index.add({ lane: Math.max(0, t.slot - 1), start: t.start, end: Math.max(t.end, t.start), kind, ref: pos });
    }
  }

  private renderAll(): void {
    this.renderHeader();
    this.renderSummary();
    this.renderThreads();
    this.renderTimelineNote();
    this.timeline.fit();
    this.timeline.invalidate();
    if (this.samples.length > 0) {
      this.cpu.root.hidden = false;
      this.cpu.update(this.samples, this.tasks, this.summary.startedAt, this.summary.cores.logical);
      this.slots.cpuNote.textContent = `Machine-wide CPU (100% = all ${this.summary.cores.logical} logical cores) with the mean number of tasks running, each over the interval before its sample. A gap between them points at I/O waits, start-up costs or a serial part.`;
    } else {
      this.cpu.root.hidden = true;
      this.slots.cpuNote.textContent = 'No CPU samples were recorded for this run.';
    }
    this.renderStragglers();
    this.renderFailures();
    this.placeResults();
    this.renderSweep();
    this.renderNotes();
  }

  private renderHeader(): void {
    const s = this.summary;
    const cmd = s.command.kind === 'python' ? `${s.command.script}${s.command.args.length ? ' ' + s.command.args.join(' ') : ''}` : s.command.argv.join(' ');
    const facts = settingFacts({ ...s, tasks: this.tasks });
    const busy = busySentence(s.load);
    this.slots.header.replaceChildren(
      h('h1', null, s.label || `Run ${s.runId}`),
      h('span', { class: `badge status-${s.status}` }, statusText(s)),
      s.demo
        ? h('div', { class: 'muted meta' }, `What this measures: ${s.demo.measures}`, ` · started ${formatTime(s.startedAt)}`)
        : h(
          'div',
          { class: 'muted meta' },
          `${s.command.kind === 'python' ? 'Python script' : 'Command'}: `,
          h('code', null, cmd),
          ` · started ${formatTime(s.startedAt)} · ${s.backend} · run ${s.runId}`,
        ),
      h(
        'div',
        { class: 'meta setting' },
        ...(s.demo ? [] : [h('span', { class: 'fact' }, facts.mode), ' · ']),
        h('span', { class: 'fact' }, s.demo ? `${s.workers} worker thread${s.workers === 1 ? '' : 's'} on ${s.cores.logical} logical cores` : facts.setting),
        ' · ',
        h('span', { class: facts.busy ? 'fact busy' : 'fact' }, facts.machine),
      ),
      ...(busy ? [h('p', { class: 'callout warning busy', role: 'alert' }, `${sentenceCase(busy)}. Measure again when the machine is quieter for figures you can quote.`)] : []),
    );
  }

  private renderSummary(): void {
    const s = this.summary;
    const f = runFigures({ ...s, tasks: this.tasks });
    const c = s.counts;
    const failed = c.failed + c.timedOut;
    const cards: HTMLElement[] = [
      card('Files', c.total !== null ? `${c.done} / ${c.total}` : `${c.done}`, c.skipped ? `${c.skipped} skipped (already done)` : c.total !== null ? 'done / total' : 'done'),
      card('Succeeded', String(c.succeeded), c.retried ? `${c.retried} after a retry` : undefined, 'good'),
      card('Failed', String(failed), c.timedOut ? `${c.timedOut} timed out` : c.cancelled ? `${c.cancelled} cancelled` : undefined, failed ? 'bad' : ''),
      card('Wall time', formatDuration(s.wallMs), s.status === 'running' ? 'so far' : s.endedAt ? `ended ${formatTime(s.endedAt)}` : undefined),
      card('Sum of task times', formatDuration(s.sumTaskMs), 'what one worker would need'),
    ];
    if (f.ok) {
      cards.push(
        card(f.kind === 'measured' ? 'Speedup (measured)' : 'Speedup (estimate)', formatFactor(f.speedup), f.kind === 'measured' ? 'vs serial baseline' : 'from task times', 'accent'),
        card('Efficiency', formatPercent(f.efficiency), `speedup ÷ ${f.processors} core${f.processors === 1 ? '' : 's'} used`),
        card('Throughput', formatRate(f.throughput), 'succeeded files'),
      );
    }
    if (s.status === 'running') cards.push(card('ETA', s.etaMs !== null ? formatDuration(s.etaMs) : 'estimating…', 'remaining'));
    this.slots.summary.replaceChildren(h('div', { class: 'cards' }, ...cards), h('p', { class: f.ok ? 'basis' : 'basis callout info no-figures' }, f.basis));
  }

  private renderThreads(): void {
    const s = this.summary;
    if (s.demo) {
      this.slots.threads.replaceChildren(h('p', { class: 'muted' }, `No BLAS or OpenMP threads here: ${s.demo.measures}`));
      return;
    }
    const o = oversubscriptionFacts({ ...s, tasks: [], cpuSamples: [] });
    const rows: Child[][] = [
      ['Workers (parallel tasks)', String(s.workers)],
      ['BLAS/OpenMP threads per task', String(s.threads)],
      ['Cores', `${s.cores.logical} logical, ${s.cores.physical} physical`],
      ['Oversubscription (workers × threads ÷ logical cores)', formatFactor(o.factor)],
      ['Interpreter', s.python ? `${s.python.executable}${s.python.version ? ` (Python ${s.python.version})` : ''}` : s.command.kind === 'python' ? s.command.python : 'not a Python run'],
      ['BLAS library', s.python?.blas || 'unknown (run "Inspect BLAS" to find out)'],
    ];
    // every task gets the run's thread env (user values already merged in): one table says it all
    const envRows = Object.entries(s.threadEnv).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [h('code', null, k), h('code', null, v)] as Child[]);
    this.slots.threads.replaceChildren(
      h('div', { class: o.level === 'warning' ? 'callout warning' : 'callout ok', role: o.level === 'warning' ? 'alert' : undefined }, o.text),
      h('div', { class: 'two-col' }, table(['Setting', 'Value'], rows, 'kv'), h('div', null, h('h3', null, 'Environment each task received'), envRows.length ? table(['Variable', 'Value'], envRows, 'kv') : h('p', { class: 'muted' }, 'No thread variables were set.'))),
    );
  }

  private renderTimelineNote(): void {
    const n = this.omitted;
    const note = this.slots.timelineNote;
    note.hidden = n === 0;
    if (n === 0) return;
    const older = `${n.toLocaleString('en-US')} older task${n === 1 ? '' : 's'}`;
    note.textContent = this.live
      ? `${older} of this large run are not drawn yet (the live view keeps the latest ones): they are shown after the run ends.`
      : `${older} are not drawn: this report was trimmed in memory. report.json in the run directory has every task.`;
  }

  private renderStragglers(): void {
    const top = stragglers(this.tasks, 10);
    this.counts.stragglers = top.length;
    const names: string[] = [];
    if (top.length === 0) {
      this.slots.stragglers.replaceChildren(h('p', { class: 'muted' }, this.live ? 'No finished files yet.' : 'No files ran.'));
    } else {
      const rows = top.map(({ task, timesMedian }) => {
        names.push(task.file);
        return [h('span', { class: 'file', title: task.file }, baseName(task.file)), formatDuration(task.wallMs), Number.isFinite(timesMedian) ? formatFactor(timesMedian) : '—', String(task.slot), statusLabel(task), this.logLinks(task.index)];
      });
      this.slots.stragglers.replaceChildren(table(['File', 'Duration', '× median', 'Worker', 'Status', 'Log'], rows, 'stragglers'));
    }
    this.counts.fileNames = names;
  }

  private renderFailures(): void {
    const { el, rendered } = failuresBody(this.summary, { ...this.host.failures, openLog: this.host.openLog });
    this.counts.failures = rendered.files.length;
    this.counts.groups = rendered.titles;
    this.counts.fileNames.push(...rendered.files);
    this.slots.failures.replaceChildren(el);
    // failures are the first thing to read when there are any
    const first = this.summary.counts.failed + this.summary.counts.timedOut > 0 || !!this.summary.stopped;
    if (first && this.failuresSection.nextSibling !== this.summarySection) this.root.insertBefore(this.failuresSection, this.summarySection);
    else if (!first && this.failuresSection.nextSibling === this.summarySection) this.root.insertBefore(this.failuresSection, this.slots.sweep);
  }

  /** Results right after the summary when there are some; the one-line explanation after the stragglers otherwise. */
  private placeResults(): void {
    const sec = this.resultsSection;
    if (!sec || !this.results) return;
    const anchor = this.results.hasResults ? this.summarySection.nextSibling : this.stragglersSection.nextSibling;
    if (sec !== anchor && sec.nextSibling !== anchor) this.root.insertBefore(sec, anchor);
  }

  private renderSweep(): void {
    const s = this.sweep;
    if (!s || !Array.isArray(s.points) || s.points.length === 0) {
      this.slots.sweep.replaceChildren();
      return;
    }
    if (!this.sweepChart) this.sweepChart = new SweepChart(this.host.palette());
    this.slots.sweep.replaceChildren(sweepSection(s, this.sweepChart, this.host.applyRecommendation, this.host.measureAgain));
  }

  private renderNotes(): void {
    const n = this.summary.notes;
    if (n.length) this.slots.notes.replaceChildren(section('Notes', h('ul', null, ...n.map((x) => h('li', null, x)))));
    else this.slots.notes.replaceChildren();
  }

  private logLinks(index: number): Child {
    const open = this.host.openLog;
    if (!open) return h('span', { class: 'muted' }, `task ${index}`);
    return h('span', { class: 'links' }, linkButton('stderr', 'Open the stderr log', () => open(index, 'stderr')), ' · ', linkButton('stdout', 'Open the stdout log', () => open(index, 'stdout')));
  }

  private openBar(bar: Bar): void {
    const index = bar.ref >= 0 ? this.tasks[bar.ref]?.index : -1 - bar.ref;
    if (index !== undefined && this.host.openLog) {
      const t = bar.ref >= 0 ? this.tasks[bar.ref] : undefined;
      // a failed task's story is on stderr; a good one's output on stdout
      this.host.openLog(index, t && t.status === 'succeeded' ? 'stdout' : 'stderr');
    }
  }

  private describe(bar: Bar): string[] {
    const origin = this.summary.startedAt;
    if (bar.ref < 0) {
      const r = this.running.find((x) => x.index === -1 - bar.ref);
      return r ? [baseName(r.file), r.file, `running for ${formatDuration(bar.end - bar.start)} (attempt ${r.attempt})`, `worker ${r.slot} · started at +${formatDuration(r.start - origin)}`] : ['running'];
    }
    const t = this.tasks[bar.ref];
    const exit = t.signal ? `killed by ${t.signal}` : t.exitCode !== null ? `exit status ${t.exitCode}` : 'no exit status';
    const lines = [
      baseName(t.file),
      t.file,
      `${statusLabel(t)} · ${formatDuration(t.wallMs)} · ${exit}`,
      `worker ${t.slot} · started at +${formatDuration(t.start - origin)} · CPU ${(t.cpuUserSec + t.cpuSysSec).toFixed(2)} s${t.maxRssKb ? ` · peak RSS ${formatBytes(t.maxRssKb * 1024)}` : ''}`,
    ];
    if (this.host.openLog) lines.push('Click to open the log');
    return lines;
  }
}

function statusLabel(t: Pick<TaskRecord, 'status' | 'attempts'>): string {
  const base = t.status === 'timedOut' ? 'timed out' : t.status;
  return t.attempts > 1 ? `${base} after ${t.attempts} attempts` : base;
}

export function section(title: string, ...body: Child[]): HTMLElement {
  return h('section', null, h('h2', null, title), ...body);
}

/**
 * The scaling-sweep section: the recommendation (with Apply inside VS Code), the machine's load,
 * whether the Amdahl fit may be quoted, the chart (measured, ideal, the fit when it fits) and the table.
 */
export function sweepSection(s: SweepResult, chart: SweepChart, apply?: () => void, measureAgain?: () => void): HTMLElement {
  const rows = [...s.points]
    .sort((a, b) => a.workers - b.workers || a.threads - b.threads)
    .map((p) => [
      String(p.workers),
      p.oversubscribed ? `${p.threads} (oversubscribed)` : String(p.threads),
      formatDuration(p.wallMs),
      formatFactor(p.speedup),
      formatPercent(p.efficiency),
      p.karpFlatt === null || p.karpFlatt === undefined || !Number.isFinite(p.karpFlatt) ? '—' : p.karpFlatt.toFixed(3),
      p.spread === null || p.spread === undefined || !Number.isFinite(p.spread) ? '—' : formatPercent(p.spread, 1),
    ]);
  const rec = s.recommendation;
  const recLine = rec ? sweepRecommendation(s) : 'No recommendation: no configuration ran every file successfully.';
  const busy = busySentence(s.load);
  const actions = h('div', { class: 'sweep-actions' }, h('strong', { class: 'recommendation' }, recLine));
  if (rec && apply) {
    const b = h('button', { class: 'button apply', title: 'Write this setting to the workspace settings (parallelRun.workers and parallelRun.threadsPerTask)' }, `Apply ${rec.workers} × ${rec.threads}`);
    b.addEventListener('click', apply);
    actions.append(b);
  }
  const el = section(
    'Scaling sweep (speedup vs workers)',
    actions,
    ...(busy ? [busyCallout(busy, measureAgain)] : []),
    h('p', { class: 'basis' }, sweepSentence(s)),
    chart.root,
    table(['Workers', 'Threads', 'Wall time (median)', 'Speedup', 'Efficiency', 'Karp–Flatt', 'Spread (max − min)'], rows, 'sweep'),
  );
  el.classList.add('sweep');
  // uPlot measures its container: draw after the section is in the document
  requestAnimationFrame(() => chart.update(s));
  return el;
}

/** The busy-machine warning of a sweep, with Measure Again when the host can start one. */
function busyCallout(busy: string, measureAgain?: () => void): HTMLElement {
  const el = h('div', { class: 'callout warning busy', role: 'alert' }, `${sentenceCase(busy)}. Measure again when the machine is quieter before you rely on this recommendation.`);
  if (measureAgain) {
    const b = h('button', { class: 'button measure-again', title: 'Run Measure Speedup again on the same script' }, 'Measure Again…');
    b.addEventListener('click', measureAgain);
    el.append(' ', b);
  }
  return el;
}
