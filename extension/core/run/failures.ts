/**
 * Why files fail, grouped: each failed task gets an error signature (a Python traceback's exception
 * type, normalised message and innermost frame in the user's own code; else timed out, killed for
 * memory, killed by a signal, or an exit code with the last stderr line), and tasks with the same
 * signature form a group, largest first. Also GNU Parallel's --halt rules and the early stop on a
 * systematic failure (the first K finished tasks all failed the same way). Pure: no I/O.
 */
import * as path from 'path';
import type { FailureFrame, FailureGroup, FailureSignature } from './failureTypes';
import { nameOfRecord } from './fsNames';
import { UsageError, type TaskRecord } from './types';

export type { FailureFrame, FailureGroup, FailureKind, FailureSignature } from './failureTypes';

/** The parts of a Python traceback that matter. */
export interface ParsedTraceback {
  exception: string;
  /** the whole message (several lines when the exception's text has them) */
  message: string;
  /** frames of the last traceback, outermost first */
  frames: FailureFrame[];
  /** the last traceback block, from its "Traceback" line (or the first frame, if that was cut off) */
  text: string;
}

const FRAME = /^\s*File "(.+)", line (\d+)(?:, in (.+))?\s*$/;
const TRACEBACK_HEAD = /^(?:\s*\+\s*)?(?:Exception Group )?Traceback \(most recent call last\):\s*$/;
const EXCEPTION_LINE = /^([A-Za-z_][\w.]*)(?::(?: (.*))?)?$/;
/** Messages longer than this are cut (in signatures; the log has them whole). */
const MESSAGE_CHARS = 300;

/**
 * The last Python traceback in a task's stderr, or undefined when there is none. Tolerates a tail
 * whose start was cut off (frames without their "Traceback" line), chained exceptions ("During
 * handling…", "The above exception was the direct cause…": the last one counts), 3.11's ~~~^^^ marks
 * and SyntaxError's caret lines.
 */
export function parseTraceback(stderr: string): ParsedTraceback | undefined {
  if (!stderr.includes('File "')) return undefined;
  const lines = stderr.split(/\r?\n/);
  let lastFrame = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (FRAME.test(lines[i])) {
      lastFrame = i;
      break;
    }
  }
  if (lastFrame < 0) return undefined;
  // the exception line: the first line after the last frame that starts at column 0
  let excAt = -1;
  for (let i = lastFrame + 1; i < lines.length; i++) {
    const l = lines[i];
    if (l === '' || /^\s/.test(l)) continue;
    if (EXCEPTION_LINE.test(l.trimEnd())) excAt = i;
    break;
  }
  if (excAt < 0) return undefined;
  // the block: back from the last frame to its "Traceback" line (or to where frames stop)
  let start = lastFrame;
  for (let i = lastFrame; i >= 0; i--) {
    const l = lines[i];
    if (TRACEBACK_HEAD.test(l)) {
      start = i;
      break;
    }
    if (l !== '' && !/^\s/.test(l)) break; // text before the tail's first frame
    start = i;
  }
  const frames: FailureFrame[] = [];
  for (let i = start; i <= lastFrame; i++) {
    const m = FRAME.exec(lines[i]);
    if (m) frames.push({ file: m[1], line: Number(m[2]), ...(m[3] ? { function: m[3] } : {}) });
  }
  const m = EXCEPTION_LINE.exec(lines[excAt].trimEnd())!;
  // the message runs on over following lines until an empty line or the end
  let end = excAt + 1;
  while (end < lines.length && lines[end] !== '' && !TRACEBACK_HEAD.test(lines[end])) end++;
  const message = [m[2] ?? '', ...lines.slice(excAt + 1, end)].join('\n').trim();
  return { exception: m[1], message, frames, text: lines.slice(start, end).join('\n') };
}

