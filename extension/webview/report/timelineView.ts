/**
 * The per-worker Gantt, drawn with uPlot (the chart library the CPU and sweep charts use): uPlot owns
 * the canvas, the x scale (seconds since the run start, the zoom/pan window), the themed time axis and
 * the lane labels; the bars are drawn in its `draw` hook from the TimelineIndex, culled to the visible
 * window and merged below one pixel, so 10,000 tasks cost about as much as 100 (bench/reportRender.js).
 * One lane per worker slot; zoom with Ctrl+wheel, the buttons or +/−/0; pan by dragging, Shift+wheel or
 * the arrow keys; hover for details, click to open the task's log.
 */
import uPlot from 'uplot';
import { BarKind } from './model';
import { Palette, readPalette } from './theme';
import { Bar, niceStep, panWindow, tickLabel, TimelineIndex, zoomWindow } from './timeline';
export interface TimelineCallbacks {
  /** tooltip lines for a bar */
  describe(bar: Bar): string[];
  /** click on a bar */
  open?(bar: Bar): void;
}

const ROW_H = 20;
const AXIS_H = 22;
const LABEL_W = 74;

export class TimelineView {
  readonly root: HTMLElement;
  private readonly wrap: HTMLElement;
  private readonly tooltip: HTMLElement;
  private plot: uPlot | undefined;
  /** lanes the plot was built for (a new worker slot rebuilds it) */
  private plotLanes = 0;
  /** the plot's canvas (class timeline-canvas: focusable, carries data-rects/-drawMs/-window) */
  private canvas: HTMLCanvasElement | undefined;
  private palette: Palette = readPalette();
  private from = 0;
  private to = 1;
  /** user zoomed/panned: live updates stop re-fitting the window */
  private userWindow = false;
  private frame = 0;
  private drawStart = 0;
  private drag: { x: number; from: number; to: number; moved: boolean } | undefined;
  private hover: Bar | undefined;
  /** draw count of the last frame (rectangles), for the render acknowledgement and the bench */
  lastRectCount = 0;
  lastDrawMs = 0;

  constructor(
    readonly index: TimelineIndex,
    private readonly origin: () => number,
    private readonly cb: TimelineCallbacks,
  ) {
    this.root = el('div', 'timeline');
    const toolbar = el('div', 'timeline-toolbar');
    toolbar.append(
      button('Zoom in', '+', () => this.zoomBy(0.5)),
      button('Zoom out', '−', () => this.zoomBy(2)),
      button('Fit the whole run', 'Fit', () => this.fit(true)),
      hint('Ctrl+wheel or +/− to zoom · drag or Shift+wheel to pan · click a bar to open its log'),
    );
    this.wrap = el('div', 'timeline-canvas-wrap');
    this.tooltip = el('div', 'tooltip');
    this.tooltip.hidden = true;
    this.wrap.append(this.tooltip);
    this.root.append(toolbar, this.wrap, legend());
    this.listenWindow();
    new ResizeObserver(() => this.invalidate()).observe(this.wrap);
  }

  /** Fit the time window to all bars (again only if the user has not zoomed, unless forced). */
  fit(force = false): void {
    if (this.userWindow && !force) return;
    if (force) this.userWindow = false;
    [this.from, this.to] = this.bounds();
    this.invalidate();
  }

  setPalette(p: Palette): void {
    this.palette = p;
    // colours are baked into uPlot's axis options: rebuild on theme change
    this.destroyPlot();
    this.invalidate();
  }

