/**
 * A run's results table, read back for a view: results.ndjson (typed values), else results.csv.
 *
 * What a task printed reaches these files unchanged, and anyone who can write the workspace can edit
 * them: every value is bounded here before it reaches a view, the same way core/run/reportBounds
 * bounds a report (the limits are its VIEW_LIMITS). Unlike a report, one hostile value does not
 * refuse the whole table: text longer than the bound is cut (marked with …), a number that is not
 * finite or beyond the magnitude bound becomes text (shown, never plotted), columns and rows beyond
 * their bounds are left out, and the table says how many values it changed. A row replaces an earlier
 * row of the same inputs (a file is only ever rewritten whole, but a view never shows one input twice).
 * No `vscode` import.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as readline from 'readline';
import { parse } from 'csv-parse';
import type { ResultCell, ResultsRows, ResultsTable } from '../../shared/protocol';
import { VIEW_LIMITS } from './reportBounds';
import { RUN_FILES } from './types';

/** The columns every results file has after the inputs (results.ts writes them). */
export const RESULT_MEASURES = ['status', 'seconds', 'max_rss_mb'] as const;
/** The last column: why a result could not be read. */
export const RESULT_NOTE = 'result_note';

const L = VIEW_LIMITS;

/** Text cut to the bound (by code points, so a surrogate pair is never split). */
function cut(s: string, max: number = L.resultText): { text: string; cut: boolean } {
  if (s.length <= max) return { text: s, cut: false };
  const chars = Array.from(s);
  if (chars.length <= max) return { text: s, cut: false };
  return { text: chars.slice(0, max - 1).join('') + '…', cut: true };
}

/**
 * One value as a view may receive it. `changed` is called when the bound changed it. Numbers stay
 * numbers only when finite and within the magnitude bound; objects and lists become their JSON text.
 */
export function boundCell(v: unknown, changed: () => void = () => undefined): ResultCell {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') {
    if (Number.isFinite(v) && Math.abs(v) <= L.resultMagnitude) return v;
    changed();
    return String(v);
  }
  let text: string;
  if (typeof v === 'string') text = v;
  else if (typeof v === 'bigint') text = String(v);
  else {
    try {
      text = JSON.stringify(v) ?? String(v);
    } catch {
      text = String(v);
    }
  }
  const c = cut(text);
  if (c.cut) changed();
  return c.text;
}

/** The key a view matches rows by: the input values as text (the tuple, or the file). */
export function rowKey(row: readonly ResultCell[], inputs: number): string {
  return JSON.stringify(row.slice(0, inputs).map((c) => (c === null ? '' : String(c))));
}

/**
 * Collects bounded rows from objects (results.ndjson lines) or arrays (results.csv records): columns
 * in the writer's order (a new key goes before result_note, which stays last), at most the bounds.
 */
export class ResultsCollector {
  readonly columns: string[] = [];
  private readonly at = new Map<string, number>();
  /** rows by key, in first-seen order (a later row of the same inputs replaces it in place) */
  private readonly rows = new Map<string, ResultCell[]>();
  omitted = 0;
  bounded = 0;
  /** input count: from run.json's names, else the columns before `status` */
  private inputCount: number | undefined;

  constructor(inputNames?: readonly string[]) {
    if (inputNames?.length) {
      for (const n of inputNames) this.column(n);
      this.inputCount = this.columns.length;
    }
  }

  get inputs(): number {
    if (this.inputCount !== undefined) return this.inputCount;
    const s = this.columns.indexOf('status');
    return s < 0 ? 0 : s;
  }

  get size(): number {
    return this.rows.size;
  }

  private readonly changed = (): void => {
    this.bounded++;
  };

  /** The column's position, adding it (within the bound) when new; -1 when beyond the bound. */
  private column(name: string): number {
    const known = this.at.get(name);
    if (known !== undefined) return known;
    if (this.columns.length >= L.resultColumns) return -1;
    let shown = cut(name.replace(/[\u0000-\u001f\u007f]/g, ' ')).text;
    while (this.columns.includes(shown)) shown = cut(`${shown}′`).text;
    const note = this.columns.indexOf(RESULT_NOTE);
    if (name !== RESULT_NOTE && note >= 0 && (this.inputCount === undefined || note >= this.inputCount)) {
      this.columns.splice(note, 0, shown);
      for (const [k, i] of this.at) if (i >= note) this.at.set(k, i + 1);
      // cells already collected move with their column
      for (const r of this.rows.values()) if (r.length > note) r.splice(note, 0, null);
      this.at.set(name, note);
      return note;
    }
    this.columns.push(shown);
    this.at.set(name, this.columns.length - 1);
    return this.columns.length - 1;
  }

