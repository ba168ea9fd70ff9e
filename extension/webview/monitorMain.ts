/**
 * Resource Monitor panel script: headline, per-core bars, live CPU and memory charts over the last
 * 10 minutes, and the active run's processes. Data arrives by postMessage after `ready` and is
 * rendered as text only (textContent), never as markup.
 */
import type { HistoryPoint } from '../shared/monitorTypes';
import { formatBytes, formatGB } from '../shared/format';
import { percentText, processLines } from '../shared/monitorFormat';
import type { MonitorFromWebview, MonitorRendered, MonitorToWebview, MonitorUpdate } from '../shared/protocol';
import { h } from './report/dom';
import { onThemeChange } from './report/theme';
import { CpuChart, MemoryChart, withGaps } from './monitor/charts';

interface VsCodeApi {
  postMessage(msg: MonitorFromWebview): void;
  setState(state: { openedAt: number }): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
// nothing to restore but the panel itself: the host sends the history again after `ready`
vscode.setState({ openedAt: Date.now() });

const app = document.getElementById('app') ?? document.body.appendChild(h('main', { id: 'app' }));
const headline = h('h1', { class: 'headline' }, 'Resource Monitor');
const status = h('p', { class: 'status muted' });
const warning = h('p', { class: 'banner warning', role: 'alert' });
const limitNote = h('p', { class: 'banner note' });
const load = h('span', { class: 'muted' });
const coreBars = h('div', { class: 'cores', role: 'list', ariaLabel: 'CPU usage per core' });
const cpuChart = new CpuChart();
const memChart = new MemoryChart();
const memText = h('span', { class: 'muted' });
const runTitle = h('span', { class: 'muted' });
const processTable = h('table', { class: 'data processes' });
const runEmpty = h('p', { class: 'muted' }, 'No run is active. Start one with “Parallel Run: Run Script over Files…”; its processes appear here.');

app.append(
  h('header', null, headline, status),
  warning,
  limitNote,
  h('section', null, h('h2', null, 'CPU ', load), coreBars, cpuChart.root),
  h('section', null, h('h2', null, 'Memory ', memText), memChart.root),
  h('section', null, h('h2', null, 'Run processes ', runTitle), processTable, runEmpty),
);

let points: HistoryPoint[] = [];
let intervalMs = 1000;
let windowMs = 10 * 60_000;
let paused = false;
let lastUpdate: MonitorUpdate | undefined;

function show(el: HTMLElement, text: string | undefined): void {
  el.textContent = text ?? '';
  el.hidden = !text;
}

function renderCores(u: MonitorUpdate): void {
  const { cores, coreIds } = u.sample.cpu;
  // reuse the bar elements: only widths and labels change each second
  while (coreBars.children.length > cores.length) coreBars.lastElementChild!.remove();
  while (coreBars.children.length < cores.length) {
    coreBars.append(h('div', { class: 'core', role: 'listitem' }, h('span', { class: 'core-label' }), h('span', { class: 'core-track' }, h('span', { class: 'core-fill' })), h('span', { class: 'core-value' })));
  }
  cores.forEach((p, i) => {
    const row = coreBars.children[i] as HTMLElement;
    (row.children[0] as HTMLElement).textContent = `cpu${coreIds[i]}`;
    const fill = row.children[1].firstElementChild as HTMLElement;
    fill.style.width = `${Math.max(0, Math.min(100, p)).toFixed(1)}%`;
    (row.children[2] as HTMLElement).textContent = percentText(p);
  });
}

function renderProcesses(u: MonitorUpdate): number {
  const procs = u.sample.processes;
  runTitle.textContent = u.run ? `· ${u.run.busy}/${u.run.workers} workers busy` : '';
  processTable.hidden = procs.length === 0;
  runEmpty.hidden = procs.length > 0;
  if (!procs.length) {
    runEmpty.textContent = u.run ? 'The run has no live processes right now.' : 'No run is active. Start one with “Parallel Run: Run Script over Files…”; its processes appear here.';
    return 0;
  }
  processTable.replaceChildren(
    h('thead', null, h('tr', null, h('th', null, 'PID'), h('th', null, 'Process'), h('th', { class: 'num' }, 'CPU %'), h('th', { class: 'num' }, 'RSS'), h('th', { class: 'num' }, 'Children'))),
    h('tbody', null, ...procs.map((p) => h('tr', null,
      h('td', { class: 'num' }, String(p.pid)),
      h('td', null, p.name),
      h('td', { class: 'num' }, p.cpuPercent.toFixed(1)),
      h('td', { class: 'num' }, formatBytes(p.rssBytes)),
      h('td', { class: 'num' }, String(p.descendants)),
    ))),
  );
  processTable.setAttribute('aria-label', processLines(procs).join('\n'));
  return procs.length;
}

function render(): void {
  const u = lastUpdate;
  let headlineText = 'Resource Monitor';
  let processes = 0;
  if (u) {
    const s = u.sample;
    headlineText = `CPU ${percentText(s.cpu.total)} · RAM ${formatGB(s.memory.usedBytes)}/${formatGB(s.memory.totalBytes)} GB${u.run ? ` · ${u.run.busy}/${u.run.workers} busy` : ''}`;
    load.textContent = s.load ? `· load ${s.load.map((x) => x.toFixed(2)).join(' ')} · ${s.cpu.capacityCores} cores` : `· ${s.cpu.capacityCores} cores`;
    memText.textContent = `· ${formatGB(s.memory.usedBytes)} of ${formatGB(s.memory.totalBytes)} GB (${percentText(s.memory.percent)})` +
      (s.memory.swapTotalBytes > 0 ? ` · swap ${formatGB(s.memory.swapUsedBytes)} of ${formatGB(s.memory.swapTotalBytes)} GB` : ' · no swap');
    show(warning, u.warning);
    show(limitNote, u.limitNote);
    renderCores(u);
    processes = renderProcesses(u);
  } else {
    show(warning, undefined);
    show(limitNote, undefined);
  }
  headline.textContent = headlineText;
  const shown = withGaps(points, intervalMs);
  cpuChart.update(shown, windowMs);
  memChart.update(shown, windowMs);
  show(status, paused ? 'Paused while the window is not focused and no run is active; it resumes by itself.' : `Live · every ${intervalMs >= 1000 ? `${intervalMs / 1000} s` : `${intervalMs} ms`} · last 10 minutes`);
  const rendered: MonitorRendered = {
    points: points.length,
    cores: coreBars.children.length,
    processes,
    headline: headlineText,
    paused,
  };
  vscode.postMessage({ type: 'rendered', rendered });
}

function addPoint(u: MonitorUpdate): void {
  const s = u.sample;
  if (points.length && points[points.length - 1].t >= s.t) return;
  points.push({ t: s.t, cpu: s.cpu.total, cores: s.cpu.cores, memUsed: s.memory.usedBytes, memTotal: s.memory.totalBytes, swapUsed: s.memory.swapUsedBytes });
  const cutoff = s.t - windowMs;
  while (points.length && points[0].t < cutoff) points.shift();
}

window.addEventListener('message', (event: MessageEvent<MonitorToWebview>) => {
  const m = event.data;
  switch (m.type) {
    case 'init':
      points = m.history.slice();
      intervalMs = m.intervalMs;
      windowMs = m.historyMs;
      paused = false;
      if (m.update) {
        lastUpdate = m.update;
        addPoint(m.update);
      }
      render();
      return;
    case 'update':
      paused = false;
      lastUpdate = m.update;
      addPoint(m.update);
      render();
      return;
    case 'paused':
      paused = true;
      render();
      return;
    default: {
      const never: never = m;
      console.error('unknown message', never);
    }
  }
});

onThemeChange(() => {
  cpuChart.retheme();
  memChart.retheme();
});

vscode.postMessage({ type: 'ready' });
