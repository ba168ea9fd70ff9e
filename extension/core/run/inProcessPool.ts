/**
 * The slots of an in-process call run (--call), in the runner's own thread. A task worker thread only
 * relays requests to its slot's Python host and results back; for calls of a millisecond that relay
 * (a structured copy each way, a thread's wake-up, the thread's own boot) cost the runner more CPU than
 * the calls themselves. Here each slot talks to its host over its pipes directly, with the same code
 * (taskSlot.ts). Cold tasks and forked warm workers keep their threads: they spawn and wait with
 * synchronous calls that would stall the runner.
 */
import type * as workerpool from 'workerpool';
import type { RunTaskParams, TaskWorkerEvent, TaskWorkerInit } from '../../shared/workerApi';
import { createTaskSlot, TaskSlot } from './taskSlot';

/** What the engine needs of a pool: workerpool.Pool's exec (with its `on`) and terminate. */
export interface SlotPool {
  exec(method: 'runTask' | 'runBatch', args: [RunTaskParams] | [RunTaskParams[]], options: { on: (e: TaskWorkerEvent) => void }): Promise<unknown>;
  terminate(force?: boolean, timeout?: number): Promise<unknown>;
}

/** `workers` slots, each with its Python host started now (the imports overlap the run's start). */
export function inProcessPool(workers: number, init: TaskWorkerInit): SlotPool {
  /** a slot and the `on` of the exec it runs (its events go there) */
  type Entry = { slot: TaskSlot; on: (e: TaskWorkerEvent) => void };
  const all: Entry[] = [];
  for (let i = 0; i < workers; i++) {
    const s: Entry = { on: () => undefined, slot: createTaskSlot(init, (e) => s.on(e)) };
    all.push(s);
  }
  const idle = [...all];
  const busy = new Set<Promise<unknown>>();
  let ended = false;
  return {
    exec(method, args, options) {
      // the engine never runs more execs than slots (it takes a slot before it runs anything)
      const s = idle.pop();
      if (ended || !s) return Promise.reject(new Error(ended ? 'the run has ended' : 'no free slot'));
      s.on = options.on;
      const run = method === 'runTask' ? s.slot.runTask((args as [RunTaskParams])[0]) : s.slot.runBatch((args as [RunTaskParams[]])[0]);
      const p = run.finally(() => {
        busy.delete(p);
        s.on = () => undefined;
        idle.push(s);
      });
      busy.add(p);
      return p;
    },
    async terminate(force = false, timeout = 5000) {
      ended = true;
      if (!force && busy.size > 0) {
        let t: NodeJS.Timeout | undefined;
        await Promise.race([Promise.allSettled([...busy]), new Promise((r) => (t = setTimeout(r, timeout)))]);
        clearTimeout(t);
      }
      await Promise.all(all.map((s) => s.slot.dispose()));
    },
  };
}

/** A workerpool of task worker threads (taskPool.ts) as a SlotPool. */
export function threadPool(pool: workerpool.Pool): SlotPool {
  return {
    exec: async (method, args, options) => await pool.exec(method, args, options),
    terminate: async (force, timeout) => await pool.terminate(force, timeout),
  };
}