  /** Adds the columns (a CSV header) without a row. */
  declare(columns: readonly string[]): void {
    for (const c of columns) this.column(c);
  }

  /** Adds one row given as an object (results.ndjson); the `log` key is the host's, not a column. */
  addObject(obj: Record<string, unknown>): ResultCell[] | undefined {
    const entries = Object.entries(obj).filter(([k]) => k !== 'log');
    // every column first (a new one may move result_note), then the cells by name
    let dropped = false;
    for (const [k] of entries) if (this.column(k) < 0) dropped = true;
    if (dropped) this.bounded++;
    const row: ResultCell[] = new Array(this.columns.length).fill(null);
    for (const [k, v] of entries) {
      const i = this.at.get(k);
      if (i !== undefined) row[i] = boundCell(v, this.changed);
    }
    // inputs are text (a tuple's values): a number written by hand becomes its text
    for (let i = 0; i < this.inputs; i++) if (row[i] !== null && typeof row[i] !== 'string') row[i] = String(row[i]);
    return this.put(row);
  }

  /** Adds one row given as CSV cells under `header` (results.csv: every cell is text; empty = none). */
  addRecord(header: readonly string[], record: readonly string[]): ResultCell[] | undefined {
    const o: Record<string, unknown> = {};
    header.forEach((h, i) => {
      const v = record[i];
      o[h] = v === undefined || (v === '' && i >= this.inputs) ? null : v;
    });
    return this.addObject(o);
  }

  private put(row: ResultCell[]): ResultCell[] | undefined {
    const key = rowKey(row, this.inputs);
    if (this.rows.has(key)) {
      this.rows.set(key, row);
      return row;
    }
    if (this.rows.size >= L.resultRows) {
      this.omitted++;
      return undefined;
    }
    this.rows.set(key, row);
    return row;
  }

  /** Every row, padded to the current columns. */
  allRows(): ResultCell[][] {
    const n = this.columns.length;
    return [...this.rows.values()].map((r) => (r.length < n ? [...r, ...new Array(n - r.length).fill(null)] : r));
  }

  table(source: ResultsTable['source']): ResultsTable {
    return { columns: [...this.columns], inputs: this.inputs, rows: this.allRows(), omitted: this.omitted, bounded: this.bounded, source };
  }

  /** Forgets the rows (the columns stay: a view maps rows by column name). */
  clearRows(): void {
    this.rows.clear();
    this.omitted = 0;
  }
}

function parseLine(line: string): Record<string, unknown> | undefined {
  if (!line.trim()) return undefined;
  try {
    const v = JSON.parse(line) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined; // a torn last line (a crash mid-write) or an edit: not a row
  }
}

