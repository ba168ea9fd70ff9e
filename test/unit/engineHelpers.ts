/** Shared by the engine's process tests: real interpreter, bundled workers, temp folders. */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { RunEvent, RunHandle, RunOptions, RunReport } from '../../extension/core/run/types';

export const ROOT = path.resolve(__dirname, '../../..');
export const WORKERS_DIR = path.join(ROOT, 'dist', 'workers');
export const CLI = path.join(ROOT, 'dist', 'cli.js');
export const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'engine');
/** The real interpreter (python3 on PATH is a slow pyenv shim here). */
export const PYTHON = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();

export function tmpDir(prefix = 'pr-engine-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Writes files (name → content) into dir and returns their names. */
export function writeFiles(dir: string, files: Record<string, string>): string[] {
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
  return Object.keys(files);
}

/** Collects every event of a run and its final report. */
export async function collect(handle: RunHandle): Promise<{ events: RunEvent[]; report: RunReport }> {
  const events: RunEvent[] = [];
  handle.onEvent((e) => events.push(e));
  const report = await handle.done;
  return { events, report };
}

export function journalLines(runDir: string): Array<Record<string, any>> {
  const p = path.join(runDir, 'journal.ndjson');
  if (!fs.existsSync(p)) return [];
  return fs.readFileSync(p, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
}

/** True when a process with this pid exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Every live process whose environment holds NAME=VALUE (or any PARALLEL_RUN_SESSION when value is ''). */
export function processesWithEnv(name: string, value = ''): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    let env: string;
    try {
      env = fs.readFileSync(`/proc/${d}/environ`, 'latin1');
    } catch {
      continue;
    }
    const hit = env.split('\0').some((kv) => (value ? kv === `${name}=${value}` : kv.startsWith(`${name}=`)));
    if (hit && alive(Number(d))) out.push(Number(d));
  }
  return out;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `cond` until true or `ms` pass. */
export async function waitFor(cond: () => boolean, ms: number, step = 50): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await sleep(step);
  }
  return cond();
}

/** Waits until two spawn_tree.py tasks recorded their trees in `pidFile`; their 6 pids (task + 2
 *  grandchildren each), or undefined when they did not within `ms`. */
export async function twoTrees(pidFile: string, ms: number): Promise<number[] | undefined> {
  const ok = await waitFor(() => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8').trim().split('\n').length >= 2, ms);
  return ok ? fs.readFileSync(pidFile, 'utf8').trim().split(/\s+/).map(Number) : undefined;
}

/** Options for a test run in `dir`: `true` over in/*.txt on 2 workers, into dir/run; `extra` overrides. */
export function baseOptions(dir: string, extra: Partial<RunOptions>): RunOptions {
  return {
    command: { kind: 'template', argv: ['true'] },
    files: { kind: 'globs', patterns: ['in/*.txt'], cwd: dir },
    cwd: dir,
    outDir: path.join(dir, 'run'),
    workersDir: WORKERS_DIR,
    workers: 2,
    ...extra,
  };
}

/**
 * A child memory cgroup (limit `limitBytes`, 96 MiB unless told) below this process's own (never
 * elsewhere, and no process is moved out of ours: a process the test starts moves itself into the
 * child). Returns why not, when it cannot be made.
 */
export function memoryCgroupBelowOurs(limitBytes = 96 * 1024 * 1024, name = 'oom'): { procs: string; remove: () => void } | string {
  let self: string;
  try {
    self = fs.readFileSync('/proc/self/cgroup', 'utf8');
  } catch {
    return 'no /proc/self/cgroup (not Linux)';
  }
  const v1 = /^\d+:(?:[^:]*,)?memory(?:,[^:]*)?:(.*)$/m.exec(self);
  const v2 = /^0::(.*)$/m.exec(self);
  let dir: string;
  let limitFile: string;
  if (v1) {
    dir = path.join('/sys/fs/cgroup/memory', v1[1], `pr-test-${name}-${process.pid}`);
    limitFile = 'memory.limit_in_bytes';
  } else if (v2) {
    dir = path.join('/sys/fs/cgroup', v2[1], `pr-test-${name}-${process.pid}`);
    limitFile = 'memory.max';
  } else {
    return 'no memory cgroup in /proc/self/cgroup';
  }
  try {
    fs.mkdirSync(dir);
  } catch (e) {
    return `cannot create a child cgroup below ours (${dir}: ${(e as NodeJS.ErrnoException).code}); the cgroup is not writable here`;
  }
  const remove = () => {
    for (let i = 0; i < 50; i++) {
      try {
        fs.rmdirSync(dir);
        return;
      } catch {
        spawnSync('sleep', ['0.1']);
      }
    }
  };
  try {
    fs.writeFileSync(path.join(dir, limitFile), String(limitBytes));
    if (v1 && fs.existsSync(path.join(dir, 'memory.memsw.limit_in_bytes'))) {
      try {
        fs.writeFileSync(path.join(dir, 'memory.memsw.limit_in_bytes'), String(limitBytes));
      } catch {
        /* no swap accounting: no swap to fall back on either */
      }
    }
  } catch (e) {
    remove();
    return `cannot set ${limitFile} on ${dir} (${(e as NodeJS.ErrnoException).code})`;
  }
  return { procs: path.join(dir, 'cgroup.procs'), remove };
}
