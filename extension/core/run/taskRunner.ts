/**
 * Runs ONE task attempt inside a task worker thread: the child writes straight into its log files
 * (no pipe through Node, so a task printing 200 MB costs the runner nothing), lives in its own
 * process group, and is killed as a group (SIGTERM, then SIGKILL after a grace) on timeout.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import { WarmHost } from '../python/warmHost';
import type { RunTaskParams, RunTaskResult, TaskWorkerInit } from '../../shared/workerApi';

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
    if (fs.statSync(file).size === 0) return '';
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

const CLK_TCK = 100; // Linux USER_HZ: /proc times are in 1/100 s on every mainstream kernel

/** CPU (own + waited-for children) and peak RSS of a live process from /proc; undefined when gone. */
function sampleProc(pid: number): { user: number; sys: number; rssKb: number | null } | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const user = (Number(f[11]) + Number(f[13])) / CLK_TCK;
    const sys = (Number(f[12]) + Number(f[14])) / CLK_TCK;
    let rssKb: number | null = null;
    try {
      const m = /VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) rssKb = Number(m[1]);
    } catch {
      /* zombie */
    }
    return { user, sys, rssKb };
  } catch {
    return undefined;
  }
}

export type SpawnedListener = (pid: number) => void;

/** Spawns the task directly from Node (no Python host): CPU/RSS are sampled from /proc while it runs. */
function runDirect(p: RunTaskParams, init: TaskWorkerInit, onSpawned: SpawnedListener): Promise<Omit<RunTaskResult, 'stdoutTail' | 'stderrTail'>> {
  return new Promise((resolve) => {
    const start = Date.now();
    const out = fs.openSync(p.stdoutLog, 'w');
    const err = fs.openSync(p.stderrLog, 'w');
    let timedOut = false;
    let last: ReturnType<typeof sampleProc>;
    let timer: NodeJS.Timeout | undefined;
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
      if (timer) clearTimeout(timer);
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
      timer = setTimeout(() => {
        timedOut = true;
        killGroup(pid, init.killGraceMs);
      }, p.timeoutMs);
    }
    child.on('exit', (code, signal) => {
      finish({
        start,
        end: Date.now(),
        exitCode: code,
        signal,
        cpuUserSec: last?.user ?? 0,
        cpuSysSec: last?.sys ?? 0,
        maxRssKb: last?.rssKb ?? null,
        timedOut,
        measured: 'proc',
        pid,
      });
    });
  });
}

/** Runs the task through a Python host (exact rusage via os.wait4). The child's pid comes back with the
 *  result; only a task with a timeout asks for it at the start (the timer here needs it). A stop does
 *  not need it: the runner signals the host, which stops its child (see warm_host.py). */
async function runViaHost(p: RunTaskParams, init: TaskWorkerInit, host: WarmHost, onSpawned: SpawnedListener): Promise<Omit<RunTaskResult, 'stdoutTail' | 'stderrTail'>> {
  await host.ready;
  const start = Date.now();
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const onStarted =
    p.timeoutMs > 0
      ? (pid: number) => {
          onSpawned(pid);
          timer = setTimeout(() => {
            timedOut = true;
            killGroup(pid, init.killGraceMs);
          }, Math.max(0, p.timeoutMs - (Date.now() - start)));
        }
      : undefined;
  try {
    const r = await host.run({ argv: p.argv, exe: p.exe, cwd: p.cwd, stdout: p.stdoutLog, stderr: p.stderrLog, env: p.env }, onStarted);
    return { start, end: Date.now(), ...r, timedOut, measured: 'wait4' };
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/** Runs one attempt and returns its result with the log tails. Never throws for a task failure. */
export async function runTask(p: RunTaskParams, init: TaskWorkerInit, host: WarmHost | undefined, onSpawned: SpawnedListener): Promise<RunTaskResult> {
  let r: Omit<RunTaskResult, 'stdoutTail' | 'stderrTail'>;
  if (host) {
    try {
      r = await runViaHost(p, init, host, onSpawned);
    } catch (e) {
      const msg = `parallel-run: ${(e as Error).message}`;
      try {
        fs.appendFileSync(p.stderrLog, msg + '\n');
      } catch {
        /* ignore */
      }
      const now = Date.now();
      r = { start: now, end: now, exitCode: null, signal: 'SIGKILL', cpuUserSec: 0, cpuSysSec: 0, maxRssKb: null, timedOut: false, spawnError: msg, measured: 'wait4' };
    }
  } else {
    r = await runDirect(p, init, onSpawned);
  }
  return { ...r, stdoutTail: readTail(p.stdoutLog, init.tailBytes), stderrTail: readTail(p.stderrLog, init.tailBytes) };
}
