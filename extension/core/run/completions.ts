/**
 * Completions: the Python hosts' own record of the tasks that ended well, so a runner killed between a
 * task's end and its journal line does not run that task again on resume.
 *
 * Short tasks go to a slot's host in batches, and the host holds a reply up to 20 ms for the ones after
 * it (a message per task took the CPU from the tasks): a runner killed meanwhile had not journaled
 * those tasks, and a resume ran them again (several per slot per kill). Now the runner gives each task
 * a token (what its journal line needs to be written without the runner: file, index, logs, fingerprint)
 * and the host appends "<token> <its reply line>" to the run's completions file with one write the
 * moment a task exits 0, before any reply. A resume first turns the completions the journal lacks
 * into journal lines (`recoverCompletions`), then runs what is left; a session that journaled all its
 * tasks removes the file when it ends.
 */
import * as fs from 'fs';
import * as path from 'path';
import { exactWallMs } from '../python/warmHost';
import { recordName } from './fsNames';
import { tupleKey } from './inputs';
import { type DoneEntry, fileKey, isDiskFull, JournalLine, JournalWriter, readJournal } from './journal';
import { readTaskResult } from './results';
import { readTail } from './taskRunner';
import { RUN_FILES, RunDefinition, TaskRecord } from './types';

/** What a host is given per task, and writes back as is when the task exits 0. */
export interface CompletionToken {
  /** session */
  s: string;
  /** definition fingerprint */
  fp: string;
  /** index ({#}), attempt, slot ({%}) */
  i: number;
  a: number;
  slot: number;
  /** the input as the engine keeps it (a file, or a tuple's label) */
  f: string;
  /** a tuple's values */
  v?: string[];
  /** logs/<stem>.out and .err */
  stem: string;
  /** the file's size and mtime when the task started (resume's check) */
  size?: number;
  mtime?: number;
  /** template mode: the task's command line */
  argv?: string[];
}

/** One completion read back: its token and what the host measured. */
export interface Completion {
  token: CompletionToken;
  status: number;
  cpuUserSec: number;
  cpuSysSec: number;
  maxRssKb: number | null;
  start: number;
  end: number;
  /** end - start to the microsecond (see exactWallMs) */
  wallMs?: number;
  /** an in-process call's result (JSON text), when its host sent it with the reply */
  resultJson?: string;
}

export function completionsFile(outDir: string): string {
  return path.join(outDir, RUN_FILES.completions);
}

/** The token as the host gets it (one JSON line: no NUL, no newline). */
export function tokenText(t: CompletionToken): string {
  return JSON.stringify(t);
}

/**
 * A completions line: "<token JSON> D pid status user sys rss start end [result JSON]" (the token may
 * hold spaces; an in-process call's result, one more field, holds none; the other fields are numbers).
 */
export function parseCompletion(line: string): Completion | undefined {
  const f = line.split(' ');
  const withResult = f.length >= 10 && f[f.length - 8] !== 'D' && f[f.length - 9] === 'D';
  const resultJson = withResult ? f.pop() : undefined;
  if (f.length < 9 || f[f.length - 8] !== 'D') return undefined;
  const d = f.slice(-8);
  let token: CompletionToken;
  try {
    token = JSON.parse(f.slice(0, -8).join(' '));
  } catch {
    return undefined; // torn by a crash mid-write (one write(2) per line: only the last can be)
  }
  if (!token || typeof token !== 'object' || typeof token.s !== 'string' || typeof token.f !== 'string' || !Number.isInteger(token.i) || typeof token.stem !== 'string') return undefined;
  // a log name, never a path (a tuple's has = , + too: see tupleLogPart)
  if (!/^[A-Za-z0-9._=,+-]+$/.test(token.stem) || /^\.\.?$/.test(token.stem)) return undefined;
  const rss = Number(d[5]);
  return {
    token,
    status: Number(d[2]),
    cpuUserSec: Number(d[3]) || 0,
    cpuSysSec: Number(d[4]) || 0,
    maxRssKb: Number.isFinite(rss) && rss >= 0 ? rss : null,
    start: Math.round(Number(d[6])) || 0,
    end: Math.round(Number(d[7])) || 0,
    wallMs: exactWallMs(d[6], d[7]),
    ...(resultJson !== undefined ? { resultJson } : {}),
  };
}

