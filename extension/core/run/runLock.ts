/**
 * One runner per run directory: an exclusive lock taken atomically before anything in the directory
 * is written (a run, a resume, a Slurm watcher collecting its array), released when the runner ends.
 *
 * The lock is a file `run.lock.<N>` holding the runner's pid, its start time (clock ticks since boot,
 * so a reused pid is not taken for the runner) and host. It is created complete in one step (written
 * under a private name, then hard-linked to its name: link(2) fails when the name exists), so a
 * reader never sees a half-written lock. A lock whose runner is gone (crashed, SIGKILLed) is stale:
 * the next runner takes the next number N+1, again with link(2), so of two runners recovering the
 * same stale lock at once exactly one wins; a runner that finds a higher number than its own after
 * taking it lost a race and backs off. The winner removes the lower, stale numbers.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readPidStat } from '../procfs';
import { UsageError } from './types';

const PREFIX = 'run.lock.';

/** Who holds a run directory. */
export interface LockHolder {
  pid: number;
  /** clock ticks since boot at which `pid` started (Linux) */
  pidStart?: string;
  host: string;
  since: number;
}

/** Clock ticks since boot at which `pid` started (Linux), to tell a live runner from a reused pid. */
export function processStartTicks(pid: number): string | undefined {
  const st = readPidStat(pid);
  return st && String(st.startTicks);
}

/** True when the runner recorded as (pid, start ticks) is still alive. */
export function runnerAlive(pid: number, pidStart?: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (pidStart === undefined) return true;
  const now = processStartTicks(pid);
  return now === undefined ? process.platform !== 'linux' : now === pidStart;
}

/** The lock numbers present in `dir`, highest first. */
function lockNumbers(dir: string): number[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const ns: number[] = [];
  for (const n of names) if (n.startsWith(PREFIX) && /^\d+$/.test(n.slice(PREFIX.length))) ns.push(Number(n.slice(PREFIX.length)));
  return ns.sort((a, b) => b - a);
}

function readHolder(file: string): LockHolder | undefined {
  try {
    const h = JSON.parse(fs.readFileSync(file, 'utf8')) as LockHolder;
    return typeof h?.pid === 'number' ? h : undefined;
  } catch {
    return undefined;
  }
}

/** A runner on another machine (a shared file system) cannot be checked: it counts as alive. */
function holderAlive(h: LockHolder): boolean {
  return h.host !== os.hostname() || runnerAlive(h.pid, h.pidStart);
}

function inUse(dir: string, file: string, h: LockHolder): UsageError {
  const where = h.host === os.hostname() ? `pid ${h.pid}` : `pid ${h.pid} on ${h.host}`;
  const gone = h.host === os.hostname() ? '' : ` If that runner is gone, delete ${file}.`;
  return new UsageError(`Run directory ${dir} is in use by a running run (${where}). Wait for it or cancel it, or choose another --out.${gone}`);
}

/** The live holder of `dir`'s lock, if any (reads only: for checks that must change nothing, e.g. a dry run). */
export function lockHolder(dir: string): { file: string; holder: LockHolder } | undefined {
  for (const n of lockNumbers(dir)) {
    const file = path.join(dir, PREFIX + n);
    const h = readHolder(file);
    if (h && holderAlive(h)) return { file, holder: h };
    // the highest lock decides: a lower one is stale or being removed
    return undefined;
  }
  return undefined;
}

/** Throws the "in use" UsageError when a live runner holds `dir`. */
export function assertNotLocked(dir: string): void {
  const held = lockHolder(dir);
  if (held) throw inUse(dir, held.file, held.holder);
}

export interface RunLock {
  readonly file: string;
  /** Removes the lock (idempotent). */
  release(): void;
}

/**
 * Takes `dir`'s lock (the directory must exist). Throws a UsageError naming the runner that holds it.
 */
export function acquireRunLock(dir: string): RunLock {
  const me: LockHolder = { pid: process.pid, pidStart: processStartTicks(process.pid), host: os.hostname(), since: Date.now() };
  const tmp = path.join(dir, `.${PREFIX}${process.pid}-${crypto.randomBytes(4).toString('hex')}`);
  fs.writeFileSync(tmp, JSON.stringify(me));
  try {
    for (let tries = 0; tries < 100; tries++) {
      const top = lockNumbers(dir)[0];
      if (top !== undefined) {
        const file = path.join(dir, PREFIX + top);
        const h = readHolder(file);
        if (h && holderAlive(h)) throw inUse(dir, file, h);
      }
      const n = (top ?? 0) + 1;
      const file = path.join(dir, PREFIX + n);
      try {
        fs.linkSync(tmp, file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue; // another runner took n: look again
        throw e;
      }
      // a runner that read an older state may have taken a higher number meanwhile: it wins
      if ((lockNumbers(dir)[0] ?? n) > n) {
        fs.rmSync(file, { force: true });
        continue;
      }
      for (const k of lockNumbers(dir)) if (k < n) fs.rmSync(path.join(dir, PREFIX + k), { force: true });
      let released = false;
      return {
        file,
        release() {
          if (released) return;
          released = true;
          fs.rmSync(file, { force: true });
        },
      };
    }
    throw new UsageError(`Could not lock the run directory ${dir}: other runners keep taking it. Choose another --out.`);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}