  invalidate(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  /** Current window (for tests/bench). */
  window(): [number, number] {
    return [this.from, this.to];
  }

  zoomBy(factor: number, at = (this.from + this.to) / 2): void {
    const [lo, hi] = this.bounds();
    [this.from, this.to] = zoomWindow(this.from, this.to, at, factor, lo, hi, 1);
    this.userWindow = true;
    this.invalidate();
  }

  panBy(deltaMs: number): void {
    const [lo, hi] = this.bounds();
    [this.from, this.to] = panWindow(this.from, this.to, deltaMs, lo, hi);
    this.userWindow = true;
    this.invalidate();
  }

  private bounds(): [number, number] {
    const lo = Math.min(this.origin(), this.index.min);
    const hi = Math.max(this.index.max, lo + 1);
    return [Number.isFinite(lo) ? lo : 0, Number.isFinite(hi) ? hi + (hi - lo) * 0.01 : 1];
  }

  /** ms since epoch → the x scale's seconds since the run start (and back) */
  private sec(t: number): number {
    return (t - this.origin()) / 1000;
  }

  private size(): { width: number; height: number } {
    return { width: Math.max(200, this.wrap.clientWidth), height: AXIS_H + this.index.laneCount * ROW_H + 4 };
  }

  /** Creates the plot (first time, new lane count, new theme), resizes it, applies the window and draws. */
  private render(): void {
    const lanes = this.index.laneCount;
    if (this.plot && this.plotLanes !== lanes) this.destroyPlot();
    const size = this.size();
    const [x0, x1] = [this.sec(this.from), this.sec(this.to)];
    if (!this.plot) {
      this.plot = this.createPlot(lanes, size, x0, x1);
      this.plotLanes = lanes;
      return;
    }
    const u = this.plot;
    if (u.width !== size.width || u.height !== size.height) u.setSize(size);
    if (u.scales.x.min !== x0 || u.scales.x.max !== x1) u.setScale('x', { min: x0, max: x1 });
    else u.redraw(false, false);
  }

  private createPlot(lanes: number, size: { width: number; height: number }, x0: number, x1: number): uPlot {
    const p = this.palette;
    const centres = Array.from({ length: lanes }, (_, i) => lanes - i - 0.5);
    const u = new uPlot(
      {
        ...size,
        padding: [0, 8, 0, 0],
        legend: { show: false },
        cursor: { show: false, x: false, y: false, points: { show: false }, drag: { x: false, y: false, setScale: false } },
        select: { show: false, left: 0, top: 0, width: 0, height: 0 },
        scales: {
          x: { time: false },
          // lane i spans [lanes-i-1, lanes-i]: worker 1 on top
          y: { auto: false, range: () => [0, lanes] },
        },
        series: [{}, { scale: 'y', show: false }],
        axes: [
          {
            side: 0,
            size: AXIS_H,
            stroke: p.muted,
            font: '11px sans-serif',
            grid: { stroke: p.grid, width: 1 },
            ticks: { stroke: p.grid, width: 1, size: 4 },
            space: 90,
            splits: (self) => {
              const [a, b] = [self.scales.x.min ?? 0, self.scales.x.max ?? 1];
              const step = niceStep((b - a) * 1000, Math.max(2, Math.floor(self.bbox.width / uPlot.pxRatio / 90))) / 1000;
              const out: number[] = [];
              for (let v = Math.ceil(a / step) * step; v <= b; v += step) out.push(v);
              return out;
            },
            values: (self, splits) => {
              const step = splits.length > 1 ? (splits[1] - splits[0]) * 1000 : 1000;
              return splits.map((v) => tickLabel(Math.round(v * 1000 * 1000) / 1000, step));
            },
          },
          {
            scale: 'y',
            side: 3,
            size: LABEL_W,
            stroke: p.muted,
            font: '11px sans-serif',
            grid: { show: false },
            ticks: { show: false },
            splits: () => centres,
            values: (_self, splits) => splits.map((v) => `worker ${lanes - Math.floor(v)}`),
          },
        ],
        hooks: {
          drawClear: [() => (this.drawStart = performance.now())],
          draw: [(self) => this.drawBars(self)],
        },
      },
      [[x0, x1], [null, null]],
      this.wrap,
    );
    u.batch(() => {
      u.setScale('y', { min: 0, max: lanes });
      u.setScale('x', { min: x0, max: x1 });
    });
    const canvas = u.root.querySelector('canvas')!;
    canvas.classList.add('timeline-canvas');
    canvas.tabIndex = 0;
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', 'Per-worker timeline: one lane per worker, one bar per file');
    this.canvas = canvas;
    this.listenPlot(u, canvas);
    return u;
  }

  private destroyPlot(): void {
    this.plot?.destroy();
    this.plot = undefined;
    this.canvas = undefined;
  }

  private drawBars(u: uPlot): void {
    const ctx = u.ctx;
    const dpr = uPlot.pxRatio;
    const { left, top, width, height } = u.bbox;
    const lanes = this.index.laneCount;
    const from = this.origin() + (u.scales.x.min ?? 0) * 1000;
    const to = this.origin() + (u.scales.x.max ?? 1) * 1000;
    const pxPerMs = width / Math.max(1e-6, to - from);
    const rowH = height / Math.max(1, lanes);
    let rects = 0;
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();
    for (let lane = 0; lane < lanes; lane++) {
      const y = top + lane * rowH;
      for (const r of this.index.rects(lane, from, to, pxPerMs)) {
        // a 1 px gap between individual bars when they are wide enough to tell apart
        const w = r.count === 1 && r.w > 4 * dpr ? r.w - dpr : r.w;
        this.fillBar(ctx, r.kind, left + r.x, y + 3 * dpr, w, rowH - 6 * dpr, dpr);
        rects++;
      }
    }
    const h = this.hover;
    if (h && h.end >= from && h.start <= to) {
      const x = left + Math.max(0, (h.start - from) * pxPerMs);
      const w = Math.max(2 * dpr, Math.min(width, (h.end - from) * pxPerMs) - (x - left));
      ctx.strokeStyle = this.palette.fg;
      ctx.lineWidth = 2 * dpr;
      ctx.strokeRect(x, top + h.lane * rowH + 2 * dpr, w, rowH - 4 * dpr);
    }
    ctx.restore();
    this.lastRectCount = rects;
    this.lastDrawMs = performance.now() - this.drawStart;
    const c = this.canvas ?? u.root.querySelector('canvas');
    if (c) {
      c.dataset.rects = String(rects);
      c.dataset.drawMs = this.lastDrawMs.toFixed(2);
      // the visible window in ms from the run start ("from,to"): zoom and pan are observable
      c.dataset.window = `${Math.round(from - this.origin())},${Math.round(to - this.origin())}`;
    }
  }

  /** Time under a client x, and the bar under a client point (relative to the plot area). */
  private timeAt(clientX: number): number {
    const r = this.plot!.over.getBoundingClientRect();
    return this.from + ((clientX - r.left) / Math.max(1, r.width)) * (this.to - this.from);
  }

  private barAt(clientX: number, clientY: number): Bar | undefined {
    if (!this.plot) return undefined;
    const r = this.plot.over.getBoundingClientRect();
    const y = clientY - r.top;
    if (y < 0 || clientX < r.left || clientX > r.right) return undefined;
    const lane = Math.floor(y / (r.height / Math.max(1, this.index.laneCount)));
    if (lane >= this.index.laneCount) return undefined;
    const msPerPx = (this.to - this.from) / Math.max(1, r.width);
    return this.index.hit(lane, this.timeAt(clientX), msPerPx * 3);
  }

  private plotWidth(): number {
    return Math.max(10, this.plot?.over.clientWidth ?? this.wrap.clientWidth - LABEL_W);
  }

  /** Mouse and keys on the plot (re-attached when the plot is rebuilt). */
  private listenPlot(u: uPlot, canvas: HTMLCanvasElement): void {
    const over = u.over;
    over.addEventListener(
      'wheel',
      (e) => {
        if (e.ctrlKey || e.metaKey) {
          e.preventDefault();
          this.zoomBy(Math.pow(1.0015, e.deltaY), this.timeAt(e.clientX));
        } else if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) {
          e.preventDefault();
          const d = (e.shiftKey ? e.deltaY : e.deltaX) + (e.shiftKey ? e.deltaX : 0);
          this.panBy((d / this.plotWidth()) * (this.to - this.from));
        }
      },
      { passive: false },
    );
    over.addEventListener('mousedown', (e) => {
      this.drag = { x: e.clientX, from: this.from, to: this.to, moved: false };
      // the canvas takes the keys (+/−/0/arrows) once the timeline was clicked
      canvas.focus({ preventScroll: true });
      e.preventDefault();
    });
    over.addEventListener('mousemove', (e) => {
      const bar = this.drag?.moved ? undefined : this.barAt(e.clientX, e.clientY);
      this.showTooltip(bar, e);
    });
    over.addEventListener('mouseleave', () => this.showTooltip(undefined));
    over.addEventListener('mouseup', (e) => {
      const d = this.drag;
      if (d && !d.moved) {
        const bar = this.barAt(e.clientX, e.clientY);
        if (bar && this.cb.open) this.cb.open(bar);
      }
    });
    canvas.addEventListener('keydown', (e) => {
      const span = this.to - this.from;
      if (e.key === '+' || e.key === '=') this.zoomBy(0.5);
      else if (e.key === '-' || e.key === '_') this.zoomBy(2);
      else if (e.key === '0') this.fit(true);
      else if (e.key === 'ArrowLeft') this.panBy(-span * 0.2);
      else if (e.key === 'ArrowRight') this.panBy(span * 0.2);
      else return;
      e.preventDefault();
    });
  }

