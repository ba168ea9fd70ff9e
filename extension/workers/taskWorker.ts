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
    host = new WarmHost({ ...init.host, env: init.env });
  }
  return host;
}

const api: TaskWorkerApi = {
  async runTask(p: RunTaskParams) {
    const shared = init.shared;
    const h = currentHost();
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
      if (shared) Atomics.store(shared, p.slot, 0);
    }
  },
  async warmUp() {
    const h = currentHost();
    if (!h) return { imports: [], failedImports: [], host: false };
    await h.ready;
    return { imports: h.imports, failedImports: h.failedImports, host: true };
  },
};

workerpool.worker(api as unknown as Record<string, (...args: never[]) => unknown>, {
  onTerminate: async () => {
    const h = host;
    host = undefined;
    await h?.dispose();
  },
});
