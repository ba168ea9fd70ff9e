/**
 * A run's results table: one row per input (file or tuple) in `results.csv` and `results.ndjson`,
 * written as tasks finish.
 *
 * A task reports its result as a JSON object on the last line of its stdout, or as JSON in the file
 * named by $PARALLEL_RUN_RESULT (a scalar becomes {"result": value}). The engine parses it when the
 * task ends and journals it with the task's record: the journal is the source of truth, and these
 * two files are views of it. A row is: the inputs by name, status, seconds, max_rss_mb, then the
 * result's keys (the union over rows; nested values as JSON text in the CSV), then result_note when
 * a result could not be read. A fresh run appends each row once; a resumed run starts both files
 * again from the journal (the rows of what is done), and every run whose columns grew or that
 * resumed is rewritten from the journal at its end, in input order: after a crash and --resume the
 * table is complete, one row per input.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { tupleKey } from './inputs';
import { readJournal } from './journal';
import { readTail } from './taskRunner';
import { RUN_FILES, TaskRecord } from './types';



/** The environment variable naming the file a task may write its result to (JSON). */
export const RESULT_ENV = 'PARALLEL_RUN_RESULT';

/** What a task reported: its result (an object), or why none could be read (a note for its row). */
export interface TaskResult {
  result?: Record<string, unknown>;
  note?: string;
}

/** Largest result read back from a log or a result file (a table of numbers, not a data set). */
const MAX_RESULT_BYTES = 1 << 20;

function asObject(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : { result: v };
}

/**
 * JSON as Python's json.dumps writes it: NaN, Infinity and -Infinity (a failed fit's log-likelihood)
 * are not JSON, so strict parsing would lose the whole result. They become the strings "NaN",
 * "Infinity", "-Infinity" (kept in the table as text, never taken for a number); text inside strings
 * is left alone.
 */
export function parsePythonJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const lenient = text.replace(/"(?:[^"\\]|\\.)*"|-?Infinity|NaN/g, (m) => (m.startsWith('"') ? m : `"${m}"`));
    if (lenient === text) throw e;
    try {
      return JSON.parse(lenient);
    } catch {
      throw e;
    }
  }
}

/** The last non-empty line of `text` (and whether the text held a newline before it). */
function lastLine(text: string): { line: string; whole: boolean } {
  const t = text.replace(/\s+$/, '');
  const i = t.lastIndexOf('\n');
  return { line: (i < 0 ? t : t.slice(i + 1)).trim(), whole: i >= 0 };
}

/**
 * The result of a finished task: the result file when the task wrote one, else its stdout's last
 * line when that is a JSON object. `tail` is the end of stdout the engine kept (`tailBytes` at most):
 * a last line longer than that is read back from the log. A line that starts like an object but is
 * not valid JSON is a note, never an error.
 */
export function readTaskResult(tail: string, tailBytes: number, stdoutLog: string, resultFile?: string, inline?: string): TaskResult {
  // an in-process call's return value, sent with its host's reply
  if (inline !== undefined) {
    try {
      return { result: asObject(JSON.parse(inline)) };
    } catch (e) {
      return { note: `the function's result is not valid JSON (${(e as Error).message})` };
    }
  }
  if (resultFile) {
    let text: string | undefined;
    try {
      const st = fs.statSync(resultFile);
      text = st.size > MAX_RESULT_BYTES ? undefined : fs.readFileSync(resultFile, 'utf8');
      if (text === undefined) return { note: `$${RESULT_ENV} file is larger than ${MAX_RESULT_BYTES} bytes: not read` };
    } catch {
      text = undefined; // not written: stdout may hold the result
    }
    if (text !== undefined) {
      try {
        return { result: asObject(parsePythonJson(text)) };
      } catch (e) {
        return { note: `$${RESULT_ENV} file is not valid JSON (${(e as Error).message})` };
      }
    }
  }
  let { line, whole } = lastLine(tail);
  if (!whole && Buffer.byteLength(tail) >= tailBytes) ({ line } = lastLine(readTail(stdoutLog, MAX_RESULT_BYTES)));
  if (!line.startsWith('{')) return {};
  try {
    return { result: asObject(parsePythonJson(line)) };
  } catch (e) {
    return { note: `last line of stdout looks like JSON but is not (${(e as Error).message})` };
  }
}