/** True for a frame outside the user's own code: the standard library, installed packages, our host. */
export function isLibraryFrame(file: string): boolean {
  if (file.startsWith('<')) return true; // <frozen runpy>, <string>, <stdin>
  const f = file.replace(/\\/g, '/');
  if (/\/(?:site|dist)-packages\//.test(f)) return true;
  if (/\/lib(?:64)?\/python\d+(?:\.\d+)?\//i.test(f) || /\/Lib\//.test(f)) return true;
  const base = path.basename(f);
  return base === 'warm_host.py' || base === 'runpy.py';
}

/** The innermost frame in the user's own code (undefined when every frame is in a library). */
export function userFrame(frames: FailureFrame[]): FailureFrame | undefined {
  for (let i = frames.length - 1; i >= 0; i--) if (!isLibraryFrame(frames[i].file)) return frames[i];
  return undefined;
}

/**
 * A message with what differs from file to file made alike: quoted values, paths, addresses and
 * numbers (also inside names such as img0042, but not dtype names such as float64), so "KeyError: 'EXPTIME'" in 300 files is one group
 * and "No such file: '/data/a.fits'" / "'/data/b.fits'" too.
 */
export function normaliseMessage(message: string): string {
  return message
    .replace(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"/g, "'…'")
    .replace(/(?:[A-Za-z]:)?(?:~|\.{1,2})?(?:[\\/][\w.@+~-]+)+[\\/]?|(?:[\w.@+~-]+[\\/])+[\w.@+~-]*/g, '<path>')
    .replace(/0x[0-9a-fA-F]+/g, '0x…')
    .replace(/(?<![A-Za-z\d])[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?!x…)/g, 'N')
    // digits inside names (img0042, a03.txt), not in dtype names (float64, int32)
    .replace(/[A-Za-z_][\w]*\d\w*/g, (w) => (/^(?:u?int|float|complex|bool)\d+$/.test(w) ? w : w.replace(/\d+/g, 'N')))
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, MESSAGE_CHARS);
}

/** The last non-empty line of a text (trimmed, at most MESSAGE_CHARS). */
export function lastTextLine(text: string): string {
  const lines = text.split(/\r?\n/);
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i].trim();
    if (l) return l.slice(0, MESSAGE_CHARS);
  }
  return '';
}

