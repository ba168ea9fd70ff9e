/**
 * Runs ONE task attempt inside a task worker thread: the child writes straight into its log files
 * (no pipe through Node, so a task printing 200 MB costs the runner nothing), lives in its own
 * process group (and its own cgroup where the run has one), and on timeout its whole tree is ended
 * (SIGTERM, then SIGKILL after a grace; see processTree.ts) before its result is reported.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import { HostTaskRequest, HostTaskResult, WarmHost } from '../python/warmHost';
import { readPidStat, readPidStatus, USER_HZ } from '../procfs';
import { LongTimer, setLongTimeout } from '../timers';
import type { RunTaskParams, RunTaskResult, TaskWorkerInit } from '../../shared/workerApi';
import { displayName, hasRawBytes } from './fsNames';
import { TreeKill } from './processTree';
import { dropTaskCgroup, joinCgroup, taskCgroupDir } from './taskCgroup';
import { SESSION_MARKER_VAR } from './watchdog';

/** SIGTERM the process group `pgid`, SIGKILL it after `graceMs` (grandchildren included). */
export function killGroup(pgid: number, graceMs: number): void {
  try {
    process.kill(-pgid, 'SIGTERM');
  } catch {
    return; // already gone
  }
  const t = setTimeout(() => {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }, graceMs);
  t.unref?.();
}

/** The last `bytes` bytes of a file as text ('' when missing). */
export function readTail(file: string, bytes: number): string {
  let fd: number;
  try {
    // most tasks write little or nothing to one of the streams: one stat instead of open+fstat+close
    // (an in-process call that wrote nothing has no log: no exception to build for that)
    const st = fs.statSync(file, { throwIfNoEntry: false });
    if (!st || st.size === 0) return '';
    fd = fs.openSync(file, 'r');
  } catch {
    return '';
  }
  try {
    const size = fs.fstatSync(fd).size;
    const n = Math.min(size, bytes);
    if (n <= 0) return '';
    const buf = Buffer.alloc(n);
    fs.readSync(fd, buf, 0, n, size - n);
    let text = buf.toString('utf8');
    if (size > n) text = text.replace(/^[\uFFFD]+/, ''); // a multi-byte char cut at the start
    return text;
  } finally {
    fs.closeSync(fd);
  }
}

/** CPU (own + waited-for children) and peak RSS of a live process from /proc; undefined when gone. */
function sampleProc(pid: number): { user: number; sys: number; rssKb: number | null } | undefined {
  const st = readPidStat(pid);
  if (!st) return undefined;
  // a zombie has no VmHWM
  return { user: st.userTicks / USER_HZ, sys: st.sysTicks / USER_HZ, rssKb: readPidStatus(pid)?.hwmKb ?? null };
}

export type SpawnedListener = (pid: number) => void;

/** The task's cgroup directory, when the run has cgroups (named by PARALLEL_SEQ, as the hosts name it). */
function taskCgroup(p: RunTaskParams, init: TaskWorkerInit): string | undefined {
  return init.cgroup ? taskCgroupDir(init.cgroup, p.env.PARALLEL_SEQ ?? p.index) : undefined;
}

/** A timed-out task's end: its group, descendants, orphans come back to `reaper`, marked processes, cgroup. */
function endTree(pid: number, p: RunTaskParams, init: TaskWorkerInit, reaper?: number): TreeKill {
  const session = init.env[SESSION_MARKER_VAR];
  const seq = p.env.PARALLEL_SEQ;
  const marker = session && seq !== undefined ? [`${SESSION_MARKER_VAR}=${session}`, `PARALLEL_SEQ=${seq}`] : undefined;
  return new TreeKill({ pid, reaper, marker, cgroup: taskCgroup(p, init) }, init.killGraceMs);
}

