/**
 * Parsers for what Slurm's client commands print: array index ranges (`2-5`, `[2-5%2]`, `1,3,7-9:2`),
 * `squeue` lines, `scontrol -o show job` records, `sacct -P` rows and `scontrol show config`.
 * Pure functions, unit-tested against captured output of Slurm 22.05.
 */

/** Default MaxArraySize of Slurm (indices 0..1000). */
export const DEFAULT_MAX_ARRAY_SIZE = 1001;

/**
 * Expands an array index expression as Slurm prints it: `7`, `2-5`, `[2-5]`, `[2-5%4]` (throttle),
 * `1,3,7-9`, `0-10:2` (step). Returns the indices in ascending order, without duplicates.
 * Throws a RangeError naming the bad part (callers treat it as "unknown").
 */
export function parseArrayIndices(expr: string): number[] {
  let s = expr.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const pct = s.indexOf('%');
  if (pct >= 0) s = s.slice(0, pct);
  if (!s) throw new RangeError(`empty array index expression "${expr}"`);
  const out = new Set<number>();
  for (const part of s.split(',')) {
    const m = /^(\d+)(?:-(\d+)(?::(\d+))?)?$/.exec(part.trim());
    if (!m) throw new RangeError(`bad array index "${part}" in "${expr}"`);
    const a = Number(m[1]);
    const b = m[2] !== undefined ? Number(m[2]) : a;
    const step = m[3] !== undefined ? Number(m[3]) : 1;
    if (b < a || step < 1) throw new RangeError(`bad array range "${part}" in "${expr}"`);
    for (let i = a; i <= b; i += step) out.add(i);
  }
  return [...out].sort((x, y) => x - y);
}

/** One job id as squeue/scontrol/sacct print it: `123`, `123_4`, `123_[4-7%2]`. */
export interface ParsedJobId {
  jobId: number;
  /** array indices this record stands for; undefined for a non-array job or the array's meta record */
  indices?: number[];
}

export function parseJobId(text: string): ParsedJobId {
  const m = /^(\d+)(?:_(.+))?$/.exec(text.trim());
  if (!m) throw new RangeError(`bad job id "${text}"`);
  const jobId = Number(m[1]);
  if (m[2] === undefined) return { jobId };
  return { jobId, indices: parseArrayIndices(m[2]) };
}

/** Per array task state, keyed by `<arrayJobId>_<index>`. */
export interface ArrayTaskState {
  arrayJobId: number;
  index: number;
  /** PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT, NODE_FAIL, OUT_OF_MEMORY, ... */
  state: string;
  reason?: string;
  /** exit status of the batch script, when finished */
  exitCode?: number | null;
  /** terminating signal number (ExitCode=0:15 => 15) */
  signal?: number | null;
  startTime?: number | null;
  endTime?: number | null;
  nodes?: string;
}

/** States after which an array task will not run again. */
export const FINAL_STATES = new Set([
  'COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'NODE_FAIL', 'OUT_OF_MEMORY', 'PREEMPTED', 'BOOT_FAIL', 'DEADLINE', 'REVOKED', 'SPECIAL_EXIT',
]);

/** Normalises `CANCELLED by 0`, `CANCELLED+` to `CANCELLED`. */
export function normaliseState(state: string): string {
  return state.trim().split(/[\s+]/)[0].toUpperCase();
}

/**
 * Parses `squeue -h -t all -j <ids> -o '%i|%T|%r'` output: one line per task or pending range.
 * Pending ranges (`29_[2-5]`) expand to one state per index.
 */
export function parseSqueue(text: string): ArrayTaskState[] {
  const out: ArrayTaskState[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const [id, state, reason] = line.split('|');
    let parsed: ParsedJobId;
    try {
      parsed = parseJobId(id);
    } catch {
      continue;
    }
    for (const index of parsed.indices ?? []) {
      out.push({ arrayJobId: parsed.jobId, index, state: normaliseState(state ?? 'UNKNOWN'), reason: reason?.trim() || undefined });
    }
  }
  return out;
}

/** `3:0` → exit 3, signal 0. */
export function parseExitCode(text: string | undefined): { exitCode: number | null; signal: number | null } {
  const m = /^(\d+):(\d+)$/.exec((text ?? '').trim());
  if (!m) return { exitCode: null, signal: null };
  return { exitCode: Number(m[1]), signal: Number(m[2]) };
}

/** Slurm prints local times `2026-11-25T02:45:10`; `Unknown`/`None`/empty => null. */
export function parseSlurmTime(text: string | undefined): number | null {
  const s = (text ?? '').trim();
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/.test(s)) return null;
  const t = new Date(s).getTime(); // no zone suffix => local time, as Slurm means it
  return Number.isFinite(t) ? t : null;
}

