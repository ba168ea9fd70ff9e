/**
 * Where runs live and how a new run directory is named and made: `<runs root>/<stamp>-<stem>`,
 * created with one `mkdir` (no check-then-create), so two runs started in the same second never get
 * the same folder. The first run also drops a `.gitignore` holding `*` in `.parallel-run/` (or in the
 * runs root when it is elsewhere), so logs and results are never committed by accident.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { RUN_FILES, type RunDefinition } from './types';

/** The default runs root, relative to the workspace or the CLI's working directory. */
export const DEFAULT_RUNS_DIR = path.join('.parallel-run', 'runs');

/** Local time as yyyymmdd-hhmmss: run directories sort by start time. */
export function runStamp(now = new Date()): string {
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${now.getFullYear()}${p2(now.getMonth() + 1)}${p2(now.getDate())}-${p2(now.getHours())}${p2(now.getMinutes())}${p2(now.getSeconds())}`;
}

/** A file system friendly stem from a script or program path: "fit model.py" → "fit_model". */
export function runStem(of: string): string {
  return path.basename(of).replace(/\.[^.]*$/, '').replace(/[^\w.-]+/g, '_').slice(0, 40) || 'run';
}

/**
 * Makes a new, empty run directory under `runsRoot` (created as needed) and returns its path:
 * `<stamp>-<stem>`, then `-2`, `-3`… when that name is taken, by this or another process.
 */
export function createRunDir(runsRoot: string, stem: string, now = new Date()): string {
  const root = path.resolve(runsRoot);
  fs.mkdirSync(root, { recursive: true });
  ignoreInGit(root, true);
  const base = `${runStamp(now)}-${stem}`;
  for (let i = 1; ; i++) {
    const dir = path.join(root, i === 1 ? base : `${base}-${i}`);
    try {
      fs.mkdirSync(dir); // atomic: exactly one caller creates it
      return dir;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

/**
 * Writes `.gitignore` (`*`) into `.parallel-run/` when `runsRoot` is that folder or directly inside
 * it; otherwise into `runsRoot` itself only when it is a runs root of its own (`dedicated`: the
 * runs folder of the settings), never into a folder the user named for one run. An existing file
 * is left as the user made it.
 */
export function ignoreInGit(runsRoot: string, dedicated: boolean): void {
  const root = path.resolve(runsRoot);
  const dir = [root, path.dirname(root)].find((d) => path.basename(d) === '.parallel-run') ?? (dedicated ? root : undefined);
  if (!dir) return;
  try {
    fs.writeFileSync(path.join(dir, '.gitignore'), '# Parallel Run: run logs, journals and reports stay out of git\n*\n', { flag: 'wx' });
  } catch {
    /* already there (kept as the user made it), or not writable: the run itself reports that */
  }
}

/** A fresh run id: local timestamp + random suffix (also a good run directory name). */
export function newRunId(now = new Date()): string {
  return `${runStamp(now)}-${crypto.randomBytes(3).toString('hex')}`;
}

/** A run directory's run.json, or undefined when it has none (or it cannot be read). */
export function readDefinition(runDir: string): RunDefinition | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(runDir, RUN_FILES.definition), 'utf8')) as RunDefinition;
  } catch {
    return undefined;
  }
}

/**
 * Writes JSON by a temporary file and a rename, so a reader sees the old file or the new one, never
 * half of one; a failed write (a full disk) leaves no `<file>.<pid>.tmp` behind.
 */
export function writeJsonAtomic(file: string, data: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, JSON.stringify(data, null, 1));
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** mkdir -p without fs.mkdirSync's recursive mode, which loops forever under /proc on Node 20. */
export function mkdirp(dir: string): void {
  const missing: string[] = [];
  let d = path.resolve(dir);
  for (;;) {
    try {
      if (!fs.statSync(d).isDirectory()) throw Object.assign(new Error(`${d} is not a directory`), { code: 'ENOTDIR' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      missing.push(d);
      const up = path.dirname(d);
      if (up === d) break;
      d = up;
    }
  }
  for (const m of missing.reverse()) {
    try {
      fs.mkdirSync(m);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}
