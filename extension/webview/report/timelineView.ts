/**
 * The per-worker Gantt drawn on a canvas (no maintained Gantt library draws 10,000 bars on a
 * canvas with culling; DOM/SVG ones stall). One lane per worker slot; zoom with Ctrl+wheel, the
 * buttons or +/−/0; pan by dragging, Shift+wheel or the arrow keys; hover for details, click to
 * open the task's log.
 */
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
  private readonly canvas: HTMLCanvasElement;
  private readonly tooltip: HTMLElement;
  private readonly ctx: CanvasRenderingContext2D;
  private palette: Palette = readPalette();
  private from = 0;
  private to = 1;
  /** user zoomed/panned: live updates stop re-fitting the window */
  private userWindow = false;
  private frame = 0;
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
    const wrap = el('div', 'timeline-canvas-wrap');
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'timeline-canvas';
    this.canvas.tabIndex = 0;
    this.canvas.setAttribute('role', 'img');
    this.canvas.setAttribute('aria-label', 'Per-worker timeline: one lane per worker, one bar per file');
    this.tooltip = el('div', 'tooltip');
    this.tooltip.hidden = true;
    wrap.append(this.canvas, this.tooltip);
    this.root.append(toolbar, wrap, legend());
    this.ctx = this.canvas.getContext('2d')!;
    this.listen();
    new ResizeObserver(() => this.invalidate()).observe(wrap);
  }

  /** Fit the time window to all bars (again only if the user has not zoomed, unless forced). */
  fit(force = false): void {
    if (this.userWindow && !force) return;
    if (force) this.userWindow = false;
    const lo = Math.min(this.origin(), this.index.min);
    const hi = Math.max(this.index.max, lo + 1);
    this.from = Number.isFinite(lo) ? lo : 0;
    this.to = Number.isFinite(hi) ? hi + (hi - this.from) * 0.01 : 1;
    this.invalidate();
  }

  setPalette(p: Palette): void {
    this.palette = p;
    this.invalidate();
  }

  invalidate(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
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

  private plotWidth(): number {
    return Math.max(10, this.canvas.clientWidth - LABEL_W);
  }

  private timeAt(clientX: number): number {
    const r = this.canvas.getBoundingClientRect();
    const x = clientX - r.left - LABEL_W;
    return this.from + (x / this.plotWidth()) * (this.to - this.from);
  }

  private barAt(clientX: number, clientY: number): Bar | undefined {
    const r = this.canvas.getBoundingClientRect();
    const y = clientY - r.top - AXIS_H;
    if (y < 0 || clientX - r.left < LABEL_W) return undefined;
    const lane = Math.floor(y / ROW_H);
    if (lane >= this.index.laneCount) return undefined;
    const msPerPx = (this.to - this.from) / this.plotWidth();
    return this.index.hit(lane, this.timeAt(clientX), msPerPx * 3);
  }

  private listen(): void {
    const c = this.canvas;
    c.addEventListener(
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
    c.addEventListener('mousedown', (e) => {
      this.drag = { x: e.clientX, from: this.from, to: this.to, moved: false };
    });
    window.addEventListener('mouseup', (e) => {
      const d = this.drag;
      this.drag = undefined;
      if (d && !d.moved && e.target === c) {
        const bar = this.barAt(e.clientX, e.clientY);
        if (bar && this.cb.open) this.cb.open(bar);
      }
    });
    window.addEventListener('mousemove', (e) => {
      const d = this.drag;
      if (d) {
        const dx = e.clientX - d.x;
        if (Math.abs(dx) > 3) d.moved = true;
        if (d.moved) {
          const [lo, hi] = this.bounds();
          [this.from, this.to] = panWindow(d.from, d.to, (-dx / this.plotWidth()) * (d.to - d.from), lo, hi);
          this.userWindow = true;
          this.invalidate();
        }
      }
    });
    c.addEventListener('mousemove', (e) => {
      const bar = this.drag?.moved ? undefined : this.barAt(e.clientX, e.clientY);
      this.showTooltip(bar, e);
    });
    c.addEventListener('mouseleave', () => this.showTooltip(undefined));
    c.addEventListener('keydown', (e) => {
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

  private showTooltip(bar: Bar | undefined, e?: MouseEvent): void {
    if (bar !== this.hover) {
      this.hover = bar;
      this.canvas.style.cursor = bar && this.cb.open ? 'pointer' : 'default';
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

  private draw(): void {
    const t0 = performance.now();
    const p = this.palette;
    const dpr = window.devicePixelRatio || 1;
    const cssW = Math.max(200, this.canvas.parentElement!.clientWidth);
    const lanes = this.index.laneCount;
    const cssH = AXIS_H + lanes * ROW_H + 4;
    if (this.canvas.width !== Math.round(cssW * dpr) || this.canvas.height !== Math.round(cssH * dpr)) {
      this.canvas.width = Math.round(cssW * dpr);
      this.canvas.height = Math.round(cssH * dpr);
      this.canvas.style.width = `${cssW}px`;
      this.canvas.style.height = `${cssH}px`;
    }
    const ctx = this.ctx;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, cssW, cssH);
    const plotW = cssW - LABEL_W;
    const span = Math.max(1e-6, this.to - this.from);
    const pxPerMs = plotW / span;
    const origin = this.origin();
    ctx.font = `11px ${getComputedStyle(document.body).fontFamily || 'sans-serif'}`;
    ctx.textBaseline = 'middle';

    // time axis with grid lines (offsets from the run start)
    const step = niceStep(span, Math.max(2, Math.floor(plotW / 90)));
    const firstTick = Math.ceil((this.from - origin) / step) * step;
    ctx.fillStyle = p.muted;
    ctx.strokeStyle = p.grid;
    ctx.lineWidth = 1;
    ctx.textAlign = 'center';
    for (let off = firstTick; origin + off <= this.to; off += step) {
      const x = LABEL_W + (origin + off - this.from) * pxPerMs;
      ctx.beginPath();
      ctx.moveTo(Math.round(x) + 0.5, AXIS_H - 4);
      ctx.lineTo(Math.round(x) + 0.5, cssH);
      ctx.stroke();
      if (x > LABEL_W + 16 && x < cssW - 16) ctx.fillText(tickLabel(off, step), x, AXIS_H / 2);
    }

    // lanes
    let rects = 0;
    ctx.textAlign = 'right';
    for (let lane = 0; lane < lanes; lane++) {
      const y = AXIS_H + lane * ROW_H;
      ctx.fillStyle = p.muted;
      ctx.fillText(`worker ${lane + 1}`, LABEL_W - 8, y + ROW_H / 2);
      ctx.save();
      ctx.beginPath();
      ctx.rect(LABEL_W, y, plotW, ROW_H);
      ctx.clip();
      for (const r of this.index.rects(lane, this.from, this.to, pxPerMs)) {
        const x = LABEL_W + r.x;
        // a 1 px gap between individual bars when they are wide enough to tell apart
        const w = r.count === 1 && r.w > 4 ? r.w - 1 : r.w;
        this.fillBar(ctx, r.kind, x, y + 3, w, ROW_H - 6);
        rects++;
      }
      ctx.restore();
    }
    // hovered bar outline
    const h = this.hover;
    if (h && h.end >= this.from && h.start <= this.to) {
      const x = LABEL_W + Math.max(0, (h.start - this.from) * pxPerMs);
      const w = Math.max(2, Math.min(plotW, (h.end - this.from) * pxPerMs) - (x - LABEL_W));
      ctx.strokeStyle = p.fg;
      ctx.lineWidth = 2;
      ctx.strokeRect(x, AXIS_H + h.lane * ROW_H + 2, w, ROW_H - 4);
    }
    this.lastRectCount = rects;
    this.lastDrawMs = performance.now() - t0;
    this.canvas.dataset.rects = String(rects);
    this.canvas.dataset.drawMs = this.lastDrawMs.toFixed(2);
    // the visible window in ms from the run start ("from,to"): zoom and pan are observable
    this.canvas.dataset.window = `${Math.round(this.from - origin)},${Math.round(this.to - origin)}`;
  }

  private fillBar(ctx: CanvasRenderingContext2D, kind: BarKind, x: number, y: number, w: number, h: number): void {
    const p = this.palette;
    ctx.fillStyle = p.bar[kind];
    ctx.fillRect(x, y, w, h);
    // pattern as well as colour, so kinds stay distinct without colour vision or in HC themes
    if (kind === 'timedOut' && w > 3) {
      ctx.save();
      ctx.beginPath();
      ctx.rect(x, y, w, h);
      ctx.clip();
      ctx.strokeStyle = p.bg;
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      for (let i = -h; i < w; i += 5) {
        ctx.moveTo(x + i, y + h);
        ctx.lineTo(x + i + h, y);
      }
      ctx.stroke();
      ctx.restore();
    } else if (kind === 'failed' && w > 2) {
      ctx.fillStyle = p.bg;
      ctx.fillRect(x, y + h / 2 - 1, w, 2);
    } else if (kind === 'retried' && w > 4) {
      ctx.fillStyle = p.bg;
      ctx.fillRect(x + 1, y + 1, Math.min(3, w - 2), h - 2);
    } else if (kind === 'running' && w > 4) {
      ctx.fillStyle = p.bg;
      ctx.fillRect(x + w - 2, y, 2, h);
    }
    if (p.highContrast && w > 2) {
      ctx.strokeStyle = p.border;
      ctx.lineWidth = 1;
      ctx.strokeRect(x + 0.5, y + 0.5, w - 1, h - 1);
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