/** The fixed columns after the inputs. */
const MEASURES = ['status', 'seconds', 'max_rss_mb'] as const;
const NOTE = 'result_note';

/** One row of the table, as results.ndjson holds it (plus `log`: the task's output log, its error log when it failed). */
export type ResultRow = Record<string, unknown>;

/** A task record as a results row: inputs by name, measures, result keys (renamed if they clash). */
export function resultRow(rec: TaskRecord, inputNames: string[]): ResultRow {
  const row: ResultRow = {};
  const values = rec.inputs ?? [rec.file];
  inputNames.forEach((n, i) => (row[n] = values[i] ?? ''));
  row.status = rec.status;
  // to the microsecond: an in-process call of 0.3 ms is not "0"
  row.seconds = Math.round(rec.wallMs * 1000) / 1e6;
  row.max_rss_mb = rec.maxRssKb === null ? null : Math.round(rec.maxRssKb / 102.4) / 10;
  for (const [k, v] of Object.entries(rec.result ?? {})) {
    let key = k;
    while (key in row || key === NOTE || key === 'log') key = `result_${key}`;
    row[key] = v;
  }
  if (rec.resultNote) row[NOTE] = rec.resultNote;
  // a failed task's traceback is in its error log; a result came on its output
  row.log = rec.status === 'succeeded' ? rec.stdoutLog : rec.stderrLog;
  return row;
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v);
}

/** Rows as CSV lines (csv-stringify: quoting, embedded newlines and commas). Call it once per batch of rows, not per row. */
export function csvLines(rows: ResultRow[], columns: string[]): string {
  return rows.length ? stringify(rows.map((r) => columns.map((c) => cell(r[c])))) : '';
}

function csvHeader(columns: string[]): string {
  return stringify([columns]);
}

/** Rewrites of results.csv for new columns before they wait for the end (keys that vary per task). */
const MAX_REWRITES = 32;

/** The key of a row's input (file or tuple), as the journal keys it. */
function recordKey(rec: TaskRecord): string {
  return rec.inputs ? tupleKey(rec.inputs) : `f:${rec.file}`;
}

/** The latest record of each input in the journal (for fingerprint `fp`), in input order. */
async function latestRecords(journalFile: string, fp: string, keep: (rec: TaskRecord) => boolean = () => true): Promise<TaskRecord[]> {
  const latest = new Map<string, TaskRecord>();
  for await (const l of readJournal(journalFile)) {
    if (l.fp !== fp) continue;
    const { fp: _fp, session: _s, stdoutTail: _o, stderrTail: _e, threadEnv: _t, ...rest } = l;
    const rec = { ...rest, stdoutTail: '', stderrTail: '', threadEnv: {} } as TaskRecord;
    const key = recordKey(rec);
    latest.delete(key); // re-inserted: the map's order is the order of the latest records
    latest.set(key, rec);
  }
  return [...latest.values()].filter(keep).sort((a, b) => a.index - b.index);
}

/** Writes results.csv and results.ndjson for one session of a run. */
export class ResultsWriter {
  private columns: string[];
  private readonly known = new Set<string>();
  private csvFd = -1;
  private ndjsonFd = -1;
  private rewrites = 0;
  /** columns grew after the rewrites ran out, or the session resumed: rewrite at the end */
  private rewriteAtEnd = false;

  constructor(readonly outDir: string, readonly inputNames: string[]) {
    this.columns = [...inputNames, ...MEASURES];
    for (const c of this.columns) this.known.add(c);
  }

  get csvFile(): string {
    return path.join(this.outDir, RUN_FILES.resultsCsv);
  }

  get ndjsonFile(): string {
    return path.join(this.outDir, RUN_FILES.resultsNdjson);
  }

  /**
   * Opens the files for this session. A fresh run starts them empty; a resumed one from the journal's
   * rows of the inputs that are done (the others run again and add their row as they finish).
   */
  async open(journalFile: string, fp: string, resume: boolean, keep: (rec: TaskRecord) => boolean = () => true): Promise<void> {
    const rows = resume ? (await latestRecords(journalFile, fp, (r) => r.status === 'succeeded' && keep(r))).map((r) => resultRow(r, this.inputNames)) : [];
    if (resume) this.rewriteAtEnd = true;
    this.writeAll(rows);
    this.csvFd = fs.openSync(this.csvFile, 'a');
    this.ndjsonFd = fs.openSync(this.ndjsonFile, 'a');
  }

