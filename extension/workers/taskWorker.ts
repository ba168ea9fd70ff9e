/** Task worker: one workerpool thread = one slot of the batch engine (see core/run/taskSlot.ts). */
import * as workerpool from 'workerpool';
import { workerData } from 'worker_threads';
import { createTaskSlot } from '../core/run/taskSlot';
import { taskWorkerInit } from '../core/run/taskPool';

// a worker the CLI started ahead waits here for the run's init (see core/run/taskPool.ts)
const slot = createTaskSlot(taskWorkerInit(workerData), (e) => workerpool.workerEmit(e));

workerpool.worker({ runTask: slot.runTask, runBatch: slot.runBatch, warmUp: slot.warmUp } as unknown as Record<string, (...args: never[]) => unknown>, {
  onTerminate: () => slot.dispose(),
});
