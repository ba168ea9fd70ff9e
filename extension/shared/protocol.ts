/**
 * Webview message protocol: one discriminated union per direction per panel,
 * handled by an exhaustive `switch` with a `never` check on both sides. Every webview sends
 * `ready` first; the host queues its messages until then. Type-only imports keep this file free of
 * runtime dependencies so webview bundles stay small.
 */
import type { CpuSample, LoadSummary, RunReport, TaskRecord } from '../core/run/types';
import type { HistoryPoint, SystemSample } from './monitorTypes';
import type { RunActivity } from './monitorFormat';

// ---------------------------------------------------------------------------------------------
// Report panel
// ---------------------------------------------------------------------------------------------

/** One measured point of a scaling sweep (`sweep.json` in a run directory). */
export interface SweepPoint {
  workers: number;
  threads: number;
  wallMs: number;
  /** serial baseline wall / this wall */
  speedup: number;
  /** speedup / workers */
  efficiency: number;
  /** Karp–Flatt experimentally determined serial fraction; undefined/null at 1 worker */
  karpFlatt?: number | null;
  /** spread of repeated measurements (e.g. (max-min)/median), when repeated */
  spread?: number | null;
  /** deliberately oversubscribed configuration (measured to show its cost, never recommended) */
  oversubscribed?: boolean;
}

/** What the sweep helper writes as `sweep.json` next to a run (fields beyond these are ignored). */
export interface SweepResult {
  points: SweepPoint[];
  /** Amdahl fit over the points: relError = its quality, points = measurements with more than one worker */
  fit: { serialFraction: number; relError?: number; points?: number };
  /** optional: files in the sample, the recommended setting, a sentence explaining it */
  sampleFiles?: number;
  recommendation?: { workers: number; threads: number; reason?: string; speedup?: number };
  createdAt?: number;
  /** logical cores the sweep ran on */
  cores?: number;
  /** other processes' CPU before and during the sweep */
  load?: LoadSummary;
}

/** One cell of a run's results table as a view receives it (bounded by the host: see core/run/resultsTable). */
export type ResultCell = string | number | boolean | null;

/** Rows of a run's results table: each row's cells in the order of `columns`. */
export interface ResultsRows {
  /** the inputs first (`inputs` of them), then status, seconds, max_rss_mb, the result keys, result_note */
  columns: string[];
  inputs: number;
  rows: ResultCell[][];
}

/** A run's results (results.ndjson, else results.csv), every value bounded for a view. */
export interface ResultsTable extends ResultsRows {
  /** rows in the file beyond the view's bound (not carried) */
  omitted: number;
  /** values changed to fit the bounds: text cut, numbers out of range shown as text, columns beyond the bound */
  bounded: number;
  /** the file the rows came from */
  source: 'results.ndjson' | 'results.csv';
}

/** A report plus where it lives (logs are resolved relative to runDir by the host). */
export interface ReportSubject {
  report: RunReport;
  /** absolute run directory, when the report came from disk or a live run */
  runDir?: string;
  sweep?: SweepResult;
  /** the run's results table (absent: the run wrote none, or it could not be read) */
  results?: ResultsTable;
}

/** Live increments: tasks finished and samples taken since the previous message. */
export interface ReportDelta {
  /** the report without tasks/cpuSamples/failures arrays (they travel as increments) */
  summary: Omit<RunReport, 'tasks' | 'cpuSamples'>;
  newTasks: TaskRecord[];
  newSamples: CpuSample[];
  /** tasks started and not yet finished (drawn as open bars) */
  running: Array<{ index: number; file: string; slot: number; start: number; attempt: number }>;
  /** results rows written since the previous message (a row replaces the one of the same inputs); reset: start the table again */
  results?: ResultsRows & { reset?: boolean; omitted?: number; bounded?: number };
}

/** Host → report webview. */
export type ReportToWebview =
  | { type: 'report'; subject: ReportSubject; live: boolean }
  | { type: 'delta'; delta: ReportDelta }
  | { type: 'compare'; a: ReportSubject; b: ReportSubject }
  | { type: 'sweep'; sweep: SweepResult }
  | { type: 'error'; message: string };

/** Report webview → host. */
export type ReportFromWebview =
  | { type: 'ready' }
  /** open a task's log; `side` picks the run in a comparison */
  | { type: 'openLog'; index: number; stream: 'stdout' | 'stderr'; side?: 'a' | 'b' }
  | { type: 'export'; format: 'html' | 'json' }
  | { type: 'compareWith' }
  /** the sweep section's Apply button: the host applies the recommendation of this panel's sweep.json */
  | { type: 'applyRecommendation' }
  /** the sweep section's Measure Again (shown when the machine was busy): the same script, measured again */
  | { type: 'measureAgain' }
  /** run every failed file again, merged into this run */
  | { type: 'rerunFailed' }
  /** a failure group's action, the group named by its key (the host takes its files from the report it holds) */
  | { type: 'failureGroup'; key: string; action: 'rerun' | 'copy' | 'debug' | 'openLog' }
  /** debug one failed task (by its index) */
  | { type: 'debugTask'; index: number }
  /** open the run's results.csv (`side` picks the run in a comparison) */
  | { type: 'openResults'; side?: 'a' | 'b' }
  /** open the log of the results row with these input values (the host finds the log in its own records) */
  | { type: 'openResultLog'; inputs: string[]; side?: 'a' | 'b' }
  /** acknowledgement after each render (what was drawn), used by tests and for diagnostics */
  | { type: 'rendered'; rendered: ReportRendered };

