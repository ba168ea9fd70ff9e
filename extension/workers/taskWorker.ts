/** Task worker: one workerpool thread = one slot of the batch engine (see core/run/taskRunner.ts). */
import * as workerpool from 'workerpool';
import { workerData } from 'worker_threads';
import { runTask } from '../core/run/taskRunner';
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
  runTask(p: RunTaskParams) {
    return runTask(p, init, currentHost(), (pid) => {
      const e: TaskWorkerEvent = { type: 'spawned', index: p.index, attempt: p.attempt, pid, t: Date.now() };
      workerpool.workerEmit(e);
    });
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
