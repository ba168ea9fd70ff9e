/**
 * Children must not outlive a dead runner. The runner starts one watchdog process per run session
 * (dist/workers/watchdog.js) in its own session, tells it every task's process group, and says "bye"
 * when it ends cleanly. If the runner dies (SIGKILL, crash, OOM) the pipe closes without "bye" and the
 * watchdog kills the registered groups, every process whose environment carries the session marker,
 * and everything in the run's cgroup (then removes it). Runs with Python hosts need no watchdog
 * process: the hosts do the same (warm_host.py, on_parent_death).
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';

/** The env var every child of a run session carries (inherited by grandchildren). */
export const SESSION_MARKER_VAR = 'PARALLEL_RUN_SESSION';

/** SIGKILLs `groups` and every process whose environ holds `marker` (NAME=VALUE). Returns how many it hit. */
export async function killMarked(marker: string, groups: Iterable<number>): Promise<number> {
  let hits = 0;
  for (const g of groups) {
    try {
      process.kill(-g, 'SIGKILL');
      hits++;
    } catch {
      /* gone */
    }
  }
  if (!marker || process.platform !== 'linux') return hits;
  const needle = Buffer.from(marker + '\0');
  let pids: string[] = [];
  try {
    pids = await fs.promises.readdir('/proc');
  } catch {
    return hits;
  }
  for (const name of pids) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    let env: Buffer;
    try {
      env = await fs.promises.readFile(`/proc/${pid}/environ`);
    } catch {
      continue; // another user's process, or gone
    }
    // match a whole NAME=VALUE entry (at the start or after a NUL)
    const i = env.indexOf(needle);
    if (i < 0 || (i > 0 && env[i - 1] !== 0)) continue;
    try {
      process.kill(pid, 'SIGKILL');
      hits++;
    } catch {
      /* gone */
    }
  }
  return hits;
}

/** The runner's end of a watchdog. Every method is a no-op once the watchdog is gone. */
export class Watchdog {
  private proc: ChildProcess | undefined;
  /** `cgroup`: the run's cgroup directory (every task's cgroup is below it), if it has one */
  constructor(script: string, readonly marker: string, cgroup?: string) {
    if (!fs.existsSync(script)) return; // degraded: group kills still work, only crash safety is lost
    this.proc = spawn(process.execPath, cgroup ? [script, marker, cgroup] : [script, marker], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
      // under VS Code process.execPath is Electron: run it as plain Node
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    });
    // It only waits (for the runner's death): at the lowest priority its Node start-up (~0.17 s of
    // CPU) takes no CPU from running tasks.
    if (this.proc.pid !== undefined) {
      try {
        os.setPriority(this.proc.pid, 19);
      } catch {
        /* not allowed here: it runs at normal priority */
      }
    }
    this.proc.on('error', () => (this.proc = undefined));
    this.proc.stdin!.on('error', () => (this.proc = undefined));
    this.proc.unref();
  }
  get pid(): number | undefined {
    return this.proc?.pid;
  }
  private send(line: string): void {
    try {
      this.proc?.stdin?.write(line + '\n');
    } catch {
      this.proc = undefined;
    }
  }
  register(pgid: number): void {
    this.send('+' + pgid);
  }
  unregister(pgid: number): void {
    this.send('-' + pgid);
  }
  /** Kill every marked process now (cancel: catches grandchildren that left their group). */
  scan(): void {
    this.send('scan');
  }
  /** Clean end: the watchdog exits without killing anything. */
  close(): void {
    this.send('bye');
    try {
      this.proc?.stdin?.end();
    } catch {
      /* gone */
    }
    this.proc = undefined;
  }
}
