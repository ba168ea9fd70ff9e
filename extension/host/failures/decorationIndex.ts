/**
 * What the Explorer decoration provider answers, kept cheap for 100,000 inputs. A lookup is one
 * Map.get in the folder's marks and returns a decoration made once per look (marks are interned by
 * InputMarks: a run with 300 failures of 3 kinds has 4 looks), so it allocates nothing. A refresh does
 * no work per input: the same runs with the same marks (a report update; a run that ended, whose marks
 * are the ones it showed live) change nothing; a live run's ended files are named one by one; only
 * another run (or marks merged in from earlier sessions) makes VS Code ask again, and then only for
 * the files it shows. No `vscode` here: the decoration is made by the function given (the provider's,
 * or the benchmark's).
 */
import type { InputMark, InputMarks } from '../../core/run/inputStatus';

/** A folder's latest run, as the provider needs it. */
export interface MarkedRun {
  runDir: string;
  marks: InputMarks;
  live: boolean;
}

/** What a refresh must tell VS Code: nothing, only the "Debug This File" context (failed files), or everything. */
export type RefreshNeed = 'none' | 'context' | 'all';

export class DecorationIndex<D> {
  private runs: MarkedRun[] = [];
  private sources: InputMarks[] = [];
  private readonly looks = new Map<InputMark, D>();

  constructor(private readonly make: (m: InputMark) => D) {}

  /** The folders' latest runs again (in folder order: a path in two keeps the first one's mark). */
  update(runs: MarkedRun[], force = false): RefreshNeed {
    const before = this.runs;
    this.runs = runs.map((r) => ({ runDir: r.runDir, marks: r.marks, live: r.live }));
    this.sources = runs.map((r) => r.marks);
    if (this.looks.size > 256) this.looks.clear(); // looks of runs gone (their error titles)
    if (force || before.length !== runs.length) return 'all';
    let need: RefreshNeed = 'none';
    for (let i = 0; i < runs.length; i++) {
      const a = before[i];
      const b = runs[i];
      if (a.runDir !== b.runDir || a.marks !== b.marks) return 'all';
      if (a.live !== b.live) need = 'context'; // a run ended with the marks it showed: its failures are final
    }
    return need;
  }

  /** The decoration of an absolute path, if it is an input of a latest run. */
  get(path: string): D | undefined {
    const sources = this.sources;
    for (let i = 0; i < sources.length; i++) {
      const m = sources[i].get(path);
      if (m !== undefined) return this.look(m);
    }
    return undefined;
  }

  private look(m: InputMark): D {
    let d = this.looks.get(m);
    if (d === undefined) {
      d = this.make(m);
      this.looks.set(m, d);
    }
    return d;
  }

  /** Absolute paths of inputs that did not succeed, at most `max`, over every folder. */
  failedPaths(max: number): string[] {
    const out: string[] = [];
    for (const s of this.sources) {
      if (out.length >= max) break;
      out.push(...s.failedPaths(max - out.length));
    }
    return out;
  }
}
