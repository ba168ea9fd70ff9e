/**
 * --memfree SIZE, with GNU Parallel's meaning: a file starts only while at least SIZE is available
 * (the runner's cgroup limit counts; with no file running the next starts anyway), and while tasks run,
 * less than half of SIZE available kills the YOUNGEST running task (never the last one running: a lone
 * task cannot be helped by waiting) and puts it back in the queue, to run again once memory allows. A
 * kill for memory is not a failed attempt and leaves no journal record: the file's record is the one of
 * the attempt that ends it.
 *
 * The engine owns processes and the queue; this module owns the decision, the periodic check and the
 * run's notes about it. The engine tells it when a task starts and ends, and gives it a `kill` for one
 * running task (its process group, or with a Python host serving in-process calls, the host itself).
 */
import { AvailableMemory } from '../monitor';
import { formatBytes } from '../../shared/format';

/** A running task as the gate sees it: an id (the file's index) and when its attempt started (ms). */
export interface RunningTask {
  id: number;
  startedAt: number;
}

/**
 * Which running task to kill for memory: below half of `memFreeBytes` available with at least two
 * running, the youngest (latest start; of equal starts the higher id, the later file); else none.
 */
export function youngestToKill(running: readonly RunningTask[], availableBytes: number, memFreeBytes: number): number | undefined {
  if (!(memFreeBytes > 0) || running.length < 2 || availableBytes >= memFreeBytes / 2) return undefined;
  let young = running[0];
  for (const t of running) if (t.startedAt > young.startedAt || (t.startedAt === young.startedAt && t.id > young.id)) young = t;
  return young.id;
}

export interface MemoryGateOptions {
  /** --memfree in bytes (> 0) */
  memFreeBytes: number;
  /** how many tasks (slots) run now, for the wait before a start */
  running: () => number;
  stopping: () => boolean;
  /** kills the task of this id (SIGTERM, SIGKILL after the grace); the engine knows its processes */
  kill: (id: number, slot: number) => void;
  /** bytes available now; default: AvailableMemory (machine, and the runner's cgroup limit) */
  available?: () => number;
  /** how often running tasks are checked, ms; default 500 */
  intervalMs?: number;
}

export class MemoryGate {
  private readonly available: () => number;
  private readonly tasks = new Map<number, RunningTask & { slot: number }>();
  /** killed for memory, not yet ended: no second kill before the first one's memory is back */
  private readonly dying = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private waits = 0;
  private waitMs = 0;
  private kills = 0;

  constructor(private readonly o: MemoryGateOptions) {
    let mem: AvailableMemory | undefined;
    this.available = o.available ?? (() => (mem ??= new AvailableMemory()).bytes());
  }

  /** Waits while less than SIZE is available and some file still runs (its end frees memory). */
  async waitToStart(): Promise<void> {
    const need = this.o.memFreeBytes;
    if (this.available() >= need) return;
    const t0 = Date.now();
    while (!this.o.stopping() && this.o.running() > 0 && this.available() < need) await new Promise((r) => setTimeout(r, 200));
    this.waits++;
    this.waitMs += Date.now() - t0;
  }

  /** A task's attempt started on `slot`. */
  started(id: number, slot: number, at = Date.now()): void {
    this.tasks.set(id, { id, slot, startedAt: at });
    if (!this.timer && this.tasks.size >= 2) {
      this.timer = setInterval(() => this.check(), this.o.intervalMs ?? 500);
      this.timer.unref();
    }
  }

  /**
   * A task's attempt ended: true when it was killed for memory and did not succeed anyway, so the
   * engine puts it back in the queue instead of recording it.
   */
  ended(id: number, succeeded: boolean): boolean {
    this.tasks.delete(id);
    const wasKilled = this.dying.delete(id);
    if (this.tasks.size < 2 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
    if (!wasKilled || succeeded) return false;
    this.kills++;
    return true;
  }

  /** One check of the running tasks: below half of SIZE, the youngest is killed. */
  check(): void {
    if (this.o.stopping() || this.dying.size > 0) return;
    const id = youngestToKill([...this.tasks.values()], this.available(), this.o.memFreeBytes);
    if (id === undefined) return;
    this.dying.add(id);
    this.o.kill(id, this.tasks.get(id)!.slot);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The run's notes: files that waited to start, tasks killed for memory and run again. */
  notes(): string[] {
    const out: string[] = [];
    const size = formatBytes(this.o.memFreeBytes);
    if (this.waits > 0) {
      out.push(`Memory: ${this.waits} file${this.waits === 1 ? '' : 's'} found less than ${size} available (--memfree) and waited ${(this.waitMs / 1000).toFixed(1)} s in all for running files to end (with none running, a file starts anyway).`);
    }
    if (this.kills > 0) {
      out.push(`Memory: ${this.kills} task${this.kills === 1 ? ' was' : 's were'} killed when less than half of ${size} was available (--memfree) and put back in the queue to run again (the youngest running task goes; the last one running never does; a kill for memory is not a failed attempt).`);
    }
    return out;
  }
}