/**
 * Splits one `scontrol -o show job` record into Key=Value pairs. Values may contain spaces
 * (`Command=/path with space/x.sbatch`): a token that does not start with `Key=` continues the value.
 */
export function parseKeyValues(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  let key: string | undefined;
  for (const tok of line.trim().split(/\s+/)) {
    const m = /^([A-Za-z][A-Za-z0-9_:/]*)=(.*)$/.exec(tok);
    if (m) {
      key = m[1];
      out[key] = m[2];
    } else if (key) {
      out[key] += ' ' + tok;
    }
  }
  return out;
}

/**
 * Parses `scontrol -o show job <arrayJobId>`: one record per array task, pending tasks as one record
 * with a range (`ArrayTaskId=2-5`), which is expanded.
 */
export function parseScontrolJobs(text: string): ArrayTaskState[] {
  const out: ArrayTaskState[] = [];
  for (const raw of text.split('\n')) {
    if (!raw.trim()) continue;
    const kv = parseKeyValues(raw);
    if (kv.ArrayJobId === undefined || kv.ArrayTaskId === undefined) continue;
    let indices: number[];
    try {
      indices = parseArrayIndices(kv.ArrayTaskId);
    } catch {
      continue;
    }
    const { exitCode, signal } = parseExitCode(kv.ExitCode);
    for (const index of indices) {
      out.push({
        arrayJobId: Number(kv.ArrayJobId),
        index,
        state: normaliseState(kv.JobState ?? 'UNKNOWN'),
        reason: kv.Reason && kv.Reason !== 'None' ? kv.Reason : undefined,
        exitCode,
        signal,
        startTime: parseSlurmTime(kv.StartTime),
        endTime: parseSlurmTime(kv.EndTime),
        nodes: kv.NodeList && kv.NodeList !== '(null)' ? kv.NodeList : undefined,
      });
    }
  }
  return out;
}

/** The `sacct` columns we ask for, in order. */
export const SACCT_FIELDS = ['JobID', 'State', 'ExitCode', 'Start', 'End', 'NodeList'] as const;

/**
 * Parses `sacct -X -P -n -j <ids> -o JobID,State,ExitCode,Start,End,NodeList`
 * (`153_1|FAILED|3:0|...`, `153_[4-9]|PENDING|0:0|Unknown|Unknown|None assigned`).
 */
export function parseSacct(text: string): ArrayTaskState[] {
  const out: ArrayTaskState[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const [id, state, exit, start, end, nodes] = line.split('|');
    let parsed: ParsedJobId;
    try {
      parsed = parseJobId(id);
    } catch {
      continue;
    }
    const { exitCode, signal } = parseExitCode(exit);
    for (const index of parsed.indices ?? []) {
      out.push({
        arrayJobId: parsed.jobId,
        index,
        state: normaliseState(state ?? 'UNKNOWN'),
        exitCode,
        signal,
        startTime: parseSlurmTime(start),
        endTime: parseSlurmTime(end),
        nodes: nodes && nodes !== 'None assigned' ? nodes : undefined,
      });
    }
  }
  return out;
}

/** Reads MaxArraySize from `scontrol show config` (default 1001 when absent). */
export function parseMaxArraySize(configText: string): number {
  const m = /^\s*MaxArraySize\s*=\s*(\d+)/m.exec(configText);
  const n = m ? Number(m[1]) : DEFAULT_MAX_ARRAY_SIZE;
  return n >= 1 ? n : DEFAULT_MAX_ARRAY_SIZE;
}

/** True when `sacct` says accounting is off (then we read `scontrol show job` instead). */
export function sacctDisabled(stderrOrStdout: string): boolean {
  return /accounting storage is disabled|slurmdbd|Unable to connect|not running a supported accounting_storage/i.test(stderrOrStdout);
}

/**
 * Merges state snapshots: a later source (scontrol/sacct final states) overrides an earlier one
 * (squeue) for the same task. Returns a map `<jobId>_<index>` → state.
 */
export function mergeStates(...lists: ArrayTaskState[][]): Map<string, ArrayTaskState> {
  const map = new Map<string, ArrayTaskState>();
  for (const list of lists) {
    for (const s of list) {
      const key = `${s.arrayJobId}_${s.index}`;
      const prev = map.get(key);
      map.set(key, prev ? ({ ...prev, ...definedOnly(s) } as ArrayTaskState) : { ...s });
    }
  }
  return map;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