/** "3.1 GB": bytes in decimal units, as the memory sentences say them. */
export function memoryText(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${Math.round(bytes / 1e6)} MB`;
  return `${Math.max(1, Math.round(bytes / 1e3))} kB`;
}

/** The short name of an exception type ("json.decoder.JSONDecodeError" → "JSONDecodeError"). */
export function shortException(type: string): string {
  return type.slice(type.lastIndexOf('.') + 1);
}

/** "analyze.py:57" */
export function frameText(f: FailureFrame): string {
  return `${path.basename(f.file)}:${f.line}`;
}

/** What is known about a failed attempt besides its record. */
export interface FailureHints {
  /** the kernel killed it for memory (a cgroup's oom_kill count rose, or the kernel's OOM record names it) */
  oomKilled?: boolean;
  /** the resident memory the kernel's record gave, KiB (when the record has no peak of its own) */
  rssKb?: number;
}

/**
 * The error signature of a failed or timed-out task. Precedence: timed out; a Python traceback in
 * its stderr; killed for memory; killed by a signal; could not start; exit code + last stderr line.
 */
export function failureSignature(rec: Pick<TaskRecord, 'status' | 'exitCode' | 'signal' | 'stderrTail' | 'maxRssKb' | 'wallMs'>, hints: FailureHints = {}): FailureSignature {
  if (rec.status === 'timedOut') return { key: 'timedOut', kind: 'timedOut', title: 'timed out' };
  const tb = parseTraceback(rec.stderrTail);
  if (tb) {
    const frame = userFrame(tb.frames);
    const first = tb.message.split('\n')[0].slice(0, MESSAGE_CHARS);
    const key = `py:${tb.exception}:${normaliseMessage(tb.message.split('\n')[0])}${frame ? `@${frame.file}:${frame.line}` : ''}`;
    return {
      key,
      kind: 'python',
      title: pythonTitle(tb.exception, first, frame),
      exception: tb.exception,
      message: first,
      ...(frame ? { frame } : {}),
    };
  }
  if (hints.oomKilled) {
    const kb = Math.max(rec.maxRssKb ?? 0, hints.rssKb ?? 0);
    const peakBytes = kb > 0 ? kb * 1024 : undefined;
    return { key: 'memory', kind: 'memory', title: memoryTitle(peakBytes), ...(peakBytes ? { peakBytes } : {}), ...(rec.signal ? { signal: rec.signal } : {}) };
  }
  if (rec.signal) return { key: `signal:${rec.signal}`, kind: 'signal', title: `killed by ${rec.signal}`, signal: rec.signal };
  const line = lastTextLine(rec.stderrTail);
  if (rec.exitCode === null) {
    return { key: `start:${normaliseMessage(line)}`, kind: 'start', title: line ? `could not start: ${line.replace(/^parallel-run:\s*/, '')}` : 'could not start', message: line };
  }
  return {
    key: `exit:${rec.exitCode}:${normaliseMessage(line)}`,
    kind: 'exit',
    title: `exit code ${rec.exitCode}${line ? `: ${line}` : ''}`,
    exitCode: rec.exitCode,
    ...(line ? { message: line } : {}),
  };
}

function pythonTitle(exception: string, message: string, frame: FailureFrame | undefined): string {
  return `${shortException(exception)}${message ? `: ${message}` : ''}${frame ? ` (${frameText(frame)})` : ''}`;
}

function memoryTitle(peakBytes: number | undefined): string {
  return peakBytes ? `killed for memory at ${memoryText(peakBytes)} peak` : 'killed for memory';
}

// ------------------------------------------------------------------------------------------------
// groups

/** How many log files a group names (the rest are in its file list). */
export const GROUP_LOGS = 5;

/**
 * Collects failed tasks into groups as they finish (O(1) per task) and lists the groups largest
 * first (ties: the group that appeared first).
 */
export class FailureGrouper {
  private readonly byKey = new Map<string, FailureGroup & { order: number; messages: Set<string> | null }>();

  add(rec: Pick<TaskRecord, 'index' | 'file' | 'status' | 'stderrLog' | 'stderrTail'>, sig: FailureSignature): void {
    let g = this.byKey.get(sig.key);
    if (!g) {
      const tb = sig.kind === 'python' ? parseTraceback(rec.stderrTail)?.text : undefined;
      g = {
        key: sig.key,
        kind: sig.kind,
        title: sig.title,
        count: 0,
        signature: sig,
        files: [],
        indexes: [],
        logs: [],
        ...(tb ? { traceback: tb } : {}),
        order: this.byKey.size,
        messages: sig.message !== undefined ? new Set([sig.message]) : null,
      };
      this.byKey.set(sig.key, g);
    } else {
      if (g.messages && sig.message !== undefined && !g.messages.has(sig.message) && g.messages.size < 2) {
        g.messages.add(sig.message);
        g.title = variedTitle(g.signature);
      }
      if (sig.kind === 'memory' && (sig.peakBytes ?? 0) > (g.signature.peakBytes ?? 0)) {
        g.signature = { ...g.signature, peakBytes: sig.peakBytes, title: memoryTitle(sig.peakBytes) };
        g.title = g.signature.title;
      }
    }
    g.count++;
    g.files.push(nameOfRecord(rec)); // what a re-run of the group is given: a name's bytes kept
    g.indexes.push(rec.index);
    if (g.logs.length < GROUP_LOGS) g.logs.push(rec.stderrLog);
  }

  /** Removes a file that succeeded since (a re-run): it is no longer a failure. */
  remove(file: string): void {
    for (const [k, g] of this.byKey) {
      const i = g.files.indexOf(file);
      if (i < 0) continue;
      g.files.splice(i, 1);
      g.indexes.splice(i, 1);
      g.count--;
      if (g.count === 0) this.byKey.delete(k);
    }
  }

  get size(): number {
    return this.byKey.size;
  }

  /** The groups, largest first. Copies: safe to hand out. */
  groups(): FailureGroup[] {
    return [...this.byKey.values()]
      .sort((a, b) => b.count - a.count || a.order - b.order)
      .map(({ order: _o, messages: _m, ...g }) => ({ ...g, files: [...g.files], indexes: [...g.indexes], logs: [...g.logs] }));
  }
}

/** A group's sentence when its members' messages differ: the normalised message. */
function variedTitle(sig: FailureSignature): string {
  const msg = normaliseMessage(sig.message ?? '');
  if (sig.kind === 'python') return pythonTitle(sig.exception ?? 'Error', msg, sig.frame);
  if (sig.kind === 'exit') return `exit code ${sig.exitCode}${msg ? `: ${msg}` : ''}`;
  return sig.title;
}

/** Groups the failed and timed-out records (each with its signature, computed when absent). */
export function groupFailures(records: Iterable<TaskRecord>): FailureGroup[] {
  const g = new FailureGrouper();
  for (const r of records) {
    if (r.status !== 'failed' && r.status !== 'timedOut') continue;
    g.add(r, r.error ?? failureSignature(r));
  }
  return g.groups();
}

/** "312 files: KeyError: 'EXPTIME' (analyze.py:57), e.g. field_0042.fits" */
export function groupLine(g: Pick<FailureGroup, 'count' | 'title' | 'files'>): string {
  const eg = g.files[0] !== undefined ? `, e.g. ${path.basename(g.files[0])}` : '';
  return `${g.count} file${g.count === 1 ? '' : 's'}: ${g.title}${eg}`;
}

// ------------------------------------------------------------------------------------------------
// --halt rules (GNU Parallel) and the early stop

/**
 * GNU Parallel's --halt: stop `now` (kill running tasks) or `soon` (start nothing more, let running
 * tasks finish) when `count` tasks (or `percent` % of the finished ones, once 3 have finished) failed,
 * succeeded, or finished.
 */
export interface HaltRule {
  when: 'now' | 'soon';
  on: 'fail' | 'success' | 'done';
  count?: number;
  percent?: number;
}

const HALT_HELP = 'Use never, now,fail=N, soon,fail=N%, now,success=N or soon,done=N (as GNU Parallel; a bare --halt is now,fail=1).';

/**
 * Parses a --halt value. Undefined or '' = now,fail=1 (a bare --halt); 'never' or '0' = no rule
 * (returns undefined); GNU Parallel's old numbers: 1 = soon,fail=1, 2 = now,fail=1, -1 = soon,success=1,
 * -2 = now,success=1, 1-99% = soon,fail=N%. Throws UsageError naming the accepted forms.
 */
export function parseHalt(spec: string | undefined): HaltRule | undefined {
  const s = (spec ?? '').trim().toLowerCase();
  if (s === '') return { when: 'now', on: 'fail', count: 1 };
  if (s === 'never' || s === '0') return undefined;
  const legacy: Record<string, HaltRule> = {
    '1': { when: 'soon', on: 'fail', count: 1 },
    '2': { when: 'now', on: 'fail', count: 1 },
    '-1': { when: 'soon', on: 'success', count: 1 },
    '-2': { when: 'now', on: 'success', count: 1 },
  };
  if (legacy[s]) return { ...legacy[s] };
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(s);
  if (pct) return { when: 'soon', on: 'fail', percent: checkedPercent(pct[1], spec!) };
  const m = /^(now|soon),(fail|success|done)=(\d+(?:\.\d+)?)(%?)$/.exec(s.replace(/\s+/g, ''));
  if (!m) throw new UsageError(`--halt "${spec}" is not a halt rule. ${HALT_HELP}`);
  const when = m[1] as HaltRule['when'];
  const on = m[2] as HaltRule['on'];
  if (m[4]) return { when, on, percent: checkedPercent(m[3], spec!) };
  if (!/^\d+$/.test(m[3]) || Number(m[3]) < 1) throw new UsageError(`--halt "${spec}": the count must be a whole number ≥ 1. ${HALT_HELP}`);
  return { when, on, count: Number(m[3]) };
}

function checkedPercent(v: string, spec: string): number {
  const n = Number(v);
  if (!(n > 0 && n <= 100)) throw new UsageError(`--halt "${spec}": the percentage must be above 0 and at most 100. ${HALT_HELP}`);
  return n;
}

/** The rule as GNU Parallel writes it: "now,fail=1", "soon,fail=10%". */
export function haltText(rule: HaltRule): string {
  return `${rule.when},${rule.on}=${rule.percent !== undefined ? `${rule.percent}%` : rule.count}`;
}

/** Tasks finished so far in this session. */
export interface HaltCounts {
  done: number;
  failed: number;
  succeeded: number;
}

/** True when the rule's condition holds. Percentages count from the 3rd finished task on. */
export function haltReached(rule: HaltRule, c: HaltCounts): boolean {
  const n = rule.on === 'fail' ? c.failed : rule.on === 'success' ? c.succeeded : c.done;
  if (rule.percent !== undefined) return c.done >= 3 && n > 0 && (100 * n) / c.done >= rule.percent;
  return n >= (rule.count ?? 1);
}

/** The sentence a halted run says, e.g. "halted (--halt now,fail=1): 1 file failed". */
export function haltSentence(rule: HaltRule, c: HaltCounts): string {
  const n = rule.on === 'fail' ? c.failed : rule.on === 'success' ? c.succeeded : c.done;
  const what = rule.on === 'fail' ? 'failed' : rule.on === 'success' ? 'succeeded' : 'finished';
  const after = rule.when === 'now' ? 'running files were stopped' : 'running files were let finish';
  return `Halted by --halt ${haltText(rule)}: ${n} file${n === 1 ? '' : 's'} ${what}${rule.percent !== undefined ? ` of ${c.done}` : ''}; nothing else was started and ${after}.`;
}

/** Default K of the early stop: the first 5 finished files all failing the same way stop the run. */
export const EARLY_STOP_DEFAULT = 5;

/**
 * The early stop on a systematic failure: watches the first K tasks to finish in a session; when all
 * K failed with the same signature, `check` returns the sentence to stop with (once). K = 0: off.
 */
export class EarlyStop {
  private seen = 0;
  private key: string | undefined;
  private broken = false;

  constructor(readonly k: number) {}

  /** True while the first K finished tasks could still all fail alike (the stop may yet come). */
  get undecided(): boolean {
    return this.k > 0 && !this.broken && this.seen < this.k;
  }

  /** Call per finished task (after its retries) with its signature (undefined = succeeded). */
  check(sig: FailureSignature | undefined): string | undefined {
    if (this.k <= 0 || this.broken || this.seen >= this.k) return undefined;
    this.seen++;
    if (!sig || (this.key !== undefined && sig.key !== this.key)) {
      this.broken = true;
      return undefined;
    }
    this.key = sig.key;
    if (this.seen < this.k) return undefined;
    return earlyStopSentence(this.k, sig);
  }
}

/** "the first 5 files all failed with KeyError: 'EXPTIME' (analyze.py:57); nothing else was started. Fix the script and Resume." */
export function earlyStopSentence(k: number, sig: Pick<FailureSignature, 'title'>): string {
  return `the first ${k} files all failed with ${sig.title}; nothing else was started. Fix the script and Resume.`;
}
