/**
 * What a run kills, and how (see "Processes: nothing outlives its task" in CONTRIBUTING.md): the
 * stop flag and running pids it shares with the task workers, the run's cgroup, the watchdog process
 * (tasks Node spawns), and every process group it signalled, SIGKILLed again at the end in case a
 * member ignored SIGTERM. The engine decides when; this module does the killing.
 */
import * as path from 'path';
import { killGroup } from './taskRunner';
import { createRunCgroup, releaseRunCgroup, RunCgroup } from './taskCgroup';
import { killMarked, SESSION_MARKER_VAR, Watchdog } from './watchdog';

/** SIGTERM → SIGKILL grace for cancel, timeout and shutdown. */
export const KILL_GRACE_MS = 2000;

export class RunKills {
  /**
   * Shared with the task workers (TaskWorkerInit.shared): [0] = stop flag, [slot] = the slot's
   * running task pid, [workers + slot] = the pid of the slot's Python host.
   */
  readonly shared: Int32Array;
  /** Linux: the run's cgroup, each task in a sub-cgroup (undefined where none could be made) */
  readonly cgroup: RunCgroup | undefined;
  /** NAME=VALUE every process of the run carries in its environment */
  readonly marker: string;
  private watchdog: Watchdog | undefined;
  /** groups we killed (timeout, cancel, halt, memory) */
  private readonly killed = new Set<number>();
  private ended = false;

  constructor(
    session: string,
    private readonly workers: number,
    private readonly workersDir: string,
  ) {
    this.marker = `${SESSION_MARKER_VAR}=${session}`;
    this.shared = new Int32Array(new SharedArrayBuffer(4 * (1 + 2 * workers)));
    this.cgroup = createRunCgroup(session);
  }

  /** The watchdog process, for tasks Node spawns (Python hosts are their tasks' watchdog). */
  startWatchdog(): void {
    if (this.watchdog || this.ended) return;
    this.watchdog = new Watchdog(path.join(this.workersDir, 'watchdog.js'), this.marker, this.cgroup?.dir);
  }

  /** A task's process group started: the watchdog's until its attempt ends; `now`: killed at once. */
  spawned(pgid: number, now: boolean): void {
    this.watchdog?.register(pgid);
    if (now) this.kill(pgid);
  }

  /** An attempt ended: its group (if it was told) is no longer the watchdog's; a timed-out one was killed. */
  attemptEnded(registered: number | undefined, pgid: number | undefined, timedOut: boolean): void {
    if (registered !== undefined) this.watchdog?.unregister(registered);
    if (timedOut && pgid !== undefined) this.killed.add(pgid);
  }

  /** SIGTERM the group, SIGKILL after the grace. */
  kill(pgid: number): void {
    this.killed.add(pgid);
    killGroup(pgid, KILL_GRACE_MS);
  }

  /** The task workers refuse (or stop at once) any task that starts from now on. */
  refuseNew(): void {
    Atomics.store(this.shared, 0, 1);
  }

  /**
   * --memfree's victim on `slot`: the slot's task process group; with a Python host and no task pid
   * known (an in-process call, or a forked task without a timeout), the host: it ends its task's tree,
   * and a new host replaces it.
   */
  killSlot(slot: number, call: boolean): void {
    const pid = Atomics.load(this.shared, slot);
    const host = Atomics.load(this.shared, this.workers + slot);
    const target = call ? host : pid || host;
    if (target <= 0) return;
    this.kill(target);
  }

  /** Stops every running task: `groups` (the tasks' known groups), each slot's task, each slot's host. */
  stopAll(groups: Iterable<number>): void {
    const all = new Set(groups);
    // workers read the flag before each task (and right after each spawn they see): a task started
    // from now on is refused or killed there
    this.refuseNew();
    for (let i = 1; i <= this.workers; i++) {
      const pid = Atomics.load(this.shared, i);
      if (pid > 0) all.add(pid);
      // a Python host stops its own task (SIGTERM to the group, SIGKILL after the grace) and starts no other
      const hostPid = Atomics.load(this.shared, this.workers + i);
      if (hostPid > 0) {
        try {
          process.kill(hostPid, 'SIGUSR1');
        } catch {
          /* the host is gone */
        }
      }
    }
    for (const g of all) this.kill(g);
  }

  /**
   * After every task has exited (the pool is gone): members of a killed group that ignored SIGTERM,
   * and (`stopped`: on cancel/halt) grandchildren that left their group, go now. The task cgroups go
   * too: on a stop with all they hold; otherwise what a task left running on purpose is handed back to
   * the runner's own cgroup. Returns a note when the run's cgroup could not be removed.
   */
  async end(stopped: boolean): Promise<string | undefined> {
    this.ended = true;
    await killMarked(stopped ? this.marker : '', this.killed);
    let note: string | undefined;
    if (this.cgroup && !(await releaseRunCgroup(this.cgroup, stopped))) {
      note = `Could not remove the run's cgroup ${this.cgroup.dir}: remove it with rmdir once its processes have ended.`;
    }
    this.watchdog?.close();
    return note;
  }
}