/** Spawns the task directly from Node (no Python host): CPU/RSS are sampled from /proc while it runs. */
function runDirect(p: RunTaskParams, init: TaskWorkerInit, onSpawned: SpawnedListener): Promise<Omit<RunTaskResult, 'stdoutTail' | 'stderrTail'>> {
  // Node passes arguments to a program as UTF-8 text only: a name that is not UTF-8 would reach the
  // task mangled (another file, or none), so the task fails and says why instead
  const raw = p.argv.find(hasRawBytes);
  if (raw !== undefined) {
    const msg = `parallel-run: cannot pass ${JSON.stringify(displayName(raw))} to the task: the name is not valid UTF-8, and only a Python 3 host can pass its bytes as they are (install python3, or rename the file)`;
    fs.writeFileSync(p.stdoutLog, '');
    fs.writeFileSync(p.stderrLog, msg + '\n');
    const now = Date.now();
    return Promise.resolve({ start: now, end: now, exitCode: 127, signal: null, cpuUserSec: 0, cpuSysSec: 0, maxRssKb: null, timedOut: false, spawnError: msg, measured: 'proc' });
  }
  return new Promise((resolve) => {
    const start = Date.now();
    const out = fs.openSync(p.stdoutLog, 'w');
    const err = fs.openSync(p.stderrLog, 'w');
    let tree: TreeKill | undefined;
    let last: ReturnType<typeof sampleProc>;
    let timer: LongTimer | undefined;
    let sampler: NodeJS.Timeout | undefined;
    let settled = false;
    const child = spawn(p.exe ?? p.argv[0], p.argv.slice(1), {
      argv0: p.argv[0],
      cwd: p.cwd,
      env: { ...init.env, ...p.env },
      stdio: ['ignore', out, err],
      detached: true,
    });
    fs.closeSync(out);
    fs.closeSync(err);
    const finish = (r: Omit<RunTaskResult, 'stdoutTail' | 'stderrTail'>) => {
      if (settled) return;
      settled = true;
      timer?.clear();
      if (sampler) clearInterval(sampler);
      resolve(r);
    };
    child.on('error', (e: NodeJS.ErrnoException) => {
      const msg = `parallel-run: cannot run ${p.argv[0]}: ${e.code === 'ENOENT' ? 'command not found' : e.message}\n`;
      try {
        fs.appendFileSync(p.stderrLog, msg);
      } catch {
        /* log dir gone */
      }
      finish({ start, end: Date.now(), exitCode: 127, signal: null, cpuUserSec: 0, cpuSysSec: 0, maxRssKb: null, timedOut: false, spawnError: msg.trim(), measured: 'proc' });
    });
    const pid = child.pid;
    if (pid === undefined) return; // 'error' follows
    // Node cannot start a child inside a cgroup: it joins right after the spawn (a process it forks
    // in the first instant stays outside, still within reach of its group, marker and the watchdog)
    const cgroup = taskCgroup(p, init);
    if (cgroup) joinCgroup(cgroup, pid);
    onSpawned(pid);
    sampler = setInterval(() => {
      const s = sampleProc(pid);
      if (!s) return;
      // a zombie still shows its times but no memory: keep the best of every reading
      last = {
        user: Math.max(s.user, last?.user ?? 0),
        sys: Math.max(s.sys, last?.sys ?? 0),
        rssKb: s.rssKb === null ? last?.rssKb ?? null : Math.max(s.rssKb, last?.rssKb ?? 0),
      };
    }, 100);
    if (p.timeoutMs > 0) {
      timer = setLongTimeout(() => {
        tree = endTree(pid, p, init);
      }, p.timeoutMs);
    }
    child.on('exit', async (code, signal) => {
      timer?.clear();
      const end = Date.now();
      await tree?.settled;
      if (cgroup) dropTaskCgroup(cgroup);
      finish({
        start,
        end,
        exitCode: code,
        signal,
        cpuUserSec: last?.user ?? 0,
        cpuSysSec: last?.sys ?? 0,
        maxRssKb: last?.rssKb ?? null,
        timedOut: tree !== undefined,
        measured: 'proc',
        pid,
      });
    });
  });
}

/** The request for a Python host, and (for a task with a timeout) the timer its start arms; `ended`
 *  resolves once a timed-out task's whole tree is gone. */
function hostTask(p: RunTaskParams, init: TaskWorkerInit, host: WarmHost, onSpawned: SpawnedListener): { req: HostTaskRequest; onStarted?: (pid: number) => void; timedOut: () => boolean; ended: () => Promise<void> } {
  let tree: TreeKill | undefined;
  let timer: LongTimer | undefined;
  const reaper = host.pid;
  const onStarted =
    p.timeoutMs > 0
      ? (pid: number) => {
          onSpawned(pid);
          timer = setLongTimeout(() => {
            tree = endTree(pid, p, init, reaper);
          }, p.timeoutMs);
        }
      : undefined;
  return {
    req: { argv: p.argv, exe: p.exe, cwd: p.cwd, stdout: p.stdoutLog, stderr: p.stderrLog, env: p.env, done: p.done },
    onStarted,
    timedOut: () => tree !== undefined,
    ended: async () => {
      timer?.clear();
      await tree?.settled;
    },
  };
}

