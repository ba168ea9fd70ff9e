/**
 * The Results section's model (pure; unit-tested in Node): a run's results rows keyed by their
 * inputs, sorted by any column, filtered by text, and grouped for the plot of a result against a
 * parameter with one line per value of a second parameter. Values arrive bounded by the host
 * (core/run/resultsTable); this module still never trusts a number it did not check.
 */
import type { ResultCell, ResultsRows } from '../../shared/protocol';

/** The columns every results table has after the inputs. */
export const MEASURES = ['status', 'seconds', 'max_rss_mb'] as const;
export const NOTE = 'result_note';
/** Lines drawn at most in one plot (more values of the group-by parameter are named, not drawn). */
export const MAX_LINES = 12;

/** A whole decimal or scientific number written as text (inputs are text: "0.5", "1e-3"). */
const NUMERIC = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const MAGNITUDE = 1e300;

/** The number a cell holds (a number, or text that is exactly a number), within the bounds. */
export function numeric(c: ResultCell): number | undefined {
  let x: number;
  if (typeof c === 'number') x = c;
  else if (typeof c === 'string' && c.length <= 64 && NUMERIC.test(c.trim())) x = Number(c.trim());
  else return undefined;
  return Number.isFinite(x) && Math.abs(x) <= MAGNITUDE ? x : undefined;
}

/** A cell as the table shows it. */
export function cellText(c: ResultCell): string {
  if (c === null) return '';
  if (typeof c === 'number') return formatNumber(c);
  return String(c);
}

/** Numbers as a person reads them: up to 6 significant digits, scientific when very large or small. */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a >= 1e9 || a < 1e-4)) return x.toExponential(4).replace(/\.?0+e/, 'e');
  return String(Number(x.toPrecision(6)));
}

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

/** Order of two cells: numbers by value, text in natural order ("f2" before "f10"), empty last. */
export function compareCells(a: ResultCell, b: ResultCell): number {
  const ea = a === null || a === '';
  const eb = b === null || b === '';
  if (ea || eb) return ea === eb ? 0 : ea ? 1 : -1;
  const na = numeric(a);
  const nb = numeric(b);
  if (na !== undefined && nb !== undefined) return na - nb;
  if (na !== undefined) return -1;
  if (nb !== undefined) return 1;
  return collator.compare(String(a), String(b));
}

export interface SortSpec {
  column: string;
  descending: boolean;
}

/** The rows of a results table, each once per input (a later row of the same inputs replaces it). */
export class ResultsModel {
  columns: string[] = [];
  inputs = 0;
  rows: ResultCell[][] = [];
  private readonly byKey = new Map<string, number>();
  /** rows the host left out (beyond the view's bound) and values it changed to fit */
  omitted = 0;
  bounded = 0;
  /** bumped on every change (views redraw, caches invalidate) */
  version = 0;

  constructor(table?: ResultsRows & { omitted?: number; bounded?: number }) {
    if (table) this.merge(table);
  }

  get inputColumns(): string[] {
    return this.columns.slice(0, this.inputs);
  }

  col(name: string): number {
    return this.columns.indexOf(name);
  }

  /** The key of a row: its input values as text. */
  key(row: readonly ResultCell[]): string {
    return JSON.stringify(this.inputValues(row));
  }

  inputValues(row: readonly ResultCell[]): string[] {
    return row.slice(0, this.inputs).map((c) => (c === null ? '' : String(c)));
  }

  /** Adds (or replaces, by inputs) rows given under their own columns; `reset` starts the table again. */
  merge(part: ResultsRows & { reset?: boolean; omitted?: number; bounded?: number }): void {
    if (part.reset) {
      this.rows = [];
      this.byKey.clear();
    }
    if (this.columns.length === 0 || part.reset) this.inputs = part.inputs;
    // a new column: the rows so far get an empty cell there (result_note stays last)
    for (const c of part.columns) {
      if (this.columns.includes(c)) continue;
      const at = c !== NOTE && this.columns.includes(NOTE) ? this.columns.indexOf(NOTE) : this.columns.length;
      this.columns.splice(at, 0, c);
      for (const r of this.rows) r.splice(at, 0, null);
    }
    const map = part.columns.map((c) => this.columns.indexOf(c));
    for (const src of part.rows) {
      const row: ResultCell[] = new Array(this.columns.length).fill(null);
      map.forEach((to, from) => (row[to] = src[from] ?? null));
      const k = this.key(row);
      const at = this.byKey.get(k);
      if (at !== undefined) this.rows[at] = row;
      else {
        this.byKey.set(k, this.rows.length);
        this.rows.push(row);
      }
    }
    if (part.omitted !== undefined) this.omitted = part.omitted;
    if (part.bounded !== undefined) this.bounded = Math.max(this.bounded, part.bounded);
    this.version++;
  }

