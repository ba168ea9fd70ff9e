/**
 * Load awareness: how much CPU OTHER processes used while something was being measured. A speedup
 * measured while another program keeps a core busy is pessimistic, and the user must be told.
 *
 * Cores used by others = (busy ticks of the whole machine, from /proc/stat) − (CPU ticks of the
 * measurement's own process tree, from /proc/<pid>/stat), over wall time. The tree's ticks are each
 * member's own time plus the time of children it has already waited for, so a task that starts and
 * ends between two readings is still counted as ours. Parsing is procfs.ts's; this module only adds
 * up. Linux only: elsewhere nothing is sampled and nothing is claimed.
 */
import * as fs from 'fs';
import * as path from 'path';
import { BUSY_CORES } from '../shared/figures';
import { parseProcStat, type PidStat, readPidStat, USER_HZ } from './procfs';
import type { LoadSummary } from './run/types';

/** One reading of the machine's and the tree's cumulative CPU ticks. */
export interface LoadReading {
  /** epoch ms */
  t: number;
  /** busy ticks of all CPUs (user, nice, system, irq, softirq, steal) */
  machineTicks: number;
  /** ticks of the tree rooted at the measured pid, waited-for children included */
  treeTicks: number;
  /** online logical CPUs */
  cores: number;
}

export interface ReadOptions {
  /** filesystem root holding proc/ (tests point it at recorded fixtures); default '/' */
  root?: string;
  /** root of the measurement's own tree; default this process */
  pid?: number;
  /** the reading's time, epoch ms (default now) */
  t?: number;
}

/** CPU ticks of the tree rooted at `pid` in a set of parsed /proc/<pid>/stat records. */
export function treeTicks(stats: readonly PidStat[], pid: number): number {
  const children = new Map<number, PidStat[]>();
  const byPid = new Map<number, PidStat>();
  for (const st of stats) {
    byPid.set(st.pid, st);
    const list = children.get(st.ppid);
    if (list) list.push(st);
    else children.set(st.ppid, [st]);
  }
  let ticks = 0;
  const stack = byPid.has(pid) ? [byPid.get(pid)!] : [];
  const seen = new Set<number>();
  while (stack.length) {
    const st = stack.pop()!;
    if (seen.has(st.pid)) continue;
    seen.add(st.pid);
    ticks += st.ticks + st.childTicks;
    stack.push(...(children.get(st.pid) ?? []));
  }
  return ticks;
}

/** Reads the machine's and the tree's ticks now; undefined where /proc is missing (not Linux). */
export function readLoad(opts: ReadOptions = {}): LoadReading | undefined {
  const root = opts.root ?? '/';
  const proc = path.join(root, 'proc');
  let machine;
  try {
    machine = parseProcStat(fs.readFileSync(path.join(proc, 'stat'), 'latin1'));
  } catch {
    return undefined;
  }
  // the time of the machine's reading (walking /proc below can take a while on a loaded machine)
  const t = opts.t ?? Date.now();
  const stats: PidStat[] = [];
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(proc);
  } catch {
    return undefined;
  }
  for (const e of entries) {
    const c = e.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const st = readPidStat(e, root);
    if (st) stats.push(st); // else it exited between readdir and read
  }
  return {
    t,
    machineTicks: machine.total.busy,
    treeTicks: treeTicks(stats, opts.pid ?? process.pid),
    cores: Math.max(1, machine.cores.length),
  };
}

/** Cores' worth of CPU used by processes outside the tree between two readings (never negative). */
export function othersCores(a: LoadReading, b: LoadReading): number {
  const sec = (b.t - a.t) / 1000;
  if (!(sec > 0)) return 0;
  const others = (b.machineTicks - a.machineTicks) - (b.treeTicks - a.treeTicks);
  return Math.max(0, others / USER_HZ / sec);
}

/**
 * The verdict from a reading before the measurement and readings during it (oldest first).
 * `before` is the [start, end] of the window before; `during` starts with the measurement's start.
 */
export function summariseLoad(before: [LoadReading, LoadReading] | null, during: readonly LoadReading[], threshold = BUSY_CORES): LoadSummary | undefined {
  const beforeCores = before ? othersCores(before[0], before[1]) : null;
  const duringCores = during.length >= 2 ? othersCores(during[0], during[during.length - 1]) : null;
  let peak = Math.max(0, beforeCores ?? 0);
  for (let i = 1; i < during.length; i++) peak = Math.max(peak, othersCores(during[i - 1], during[i]));
  const samples = Math.max(0, during.length - 1) + (before ? 1 : 0);
  if (samples === 0) return undefined;
  const figure = duringCores ?? beforeCores ?? 0;
  const cores = (during[0] ?? before?.[0])?.cores ?? 1;
  return {
    othersCores: round2(figure),
    beforeCores: beforeCores === null ? null : round2(beforeCores),
    duringCores: duringCores === null ? null : round2(duringCores),
    peakCores: round2(peak),
    samples,
    busy: figure > threshold,
    cores,
  };
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

export interface LoadWatchOptions extends Omit<ReadOptions, 't'> {
  /** how long to sample before the measurement (ms); 0 = no window before. Default 0. */
  beforeMs?: number;
  /** sampling period during the measurement (ms); default 1000 */
  intervalMs?: number;
  /** busy threshold in cores; default a fifth of a core */
  threshold?: number;
}

/**
 * Samples the load before (optionally) and during a measurement:
 * `const w = await LoadWatch.start(); …measure…; const load = w.stop();`
 * The timer never keeps a process alive. Off Linux, stop() returns undefined.
 */
export class LoadWatch {
  private readonly during: LoadReading[] = [];
  private timer: NodeJS.Timeout | undefined;
  private stopped: LoadSummary | undefined | null = null;

  private constructor(private readonly opts: LoadWatchOptions, private readonly before: [LoadReading, LoadReading] | null) {
    const first = this.read();
    if (!first) return;
    this.during.push(first);
    this.timer = setInterval(() => {
      const r = this.read();
      if (r) this.during.push(r);
    }, Math.max(50, opts.intervalMs ?? 1000));
    this.timer.unref();
  }

  /** Starts sampling now, with no window before. */
  static now(opts: Omit<LoadWatchOptions, 'beforeMs'> = {}): LoadWatch {
    return new LoadWatch(opts, null);
  }

  static async start(opts: LoadWatchOptions = {}): Promise<LoadWatch> {
    let before: [LoadReading, LoadReading] | null = null;
    const ms = opts.beforeMs ?? 0;
    if (ms > 0) {
      const a = readLoad(opts);
      if (a) {
        await new Promise((r) => setTimeout(r, ms));
        const b = readLoad(opts);
        if (b) before = [a, b];
      }
    }
    return new LoadWatch(opts, before);
  }

  /** The summary so far, without stopping (a live run's report). */
  current(): LoadSummary | undefined {
    if (this.stopped !== null) return this.stopped;
    return summariseLoad(this.before, this.during, this.opts.threshold);
  }

  /** Takes a last reading, stops sampling and returns the verdict (the same on every later call). */
  stop(): LoadSummary | undefined {
    if (this.stopped !== null) return this.stopped;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const last = this.read();
    if (last && this.during.length && last.t > this.during[this.during.length - 1].t) this.during.push(last);
    this.stopped = summariseLoad(this.before, this.during, this.opts.threshold);
    return this.stopped;
  }

  private read(): LoadReading | undefined {
    return readLoad({ root: this.opts.root, pid: this.opts.pid });
  }
}