/** A host's reply as a task result; the host's own start/end times when it sent them (they are exact
 *  for a queued request, which the host starts when the one before ends). */
function hostResult(r: HostTaskResult, sentAt: number, timedOut: boolean): Omit<RunTaskResult, 'stdoutTail' | 'stderrTail'> {
  const end = r.end ?? Date.now();
  const start = Math.min(r.start ?? sentAt, end);
  return { exitCode: r.exitCode, signal: r.signal, cpuUserSec: r.cpuUserSec, cpuSysSec: r.cpuSysSec, maxRssKb: r.maxRssKb, pid: r.pid, start, end, ...(r.wallMs !== undefined ? { wallMs: r.wallMs } : {}), timedOut, measured: 'wait4', ...(r.resultJson !== undefined ? { resultJson: r.resultJson } : {}) };
}

/** A task the host could not run (it died, or refused the request): the reason goes into its stderr log. */
function hostFailure(p: RunTaskParams, e: Error, timedOut = false): Omit<RunTaskResult, 'stdoutTail' | 'stderrTail'> {
  const msg = `parallel-run: ${e.message}`;
  try {
    fs.appendFileSync(p.stderrLog, msg + '\n');
  } catch {
    /* ignore */
  }
  const now = Date.now();
  return { start: now, end: now, exitCode: null, signal: 'SIGKILL', cpuUserSec: 0, cpuSysSec: 0, maxRssKb: null, timedOut, spawnError: msg, measured: 'wait4' };
}

/** The result with its logs' tails; `logs` (an in-process call's reply): which logs exist (1 = stdout,
 *  2 = stderr), so no file is looked for that the call did not make. */
function withTails(r: Omit<RunTaskResult, 'stdoutTail' | 'stderrTail'>, p: RunTaskParams, init: TaskWorkerInit, logs = 3): RunTaskResult {
  return { ...r, stdoutTail: logs & 1 ? readTail(p.stdoutLog, init.tailBytes) : '', stderrTail: logs & 2 ? readTail(p.stderrLog, init.tailBytes) : '' };
}

/**
 * Runs several tasks through the slot's Python host, all requests sent at once (see WarmHost.runMany):
 * `onResult` gets each task's result, with its log tails, as soon as it ends, in order. A task with a
 * timeout asks for its child's pid at the start (the timer here needs it). A stop does not need the pids:
 * the runner signals the host, which stops its child and answers every later request "not started".
 */
export async function runBatchViaHost(
  ps: RunTaskParams[],
  init: TaskWorkerInit,
  host: WarmHost,
  onSpawned: (p: RunTaskParams) => SpawnedListener,
  onResult: (p: RunTaskParams, r: RunTaskResult) => void,
  replaceHost?: () => WarmHost | undefined,
): Promise<void> {
  try {
    await host.ready;
  } catch (e) {
    for (const p of ps) onResult(p, withTails(hostFailure(p, e as Error), p, init));
    return;
  }
  const tasks = ps.map((p) => hostTask(p, init, host, onSpawned(p)));
  const sentAt = Date.now();
  // settled right away: a rejection waiting its turn in the loop below is never "unhandled"
  const replies = host.runMany(tasks).map((r) => r.then((ok) => ({ ok }), (err: Error) => ({ err })));
  for (let i = 0; i < ps.length; i++) {
    const reply = await replies[i];
    await tasks[i].ended();
    const r = 'ok' in reply ? hostResult(reply.ok, sentAt, tasks[i].timedOut()) : hostFailure(ps[i], reply.err, tasks[i].timedOut());
    onResult(ps[i], withTails(r, ps[i], init, 'ok' in reply ? reply.ok.logs : undefined));
    // The host died running this task (an in-process call that timed out or crashed its interpreter):
    // the tasks queued behind it never started, and go to a new host rather than failing with it.
    const next = 'err' in reply && i + 1 < ps.length && !host.alive ? replaceHost?.() : undefined;
    if (next) return runBatchViaHost(ps.slice(i + 1), init, next, onSpawned, onResult, replaceHost);
  }
}

/** Runs one attempt and returns its result with the log tails. Never throws for a task failure. */
export async function runTask(p: RunTaskParams, init: TaskWorkerInit, host: WarmHost | undefined, onSpawned: SpawnedListener): Promise<RunTaskResult> {
  if (!host) return withTails(await runDirect(p, init, onSpawned), p, init);
  let result: RunTaskResult | undefined;
  await runBatchViaHost([p], init, host, () => onSpawned, (_p, r) => (result = r));
  return result!;
}
