/**
 * The per-worker timeline's data side (pure; unit-tested in Node): bars indexed per lane, culled to
 * the visible time window and merged below one pixel so drawing cost is bounded by
 * lanes × canvas width, not by the number of tasks (10,000 tasks draw like 100).
 */
import type { BarKind } from './model';

export interface Bar {
  /** 0-based lane (worker slot - 1) */
  lane: number;
  start: number;
  end: number;
  kind: BarKind;
  /** caller's reference (task position) for hover/click */
  ref: number;
}

export interface Rect {
  x: number;
  w: number;
  kind: BarKind;
  /** number of tasks merged into this rectangle */
  count: number;
}

export class TimelineIndex {
  readonly lanes: Bar[][] = [];
  /** longest bar per lane: bounds the binary search for bars that started before the window */
  private readonly maxDur: number[] = [];
  min = Infinity;
  max = -Infinity;
  size = 0;

  constructor(laneCount: number) {
    this.ensureLanes(laneCount);
  }

  get laneCount(): number {
    return this.lanes.length;
  }

  private ensureLanes(n: number): void {
    while (this.lanes.length < n) {
      this.lanes.push([]);
      this.maxDur.push(0);
    }
  }

  /** Adds a bar, keeping its lane sorted by start (appends in the common in-order case). */
  add(bar: Bar): void {
    this.ensureLanes(bar.lane + 1);
    const lane = this.lanes[bar.lane];
    if (lane.length === 0 || lane[lane.length - 1].start <= bar.start) lane.push(bar);
    else lane.splice(lowerBound(lane, bar.start), 0, bar);
    this.maxDur[bar.lane] = Math.max(this.maxDur[bar.lane], bar.end - bar.start);
    if (bar.start < this.min) this.min = bar.start;
    if (bar.end > this.max) this.max = bar.end;
    this.size++;
  }

  /** Removes every bar matching `pred` (running bars are replaced by finished ones). */
  remove(pred: (b: Bar) => boolean): void {
    for (let i = 0; i < this.lanes.length; i++) {
      const before = this.lanes[i].length;
      this.lanes[i] = this.lanes[i].filter((b) => !pred(b));
      this.size -= before - this.lanes[i].length;
    }
  }

  /** Bars per kind (render acknowledgement: failed/timed-out/retried bars are really there). */
  kindCounts(): Partial<Record<BarKind, number>> {
    const out: Partial<Record<BarKind, number>> = {};
    for (const lane of this.lanes) for (const b of lane) out[b.kind] = (out[b.kind] ?? 0) + 1;
    return out;
  }

  /** Index of the first bar in `lane` that may overlap [from, to]. */
  firstVisible(lane: number, from: number): number {
    const bars = this.lanes[lane];
    if (!bars) return 0;
    return lowerBound(bars, from - this.maxDur[lane]);
  }

  /**
   * Rectangles to draw for one lane in the window [from, to] at `pxPerMs`, x relative to `from`.
   * Adjacent bars of the same kind closer than half a pixel are merged; every rect is ≥ 1 px wide.
   */
  rects(lane: number, from: number, to: number, pxPerMs: number): Rect[] {
    const bars = this.lanes[lane];
    const out: Rect[] = [];
    if (!bars) return out;
    let pending: Rect | undefined;
    for (let i = this.firstVisible(lane, from); i < bars.length; i++) {
      const b = bars[i];
      if (b.start > to) break;
      if (b.end < from) continue;
      const x0 = (b.start - from) * pxPerMs;
      const x1 = Math.max(x0 + 1, (b.end - from) * pxPerMs);
      if (pending && pending.kind === b.kind && x0 <= pending.x + pending.w + 0.5 && (x1 - x0 < 3 || pending.w < 3)) {
        pending.w = Math.max(pending.w, x1 - pending.x);
        pending.count++;
        continue;
      }
      if (pending) out.push(pending);
      pending = { x: x0, w: x1 - x0, kind: b.kind, count: 1 };
    }
    if (pending) out.push(pending);
    return out;
  }

  /** The bar under time `t` in `lane` (nearest within `slackMs`, for thin bars). */
  hit(lane: number, t: number, slackMs: number): Bar | undefined {
    const bars = this.lanes[lane];
    if (!bars) return undefined;
    let best: Bar | undefined;
    let bestDist = Infinity;
    for (let i = this.firstVisible(lane, t - slackMs); i < bars.length; i++) {
      const b = bars[i];
      if (b.start > t + slackMs) break;
      const d = t < b.start ? b.start - t : t > b.end ? t - b.end : 0;
      if (d <= slackMs && d < bestDist) {
        best = b;
        bestDist = d;
        if (d === 0) break;
      }
    }
    return best;
  }
}

/** First position whose start is ≥ t. */
function lowerBound(bars: readonly Bar[], t: number): number {
  let lo = 0;
  let hi = bars.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (bars[mid].start < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** "Nice" tick step (1, 2, 5 × 10^k ms) giving about `target` ticks over `spanMs`. */
export function niceStep(spanMs: number, target: number): number {
  const raw = Math.max(spanMs / Math.max(1, target), 1e-3);
  const pow = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 5, 10]) if (m * pow >= raw) return m * pow;
  return 10 * pow;
}

/** Tick label for an offset from the run start. */
export function tickLabel(offsetMs: number, stepMs: number): string {
  if (stepMs < 1000) return `${(offsetMs / 1000).toFixed(stepMs < 10 ? 3 : stepMs < 100 ? 2 : 1)} s`;
  if (offsetMs < 120_000) return `${Math.round(offsetMs / 1000)} s`;
  const m = Math.floor(offsetMs / 60_000);
  const s = Math.round((offsetMs % 60_000) / 1000);
  if (offsetMs < 7_200_000) return s ? `${m}:${String(s).padStart(2, '0')}` : `${m} min`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')}`;
}

/** Zoom the window [from, to] by `factor` (< 1 zooms in) around time `at`, clamped to [lo, hi]. */
export function zoomWindow(from: number, to: number, at: number, factor: number, lo: number, hi: number, minSpan = 1): [number, number] {
  const span = Math.min(hi - lo, Math.max(minSpan, (to - from) * factor));
  const rel = to > from ? (at - from) / (to - from) : 0.5;
  let f = at - rel * span;
  f = Math.max(lo, Math.min(f, hi - span));
  return [f, f + span];
}

/** Pan the window by `deltaMs`, clamped to [lo, hi]. */
export function panWindow(from: number, to: number, deltaMs: number, lo: number, hi: number): [number, number] {
  const span = to - from;
  const f = Math.max(lo, Math.min(from + deltaMs, hi - span));
  return [f, f + span];
}
