/**
 * Run history: every run directory under a runs folder, its status (a run whose runner died shows
 * 'interrupted'), its report (rebuilt from the journal when report.json is missing or stale) and the
 * files that still need work.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as workerpool from 'workerpool';
import { readDefinition } from './runDir';
import { runnerAlive } from './runLock';
import { nameOfRecord } from './fsNames';
import { tupleKey } from './inputs';
import { fileKey, JournalLine, readJournal, readJournalBatches } from './journal';
import { ReportBuilder } from './report';
import { RUN_FILES, RunDefinition, RunReport, RunSummary, TaskCommand, TaskRecord } from './types';

function mtime(p: string): number | undefined {
  try {
    return fs.statSync(p).mtimeMs;
  } catch {
    return undefined;
  }
}

/** "python analyze.py", "wc -l {}" — what a run ran, for lists. */
export function commandLabel(c: TaskCommand): string {
  if (c.kind === 'python') return `python ${path.basename(c.script)}${c.args.length ? ' ' + c.args.join(' ') : ''}${c.warm ? ' (warm)' : ''}`;
  return c.argv.map((a) => (/[\s'"]/.test(a) ? JSON.stringify(a) : a)).join(' ');
}

/**
 * Rebuilds the report of the LAST session of a run from its journal, in one pass over it plus a sort:
 * the files that succeeded in earlier sessions and were not run again in this one count as skipped
 * (found in a set of this session's keys, not by searching this session's records per earlier file).
 */
async function rebuild(runDir: string, def: RunDefinition): Promise<RunReport> {
  const last = def.sessions[def.sessions.length - 1];
  const b = new ReportBuilder(def, last?.startedAt ?? def.createdAt, Infinity); // rebuilt from the journal: all of it
  const earlier = new Set<string>();
  let lastEnd = last?.startedAt ?? def.createdAt;
  const seen: JournalLine[] = [];
  const seenKeys = new Set<string>();
  for await (const lines of readJournalBatches(path.join(runDir, RUN_FILES.journal))) {
    for (const l of lines) {
      if (last && l.session === last.session) {
        seen.push(l);
        seenKeys.add(fileKey(nameOfRecord(l), def.cwd));
        lastEnd = Math.max(lastEnd, l.end);
      } else if (l.fp === def.fingerprint && l.status === 'succeeded') earlier.add(fileKey(nameOfRecord(l), def.cwd));
    }
  }
  seen.sort((a, b2) => a.index - b2.index);
  for (const l of seen) b.add(taskRecordOf(l));
  for (const key of earlier) if (!seenKeys.has(key)) b.skip();
  if (last?.endedAt && last.status) {
    b.status = last.status;
    b.endedAt = last.endedAt;
    return b.snapshot();
  }
  const alive = last ? runnerAlive(last.pid, last.pidStart) : false;
  b.status = alive ? 'running' : 'interrupted';
  b.endedAt = alive ? null : lastEnd;
  if (!alive) b.note('The runner stopped before the run finished (killed or crashed): resume the run to process the remaining files.');
  const r = b.snapshot();
  return r;
}

/** A journal line as a report's task record: without the journal's fingerprint and session (the builder copies it again only to cut long tails). */
function taskRecordOf(l: JournalLine): TaskRecord {
  const { fp: _fp, session: _s, ...rec } = l;
  return rec;
}

/** Journals at least this big are rebuilt on the history worker thread, when one is installed. */
export const OFF_THREAD_JOURNAL_BYTES = 2 * 1024 * 1024;

let offThread: { script: string; pool?: workerpool.Pool } | undefined;

/**
 * Rebuild big journals on a worker thread (the `readReportHere` method of the worker script at
 * `script`, workers/historyWorker): a 100,000-file journal takes a second or two to parse, which the
 * VS Code extension host's thread must not spend. The thread starts on first use; undefined (and
 * stopHistoryWorker) goes back to rebuilding in the calling thread.
 */
export function useHistoryWorker(script: string | undefined): void {
  void stopHistoryWorker();
  offThread = script ? { script } : undefined;
}

/** True once the history worker thread has started (diagnostics, tests). */
export function historyWorkerStarted(): boolean {
  return !!offThread?.pool;
}

/** Ends the history worker thread, if it started (deactivation). */
export async function stopHistoryWorker(): Promise<void> {
  const pool = offThread?.pool;
  if (offThread) offThread.pool = undefined;
  await pool?.terminate();
}

function journalBytes(runDir: string): number {
  try {
    return fs.statSync(path.join(runDir, RUN_FILES.journal)).size;
  } catch {
    return 0;
  }
}

/**
 * The report of a run: report.json when it is present and final, else rebuilt from the journal
 * (a live run shows 'running', a dead runner's run 'interrupted'). Undefined when `runDir` holds no run.
 * A big journal is rebuilt on the history worker thread when one is installed (useHistoryWorker).
 */
export async function readReport(runDir: string): Promise<RunReport | undefined> {
  if (offThread && journalBytes(runDir) >= OFF_THREAD_JOURNAL_BYTES) {
    offThread.pool ??= workerpool.pool(offThread.script, { maxWorkers: 1, workerType: 'thread' });
    return (await offThread.pool.exec('readReportHere', [runDir])) as RunReport | undefined;
  }
  return readReportHere(runDir);
}

/** readReport in the calling thread (what the history worker runs). */
export async function readReportHere(runDir: string): Promise<RunReport | undefined> {
  const reportFile = path.join(runDir, RUN_FILES.report);
  const def = readDefinition(runDir);
  let report: RunReport | undefined;
  try {
    report = JSON.parse(await fs.promises.readFile(reportFile, 'utf8')) as RunReport;
  } catch {
    report = undefined;
  }
  if (report && report.status !== 'running') {
    const rm = mtime(reportFile) ?? 0;
    const jm = mtime(path.join(runDir, RUN_FILES.journal)) ?? 0;
    const lastSession = def?.sessions[def.sessions.length - 1];
    const sameSession = !lastSession || lastSession.startedAt <= report.startedAt + 1;
    if (jm <= rm + 1 && sameSession) return report;
  }
  if (!def) return report;
  return rebuild(runDir, def);
}

/** Summaries of every run directory in `runsDir` (newest first). Missing folder = no runs. */
export async function listRuns(runsDir: string): Promise<RunSummary[]> {
  let names: string[];
  try {
    names = await fs.promises.readdir(runsDir);
  } catch {
    return [];
  }
  const out: RunSummary[] = [];
  for (const name of names) {
    const dir = path.resolve(runsDir, name);
    const def = readDefinition(dir);
    if (!def) continue;
    const r = await readReport(dir);
    if (!r) continue;
    out.push({
      runId: def.runId,
      dir,
      runDir: dir,
      label: def.label,
      status: r.status,
      counts: r.counts,
      startedAt: r.startedAt,
      endedAt: r.endedAt,
      wallMs: r.wallMs,
      backend: r.backend ?? def.backend,
      workers: r.workers,
      threads: r.threads,
      commandLabel: commandLabel(def.command),
    });
  }
  out.sort((a, b) => b.startedAt - a.startedAt);
  return out;
}

/** A task of a run whose latest record is not a success: its file (a tuple's label) and a tuple's values. */
export interface FailedInput {
  file: string;
  /** a run over tuples: the task's values, by column (its key) */
  inputs?: string[];
}

/**
 * Tasks whose latest journal record (for the run's current definition) is not a success, in index
 * order: files as recorded (relative to the run's cwd; a name that is not UTF-8
 * with its bytes, see fsNames.ts), tuples with their values. A success anywhere
 * wins (resume never reruns it).
 */
export async function failedInputs(runDir: string): Promise<FailedInput[]> {
  const def = readDefinition(runDir);
  if (!def) return [];
  const latest = new Map<string, JournalLine>();
  for await (const l of readJournal(path.join(runDir, RUN_FILES.journal))) {
    if (l.fp !== def.fingerprint) continue;
    const k = l.inputs ? `t:${tupleKey(l.inputs)}` : fileKey(nameOfRecord(l), def.cwd);
    const prev = latest.get(k);
    if (!prev || prev.status !== 'succeeded') latest.set(k, l);
  }
  return [...latest.values()]
    .filter((l) => l.status !== 'succeeded')
    .sort((a, b) => a.index - b.index)
    .map((l) => (l.inputs ? { file: l.file, inputs: l.inputs } : { file: nameOfRecord(l) }));
}

/**
 * Files whose latest journal record (for the run's current definition) is not a success, as recorded
 * (relative to the run's cwd), in index order. Use them as a `{kind: 'list'}` source with the run's cwd.
 */
export async function failedFiles(runDir: string): Promise<string[]> {
  return (await failedInputs(runDir)).map((f) => f.file);
}
