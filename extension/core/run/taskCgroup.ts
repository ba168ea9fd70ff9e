/**
 * Linux: every task of a run in a cgroup of its own, so that ending a task (timeout, cancel, a dead
 * runner) ends every process it started, whatever they did to leave its process group, session or
 * environment (setsid, double fork, `env -i`): a cgroup is the one thing a process cannot leave on
 * its own.
 *
 * Layout: <own>/parallel-run-<session>/<seq>, where <own> is the runner's own cgroup (from
 * /proc/self/cgroup) in a cgroup v2 hierarchy, or else in the v1 `pids` or `freezer` hierarchy (the
 * two that change nothing about how a process is scheduled or what memory it may use). The run's
 * cgroup is made below the runner's, never elsewhere; the runner itself never moves, and no cgroup
 * this module did not create is changed. A task's cgroup is named by its PARALLEL_SEQ, so whoever
 * knows the task (the runner's timer, the Python host that forks it) can find it, and a late kill can
 * only ever reach that file's processes.
 *
 * PARALLEL_RUN_CGROUP=off turns it off, =v1 / =v2 picks a hierarchy (default: v2, else v1). Where no
 * cgroup can be made (not Linux, no write access) tasks run as before: killed by process group,
 * session marker and ancestry (see processTree.ts).
 */
import * as fs from 'fs';
import * as path from 'path';

export interface RunCgroup {
  /** the run's cgroup directory (every task's cgroup is a sub-directory) */
  dir: string;
  /** 1 or 2: which cgroup hierarchy it is in */
  version: 1 | 2;
}

/** The cgroup dir of the task with this PARALLEL_SEQ. */
export function taskCgroupDir(run: string, seq: number | string): string {
  return path.join(run, String(seq));
}

interface Mount {
  point: string;
  root: string;
  fstype: string;
  options: string[];
}

function mounts(): Mount[] {
  let text: string;
  try {
    text = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const out: Mount[] = [];
  for (const line of text.split('\n')) {
    // "36 30 0:33 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer"
    const dash = line.indexOf(' - ');
    if (dash < 0) continue;
    const a = line.slice(0, dash).split(' ');
    const b = line.slice(dash + 3).split(' ');
    if (b[0] !== 'cgroup' && b[0] !== 'cgroup2') continue;
    const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
    out.push({ root: unescape(a[3]), point: unescape(a[4]), fstype: b[0], options: (b[2] ?? '').split(',') });
  }
  return out;
}

/** The directory of this process's own cgroup in the hierarchy mounted at `m`, or undefined. */
function ownDir(m: Mount, ownPath: string): string | undefined {
  // a mount of a sub-tree (containers): the path must lie inside it
  const root = m.root === '/' ? '' : m.root;
  if (root && ownPath !== root && !ownPath.startsWith(root + '/')) return undefined;
  const dir = path.join(m.point, ownPath.slice(root.length));
  return fs.existsSync(path.join(dir, 'cgroup.procs')) ? dir : undefined;
}

/** Candidates in order of preference: [directory of our own cgroup, version]. */
function candidates(want: string): Array<[string, 1 | 2]> {
  let self: string;
  try {
    self = fs.readFileSync('/proc/self/cgroup', 'utf8');
  } catch {
    return [];
  }
  const paths = new Map<string, string>(); // "" (v2) or a v1 controller → own path
  for (const line of self.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === '') paths.set('', m[2]);
    else for (const c of m[1].split(',')) paths.set(c, m[2]);
  }
  const ms = mounts();
  const out: Array<[string, 1 | 2]> = [];
  if (want !== 'v1' && paths.has('')) {
    const m = ms.find((x) => x.fstype === 'cgroup2');
    const dir = m && ownDir(m, paths.get('')!);
    // only where our cgroup hands no controller down: a child then changes nothing about scheduling or memory
    if (dir && readText(path.join(dir, 'cgroup.subtree_control')).trim() === '') out.push([dir, 2]);
  }
  if (want !== 'v2') {
    for (const c of ['pids', 'freezer']) {
      const m = ms.find((x) => x.fstype === 'cgroup' && x.options.includes(c));
      const p = paths.get(c);
      const dir = m && p !== undefined ? ownDir(m, p) : undefined;
      if (dir) out.push([dir, 1]);
    }
  }
  return out;
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '\0unreadable';
  }
}

/**
 * Makes the run's cgroup below our own (the first hierarchy where that is allowed); undefined where
 * none can be made. `env` is read for PARALLEL_RUN_CGROUP.
 */