  /** The result keys: columns after the inputs that are neither a measure nor the note. */
  resultColumns(): string[] {
    return this.columns.slice(this.inputs).filter((c) => !(MEASURES as readonly string[]).includes(c) && c !== NOTE);
  }

  /** Some row has a value in a result column: there is something to show. */
  hasResults(): boolean {
    const idx = this.resultColumns().map((c) => this.col(c));
    return this.rows.some((r) => idx.some((i) => r[i] !== null && r[i] !== ''));
  }

  /** Rows with a result note (a last line that looked like JSON but was not). */
  notedRows(): number {
    const i = this.col(NOTE);
    return i < 0 ? 0 : this.rows.filter((r) => r[i] !== null && r[i] !== '').length;
  }

  isFailed(row: readonly ResultCell[]): boolean {
    const i = this.col('status');
    return i >= 0 && row[i] !== null && row[i] !== 'succeeded';
  }

  failedCount(): number {
    return this.rows.filter((r) => this.isFailed(r)).length;
  }

  /**
   * The rows to show, as indices into `rows`: those whose text contains every word of `filter`
   * (case-insensitive, any column; a word may be `column=value` or `column:value` to match one column),
   * then sorted (stable: equal rows keep their order).
   */
  view(filter: string, sort?: SortSpec, failedOnly = false): number[] {
    const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
    const terms = words.map((w) => {
      const m = /^([^=:]+)[=:](.*)$/.exec(w);
      const c = m ? this.columns.findIndex((x) => x.toLowerCase() === m[1]) : -1;
      return c >= 0 ? { col: c, text: m![2] } : { col: -1, text: w };
    });
    const out: number[] = [];
    for (let i = 0; i < this.rows.length; i++) {
      const r = this.rows[i];
      if (failedOnly && !this.isFailed(r)) continue;
      if (terms.length && !terms.every((t) => (t.col >= 0 ? cellText(r[t.col]).toLowerCase().includes(t.text) : r.some((c) => cellText(c).toLowerCase().includes(t.text))))) continue;
      out.push(i);
    }
    const c = sort ? this.col(sort.column) : -1;
    if (c >= 0) {
      const dir = sort!.descending ? -1 : 1;
      out.sort((a, b) => {
        const x = this.rows[a][c];
        const y = this.rows[b][c];
        // empty cells stay last either way
        const ex = x === null || x === '';
        const ey = y === null || y === '';
        if (ex || ey) return ex === ey ? a - b : ex ? 1 : -1;
        return compareCells(x, y) * dir || a - b;
      });
    }
    return out;
  }

  /** Distinct values of a column over these rows, in natural order. */
  distinct(column: string, indices?: readonly number[]): ResultCell[] {
    const c = this.col(column);
    if (c < 0) return [];
    const seen = new Map<string, ResultCell>();
    for (const i of indices ?? this.rows.keys()) {
      const v = this.rows[i][c];
      if (v === null || v === '') continue;
      const k = cellText(v);
      if (!seen.has(k)) seen.set(k, v);
    }
    return [...seen.values()].sort(compareCells);
  }

  /** Columns with at least one number (what a plot's y axis can show): the results, then the measures. */
  numericColumns(): string[] {
    const cand = [...this.resultColumns(), 'seconds', 'max_rss_mb'].filter((c) => this.col(c) >= 0);
    return cand.filter((c) => {
      const i = this.col(c);
      return this.rows.some((r) => numeric(r[i]) !== undefined);
    });
  }
}

export interface PlotChoice {
  x: string;
  y: string;
  group: string | null;
  logY?: boolean;
}

/** What the plot starts with: the first numeric result against the first parameter that varies, one line per value of the next. */
export function defaultPlot(m: ResultsModel): PlotChoice | undefined {
  const ys = m.numericColumns();
  const params = m.inputColumns;
  if (ys.length === 0 || params.length === 0) return undefined;
  const varying = params.filter((p) => m.distinct(p).length > 1);
  const numericFirst = [...varying].sort((a, b) => Number(allNumeric(m, b)) - Number(allNumeric(m, a)));
  const x = numericFirst[0] ?? params[0];
  const group = varying.find((p) => p !== x && m.distinct(p).length <= MAX_LINES) ?? null;
  return { x, y: ys[0], group };
}

function allNumeric(m: ResultsModel, column: string): boolean {
  const vs = m.distinct(column);
  return vs.length > 0 && vs.every((v) => numeric(v) !== undefined);
}

export interface PlotSeries {
  label: string;
  /** y per x position (null: no row there) */
  values: Array<number | null>;
}

