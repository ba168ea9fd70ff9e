/**
 * Report panel script. Two homes: inside VS Code (data arrives by postMessage after `ready`) and
 * an exported standalone HTML file (data embedded as JSON in <script type="application/json">,
 * read with JSON.parse, never evaluated). Everything from the data is rendered as text.
 */
import type { EmbeddedReport, ReportFromWebview, ReportPanelState, ReportRendered, ReportSubject, ReportToWebview, SweepResult } from '../shared/protocol';
import { CompareView } from './report/compareView';
import { h } from './report/dom';
import { RunView, sweepSection } from './report/runView';
import { SweepChart } from './report/charts';
import { onThemeChange, readPalette } from './report/theme';

interface VsCodeApi {
  postMessage(msg: ReportFromWebview): void;
  setState(state: ReportPanelState): void;
  getState(): ReportPanelState | undefined;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode: VsCodeApi | undefined = typeof acquireVsCodeApi === 'function' ? acquireVsCodeApi() : undefined;
const app = document.getElementById('app') ?? document.body.appendChild(h('main', { id: 'app' }));
let view: RunView | CompareView | undefined;
let sweepOnly: { sweep: SweepResult; chart: SweepChart } | undefined;
let errorText: string | undefined;
let saved: ReportPanelState | undefined = vscode?.getState();

function save(state: ReportPanelState): void {
  saved = state;
  vscode?.setState(state);
}

function post(msg: ReportFromWebview): void {
  vscode?.postMessage(msg);
}

function toolbar(kind: 'run' | 'compare'): HTMLElement {
  const bar = h('div', { class: 'toolbar', role: 'toolbar' });
  if (!vscode) {
    bar.append(h('span', { class: 'muted' }, 'Exported Parallel Run report'));
    return bar;
  }
  const btn = (label: string, title: string, msg: ReportFromWebview) => {
    const b = h('button', { class: 'button', title }, label);
    b.addEventListener('click', () => post(msg));
    return b;
  };
  bar.append(btn('Export HTML…', 'Save a self-contained HTML file of this report', { type: 'export', format: 'html' }));
  if (kind === 'run') {
    bar.append(btn('Export JSON…', 'Save the report data as JSON', { type: 'export', format: 'json' }));
    bar.append(btn('Compare with…', 'Compare this run with another run', { type: 'compareWith' }));
  }
  return bar;
}

function rendered(): ReportRendered {
  return { ...renderedView(), saved };
}

function renderedView(): ReportRendered {
  if (view) return view.rendered();
  const empty: ReportRendered = { view: 'empty', live: false, tasks: 0, lanes: 0, failures: 0, stragglers: 0, cpuSamples: 0, sweepPoints: 0, fileNames: [] };
  if (sweepOnly) return { ...empty, view: 'sweep', sweepPoints: sweepOnly.sweep.points.length };
  if (errorText) return { ...empty, view: 'error', message: errorText };
  return empty;
}

/** Acknowledge after the browser has laid out the frame, so tests see what the user sees. */
function acknowledge(): void {
  requestAnimationFrame(() => {
    const r = rendered();
    document.body.dataset.rendered = JSON.stringify({ view: r.view, tasks: r.tasks, live: r.live });
    post({ type: 'rendered', rendered: r });
  });
}

const palette = () => readPalette();

function showRun(subject: ReportSubject, live: boolean): void {
  errorText = undefined;
  sweepOnly = undefined;
  // the same run drawn again (a live run's final report): the results keep their filter, order and plot
  // … and so after a reload (a hidden panel's page is discarded): from the state saved with setState
  const restored = saved?.kind === 'run' && subject.runDir && saved.runDir === subject.runDir ? saved.results : undefined;
  const resultsState = (view instanceof RunView && view.runId === subject.report.runId ? view.resultsState() : undefined) ?? restored;
  view = new RunView(subject, live, {
    palette,
    openLog: vscode ? (index, stream) => post({ type: 'openLog', index, stream }) : undefined,
    applyRecommendation: vscode ? () => post({ type: 'applyRecommendation' }) : undefined,
    measureAgain: vscode ? () => post({ type: 'measureAgain' }) : undefined,
    failures: vscode
      ? {
          rerunFailed: () => post({ type: 'rerunFailed' }),
          group: (key, action) => post({ type: 'failureGroup', key, action }),
          debugTask: (index) => post({ type: 'debugTask', index }),
        }
      : undefined,
    openResults: vscode ? () => post({ type: 'openResults' }) : undefined,
    openResultLog: vscode ? (inputs) => post({ type: 'openResultLog', inputs }) : undefined,
    resultsChanged: (results) => {
      if (subject.runDir) save({ kind: 'run', runDir: subject.runDir, results });
    },
  }, false, resultsState);
  app.replaceChildren(toolbar('run'), view.root);
  if (subject.runDir) save({ kind: 'run', runDir: subject.runDir, ...(resultsState ? { results: resultsState } : {}) });
}

function showCompare(a: ReportSubject, b: ReportSubject): void {
  errorText = undefined;
  sweepOnly = undefined;
  view = new CompareView(a, b, {
    palette,
    openLogSide: vscode ? (side, index, stream) => post({ type: 'openLog', index, stream, side }) : undefined,
  });
  app.replaceChildren(toolbar('compare'), view.root);
  if (a.runDir && b.runDir) save({ kind: 'compare', a: a.runDir, b: b.runDir });
}

/** Draws one message; a drawing that throws shows its error in place of a half-drawn panel, and is still acknowledged. */
function handle(msg: ReportToWebview): void {
  try {
    draw(msg);
  } catch (err) {
    errorText = `The report could not be drawn: ${(err as Error)?.message ?? String(err)}`;
    view = undefined;
    sweepOnly = undefined;
    app.replaceChildren(h('div', { class: 'callout warning', role: 'alert' }, errorText));
  }
  acknowledge();
}

function draw(msg: ReportToWebview): void {
  switch (msg.type) {
    case 'report':
      showRun(msg.subject, msg.live);
      break;
    case 'delta':
      if (view instanceof RunView) view.applyDelta(msg.delta);
      break;
    case 'compare':
      showCompare(msg.a, msg.b);
      break;
    case 'sweep':
      if (view instanceof RunView) view.setSweep(msg.sweep);
      else {
        view = undefined;
        sweepOnly = { sweep: msg.sweep, chart: new SweepChart(palette()) };
        app.replaceChildren(sweepSection(msg.sweep, sweepOnly.chart, vscode ? () => post({ type: 'applyRecommendation' }) : undefined, vscode ? () => post({ type: 'measureAgain' }) : undefined));
      }
      break;
    case 'error':
      errorText = msg.message;
      view = undefined;
      app.replaceChildren(h('div', { class: 'callout warning', role: 'alert' }, msg.message));
      break;
    default: {
      const never: never = msg;
      throw new Error(`unknown message ${JSON.stringify(never)}`);
    }
  }
}

onThemeChange(() => {
  const p = palette();
  view?.setPalette(p);
  sweepOnly?.chart.setPalette(p);
});

if (vscode) {
  window.addEventListener('message', (e: MessageEvent<ReportToWebview>) => {
    const msg = e.data;
    if (msg && typeof msg === 'object' && typeof msg.type === 'string') handle(msg);
  });
  app.replaceChildren(h('p', { class: 'muted' }, 'Loading report…'));
  post({ type: 'ready' });
} else {
  // exported file: the data sits in the page as inert JSON
  document.body.classList.add('standalone');
  const node = document.getElementById('report-data');
  try {
    const data = JSON.parse(node?.textContent ?? 'null') as EmbeddedReport | null;
    if (!data) throw new Error('no embedded report data');
    if (data.kind === 'compare') handle({ type: 'compare', a: data.a, b: data.b });
    else handle({ type: 'report', subject: data.subject, live: false });
  } catch (err) {
    handle({ type: 'error', message: `This report file is damaged: ${(err as Error).message}` });
  }
}
