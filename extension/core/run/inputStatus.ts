/**
 * How each input file of a run ended, by absolute path: what the Explorer marks (a badge, a colour,
 * the error as tooltip). Built once per report (O(tasks)); a lookup is one Map.get: no file system
 * call per file, whatever the number of inputs.
 */
import * as path from 'path';
import type { TaskRecord, TaskStatus } from './types';

/** What the Explorer shows for one input. */
export interface InputMark {
  status: 'succeeded' | 'failed' | 'timedOut';
  /** the error (failed, timed out) or "succeeded" */
  tooltip: string;
}

/** Status of a file whose record has none of these is not shown (cancelled, skipped). */
const SHOWN: ReadonlySet<TaskStatus> = new Set(['succeeded', 'failed', 'timedOut']);

export class InputMarks {
  private readonly marks = new Map<string, InputMark>();
  /** one mark object per look (status + tooltip): 100,000 inputs with 3 kinds of failure hold 4 */
  private readonly looks = new Map<string, InputMark>();

  /** the working directory is absolute and normalised, so joining a plain name needs no path.resolve */
  private readonly plainCwd: boolean;

  constructor(readonly cwd: string) {
    this.plainCwd = process.platform !== 'win32' && cwd.startsWith('/') && path.resolve(cwd) === cwd && cwd !== '/';
  }

  /** Adds (or replaces: a later record of the same file wins) the mark of a finished task. */
  set(rec: Pick<TaskRecord, 'file' | 'status' | 'error' | 'exitCode' | 'signal'>): string | undefined {
    if (!SHOWN.has(rec.status)) return undefined;
    const key = this.keyOf(rec.file);
    const status = rec.status as InputMark['status'];
    const tooltip = status === 'succeeded' ? 'succeeded' : rec.error?.title ?? (status === 'timedOut' ? 'timed out' : rec.signal ? `killed by ${rec.signal}` : `exit code ${rec.exitCode}`);
    const look = `${status}\n${tooltip}`;
    let mark = this.looks.get(look);
    if (!mark) this.looks.set(look, (mark = { status, tooltip }));
    this.marks.set(key, mark);
    return key;
  }

  /** The absolute path of a recorded file: a plain relative name is joined, anything else resolved. */
  keyOf(file: string): string {
    return this.plainCwd && !file.startsWith('/') && !/(^|\/)\.{1,2}(\/|$)|\/\/|\\/.test(file) ? `${this.cwd}/${file}` : path.resolve(this.cwd, file);
  }

  /** Sets the mark of an absolute path as is. */
  put(absPath: string, mark: InputMark): void {
    this.marks.set(absPath, mark);
  }

  entries(): IterableIterator<[string, InputMark]> {
    return this.marks.entries();
  }

  get(absPath: string): InputMark | undefined {
    return this.marks.get(absPath);
  }

  get size(): number {
    return this.marks.size;
  }

  /** Absolute paths of the inputs that did not succeed (at most `max`). */
  failedPaths(max: number): string[] {
    const out: string[] = [];
    for (const [k, m] of this.marks) {
      if (m.status === 'succeeded') continue;
      out.push(k);
      if (out.length >= max) break;
    }
    return out;
  }

  /** Marks of every record, in order (later records of a file win). */
  static of(cwd: string, records: Iterable<TaskRecord>): InputMarks {
    const m = new InputMarks(cwd);
    for (const r of records) m.set(r);
    return m;
  }
}
