/**
 * The one place /proc files are parsed: /proc/stat, /proc/meminfo, /proc/loadavg,
 * /proc/<pid>/stat and /proc/<pid>/status. Pure parsers (unit-tested on recorded fixtures), and
 * `readPidStat` for the callers that read one process's stat file (Linux; undefined elsewhere or
 * when the process is gone). The monitor's sampler, the load watch, process trees, the run lock and
 * tasks spawned from Node all use these.
 */
import * as fs from 'fs';
import * as path from 'path';

/** Clock ticks per second of /proc times (USER_HZ: 100 on every mainstream Linux architecture). */
export const USER_HZ = 100;

export function clampPercent(x: number): number {
  return x < 0 ? 0 : x > 100 ? 100 : x;
}

/** Cumulative CPU time of one CPU line of /proc/stat, in clock ticks. */
export interface CpuTicks {
  /** user + nice + system + irq + softirq + steal (guest time is already inside user/nice) */
  busy: number;
  /** idle + iowait */
  idle: number;
}

/** The `cpu` line and every `cpuN` line of /proc/stat. */
export interface CpuTimes {
  total: CpuTicks;
  /** indexed by position; `ids[i]` is the kernel's cpu number (cpus can be offline, so ids may skip) */
  cores: CpuTicks[];
  ids: number[];
}

/** Parses /proc/stat (only the cpu lines matter). Throws on text without a `cpu ` line. */
export function parseProcStat(text: string): CpuTimes {
  // The cpu lines come first; the `intr` line after them can be many kilobytes: never split it.
  // (At one sample a second V8 runs this in its interpreter, so builtins do the scanning.)
  let end = text.indexOf('\nintr');
  if (end < 0) end = text.length;
  let total: CpuTicks | undefined;
  const cores: CpuTicks[] = [];
  const ids: number[] = [];
  for (const line of text.slice(0, end).split('\n')) {
    if (!line.startsWith('cpu')) continue;
    const f = line.split(' ').filter(Boolean);
    // user nice system idle iowait irq softirq steal (guest is already inside user/nice)
    const n = (i: number): number => Number(f[i] ?? 0) || 0;
    const ticks = { busy: n(1) + n(2) + n(3) + n(6) + n(7) + n(8), idle: n(4) + n(5) };
    if (f[0] === 'cpu') total = ticks;
    else {
      cores.push(ticks);
      ids.push(Number(f[0].slice(3)));
    }
  }
  if (!total) throw new Error('not a /proc/stat text: no "cpu " line');
  return { total, cores, ids };
}

/** Busy percentage (0..100) between two cumulative readings; 0 when no time passed. */
export function cpuPercent(prev: CpuTicks, cur: CpuTicks): number {
  const busy = cur.busy - prev.busy;
  const all = busy + (cur.idle - prev.idle);
  if (all <= 0 || busy < 0) return 0;
  return clampPercent((100 * busy) / all);
}

/** The /proc/meminfo fields the monitor needs, in bytes. */
export interface MemInfo {
  totalBytes: number;
  /** MemAvailable (what can be allocated without swapping); estimated on kernels older than 3.14 */
  availableBytes: number;
  swapTotalBytes: number;
  swapFreeBytes: number;
}

/** Parses /proc/meminfo (values are in kB). */
export function parseMeminfo(text: string): MemInfo {
  const kb = (key: string): number | undefined => {
    const needle = `${key}:`;
    let at = text.startsWith(needle) ? 0 : text.indexOf(`\n${needle}`);
    if (at < 0) return undefined;
    if (at > 0) at += 1;
    const v = parseInt(text.slice(at + needle.length, at + needle.length + 40), 10);
    return Number.isFinite(v) ? v : undefined;
  };
  const total = kb('MemTotal');
  if (total === undefined) throw new Error('not a /proc/meminfo text: no MemTotal');
  const available = kb('MemAvailable') ?? (kb('MemFree') ?? 0) + (kb('Buffers') ?? 0) + (kb('Cached') ?? 0);
  return {
    totalBytes: total * 1024,
    availableBytes: available * 1024,
    swapTotalBytes: (kb('SwapTotal') ?? 0) * 1024,
    swapFreeBytes: (kb('SwapFree') ?? 0) * 1024,
  };
}

