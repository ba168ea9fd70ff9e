/**
 * One slot of the batch engine: runs the tasks the runner gives it, through its own Python host when
 * the run has one (started at once, so the interpreter start and the script's imports are not billed
 * to the first task, and restarted if it died, e.g. OOM-killed). The same code serves a workerpool
 * thread (workers/taskWorker.ts) and a slot in the runner's own thread (inProcessPool.ts).
 */
import { killGroup, runBatchViaHost, runTask } from './taskRunner';
import { WarmHost } from '../python/warmHost';
import type { RunTaskParams, RunTaskResult, TaskWorkerApi, TaskWorkerEvent, TaskWorkerInit } from '../../shared/workerApi';

/**
 * How long a finished task of a batch may wait to be sent to the runner with the ones after it, ms.
 * 0 (the default): results that came in together go together, none waits for a later one. A finished
 * file is journaled only once its result reaches the runner, so a runner killed meanwhile runs it again
 * on resume: with a delay, every task a slot finished within the delay (6 and more for tasks of a few
 * ms); without one, about one per slot (bench/killReruns.js). PARALLEL_RUN_RESULT_DELAY_MS sets
 * another delay: fewer wake-ups of the runner for tiny tasks, more re-runs after a crash.
 */
const RESULT_DELAY_MS = ((v) => (Number.isFinite(v) && v >= 0 && v <= 1000 ? v : 0))(Number(process.env.PARALLEL_RUN_RESULT_DELAY_MS ?? 0));

/** A task the runner stopped before it started (cancel or halt). */
function notStarted(): RunTaskResult {
  const now = Date.now();
  return { start: now, end: now, exitCode: null, signal: 'SIGTERM', cpuUserSec: 0, cpuSysSec: 0, maxRssKb: null, stdoutTail: '', stderrTail: '', timedOut: false, measured: 'wait4' };
}

/** Where `shared` keeps the pid of the host running slot `slot` (see TaskWorkerInit.shared). */
function hostIndex(shared: Int32Array, slot: number): number {
  return (shared.length - 1) / 2 + slot;
}

export interface TaskSlot extends TaskWorkerApi {
  /** Ends the slot's host (and, through it, anything it still runs). */
  dispose(): Promise<void>;
}

/** A slot running tasks with `init`; `emit` takes its events (to the exec that is under way). */
export function createTaskSlot(init: TaskWorkerInit, emit: (e: TaskWorkerEvent) => void): TaskSlot {
  let host: WarmHost | undefined;

  /** This slot's Python host, started on first use and restarted if it died. */
  function currentHost(): WarmHost | undefined {
    if (!init.host) return undefined;
    if (!host || !host.alive) {
      void host?.dispose();
      host = new WarmHost({ ...init.host, env: init.env, killGraceMs: init.killGraceMs, cgroup: init.cgroup });
    }
    return host;
  }

  /**
   * The runner stops a host's task by signalling the host: publish the host once it listens (ready), and
   * BEFORE reading the stop flag (a stop either sees this pid, or this slot sees the flag). False when
   * the run is stopping (start nothing).
   */
  async function publishHost(h: WarmHost, shared: Int32Array, slot: number): Promise<boolean> {
    await h.ready.catch(() => undefined); // a host that failed to start is reported by the task itself
    Atomics.store(shared, hostIndex(shared, slot), h.pid ?? 0);
    return Atomics.load(shared, 0) !== 1;
  }

  /** What a task's start tells the runner: its pid in `shared`, and a kill if a stop came meanwhile. */
  function spawnedListener(p: RunTaskParams, h: WarmHost | undefined, shared: Int32Array | undefined): (pid: number) => void {
    return (pid) => {
      if (shared) {
        Atomics.store(shared, p.slot, pid); // slots are 1-based ({%})
        // a stop that came while this task was being started: it must not run on
        if (Atomics.load(shared, 0) === 1) killGroup(pid, init.killGraceMs);
      }
      // With a Python host, a dead runner's tasks are killed by the host (parent-death signal) and
      // the watchdog's marker scan, and the runner finds running pids in `shared`: no message per
      // task. Tasks spawned from Node directly are registered with the runner's watchdog.
      if (!h || !shared) emit({ type: 'spawned', index: p.index, attempt: p.attempt, pid, t: Date.now() });
    };
  }

  function unpublish(shared: Int32Array | undefined, slot: number, withHost: boolean): void {
    if (!shared) return;
    Atomics.store(shared, slot, 0);
    if (withHost) Atomics.store(shared, hostIndex(shared, slot), 0);
  }

  // the host (interpreter start + the script's imports) starts with the slot, not with its first task
  currentHost();

  return {
    async runTask(p: RunTaskParams) {
      const shared = init.shared;
      const h = currentHost();
      if (h && shared && !(await publishHost(h, shared, p.slot))) return notStarted();
      try {
        return await runTask(p, init, h, spawnedListener(p, h, shared));
      } finally {
        unpublish(shared, p.slot, !!h);
      }
    },
    async runBatch(ps: RunTaskParams[]) {
      const shared = init.shared;
      const h = currentHost();
      // Results go to the runner as soon as they come (see RESULT_DELAY_MS), those that came together
      // in one message.
      let queue: Array<{ index: number; attempt: number; result: RunTaskResult }> = [];
      let timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
      const flush = () => {
        if (timer) RESULT_DELAY_MS > 0 ? clearTimeout(timer as NodeJS.Timeout) : clearImmediate(timer as NodeJS.Immediate);
        timer = undefined;
        if (queue.length === 0) return;
        const done = queue;
        queue = [];
        emit({ type: 'tasksDone', done });
      };
      const done = (p: RunTaskParams, result: RunTaskResult) => {
        queue.push({ index: p.index, attempt: p.attempt, result });
        timer ??= RESULT_DELAY_MS > 0 ? setTimeout(flush, RESULT_DELAY_MS) : setImmediate(flush);
      };
      if (!h) throw new Error('runBatch needs a Python host');
      if (shared && ps.length > 0 && !(await publishHost(h, shared, ps[0].slot))) {
        for (const p of ps) done(p, notStarted());
        flush();
        return ps.length;
      }
      try {
        await runBatchViaHost(ps, init, h, (p) => spawnedListener(p, h, shared), done, () => {
          const next = currentHost();
          if (next && shared) Atomics.store(shared, hostIndex(shared, ps[0].slot), next.pid ?? 0);
          return next;
        });
        return ps.length;
      } finally {
        flush(); // before the batch's own result
        if (ps.length > 0) unpublish(shared, ps[0].slot, true);
      }
    },
    async warmUp() {
      const h = currentHost();
      if (!h) return { imports: [], failedImports: [], host: false };
      await h.ready;
      return { imports: h.imports, failedImports: h.failedImports, host: true };
    },
    async dispose() {
      const h = host;
      host = undefined;
      await h?.dispose();
    },
  };
}
