/**
 * What a run writes about itself besides the journal: each finished task's record (the journal line,
 * the results row and the report all take it), and at the end `run.json` with the session closed and
 * `report.json`, written task by task and atomically. Also how a full disk is told.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { RunTaskParams, RunTaskResult } from '../../shared/workerApi';
import type { FailureSignature } from './failureTypes';
import { displayName, recordName } from './fsNames';
import type { InputLayout } from './inputs';
import { isDiskFull, readJournal } from './journal';
import { type ReportBuilder, reportRecord } from './report';
import { readTaskResult, RESULT_ENV } from './results';
import { writeJsonAtomic } from './runDir';
import { RUN_FILES, type RunDefinition, type RunReport, type TaskCommand, type TaskRecord, type TaskStatus } from './types';

/** Bytes of stdout/stderr kept as a tail in each task record. */
export const TAIL_BYTES = 4096;

/** Below this much free space on the run directory's file system, a failed task is taken for a full disk. */
const LOW_SPACE_BYTES = 64 * 1024;

/** True when the file system holding `dir` has (almost) no space left for us. */
export function lowOnSpace(dir: string): boolean {
  try {
    const st = fs.statfsSync(dir);
    return st.bavail * st.bsize < LOW_SPACE_BYTES;
  } catch {
    return false;
  }
}

/** The note of a run the disk stopped: where, what is safe, what to do. */
export function diskFullNote(where: string, doneAndJournaled: number): string {
  return `disk full at ${where}: ${doneAndJournaled} files done and journaled; free space and Resume (--resume).`;
}

/** CPU seconds to the microsecond (rusage's own unit): whole ms would add up wrong over calls of under a ms. */
function roundUs(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/** A finished task: its input and the last attempt, with what it was run as. */
export interface FinishedTask {
  index: number;
  file: string;
  st: fs.Stats | undefined;
  /** its logs' name, logs/<stem>.out and .err */
  stem: string;
  tuple?: { layout: InputLayout; values: string[] };
  status: TaskStatus;
  attempts: number;
  /** the last attempt's parameters and result */
  params: RunTaskParams;
  result: RunTaskResult;
  error?: FailureSignature;
}

/** A finished task's record, with the result it reported (JSON on its last stdout line, or in its $PARALLEL_RUN_RESULT file). */
export function taskRecord(t: FinishedTask, command: TaskCommand, threadEnv: Record<string, string>): TaskRecord {
  const { params, result: r, stem } = t;
  const rec: TaskRecord = {
    index: t.index,
    ...recordName(t.file),
    slot: params.slot,
    status: t.status,
    attempts: t.attempts,
    start: r.start,
    end: r.end,
    wallMs: r.wallMs ?? r.end - r.start,
    exitCode: r.exitCode,
    signal: r.signal,
    cpuUserSec: roundUs(r.cpuUserSec),
    cpuSysSec: roundUs(r.cpuSysSec),
    maxRssKb: r.maxRssKb,
    stdoutTail: r.stdoutTail,
    stderrTail: r.stderrTail,
    stdoutLog: `${RUN_FILES.logs}/${stem}.out`,
    stderrLog: `${RUN_FILES.logs}/${stem}.err`,
    threadEnv,
    mode: command.kind === 'python' && command.call !== undefined ? 'call' : command.kind === 'python' && command.warm ? 'warm' : 'cold',
    // as shown: a name that is not UTF-8 is exact in fileBytes, and its argv follows from it and the template
    argv: command.kind === 'template' ? params.argv.map(displayName) : undefined,
    fileSize: t.st?.size,
    fileMtimeMs: t.st?.mtimeMs,
    ...(t.tuple ? { inputs: t.tuple.values } : {}),
    ...(t.error ? { error: t.error } : {}),
  };
  const got = readTaskResult(r.stdoutTail, TAIL_BYTES, params.stdoutLog, params.env[RESULT_ENV], r.resultJson);
  if (got.result) rec.result = got.result;
  if (got.note) rec.resultNote = got.note;
  return rec;
}

/**
 * report.json, written task by task: one JSON.stringify of a 100,000-task report is a ~80 MB string
 * on top of the records themselves; this keeps the runner's peak memory at the records.
 */
export async function writeReportAtomic(file: string, report: RunReport, tasks: Iterable<TaskRecord> | AsyncIterable<TaskRecord> = report.tasks): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  let written = false;
  try {
    const { tasks: _inMemory, tasksOmitted: _omitted, ...head } = report;
    const headJson = JSON.stringify(head, null, 1);
    fs.writeSync(fd, headJson.slice(0, -2) + ',\n "tasks": [');
    let batch: string[] = [];
    let first = true;
    const flush = () => {
      if (batch.length === 0) return;
      fs.writeSync(fd, (first ? '\n  ' : ',\n  ') + batch.join(',\n  '));
      first = false;
      batch = [];
    };
    for await (const t of tasks) {
      batch.push(JSON.stringify(t));
      if (batch.length >= 500) flush();
    }
    flush();
    fs.writeSync(fd, '\n ]\n}\n');
    written = true;
  } finally {
    fs.closeSync(fd);
    if (!written) fs.rmSync(tmp, { force: true });
  }
  try {
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** This session's task records from the journal, as the report keeps them (for a run too big to hold). */
async function* sessionRecords(journalFile: string, session: string): AsyncGenerator<TaskRecord> {
  for await (const line of readJournal(journalFile)) {
    if (line.session !== session) continue;
    const { fp: _fp, session: _s, ...rec } = line;
    yield reportRecord(rec);
  }
}

/**
 * The run's end on disk: its session closed in run.json, then report.json (every record of the
 * session: from the journal when the report kept only some in memory). Returns the final report; a
 * report.json that could not be written makes it a failed run with a note saying why.
 */
export async function writeRunEnd(outDir: string, def: RunDefinition, b: ReportBuilder, disk: { fullAt: string | undefined; journaled: number }): Promise<RunReport> {
  const report = b.snapshot();
  const session = def.sessions[def.sessions.length - 1];
  session.endedAt = b.endedAt ?? undefined;
  session.status = b.status;
  try {
    writeJsonAtomic(path.join(outDir, RUN_FILES.definition), def);
  } catch {
    /* the report below still says it ended */
  }
  try {
    // a run too big to keep every record in memory gets them all from the journal
    const all = b.omitted > 0 ? sessionRecords(path.join(outDir, RUN_FILES.journal), session.session) : report.tasks;
    await writeReportAtomic(path.join(outDir, RUN_FILES.report), report, all);
  } catch (e) {
    report.notes.push(`Could not write report.json: ${(e as Error).message}`);
    // the run's result is not on disk: it did not succeed, whatever its tasks did
    if (report.status === 'succeeded') report.status = 'failed';
    if (isDiskFull(e) && !disk.fullAt) report.notes.push(diskFullNote(outDir, disk.journaled + b.counts.skipped));
  }
  return report;
}