  /** Both files from these rows, atomically (columns: the inputs, the measures, every key seen). */
  private writeAll(rows: ResultRow[]): void {
    for (const r of rows) this.learn(r);
    const ndjson = rows.map((r) => JSON.stringify(r) + '\n').join('');
    const csv = csvHeader(this.columns) + csvLines(rows, this.columns);
    for (const [file, text] of [[this.ndjsonFile, ndjson], [this.csvFile, csv]]) {
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, text);
      fs.renameSync(tmp, file);
    }
  }

  /** Adds the row's new keys to the columns; true when there were any. */
  private learn(row: ResultRow): boolean {
    let grew = false;
    for (const k of Object.keys(row)) {
      if (k === 'log' || this.known.has(k)) continue;
      this.known.add(k);
      // result_note stays last
      if (k === NOTE) this.columns.push(k);
      else {
        const at = this.columns.indexOf(NOTE);
        this.columns.splice(at < 0 ? this.columns.length : at, 0, k);
      }
      grew = true;
    }
    return grew;
  }

  /** rows added while corked, written by uncork() (results.csv's lines formatted once for all of them) */
  private held: { ndjson: string; csv: ResultRow[] } | undefined;

  /** Rows go to memory until uncork(), which writes them in one write per file. */
  cork(): void {
    this.held ??= { ndjson: '', csv: [] };
  }

  uncork(): void {
    const h = this.held;
    this.held = undefined;
    if (h?.ndjson) fs.writeSync(this.ndjsonFd, h.ndjson);
    if (h?.csv.length) fs.writeSync(this.csvFd, csvLines(h.csv, this.columns));
  }

  /** A task finished: its row, appended to both files (a new column rewrites results.csv's header). */
  add(rec: TaskRecord): void {
    if (this.ndjsonFd < 0) return;
    const row = resultRow(rec, this.inputNames);
    const line = JSON.stringify(row) + '\n';
    if (this.held) this.held.ndjson += line;
    else fs.writeSync(this.ndjsonFd, line);
    if (this.learn(row)) {
      if (this.rewrites++ < MAX_REWRITES) {
        // the rewrite reads results.ndjson: the rows held go there first, and into the new results.csv
        if (this.held) {
          fs.writeSync(this.ndjsonFd, this.held.ndjson);
          this.held = { ndjson: '', csv: [] };
        }
        this.rewriteCsv();
        return;
      }
      this.rewriteAtEnd = true;
    }
    if (this.held) this.held.csv.push(row);
    else fs.writeSync(this.csvFd, csvLines([row], this.columns));
  }

  /** results.csv again from results.ndjson, under the current columns. */
  private rewriteCsv(): void {
    const rows: ResultRow[] = [];
    for (const line of fs.readFileSync(this.ndjsonFile, 'utf8').split('\n')) {
      if (!line) continue;
      try {
        rows.push(JSON.parse(line));
      } catch {
        /* a torn line (a crash mid-write) */
      }
    }
    fs.closeSync(this.csvFd);
    const tmp = `${this.csvFile}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, csvHeader(this.columns) + csvLines(rows, this.columns));
    fs.renameSync(tmp, this.csvFile);
    this.csvFd = fs.openSync(this.csvFile, 'a');
  }

  /**
   * The session ended: a resumed run (or one whose columns kept growing, or any run when `rewrite`:
   * a collected Slurm array) is rewritten from the journal.
   */
  async close(journalFile: string, fp: string, rewrite = false): Promise<void> {
    for (const fd of [this.csvFd, this.ndjsonFd]) if (fd >= 0) fs.closeSync(fd);
    this.csvFd = this.ndjsonFd = -1;
    if (!this.rewriteAtEnd && !rewrite) return;
    this.writeAll((await latestRecords(journalFile, fp)).map((r) => resultRow(r, this.inputNames)));
  }
}

/** Reads a results.csv (or any CSV with a header) into rows of strings, with csv-parse. */
export function readCsv(text: string, delimiter = ','): { columns: string[]; rows: string[][] } {
  const records = parse(text, { delimiter, relax_column_count: false, skip_empty_lines: true, bom: true }) as string[][];
  return { columns: records[0] ?? [], rows: records.slice(1) };
}