/** Parses /proc/loadavg: the 1, 5 and 15 minute load averages. */
export function parseLoadavg(text: string): [number, number, number] {
  const [a, b, c] = text.trim().split(/\s+/).map(Number);
  if (![a, b, c].every(Number.isFinite)) throw new Error('not a /proc/loadavg text');
  return [a, b, c];
}

/** Fields of /proc/<pid>/stat (the monitor, the load watch, process trees, the run lock, tasks spawned from Node). */
export interface PidStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  /** process group id */
  pgid: number;
  /** utime + stime of the process itself, clock ticks */
  ticks: number;
  /** cutime + cstime: children it has already waited for, clock ticks */
  childTicks: number;
  /** utime + cutime: user time of the process and its waited-for children, clock ticks */
  userTicks: number;
  /** stime + cstime: system time of the process and its waited-for children, clock ticks */
  sysTicks: number;
  /** start time after boot, clock ticks */
  startTicks: number;
  threads: number;
  rssPages: number;
}

/**
 * Parses /proc/<pid>/stat. The command name (field 2, in parentheses) may itself hold spaces and
 * parentheses, so the fields are read after the LAST ')'.
 */
export function parseProcPidStat(text: string): PidStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error('not a /proc/<pid>/stat text');
  const rest = text.slice(close + 2).trim().split(/\s+/);
  // rest[0] is field 3 (state); field n is rest[n - 3]
  const f = (n: number): number => Number(rest[n - 3]);
  return {
    pid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    state: rest[0],
    ppid: f(4),
    pgid: f(5),
    ticks: f(14) + f(15),
    childTicks: f(16) + f(17),
    userTicks: f(14) + f(16),
    sysTicks: f(15) + f(17),
    threads: f(20),
    startTicks: f(22),
    rssPages: f(24),
  };
}

/** Fields of /proc/<pid>/status. */
export interface PidStatus {
  name: string;
  ppid: number;
  rssBytes: number;
  /** VmHWM, the peak resident set, kB (undefined where the kernel gives none: kernel threads) */
  hwmKb?: number;
  swapBytes: number;
  threads: number;
}

/** Parses /proc/<pid>/status (VmRSS and VmSwap are in kB; kernel threads have none). */
export function parseProcPidStatus(text: string): PidStatus {
  const get = (key: string): string | undefined => new RegExp(`^${key}:\\s*(.*)$`, 'm').exec(text)?.[1].trim();
  const kb = (key: string): number => Number(/^(\d+)/.exec(get(key) ?? '')?.[1] ?? 0) * 1024;
  const hwm = /^(\d+)/.exec(get('VmHWM') ?? '');
  return {
    name: get('Name') ?? '',
    ppid: Number(get('PPid') ?? 0),
    rssBytes: kb('VmRSS'),
    ...(hwm ? { hwmKb: Number(hwm[1]) } : {}),
    swapBytes: kb('VmSwap'),
    threads: Number(get('Threads') ?? 0),
  };
}

/**
 * /proc/<pid>/stat of one process, parsed; undefined when it is gone (or there is no /proc). Read as
 * latin1: a command name that is not UTF-8 keeps its bytes, and the numbers are the same either way.
 */
export function readPidStat(pid: number | string, root = '/'): PidStat | undefined {
  try {
    return parseProcPidStat(fs.readFileSync(path.join(root, 'proc', String(pid), 'stat'), 'latin1'));
  } catch {
    return undefined;
  }
}

/** /proc/<pid>/status of one process, parsed; undefined when it is gone (or there is no /proc). */
export function readPidStatus(pid: number | string, root = '/'): PidStatus | undefined {
  try {
    return parseProcPidStatus(fs.readFileSync(path.join(root, 'proc', String(pid), 'status'), 'utf8'));
  } catch {
    return undefined;
  }
}
