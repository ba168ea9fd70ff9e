/**
 * The human view of a run on the terminal: the progress line, task output passed through one task at
 * a time (GNU Parallel's --group, -k, --tag), GNU Parallel's --joblog, and the end summary.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Transform } from 'stream';
import { groupFailures, groupLine } from '../core/run/failures';
import { taskArgv } from '../core/run/plan';
import { UsageError, type RunOptions, type RunReport, type TaskCommand, type TaskRecord } from '../core/run/types';
import { shellQuote } from '../core/slurm/script';
import { figuresLine } from '../shared/figures';
import { formatDuration } from '../shared/format';
import { EXIT } from './args';


/** One progress line: bar, counts, failures, ETA. */
export function progressLine(done: number, total: number | null, failed: number, etaMs: number | null, width = 80): string {
  const counts = total !== null ? `${done}/${total}` : `${done}/?`;
  const pct = total ? Math.floor((100 * done) / total) : null;
  const tail = `${counts}${pct !== null ? ` ${pct}%` : ''}${failed ? ` ${failed} failed` : ''}${etaMs !== null ? ` ETA ${formatDuration(etaMs)}` : ''}`;
  const barWidth = Math.max(10, Math.min(40, width - tail.length - 4));
  const filled = total ? Math.round((barWidth * done) / total) : 0;
  return `[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}] ${tail}`;
}

/** Copies task logs to our stdout/stderr one task at a time (GNU Parallel's --group), streaming. */
export class GroupedOutput {
  private chain: Promise<void> = Promise.resolve();
  /** keepOrder: finished (a record) or skipped (null) files not printed yet, by index */
  private readonly waiting = new Map<number, TaskRecord | null>();
  private next = 1;
  constructor(
    private readonly outDir: string,
    private readonly opts: { keepOrder: boolean; tag: boolean },
    private readonly before: () => void,
    private readonly after: () => void,
  ) {}

  /** A file finished: its output now, or (keepOrder) once every file before it is printed or skipped. */
  push(rec: TaskRecord): void {
    if (!this.opts.keepOrder) return this.print(rec);
    this.waiting.set(rec.index, rec);
    this.release();
  }

  /** keepOrder: a file resume skipped (it prints nothing, and no longer holds back the files after it). */
  skipped(index: number): void {
    if (!this.opts.keepOrder) return;
    this.waiting.set(index, null);
    this.release();
  }

  private release(): void {
    for (let r = this.waiting.get(this.next); r !== undefined; r = this.waiting.get(this.next)) {
      this.waiting.delete(this.next++);
      if (r) this.print(r);
    }
  }

  private print(rec: TaskRecord): void {
    this.chain = this.chain.then(async () => {
      this.before();
      const tag = this.opts.tag ? rec.file : undefined;
      await copy(path.join(this.outDir, rec.stdoutLog), process.stdout, tag);
      await copy(path.join(this.outDir, rec.stderrLog), process.stderr, tag);
      this.after();
    });
  }

  /** All output printed; at the end of a cancelled or halted run, what waits behind files that never ran too. */
  drained(): Promise<void> {
    for (const i of [...this.waiting.keys()].sort((x, y) => x - y)) {
      const r = this.waiting.get(i);
      if (r) this.print(r);
    }
    this.waiting.clear();
    return this.chain;
  }
}

/**
 * --joblog FILE: GNU Parallel's job log, one TAB-separated line per finished file (after its last
 * attempt), written as each finishes: Seq Host Starttime JobRuntime Send Receive Exitval Signal
 * Command. Host is ":" (this machine), Send/Receive 0; a task killed by a signal has Exitval -1.
 * A new run starts the file over; --resume appends to it.
 */
export class Joblog {
  private fd = -1;
  private constructor(private readonly file: string, private readonly command: TaskCommand) {}

  /** Checks the file can be written, creating and changing nothing yet (the run may still be refused). */
  static open(file: string, opts: RunOptions): Joblog {
    const cannot = (why: string) => new UsageError(`Cannot write the job log ${file} (${why}). Choose another --joblog path.`);
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw cannot((e as NodeJS.ErrnoException).code ?? (e as Error).message);
    }
    if (st?.isDirectory()) throw cannot('EISDIR');
    try {
      fs.accessSync(st ? file : path.dirname(file), fs.constants.W_OK);
    } catch (e) {
      throw cannot((e as NodeJS.ErrnoException).code ?? (e as Error).message);
    }
    return new Joblog(file, opts.command);
  }

  /** The run started: opens (creates) the file; a new run starts it over, --resume appends. */
  begin(resume: boolean): void {
    try {
      this.fd = fs.openSync(this.file, 'a');
      if (resume && fs.fstatSync(this.fd).size > 0) return;
      fs.ftruncateSync(this.fd, 0);
      fs.writeSync(this.fd, 'Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n');
    } catch {
      /* checked before the run; a full disk must not stop it (the journal has every record) */
    }
  }

  add(r: TaskRecord): void {
    const argv = r.argv ?? taskArgv(this.command, r.file, r.index, r.slot, false);
    const sig = r.signal ? (os.constants.signals as Record<string, number>)[r.signal] ?? 0 : 0;
    const exit = r.exitCode ?? (sig ? -1 : 0);
    const cols = [r.index, ':', (r.start / 1000).toFixed(3), (r.wallMs / 1000).toFixed(3), 0, 0, exit, sig, argv.map(shellQuote).join(' ').replace(/[\t\n]/g, ' ')];
    try {
      fs.writeSync(this.fd, cols.join('\t') + '\n');
    } catch {
      /* a full disk must not stop the run: the journal has every record */
    }
  }

  close(): void {
    if (this.fd < 0) return;
    try {
      fs.closeSync(this.fd);
    } catch {
      /* closed */
    }
    this.fd = -1;
  }
}

