/**
 * The monitor's two live uPlot charts (CPU: total + one thin line per core; memory: used, limit,
 * swap), over a sliding 10-minute window. Colours come from VS Code's theme variables and are
 * re-read when the theme changes (the options bake them in, so the plot is rebuilt).
 */
import uPlot from 'uplot';
import type { HistoryPoint } from '../../shared/monitorTypes';
import { cssVar } from '../report/theme';

const HEIGHT = 200;
const GiB = 2 ** 30;
/** per-core lines beyond this many are too many to tell apart: the bars above show them instead */
export const MAX_CORE_LINES = 16;

interface Colours {
  fg: string;
  muted: string;
  grid: string;
  total: string;
  mem: string;
  limit: string;
  swap: string;
  cores: string[];
}

function colours(): Colours {
  const series = ['--vscode-charts-green', '--vscode-charts-orange', '--vscode-charts-purple', '--vscode-charts-yellow', '--vscode-charts-red', '--vscode-charts-foreground'];
  const fallback = ['#388a34', '#d18616', '#b180d7', '#cca700', '#f14c4c', '#cccccc'];
  return {
    fg: cssVar('--vscode-editor-foreground', cssVar('--vscode-foreground', '#333')),
    muted: cssVar('--vscode-descriptionForeground', '#717171'),
    grid: cssVar('--vscode-editorWidget-border', cssVar('--vscode-panel-border', '#8884')),
    total: cssVar('--vscode-charts-blue', '#1a85ff'),
    mem: cssVar('--vscode-charts-purple', '#b180d7'),
    limit: cssVar('--vscode-charts-red', '#e51400'),
    swap: cssVar('--vscode-charts-orange', '#d18616'),
    cores: series.map((v, i) => cssVar(v, fallback[i])),
  };
}

function alpha(colour: string, a: number): string {
  const m = /^#([0-9a-f]{6})$/i.exec(colour.trim());
  if (!m) return colour;
  return `#${m[1]}${Math.round(a * 255).toString(16).padStart(2, '0')}`;
}

function axis(c: Colours, label: string, extra: Partial<uPlot.Axis> = {}): uPlot.Axis {
  return { label, stroke: c.muted, labelFont: '12px sans-serif', font: '11px sans-serif', grid: { stroke: c.grid, width: 1 }, ticks: { stroke: c.grid, width: 1 }, ...extra };
}

/** Points with a null inserted wherever sampling paused, so the lines break instead of bridging. */
export function withGaps(points: readonly HistoryPoint[], intervalMs: number): Array<HistoryPoint | null> {
  const out: Array<HistoryPoint | null> = [];
  for (let i = 0; i < points.length; i++) {
    if (i > 0 && points[i].t - points[i - 1].t > 2.5 * intervalMs) out.push(null);
    out.push(points[i]);
  }
  return out;
}

abstract class LiveChart {
  protected plot: uPlot | undefined;
  readonly root: HTMLElement;
  protected c = colours();
  private last: { points: Array<HistoryPoint | null>; windowMs: number } | undefined;

  constructor(label: string) {
    this.root = document.createElement('div');
    this.root.className = 'chart';
    this.root.setAttribute('role', 'img');
    this.root.setAttribute('aria-label', label);
    new ResizeObserver(() => this.plot?.setSize({ width: this.width(), height: HEIGHT })).observe(this.root);
  }

  update(points: Array<HistoryPoint | null>, windowMs: number): void {
    this.last = { points, windowMs };
    const data = this.data(points);
    const now = points.length ? points[points.length - 1]?.t ?? Date.now() : Date.now();
    if (!this.plot || this.needsRebuild(points)) {
      this.plot?.destroy();
      this.plot = new uPlot(this.options(), data, this.root);
    } else {
      this.plot.setData(data, false);
    }
    // a fixed sliding window: the chart fills from the right as history accumulates
    this.plot.setScale('x', { min: (now - windowMs) / 1000, max: now / 1000 });
  }

