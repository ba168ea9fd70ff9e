/** uPlot charts (CPU utilisation over the run, scaling sweep), themed from VS Code's CSS variables. */
import uPlot from 'uplot';
import type { CpuSample, TaskRecord } from '../../core/run/types';
import type { SweepResult } from '../../shared/protocol';
import { meanConcurrency, sweepCurves } from './model';
import type { Palette } from './theme';

const HEIGHT = 220;
/** colours of the measured series, one per BLAS thread count */
const MEASURED: Array<(p: Palette) => string> = [(p) => p.accent, (p) => p.bar.running, (p) => p.bar.timedOut, (p) => p.bar.retried];

/** An axis in the theme's colours (every report chart's axes look alike). */
export function axis(p: Palette, label: string, extra: Partial<uPlot.Axis> = {}): uPlot.Axis {
  return {
    label,
    stroke: p.muted,
    labelFont: '12px sans-serif',
    font: '11px sans-serif',
    grid: { stroke: p.grid, width: 1 },
    ticks: { stroke: p.grid, width: 1 },
    ...extra,
  };
}

export class CpuChart {
  private plot: uPlot | undefined;
  readonly root: HTMLElement;

  constructor(private palette: Palette) {
    this.root = document.createElement('div');
    this.root.className = 'chart';
    new ResizeObserver(() => this.plot?.setSize({ width: this.width(), height: HEIGHT })).observe(this.root);
  }

  private width(): number {
    return Math.max(240, this.root.clientWidth || 600);
  }

  /** (Re)draws; data = seconds since the run start. */
  private last: [readonly CpuSample[], readonly TaskRecord[], number, number] | undefined;
  /** 1 when the curve starts with a point at the run's start (see update) */
  private startPoint = 0;

  update(samples: readonly CpuSample[], tasks: readonly TaskRecord[], origin: number, logicalCores: number): void {
    this.last = [samples, tasks, origin, logicalCores];
    // A sample is the CPU use over the interval that ends at its time: drawn as a step back to the point
    // before it, and so is the mean number of tasks running. The first sample covers the time since the
    // run started, so the curves start there too.
    this.startPoint = samples.length > 0 && samples[0].t > origin ? 1 : 0;
    const times = [...(this.startPoint ? [origin] : []), ...samples.map((s) => s.t)];
    const x = times.map((t) => (t - origin) / 1000);
    const cpu = [...(this.startPoint ? [samples[0].cpu] : []), ...samples.map((s) => s.cpu)];
    const running = meanConcurrency(times, tasks);
    if (this.startPoint && running.length > 1) running[0] = running[1];
    const data: uPlot.AlignedData = [x, cpu, running];
    if (this.plot) {
      this.plot.setData(data);
      return;
    }
    const p = this.palette;
    const coresMax = Math.max(1, logicalCores);
    this.plot = new uPlot(
      {
        width: this.width(),
        height: HEIGHT,
        // x from 0, as the timeline above: the first sample comes one interval after the start
        scales: { x: { time: false, range: (_u, min, max) => [Math.min(0, min), Math.max(max, 0.001)] }, cpu: { range: [0, 100] }, n: { range: (_u, _min, max) => [0, Math.max(coresMax, max)] } },
        series: [
          { label: 'time (s)', value: (_u, v) => (v == null ? '—' : `${v.toFixed(1)} s`) },
          { label: 'CPU %', scale: 'cpu', stroke: p.accent, width: 2, fill: withAlpha(p.accent, 0.15), points: { show: false }, paths: uPlot.paths.stepped!({ align: -1 }), value: (_u, v) => (v == null ? '—' : `${v.toFixed(0)}%`) },
          { label: 'tasks running', scale: 'n', stroke: p.bar.running, width: 1.5, points: { show: false }, paths: uPlot.paths.stepped!({ align: -1 }), value: (_u, v) => (v == null ? '—' : v.toFixed(1)) },
        ],
        axes: [
          axis(p, 'seconds since start'),
          axis(p, 'CPU % (all cores)', { scale: 'cpu' }),
          axis(p, 'tasks running', { scale: 'n', side: 1, grid: { show: false } }),
        ],
        legend: { live: true },
        cursor: { drag: { x: true, y: false } },
      },
      data,
      this.root,
    );
  }

  setPalette(p: Palette): void {
    this.palette = p;
    // colours are baked into the uPlot options: rebuild on theme change
    this.plot?.destroy();
    this.plot = undefined;
    if (this.last) this.update(...this.last);
  }
  /** Samples on the chart (0 when no chart canvas exists): the render acknowledgement reports it. */
  drawn(): number {
    return this.plot && this.root.querySelector('canvas') ? this.plot.data[0].length - this.startPoint : 0;
  }
}

export class SweepChart {
  private plot: uPlot | undefined;
  readonly root: HTMLElement;
  private sweep: SweepResult | undefined;

  constructor(private palette: Palette) {
    this.root = document.createElement('div');
    this.root.className = 'chart';
    new ResizeObserver(() => this.plot?.setSize({ width: this.width(), height: HEIGHT + 40 })).observe(this.root);
  }

  private width(): number {
    return Math.max(240, this.root.clientWidth || 600);
  }

  update(s: SweepResult): void {
    this.sweep = s;
    this.plot?.destroy();
    const c = sweepCurves(s);
    const p = this.palette;
    this.plot = new uPlot(
      {
        width: this.width(),
        height: HEIGHT + 40,
        scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.05] } },
        series: [
          { label: 'workers' },
          ...c.measured.map((m, i) => ({
            label: `measured, ${m.threads} thread${m.threads === 1 ? '' : 's'}`,
            stroke: MEASURED[i % MEASURED.length](p),
            width: 2,
            points: { show: true, size: 8, fill: MEASURED[i % MEASURED.length](p) },
            spanGaps: true,
          })),
          { label: 'ideal (linear)', stroke: p.ideal, width: 1, dash: [6, 4], points: { show: false } },
          ...(c.fit ? [{ label: 'Amdahl fit', stroke: p.fit, width: 2, points: { show: false } }] : []),
        ],
        axes: [axis(p, 'workers', { incrs: [1, 2, 4, 8, 16, 32, 64] }), axis(p, 'speedup ×')],
        legend: { live: true },
      },
      [c.x, ...c.measured.map((m) => m.y), c.ideal, ...(c.fit ? [c.fit] : [])] as uPlot.AlignedData,
      this.root,
    );
  }

  setPalette(p: Palette): void {
    this.palette = p;
    if (this.sweep) this.update(this.sweep);
  }
}

/** Colour with alpha for fills; VS Code colours are #rrggbb(aa) or rgb(a)(). */
export function withAlpha(color: string, alpha: number): string {
  const c = color.trim();
  const hex = /^#([0-9a-f]{6})([0-9a-f]{2})?$/i.exec(c);
  if (hex) {
    const n = parseInt(hex[1], 16);
    return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
  }
  const short = /^#([0-9a-f])([0-9a-f])([0-9a-f])/i.exec(c);
  if (short) return `rgba(${parseInt(short[1] + short[1], 16)}, ${parseInt(short[2] + short[2], 16)}, ${parseInt(short[3] + short[3], 16)}, ${alpha})`;
  const rgb = /^rgba?\(([^,]+),([^,]+),([^,)]+)/i.exec(c);
  if (rgb) return `rgba(${rgb[1].trim()}, ${rgb[2].trim()}, ${rgb[3].trim()}, ${alpha})`;
  return c;
}