export function createRunCgroup(session: string, env: NodeJS.ProcessEnv = process.env): RunCgroup | undefined {
  if (process.platform !== 'linux') return undefined;
  const want = (env.PARALLEL_RUN_CGROUP ?? '').toLowerCase();
  if (want === 'off' || want === '0') return undefined;
  for (const [own, version] of candidates(want)) {
    const dir = path.join(own, `parallel-run-${session}`);
    try {
      fs.mkdirSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') continue;
    }
    // moving a task in needs write access to both cgroups' process lists
    try {
      fs.accessSync(path.join(dir, 'cgroup.procs'), fs.constants.W_OK);
      fs.accessSync(path.join(own, 'cgroup.procs'), fs.constants.W_OK);
      return { dir, version };
    } catch {
      try {
        fs.rmdirSync(dir);
      } catch {
        /* not ours to worry about: it was just made, empty */
      }
    }
  }
  return undefined;
}

/** The pids in one cgroup (not its children). */
export function cgroupPids(dir: string): number[] {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8');
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const l of text.split('\n')) if (l) out.push(Number(l));
  return out;
}

/** Sub-cgroups of `dir`, deepest first, then `dir` itself. */
function cgroupTree(dir: string): string[] {
  const out: string[] = [];
  let entries: fs.Dirent[] = [];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  for (const e of entries) if (e.isDirectory()) out.push(...cgroupTree(path.join(dir, e.name)));
  out.push(dir);
  return out;
}

/** Every pid in `dir` and its sub-cgroups. */
export function cgroupTreePids(dir: string): number[] {
  return cgroupTree(dir).flatMap(cgroupPids);
}

/** Sends `signal` to every process in `dir` and its sub-cgroups; SIGKILL through cgroup.kill where
 *  the kernel has it (cgroup v2, Linux 5.14+: no process can fork its way out). How many it hit. */
export function signalCgroup(dir: string, signal: NodeJS.Signals): number {
  const pids = cgroupTreePids(dir);
  if (signal === 'SIGKILL' && pids.length > 0) {
    try {
      fs.writeFileSync(path.join(dir, 'cgroup.kill'), '1');
      return pids.length;
    } catch {
      /* cgroup v1 or an older kernel: one by one below */
    }
  }
  let n = 0;
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
      n++;
    } catch {
      /* gone */
    }
  }
  return n;
}

/** SIGKILLs everything in `dir` (and below) until it is empty (a process may fork while we kill), at most ~1 s. */
export async function killCgroup(dir: string): Promise<void> {
  for (let round = 0; round < 50; round++) {
    if (signalCgroup(dir, 'SIGKILL') === 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Removes `dir` and its sub-cgroups (each must be empty: a killed process leaves its cgroup once
 *  reaped, so a few tries). True when all went. */
export async function removeCgroupTree(dir: string, tries = 1): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    let ok = true;
    for (const d of cgroupTree(dir)) {
      try {
        fs.rmdirSync(d);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') ok = false;
      }
    }
    if (ok) return true;
    if (i + 1 < tries) await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

/**
 * The run is over: its cgroups go. `kill`: everything still in them is killed (a cancelled, halted or
 * dead run); otherwise what tasks left running on purpose is handed back to the runner's own cgroup,
 * where it would have been without this module, and keeps running. True when every cgroup was removed.
 */
export async function releaseRunCgroup(run: RunCgroup, kill: boolean): Promise<boolean> {
  if (kill) await killCgroup(run.dir);
  else {
    const home = path.join(path.dirname(run.dir), 'cgroup.procs');
    for (const pid of cgroupTreePids(run.dir)) {
      try {
        fs.writeFileSync(home, String(pid));
      } catch {
        /* exited meanwhile */
      }
    }
  }
  return removeCgroupTree(run.dir, 50);
}

/** Moves `pid` into the task cgroup `dir` (made if needed). False where that failed (the task runs
 *  on where it is). */
export function joinCgroup(dir: string, pid: number): boolean {
  try {
    fs.mkdirSync(dir, { recursive: false });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return false;
  }
  try {
    fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(pid));
    return true;
  } catch {
    return false;
  }
}

/** Removes a task's cgroup once the task ended, if nothing of it is left running (else the run's end does). */
export function dropTaskCgroup(dir: string): void {
  try {
    fs.rmdirSync(dir);
  } catch {
    /* processes left in it, or gone */
  }
}
