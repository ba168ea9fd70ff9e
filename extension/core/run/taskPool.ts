/**
 * The pool of task workers (workerpool threads running dist/workers/taskWorker.js, at most one per
 * slot), and the CLI's head start on it.
 *
 * A worker thread takes about as long to boot as `node` itself (it loads Node's internals and its
 * bundle), and a run's first task waits for it. So `parallel-run run` starts the first worker before it
 * even loads the engine (prestartTaskPool): the thread boots and then waits, starting nothing, until
 * the run it is for has passed every check and posts its TaskWorkerInit (taskPool). Only then does the
 * worker start its Python host. A run with no head start (the extension, a sweep) starts its own pool.
 */
import * as fs from 'fs';
import { MessageChannel, MessagePort, receiveMessageOnPort } from 'worker_threads';
import * as workerpool from 'workerpool';
import type { TaskWorkerInit } from '../../shared/workerApi';

/**
 * A task worker relays one small request/result at a time: small heaps keep the runner's RSS flat over
 * a 100,000-file run (V8's default young generation alone is 16-48 MB per thread).
 */
const RESOURCE_LIMITS = { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 128 };
const TERMINATE_TIMEOUT_MS = 3000;

/** `signal[0]` of a worker started ahead: its init is on the port / no run will take it. */
const INIT_SENT = 1;
const NOT_NEEDED = 2;

/** What a worker started ahead waits on: its init comes through `port` once `signal[0]` is INIT_SENT. */
interface DeferredInit {
  port: MessagePort;
  signal: Int32Array;
}

/** The workerData of a task worker: its init, or (started ahead) where its init will come from. */
type TaskWorkerData = TaskWorkerInit | { deferredInit: DeferredInit };

interface Ahead {
  script: string;
  pool: workerpool.Pool;
  /** the runner's end of each worker started ahead (a crashed one is replaced) */
  waiting: Array<{ port: MessagePort; signal: Int32Array }>;
  /** set when a run takes the pool: the workers started from then on get it directly */
  init?: TaskWorkerInit;
}

let ahead: Ahead | undefined;

/**
 * Starts one task worker now, before the run is planned (the CLI's `run`): the thread boots while the
 * runner loads and checks, then blocks until taskPool hands it its init. Nothing else starts: no
 * process, no file. A pool no run takes is ended by dropPrestartedPool.
 */
export function prestartTaskPool(workerScript: string): workerpool.Pool | undefined {
  if (ahead || !fs.existsSync(workerScript)) return undefined;
  const state: Ahead = { script: workerScript, pool: undefined as unknown as workerpool.Pool, waiting: [] };
  state.pool = workerpool.pool(workerScript, {
    minWorkers: 1,
    maxWorkers: 1,
    workerType: 'thread',
    workerTerminateTimeout: TERMINATE_TIMEOUT_MS,
    onCreateWorker: () => {
      if (state.init) return { workerThreadOpts: { workerData: state.init, resourceLimits: RESOURCE_LIMITS } };
      const { port1, port2 } = new MessageChannel();
      port1.unref();
      const signal = new Int32Array(new SharedArrayBuffer(4));
      state.waiting.push({ port: port1, signal });
      const data: TaskWorkerData = { deferredInit: { port: port2, signal } };
      return { workerThreadOpts: { workerData: data, transferList: [port2], resourceLimits: RESOURCE_LIMITS } };
    },
  });
  ahead = state;
  return state.pool;
}

/** Ends a pool started ahead that no run took (the run failed its checks, or was a dry run). */
export async function dropPrestartedPool(): Promise<void> {
  const a = ahead;
  ahead = undefined;
  if (!a) return;
  // a waiting worker cannot hear workerpool's request to end: it is told to leave instead
  for (const w of a.waiting) {
    Atomics.store(w.signal, 0, NOT_NEEDED);
    Atomics.notify(w.signal, 0);
  }
  await a.pool.terminate(true).catch(() => undefined);
}

/**
 * The pool of a run of `workers` slots whose workers get `init`: the one started ahead for this worker
 * script (its waiting worker gets `init` now), else a new one (workers start as files need them).
 */
export function taskPool(workerScript: string, workers: number, init: TaskWorkerInit): workerpool.Pool {
  const a = ahead;
  ahead = undefined;
  if (a && a.script === workerScript) {
    a.init = init;
    for (const w of a.waiting) {
      w.port.postMessage(init);
      Atomics.store(w.signal, 0, INIT_SENT);
      Atomics.notify(w.signal, 0);
    }
    a.waiting = [];
    // from here on the pool is the run's as taskPool would have made it: at most `workers` workers,
    // started as files need them (a worker that dies is not replaced until one is needed)
    const pool = a.pool as { maxWorkers: number; minWorkers: number };
    pool.maxWorkers = workers;
    pool.minWorkers = 0;
    return a.pool;
  }
  if (a) {
    ahead = a;
    void dropPrestartedPool();
  }
  return workerpool.pool(workerScript, {
    // a worker (thread + Python host) starts when a file needs it: -j 1024 over 4 files starts 4
    minWorkers: 0,
    maxWorkers: workers,
    workerType: 'thread',
    workerThreadOpts: { workerData: init, resourceLimits: RESOURCE_LIMITS },
    workerTerminateTimeout: TERMINATE_TIMEOUT_MS,
  });
}

/**
 * Inside a task worker: its init. A worker started ahead blocks here (it has nothing else to do) until
 * the runner posts it.
 */
export function taskWorkerInit(data: unknown): TaskWorkerInit {
  const d = data as TaskWorkerData;
  if (!('deferredInit' in d)) return d;
  const { port, signal } = d.deferredInit;
  while (Atomics.load(signal, 0) === 0) Atomics.wait(signal, 0, 0);
  // no run took this worker: the thread ends here, having started nothing
  if (Atomics.load(signal, 0) === NOT_NEEDED) process.exit(0);
  const got = receiveMessageOnPort(port);
  port.close();
  if (!got) throw new Error('task worker: no init from the runner');
  return got.message as TaskWorkerInit;
}