/** Counts of what the webview actually drew. */
export interface ReportRendered {
  view: 'run' | 'compare' | 'sweep' | 'error' | 'empty';
  runId?: string;
  status?: string;
  live: boolean;
  tasks: number;
  lanes: number;
  failures: number;
  stragglers: number;
  cpuSamples: number;
  /** samples on the CPU chart's canvas (0 when the chart did not draw) */
  cpuDrawn?: number;
  sweepPoints: number;
  /** the failure groups' sentences, largest group first */
  failureGroups?: string[];
  /** files named in the failures/stragglers tables (as text) */
  fileNames: string[];
  /** files in the run (null while unknown) and the remaining time shown while running */
  total?: number | null;
  etaMs?: number | null;
  /** timeline bars per kind (ok, retried, failed, timedOut, cancelled, running) */
  bars?: Partial<Record<'ok' | 'retried' | 'failed' | 'timedOut' | 'cancelled' | 'running', number>>;
  /** older tasks not drawn (a trimmed live report) */
  tasksOmitted?: number;
  /** the BLAS library named in the thread settings, when known */
  blas?: string;
  /** what the webview saved with setState (the serializer restores from it) */
  saved?: ReportPanelState;
  /** the summary cards as drawn, label → value ("Speedup (estimate)" → "1.96×") */
  figures?: Record<string, string>;
  /** the header's setting line as drawn (mode · workers × threads · machine load) and its busy warning */
  header?: { setting: string; busy?: string };
  /** a comparison as drawn: its headline and the differences it named */
  compare?: { headline: string; differences: string[]; sameInputs: boolean; results?: ResultsCompareRendered };
  /** the Results section as drawn (absent: no section) */
  results?: ResultsRendered;
  /** the message shown, for view 'error' */
  message?: string;
}

/** The Results section as drawn: what tests check and diagnostics report. */
export interface ResultsRendered {
  /** rows in the table, and how many pass the filter */
  rows: number;
  shown: number;
  columns: string[];
  /** the input columns (the parameters) */
  inputs: string[];
  /** rows whose status is not succeeded */
  failed: number;
  /** table rows in the DOM (the table draws only what is in view) */
  domRows: number;
  /** the first rows in view, as text, in table order */
  firstRows: string[][];
  sort?: { column: string; descending: boolean };
  filter: string;
  /** the plot as drawn: axes, one series per group value, points drawn */
  plot?: { x: string; y: string; group: string | null; series: string[]; points: number; note?: string };
  /** the one line shown instead of a table (a run whose tasks reported no result) */
  explanation?: string;
  /** notes under the table (bounded values, omitted rows) */
  notes: string[];
}

/** The comparison of two runs' results as drawn. */
export interface ResultsCompareRendered {
  headline: string;
  matched: number;
  onlyA: number;
  onlyB: number;
  columns: Array<{ column: string; matched: number; differ: number }>;
}

/** What an exported standalone report file embeds as JSON. */
export type EmbeddedReport = { kind: 'run'; subject: ReportSubject } | { kind: 'compare'; a: ReportSubject; b: ReportSubject };

/** The Results section's filter, order and plot as the user left them (kept across a reload). */
export interface ResultsViewState {
  filter: string;
  failedOnly: boolean;
  sort?: { column: string; descending: boolean };
  plot?: { x: string; y: string; group: string | null; logY?: boolean };
}

/** State the report webview keeps with setState (small: references, not data). */
export type ReportPanelState =
  | { kind: 'run'; runDir: string; results?: ResultsViewState }
  | { kind: 'compare'; a: string; b: string };

// ---------------------------------------------------------------------------------------------
// Resource Monitor panel
// ---------------------------------------------------------------------------------------------

/** One live update: the whole sample plus what the host derived from it. */
export interface MonitorUpdate {
  sample: SystemSample;
  run?: RunActivity;
  /** the memory warning's reason, when past parallelRun.monitor.memoryWarningPercent */
  warning?: string;
  /** the cgroup limit explanation, when one applies */
  limitNote?: string;
}

/** Host → monitor webview. */
export type MonitorToWebview =
  /** sent after `ready` (and again after a pause): the history to draw, then `update`s follow */
  | { type: 'init'; history: HistoryPoint[]; intervalMs: number; historyMs: number; update?: MonitorUpdate }
  | { type: 'update'; update: MonitorUpdate }
  /** sampling stopped (window not focused, no run); the charts keep what they have */
  | { type: 'paused'; reason: string };

/** Monitor webview → host. */
export type MonitorFromWebview =
  | { type: 'ready' }
  /** acknowledgement after each render (what was drawn), used by tests and for diagnostics */
  | { type: 'rendered'; rendered: MonitorRendered };

/** Counts of what the monitor webview actually drew. */
export interface MonitorRendered {
  /** points in the CPU/memory charts */
  points: number;
  /** per-core series drawn */
  cores: number;
  /** rows in the run processes table */
  processes: number;
  /** the headline as text, e.g. "CPU 37% · RAM 9.1/24 GB" */
  headline: string;
  paused: boolean;
}