  /** Dragging continues outside the plot: listened on the window, once. */
  private listenWindow(): void {
    window.addEventListener('mouseup', () => {
      this.drag = undefined;
    });
    window.addEventListener('mousemove', (e) => {
      const d = this.drag;
      if (!d) return;
      const dx = e.clientX - d.x;
      if (Math.abs(dx) > 3) d.moved = true;
      if (d.moved) {
        const [lo, hi] = this.bounds();
        [this.from, this.to] = panWindow(d.from, d.to, (-dx / this.plotWidth()) * (d.to - d.from), lo, hi);
        this.userWindow = true;
        this.invalidate();
      }
    });
  }

  private showTooltip(bar: Bar | undefined, e?: MouseEvent): void {
    if (bar !== this.hover) {
      this.hover = bar;
      if (this.plot) this.plot.over.style.cursor = bar && this.cb.open ? 'pointer' : 'default';
      this.invalidate();
    }
    if (!bar || !e) {
      this.tooltip.hidden = true;
      return;
    }
    this.tooltip.replaceChildren(...this.cb.describe(bar).map((line, i) => el(i === 0 ? 'strong' : 'div', '', line)));
    this.tooltip.hidden = false;
    // fixed to the viewport: never clipped by the (vertically scrolling) lane area, flipped at the edges
    const tw = this.tooltip.offsetWidth;
    const th = this.tooltip.offsetHeight;
    let x = e.clientX + 14;
    if (x + tw > window.innerWidth - 4) x = Math.max(4, e.clientX - tw - 14);
    let y = e.clientY + 14;
    if (y + th > window.innerHeight - 4) y = Math.max(4, e.clientY - th - 10);
    this.tooltip.style.left = `${x}px`;
    this.tooltip.style.top = `${y}px`;
  }