/** Copies a task's log to the terminal; with `tag`, each line starts with it and a TAB (GNU Parallel's --tag). */
function copy(file: string, to: NodeJS.WriteStream, tag?: string): Promise<void> {
  return new Promise((resolve) => {
    let size = 0;
    try {
      size = fs.statSync(file).size;
    } catch {
      return resolve();
    }
    if (size === 0) return resolve();
    const rs = fs.createReadStream(file);
    rs.on('error', () => resolve());
    if (tag === undefined) {
      rs.on('end', () => resolve());
      rs.pipe(to, { end: false });
    } else {
      const tagged = tagLines(tag);
      tagged.on('end', () => resolve());
      rs.pipe(tagged).pipe(to, { end: false });
    }
  });
}

/** Puts `tag` + TAB at the start of every line going through (lines split on \n, bytes kept as they are). */
export function tagLines(tag: string): Transform {
  const prefix = Buffer.from(`${tag}\t`);
  let atStart = true;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      const parts: Buffer[] = [];
      for (let from = 0; from < chunk.length; ) {
        if (atStart) parts.push(prefix);
        const nl = chunk.indexOf(10, from);
        const end = nl < 0 ? chunk.length : nl + 1;
        parts.push(chunk.subarray(from, end));
        atStart = nl >= 0;
        from = end;
      }
      cb(null, Buffer.concat(parts));
    },
  });
}

export function summaryText(r: RunReport, outDir: string): string {
  const c = r.counts;
  const parts = [`${c.succeeded} succeeded`];
  if (c.skipped) parts.push(`${c.skipped} skipped (done before)`);
  if (c.failed) parts.push(`${c.failed} failed`);
  if (c.timedOut) parts.push(`${c.timedOut} timed out`);
  if (c.cancelled) parts.push(`${c.cancelled} cancelled`);
  if (c.retried) parts.push(`${c.retried} needed retries`);
  const lines = [
    `parallel-run: ${r.status}: ${parts.join(', ')} in ${formatDuration(r.wallMs)}; ${figuresLine(r)}`,
  ];
  if (r.stopped) lines.push(`  ${r.stopped.reason === 'early' ? `stopped early: ${r.stopped.message}` : r.stopped.message}`);
  lines.push(...failureGroupLines(r, outDir));
  for (const n of r.notes) if (!r.stopped || !n.includes(r.stopped.message)) lines.push(`  note: ${n}`);
  lines.push(`  report: ${path.join(outDir, 'report.json')}`);
  return lines.join('\n') + '\n';
}

/** Groups shown in the end summary (report.json has them all). */
const SUMMARY_GROUPS = 10;

/**
 * The failures, a line per error signature, largest group first, with a log to read:
 *   312 files: KeyError: 'EXPTIME' (analyze.py:57), e.g. field_0042.fits
 *       log: runs/…/logs/000042-field_0042.fits.err
 */
function failureGroupLines(r: RunReport, outDir: string): string[] {
  const groups = r.failureGroups ?? groupFailures(r.tasks);
  if (groups.length === 0) return [];
  const lines = [`  failures by error (largest first):`];
  for (const g of groups.slice(0, SUMMARY_GROUPS)) {
    lines.push(`  ${groupLine(g)}`);
    if (g.logs[0]) lines.push(`      log: ${path.join(outDir, g.logs[0])}`);
  }
  if (groups.length > SUMMARY_GROUPS) {
    const rest = groups.slice(SUMMARY_GROUPS).reduce((n, g) => n + g.count, 0);
    lines.push(`  ... and ${groups.length - SUMMARY_GROUPS} more kinds of error (${rest} files; see report.json)`);
  }
  return lines;
}

export function exitCodeFor(r: RunReport): number {
  if (r.status === 'cancelled') return EXIT.cancelled;
  if (r.status === 'succeeded') return EXIT.ok;
  // --halt now,success=N (or done=N) with nothing failed: a wanted stop
  if (r.status === 'halted' && r.stopped?.reason === 'halt' && r.counts.failed + r.counts.timedOut === 0) return EXIT.ok;
  return EXIT.failed;
}