/** The successful completions in the run directory's completions file (none when it is missing). */
export function readCompletions(outDir: string): Completion[] {
  let text: string;
  try {
    text = fs.readFileSync(completionsFile(outDir), 'utf8');
  } catch {
    return [];
  }
  const out: Completion[] = [];
  for (const line of text.split('\n')) {
    const c = line ? parseCompletion(line) : undefined;
    if (c && c.status === 0) out.push(c);
  }
  return out;
}

/** The journal line of a completion: a succeeded task, its tails and result read from its logs. */
export function completionRecord(c: Completion, def: RunDefinition, outDir: string, tailBytes: number): JournalLine {
  const t = c.token;
  const logs = path.join(outDir, RUN_FILES.logs);
  const stdoutLog = path.join(logs, `${t.stem}.out`);
  const stdoutTail = readTail(stdoutLog, tailBytes);
  const cmd = def.command;
  const rec: TaskRecord = {
    index: t.i,
    ...recordName(t.f),
    slot: t.slot,
    status: 'succeeded',
    attempts: t.a,
    start: c.start,
    end: Math.max(c.start, c.end),
    wallMs: c.wallMs ?? Math.max(0, c.end - c.start),
    exitCode: 0,
    signal: null,
    cpuUserSec: Math.round(c.cpuUserSec * 1e6) / 1e6,
    cpuSysSec: Math.round(c.cpuSysSec * 1e6) / 1e6,
    maxRssKb: c.maxRssKb,
    stdoutTail,
    stderrTail: readTail(path.join(logs, `${t.stem}.err`), tailBytes),
    stdoutLog: `${RUN_FILES.logs}/${t.stem}.out`,
    stderrLog: `${RUN_FILES.logs}/${t.stem}.err`,
    threadEnv: def.threadEnv,
    mode: cmd.kind === 'python' && cmd.call !== undefined ? 'call' : cmd.kind === 'python' && cmd.warm ? 'warm' : 'cold',
    ...(t.argv ? { argv: t.argv } : {}),
    ...(t.size !== undefined ? { fileSize: t.size, fileMtimeMs: t.mtime } : {}),
    ...(t.v ? { inputs: t.v } : {}),
    recovered: true,
  };
  const got = readTaskResult(stdoutTail, tailBytes, stdoutLog, path.join(logs, `${t.stem}.result.json`), c.resultJson);
  if (got.result) rec.result = got.result;
  if (got.note) rec.resultNote = got.note;
  return { ...rec, fp: t.fp, session: t.s };
}

/**
 * Before a session starts in `outDir`: every completion the journal lacks (same session and index)
 * becomes its journal line, then the completions file goes. Returns how many were recovered. A
 * journal that cannot be written (a full disk) keeps the file for the next attempt.
 */
export async function recoverCompletions(outDir: string, def: RunDefinition, journal: JournalWriter, tailBytes: number): Promise<number> {
  const file = completionsFile(outDir);
  if (!fs.existsSync(file)) return 0;
  const done = readCompletions(outDir);
  let recovered = 0;
  if (done.length > 0) {
    const journaled = new Set<string>();
    for await (const l of readJournal(journal.file)) journaled.add(`${l.session}:${l.index}`);
    for (const c of done) {
      const key = `${c.token.s}:${c.token.i}`;
      if (journaled.has(key)) continue;
      journaled.add(key);
      try {
        journal.append(completionRecord(c, def, outDir, tailBytes));
        recovered++;
      } catch (e) {
        if (isDiskFull(e)) return recovered;
        throw e;
      }
    }
  }
  fs.rmSync(file, { force: true });
  return recovered;
}

/** Adds the files (or tuples) of successful completions under fingerprint `fp` to a resume's done map. */
export function addCompletions(done: Map<string, DoneEntry>, outDir: string, fp: string, cwd: string): void {
  for (const c of readCompletions(outDir)) {
    if (c.token.fp !== fp) continue;
    done.set(c.token.v ? tupleKey(c.token.v) : fileKey(c.token.f, cwd), { size: c.token.size, mtimeMs: c.token.mtime });
  }
}

/** A session that journaled every task it ran has no use for its completions any more. */
export function dropCompletions(outDir: string): void {
  try {
    fs.rmSync(completionsFile(outDir), { force: true });
  } catch {
    /* the next resume reads it again: harmless */
  }
}