  /** Theme changed: colours are baked into the options, so rebuild. */
  retheme(): void {
    this.c = colours();
    this.plot?.destroy();
    this.plot = undefined;
    if (this.last) this.update(this.last.points, this.last.windowMs);
  }

  protected width(): number {
    return Math.max(260, this.root.clientWidth || 600);
  }

  protected time(points: Array<HistoryPoint | null>): number[] {
    // a gap marker sits 1 ms after the previous point (uPlot needs increasing x)
    return points.map((p, i) => (p ? p.t : (points[i - 1]?.t ?? 0) + 1) / 1000);
  }

  protected abstract data(points: Array<HistoryPoint | null>): uPlot.AlignedData;
  protected abstract options(): uPlot.Options;
  protected needsRebuild(_points: Array<HistoryPoint | null>): boolean {
    return false;
  }
}

export class CpuChart extends LiveChart {
  private cores = 0;

  constructor() {
    super('CPU usage over the last 10 minutes, total and per core');
  }

  protected override needsRebuild(points: Array<HistoryPoint | null>): boolean {
    const last = [...points].reverse().find((p) => p) ?? undefined;
    const cores = Math.min(last?.cores.length ?? 0, MAX_CORE_LINES);
    if (cores === this.cores) return false;
    this.cores = cores;
    return true;
  }

  protected data(points: Array<HistoryPoint | null>): uPlot.AlignedData {
    const lines: Array<Array<number | null>> = [points.map((p) => (p ? p.cpu : null))];
    for (let i = 0; i < this.coresIn(points); i++) lines.push(points.map((p) => (p ? p.cores[i] ?? null : null)));
    return [this.time(points), ...lines];
  }

  private coresIn(points: Array<HistoryPoint | null>): number {
    const last = [...points].reverse().find((p) => p);
    return Math.min(last?.cores.length ?? 0, MAX_CORE_LINES);
  }

  protected options(): uPlot.Options {
    const c = this.c;
    const pct = (_u: uPlot, v: number | null): string => (v == null ? '—' : `${v.toFixed(0)}%`);
    const series: uPlot.Series[] = [
      { label: 'time' },
      { label: 'total', stroke: c.total, width: 2, fill: alpha(c.total, 0.12), value: pct },
    ];
    for (let i = 0; i < this.cores; i++) series.push({ label: `cpu${i}`, stroke: alpha(c.cores[i % c.cores.length], 0.8), width: 1, value: pct });
    return {
      width: this.width(),
      height: HEIGHT,
      scales: { x: { time: true }, y: { range: [0, 100] } },
      series,
      axes: [axis(c, ''), axis(c, 'CPU %', { values: (_u, ticks) => ticks.map((t) => `${t}%`) })],
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
    };
  }
}

export class MemoryChart extends LiveChart {
  constructor() {
    super('Memory use over the last 10 minutes');
  }

  protected data(points: Array<HistoryPoint | null>): uPlot.AlignedData {
    const gib = (f: (p: HistoryPoint) => number) => points.map((p) => (p ? f(p) / GiB : null));
    return [this.time(points), gib((p) => p.memUsed), gib((p) => p.memTotal), gib((p) => p.swapUsed)];
  }

  protected options(): uPlot.Options {
    const c = this.c;
    const gb = (_u: uPlot, v: number | null): string => (v == null ? '—' : `${v.toFixed(1)} GB`);
    return {
      width: this.width(),
      height: HEIGHT,
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.05] } },
      series: [
        { label: 'time' },
        { label: 'used', stroke: c.mem, width: 2, fill: alpha(c.mem, 0.15), value: gb },
        { label: 'total / limit', stroke: c.limit, width: 1, dash: [6, 4], value: gb },
        { label: 'swap used', stroke: c.swap, width: 1.5, value: gb },
      ],
      axes: [axis(c, ''), axis(c, 'GB')],
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
    };
  }
}