/** The input names of a run (run.json), when it records them. */
export async function runInputNames(runDir: string): Promise<string[] | undefined> {
  try {
    const def = JSON.parse(await fs.promises.readFile(path.join(runDir, RUN_FILES.definition), 'utf8')) as { inputNames?: unknown };
    const names = def.inputNames;
    return Array.isArray(names) && names.length > 0 && names.every((n) => typeof n === 'string') ? (names as string[]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The results table of a run directory, bounded for a view: results.ndjson (values keep their JSON
 * types), else results.csv; undefined when the run has neither. Reads line by line and stops keeping
 * rows at the bound (it counts the rest).
 */
export async function readResultsTable(runDir: string): Promise<ResultsTable | undefined> {
  const names = await runInputNames(runDir);
  const ndjson = path.join(runDir, RUN_FILES.resultsNdjson);
  const csv = path.join(runDir, RUN_FILES.resultsCsv);
  const c = new ResultsCollector(names);
  if (await isFile(ndjson)) {
    const lines = readline.createInterface({ input: fs.createReadStream(ndjson, { encoding: 'utf8' }), crlfDelay: Infinity });
    for await (const line of lines) {
      const o = parseLine(line);
      if (o) c.addObject(o);
    }
    return c.table('results.ndjson');
  }
  if (await isFile(csv)) {
    let header: string[] | undefined;
    const parser = fs.createReadStream(csv).pipe(parse({ bom: true, relax_column_count: true, skip_empty_lines: true }));
    try {
      for await (const rec of parser as AsyncIterable<string[]>) {
        if (!header) {
          header = rec;
          c.declare(rec);
          continue;
        }
        c.addRecord(header, rec);
      }
    } catch {
      // a damaged CSV: the rows read so far (results.ndjson is the file a view prefers)
      c.bounded++;
    }
    return c.table('results.csv');
  }
  return undefined;
}

async function isFile(f: string): Promise<boolean> {
  try {
    return (await fs.promises.stat(f)).isFile();
  } catch {
    return false;
  }
}

/**
 * Follows a live run's results.ndjson as the writer appends to it: each call reads what was added
 * since (at most `maxBytes`, whole lines only) and returns those rows, bounded. A file that shrank
 * was written again from the journal: the rows start again (`reset`). Synchronous and small per call
 * (a live feed calls it a few times a second).
 */
export class ResultsFollower {
  private offset = 0;
  private partial = '';
  private collector: ResultsCollector;
  private sent = 0;
  /** more bytes are waiting than the last call read */
  behind = false;

  constructor(private readonly runDir: string, private readonly inputNames?: readonly string[], private readonly maxBytes = 4 << 20) {
    this.collector = new ResultsCollector(inputNames);
  }

  /** Starts again from the beginning of the file (a view that reloaded needs every row again). */
  restart(): void {
    this.offset = 0;
    this.partial = '';
    this.sent = 0;
    this.collector = new ResultsCollector(this.inputNames);
  }

  /** The rows added since the last call (undefined when none). */
  read(): (ResultsRows & { reset?: boolean; omitted: number; bounded: number }) | undefined {
    const file = path.join(this.runDir, RUN_FILES.resultsNdjson);
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch {
      this.behind = false;
      return undefined;
    }
    let reset = false;
    const rows: ResultCell[][] = [];
    try {
      const size = fs.fstatSync(fd).size;
      if (size < this.offset) {
        this.restart();
        reset = true;
      }
      const n = Math.min(size - this.offset, this.maxBytes);
      this.behind = size - this.offset > n;
      if (n <= 0) return reset ? this.out(rows, reset) : undefined;
      const buf = Buffer.alloc(n);
      const got = fs.readSync(fd, buf, 0, n, this.offset);
      this.offset += got;
      const text = this.partial + buf.subarray(0, got).toString('utf8');
      const end = text.lastIndexOf('\n');
      // a multi-byte character cut at the chunk's end stays whole: only complete lines are parsed
      this.partial = end < 0 ? text : text.slice(end + 1);
      if (end < 0) return reset ? this.out(rows, reset) : undefined;
      for (const line of text.slice(0, end).split('\n')) {
        const o = parseLine(line);
        if (!o) continue;
        const row = this.collector.addObject(o);
        if (row) rows.push(row);
      }
    } finally {
      fs.closeSync(fd);
    }
    if (rows.length === 0 && !reset) return undefined;
    return this.out(rows, reset);
  }

  private out(rows: ResultCell[][], reset: boolean): ResultsRows & { reset?: boolean; omitted: number; bounded: number } {
    this.sent += rows.length;
    const n = this.collector.columns.length;
    return {
      columns: [...this.collector.columns],
      inputs: this.collector.inputs,
      rows: rows.map((r) => (r.length < n ? [...r, ...new Array(n - r.length).fill(null)] : r)),
      omitted: this.collector.omitted,
      bounded: this.collector.bounded,
      ...(reset ? { reset } : {}),
    };
  }
}

/**
 * The log a results row names (results.ndjson's `log`: the output log of a succeeded task, the error
 * log of a failed one) for the row of these input values; undefined when no row matches. The path is
 * only a name: the caller opens it through resolveTaskLog, which keeps it inside the run's logs folder.
 */
export async function findResultLog(runDir: string, inputs: readonly string[]): Promise<string | undefined> {
  const names = await runInputNames(runDir);
  const want = JSON.stringify(inputs);
  const file = path.join(runDir, RUN_FILES.resultsNdjson);
  if (!(await isFile(file))) return undefined;
  let found: string | undefined;
  const lines = readline.createInterface({ input: fs.createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const line of lines) {
    const o = parseLine(line);
    if (!o) continue;
    const keys = names ?? Object.keys(o).slice(0, Math.max(0, Object.keys(o).indexOf('status')));
    const values = keys.map((k) => (o[k] === null || o[k] === undefined ? '' : String(o[k])));
    // the last row of these inputs wins, as in the table
    if (JSON.stringify(values) === want && typeof o.log === 'string') found = o.log;
  }
  return found;
}
