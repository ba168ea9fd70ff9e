/** Task worker: one workerpool thread = one slot of the batch engine (see core/run/taskRunner.ts). */
import * as workerpool from 'workerpool';
import { workerData } from 'worker_threads';
import { killGroup, runTask } from '../core/run/taskRunner';
import { WarmHost } from '../core/python/warmHost';
import type { RunTaskParams, TaskWorkerApi, TaskWorkerEvent, TaskWorkerInit } from '../shared/workerApi';

const init = workerData as TaskWorkerInit;
let host: WarmHost | undefined;

/** This thread's Python host, started on first use and restarted if it died (e.g. OOM-killed). */
function currentHost(): WarmHost | undefined {
  if (!init.host) return undefined;
  if (!host || !host.alive) {
    void host?.dispose();
    host = new WarmHost({ ...init.host, env: init.env, killGraceMs: init.killGraceMs });
  }
  return host;
}

/** Where `shared` keeps the pid of the host running slot `slot` (see TaskWorkerInit.shared). */
function hostIndex(shared: Int32Array, slot: number): number {
  return (shared.length - 1) / 2 + slot;
}

const api: TaskWorkerApi = {
  async runTask(p: RunTaskParams) {
    const shared = init.shared;
    const h = currentHost();
    if (h && shared) {
      // the runner stops a host's task by signalling the host: publish it once it listens (ready), and
      // BEFORE reading the stop flag (a stop either sees this pid, or this thread sees the flag)
      await h.ready.catch(() => undefined); // a host that failed to start is reported by runTask below
      Atomics.store(shared, hostIndex(shared, p.slot), h.pid ?? 0);
      if (Atomics.load(shared, 0) === 1) {
        const now = Date.now();
        return { start: now, end: now, exitCode: null, signal: 'SIGTERM', cpuUserSec: 0, cpuSysSec: 0, maxRssKb: null, stdoutTail: '', stderrTail: '', timedOut: false, measured: 'wait4' as const };
      }
    }
    try {
      return await runTask(p, init, h, (pid) => {
        if (shared) {
          Atomics.store(shared, p.slot, pid); // slots are 1-based ({%})
          // a stop that came while this task was being started: it must not run on
          if (Atomics.load(shared, 0) === 1) killGroup(pid, init.killGraceMs);
        }
        // With a Python host, a dead runner's tasks are killed by the host (parent-death signal) and
        // the watchdog's marker scan, and the runner finds running pids in `shared`: no message per
        // task. Tasks spawned from Node directly are registered with the runner's watchdog.
        if (!h || !shared) {
          const e: TaskWorkerEvent = { type: 'spawned', index: p.index, attempt: p.attempt, pid, t: Date.now() };
          workerpool.workerEmit(e);
        }
      });
    } finally {
      if (shared) {
        Atomics.store(shared, p.slot, 0);
        if (h) Atomics.store(shared, hostIndex(shared, p.slot), 0);
      }
    }
  },
  async warmUp() {
    const h = currentHost();
    if (!h) return { imports: [], failedImports: [], host: false };
    await h.ready;
    return { imports: h.imports, failedImports: h.failedImports, host: true };
  },
};

// the host (interpreter start + the script's imports) starts with the thread, not with its first task
currentHost();

workerpool.worker(api as unknown as Record<string, (...args: never[]) => unknown>, {
  onTerminate: async () => {
    const h = host;
    host = undefined;
    await h?.dispose();
  },
});
