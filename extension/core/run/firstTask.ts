/**
 * A cold run's first task, run by the runner's own thread: a task worker thread takes longer to boot
 * than the runner takes to load and plan, so the first task does not wait for one. It runs in a slot
 * made by the same code as a task worker's (taskSlot.ts: the pids published in `shared` for a stop, a
 * --memfree kill and a dead runner's hosts; a task Node spawns registered with the watchdog), with an
 * exec host of its own (started with the slot, as a worker's is) or spawned from Node. Only cold tasks:
 * a warm host imports the script first, which the pool's hosts do anyway; --call runs all their slots
 * in the runner's thread already (inProcessPool.ts). The first attempt the runner dispatches only: its
 * retries, and every later task, go to the pool; the slot's host then ends.
 */
import type { RunTaskParams, RunTaskResult, TaskWorkerEvent, TaskWorkerInit } from '../../shared/workerApi';
import { createTaskSlot, type TaskSlot } from './taskSlot';

export class FirstTaskSlot {
  private readonly slot: TaskSlot;
  /** the events of the attempt under way (the engine's, while it runs) */
  private on: (e: TaskWorkerEvent) => void = () => undefined;

  /** undefined when the run's tasks are not cold (see the module) */
  static of(init: TaskWorkerInit): FirstTaskSlot | undefined {
    if (init.host && init.host.mode !== 'exec') return undefined;
    return new FirstTaskSlot(init);
  }

  private constructor(init: TaskWorkerInit) {
    this.slot = createTaskSlot(init, (e) => this.on(e));
  }

  /** Resolves once the first task can start (its host is ready, or failed; at once without one). */
  ready(): Promise<void> {
    return this.slot.warmUp().then(
      () => undefined,
      () => undefined,
    );
  }

  /** Runs the run's first attempt (never throws for a task failure); the slot then ends. */
  async run(p: RunTaskParams, on: (e: TaskWorkerEvent) => void): Promise<RunTaskResult> {
    this.on = on;
    try {
      return await this.slot.runTask(p);
    } finally {
      this.on = () => undefined;
      void this.slot.dispose();
    }
  }

  /** No first task here after all (a batch went first, or the run ended): the slot's host ends. */
  decline(): void {
    void this.slot.dispose();
  }
}