  private fillBar(ctx: CanvasRenderingContext2D, kind: BarKind, x: number, y: number, w: number, h: number, dpr: number): void {
    const p = this.palette;
    ctx.fillStyle = p.bar[kind];
    ctx.fillRect(x, y, w, h);
    // pattern as well as colour, so kinds stay distinct without colour vision or in HC themes
    if (kind === 'timedOut' && w > 3 * dpr) {
      ctx.save();
      ctx.beginPath();
      ctx.rect(x, y, w, h);
      ctx.clip();
      ctx.strokeStyle = p.bg;
      ctx.lineWidth = 1.5 * dpr;
      ctx.beginPath();
      for (let i = -h; i < w; i += 5 * dpr) {
        ctx.moveTo(x + i, y + h);
        ctx.lineTo(x + i + h, y);
      }
      ctx.stroke();
      ctx.restore();
    } else if (kind === 'failed' && w > 2 * dpr) {
      ctx.fillStyle = p.bg;
      ctx.fillRect(x, y + h / 2 - dpr, w, 2 * dpr);
    } else if (kind === 'retried' && w > 4 * dpr) {
      ctx.fillStyle = p.bg;
      ctx.fillRect(x + dpr, y + dpr, Math.min(3 * dpr, w - 2 * dpr), h - 2 * dpr);
    } else if (kind === 'running' && w > 4 * dpr) {
      ctx.fillStyle = p.bg;
      ctx.fillRect(x + w - 2 * dpr, y, 2 * dpr, h);
    }
    if (p.highContrast && w > 2 * dpr) {
      ctx.strokeStyle = p.border;
      ctx.lineWidth = dpr;
      ctx.strokeRect(x + dpr / 2, y + dpr / 2, w - dpr, h - dpr);
    }
  }
}

function el(tag: string, cls: string, text?: string): HTMLElement {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function button(title: string, label: string, onClick: () => void): HTMLButtonElement {
  const b = document.createElement('button');
  b.className = 'icon-button';
  b.title = title;
  b.setAttribute('aria-label', title);
  b.textContent = label;
  b.addEventListener('click', onClick);
  return b;
}

function hint(text: string): HTMLElement {
  return el('span', 'hint', text);
}

function legend(): HTMLElement {
  const items: Array<[BarKind, string]> = [
    ['ok', 'succeeded'],
    ['retried', 'succeeded after retry'],
    ['failed', 'failed'],
    ['timedOut', 'timed out'],
    ['cancelled', 'cancelled'],
    ['running', 'running'],
  ];
  const l = el('div', 'legend');
  for (const [kind, text] of items) {
    const item = el('span', 'legend-item');
    item.append(el('span', `swatch swatch-${kind}`), document.createTextNode(text));
    l.append(item);
  }
  return l;
}
