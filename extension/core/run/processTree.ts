/**
 * A task's whole tree of processes, found every way there is, so that a timed-out task ends with
 * everything it started:
 * - its process group (the task is a session leader: its pid is its group);
 * - its descendants, by parent pid, while it runs;
 * - orphans: a process whose parent died is re-parented to the nearest "child subreaper" above it. The
 *   Python hosts are subreapers (warm_host.py), so a task's double-forked daemons come back to its host
 *   as children; the host runs one task at a time, so a child of the host started since the task's own
 *   start, other than the task, is that task's (while the task is not yet reaped: the host starts the
 *   next one only after);
 * - its marker in the environment (PARALLEL_RUN_SESSION and PARALLEL_SEQ, inherited by whatever the task
 *   executes, unless it clears its environment);
 * - its cgroup (taskCgroup.ts), which nothing can leave, where there is one.
 * Linux reads /proc; elsewhere only the process group is killed.
 */
import * as fs from 'fs';
import { readPidStat } from '../procfs';
import { signalCgroup, cgroupTreePids } from './taskCgroup';

export interface ProcStat {
  pid: number;
  ppid: number;
  /** start time after boot, in clock ticks (with the pid, a process's identity) */
  start: number;
  /** 'R', 'S', ... 'Z' (zombie: ended, not yet reaped) */
  state: string;
}

/** /proc/<pid>/stat of one process; undefined when gone. */
export function procStat(pid: number): ProcStat | undefined {
  const st = readPidStat(pid);
  return st && { pid, ppid: st.ppid, start: st.startTicks, state: st.state };
}

/** Every process we can see, by pid. */
export function procTable(): Map<number, ProcStat> {
  const out = new Map<number, ProcStat>();
  let names: string[] = [];
  try {
    names = fs.readdirSync('/proc');
  } catch {
    return out;
  }
  for (const n of names) {
    if (n.charCodeAt(0) < 48 || n.charCodeAt(0) > 57) continue;
    const st = procStat(Number(n));
    if (st) out.set(st.pid, st);
  }
  return out;
}

/** Pids below `roots` (not the roots themselves) by parent pid. */
export function descendants(table: Map<number, ProcStat>, roots: Iterable<number>): Set<number> {
  const children = new Map<number, number[]>();
  for (const p of table.values()) {
    let c = children.get(p.ppid);
    if (!c) children.set(p.ppid, (c = []));
    c.push(p.pid);
  }
  const out = new Set<number>();
  const todo = [...roots];
  while (todo.length) {
    for (const c of children.get(todo.pop()!) ?? []) {
      if (!out.has(c)) {
        out.add(c);
        todo.push(c);
      }
    }
  }
  return out;
}

/** True when the environment of `pid` holds every entry of `entries` (NAME=VALUE each). */
export function hasEnv(pid: number, entries: string[]): boolean {
  let env: Buffer;
  try {
    env = fs.readFileSync(`/proc/${pid}/environ`);
  } catch {
    return false;
  }
  return entries.every((e) => {
    const needle = Buffer.from(e + '\0');
    for (let i = env.indexOf(needle); i >= 0; i = env.indexOf(needle, i + 1)) if (i === 0 || env[i - 1] === 0) return true;
    return false;
  });
}

export interface TaskTree {
  /** the task's process (= its process group) */
  pid: number;
  /** the child subreaper its orphans return to (its Python host), if any */
  reaper?: number;
  /** environment entries that together mark the task's processes */
  marker?: string[];
  /** the task's cgroup directory, if it has one */
  cgroup?: string;
}

/** The task's processes now (pid → start time), the task itself included while it exists. */
export function findTree(t: TaskTree): Map<number, number> {
  const found = new Map<number, number>();
  if (process.platform !== 'linux') return found;
  const table = procTable();
  const add = (pid: number) => {
    const st = table.get(pid);
    if (st && pid !== process.pid && pid !== t.reaper) found.set(pid, st.start);
  };
  const root = table.get(t.pid);
  if (root) {
    add(t.pid);
    for (const d of descendants(table, [t.pid])) add(d);
    // the task not yet reaped by its host (its parent is still the host): the host has started no
    // other task since, so every other child it gained since the task began is one of the task's orphans
    if (t.reaper !== undefined && root.ppid === t.reaper) {
      const orphans: number[] = [];
      for (const p of table.values()) if (p.ppid === t.reaper && p.pid !== t.pid && p.start >= root.start) orphans.push(p.pid);
      for (const o of orphans) add(o);
      for (const d of descendants(table, orphans)) add(d);
    }
  }
  if (t.marker && t.marker.length) for (const pid of table.keys()) if (!found.has(pid) && hasEnv(pid, t.marker)) add(pid);
  if (t.cgroup) for (const pid of cgroupTreePids(t.cgroup)) add(pid);
  return found;
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    /* gone */
  }
}

/**
 * Ends a task's tree: SIGTERM to all of it now, SIGKILL after `graceMs` to what is left of it (the
 * processes found now, whatever they started meanwhile, its group and its cgroup). `settled` resolves
 * once every process found is gone (at most the grace, plus the SIGKILL), so the caller can report the
 * task ended only when its tree did.
 */
export class TreeKill {
  private readonly found: Map<number, number>;
  readonly settled: Promise<void>;
  private killed = false;

  constructor(private readonly t: TaskTree, graceMs: number) {
    // found before anything is signalled: once the task dies its host reaps it, and its children,
    // re-parented to the host, can no longer be told from the host's other children
    this.found = findTree(t);
    signalGroup(t.pid, 'SIGTERM');
    for (const pid of this.found.keys()) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* gone */
      }
    }
    if (t.cgroup) signalCgroup(t.cgroup, 'SIGTERM');
    this.settled = new Promise<void>((resolve) => {
      // Settled once the tree is gone or the grace is over (then SIGKILL). Nothing is sent after that:
      // the file's next attempt may already run in the same cgroup, with the same marker.
      let grace: NodeJS.Timeout | undefined;
      let poll: NodeJS.Timeout | undefined;
      const done = (kill: boolean) => {
        if (grace) clearTimeout(grace);
        if (poll) clearTimeout(poll);
        if (kill) this.kill();
        this.killed = true;
        resolve();
      };
      const check = () => (this.alive() ? (poll = setTimeout(check, 25)) : done(false));
      poll = setTimeout(check, 25);
      grace = setTimeout(() => done(true), graceMs);
    });
  }

  /** Any process found at the start still there (same pid and start time: not a re-used pid)? */
  private alive(): boolean {
    for (const [pid, start] of this.found) {
      const st = procStat(pid);
      if (st && st.start === start && st.state !== 'Z') return true;
    }
    return this.t.cgroup ? cgroupTreePids(this.t.cgroup).some((pid) => !isZombie(pid)) : false;
  }

  /** SIGKILL to everything of the tree still there, and what those processes started meanwhile. */
  kill(): void {
    if (this.killed) return;
    this.killed = true;
    signalGroup(this.t.pid, 'SIGKILL');
    const table = procTable();
    const mine = [...this.found].filter(([pid, start]) => table.get(pid)?.start === start).map(([pid]) => pid);
    for (const pid of new Set([...mine, ...descendants(table, mine)])) {
      if (pid === this.t.reaper || pid === process.pid) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    if (this.t.cgroup) signalCgroup(this.t.cgroup, 'SIGKILL');
  }
}

function isZombie(pid: number): boolean {
  const st = procStat(pid);
  return !st || st.state === 'Z';
}