export interface PlotData {
  /** x positions: the parameter's values, or 0..n-1 for text values (then `categories` names them) */
  x: number[];
  categories?: string[];
  series: PlotSeries[];
  /** points drawn (non-null values over every series) */
  points: number;
  /** rows behind the most crowded point (> 1: a point is a mean; `varying` says over what) */
  maxPerPoint: number;
  /** the other inputs that vary within a point */
  varying: string[];
  /** values of the group-by parameter not drawn (beyond MAX_LINES) */
  hiddenGroups: number;
  /** rows with a number to plot */
  rows: number;
  /** true when every y is > 0 (a log scale is possible) */
  positive: boolean;
  /** what the reader must know, as a sentence (empty when nothing) */
  note: string;
}

/** The plot's data from the rows shown (after the filter): y against x, one series per group value. */
export function plotData(m: ResultsModel, indices: readonly number[], choice: PlotChoice): PlotData {
  const cx = m.col(choice.x);
  const cy = m.col(choice.y);
  const cg = choice.group ? m.col(choice.group) : -1;
  const usable = indices.filter((i) => cx >= 0 && cy >= 0 && numeric(m.rows[i][cy]) !== undefined && m.rows[i][cx] !== null && m.rows[i][cx] !== '');
  const xs = m.distinct(choice.x, usable);
  const isNum = xs.length > 0 && xs.every((v) => numeric(v) !== undefined);
  const xPos = new Map<string, number>();
  let x: number[];
  let categories: string[] | undefined;
  if (isNum) {
    // one position per distinct numeric value ("0.50" and "0.5" are one point)
    const vals = [...new Set(xs.map((v) => numeric(v)!))].sort((a, b) => a - b);
    const at = new Map(vals.map((v, i) => [v, i]));
    for (const v of xs) xPos.set(cellText(v), at.get(numeric(v)!)!);
    x = vals;
  } else {
    categories = xs.map(cellText);
    categories.forEach((c, i) => xPos.set(c, i));
    x = categories.map((_, i) => i);
  }
  const groupsAll = cg >= 0 ? m.distinct(choice.group!, usable).map(cellText) : [''];
  const groups = groupsAll.slice(0, MAX_LINES);
  const gPos = new Map(groups.map((g, i) => [g, i]));
  const sum = groups.map(() => new Array<number>(x.length).fill(0));
  const count = groups.map(() => new Array<number>(x.length).fill(0));
  let positive = true;
  let rows = 0;
  for (const i of usable) {
    const r = m.rows[i];
    const g = cg >= 0 ? gPos.get(cellText(r[cg])) : 0;
    if (g === undefined) continue;
    const p = xPos.get(cellText(r[cx]));
    if (p === undefined) continue;
    const y = numeric(r[cy])!;
    if (y <= 0) positive = false;
    sum[g][p] += y;
    count[g][p]++;
    rows++;
  }
  let points = 0;
  let maxPerPoint = 0;
  const series = groups.map((g, gi) => ({
    label: cg >= 0 ? `${choice.group} = ${g}` : choice.y,
    values: x.map((_, p) => {
      const n = count[gi][p];
      if (n === 0) return null;
      points++;
      maxPerPoint = Math.max(maxPerPoint, n);
      return sum[gi][p] / n;
    }),
  }));
  // which other inputs vary among the rows drawn: a point over several rows is their mean
  const others = m.inputColumns.filter((c) => c !== choice.x && c !== choice.group);
  const varying = maxPerPoint > 1 ? others.filter((c) => m.distinct(c, usable).length > 1) : [];
  const hiddenGroups = groupsAll.length - groups.length;
  const notes: string[] = [];
  if (maxPerPoint > 1) {
    notes.push(`Each point is the mean of up to ${maxPerPoint} rows${varying.length ? ` (${varying.join(', ')} ${varying.length === 1 ? 'varies' : 'vary'} within a point)` : ''}: group by ${varying.length ? `${varying[0]}` : 'another parameter'} or filter to see them apart.`);
  }
  if (hiddenGroups > 0) notes.push(`${choice.group} has ${groupsAll.length} values: the first ${MAX_LINES} are drawn; filter (e.g. ${choice.group}=${groupsAll[MAX_LINES]}) to see the others.`);
  const skipped = indices.length - usable.length;
  if (skipped > 0) notes.push(`${skipped.toLocaleString('en-US')} row${skipped === 1 ? '' : 's'} without a number in ${choice.y} ${skipped === 1 ? 'is' : 'are'} not drawn.`);
  return { x, categories, series, points, maxPerPoint, varying, hiddenGroups, rows, positive: positive && rows > 0, note: notes.join(' ') };
}
