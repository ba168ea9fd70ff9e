/**
 * CPU/RAM sampler. On Linux it reads /proc and the cgroup files directly — never spawns
 * `top`/`ps` — through file descriptors it keeps open (a pread of /proc/stat costs ~60 µs, opening it
 * again each time ~7x more). Elsewhere it falls back to os.cpus()/os.totalmem()/os.freemem().
 *
 * Container/allocation aware: when a cgroup (v1 or v2) limits CPU (cpu.max / cfs quota, cpuset) or
 * memory (memory.max / memory.limit_in_bytes) — a container or a Slurm allocation — the headline
 * numbers are usage against that limit, and `describeLimits` says so.
 *
 * The /proc parsers are procfs.ts's; the cgroup parsing here is pure and exported so unit tests run
 * it on recorded fixtures.
 * No `vscode` import: the host owns one Sampler per window and shares it.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { CgroupLimits, HistoryPoint, ProcessSample, SystemSample } from '../shared/monitorTypes';
import { clampPercent, type CpuTimes, cpuPercent, parseLoadavg, parseMeminfo, parseProcPidStat, parseProcPidStatus, parseProcStat, type PidStat, USER_HZ } from './procfs';
import { timerMs } from './timers';

export type { CgroupLimits, HistoryPoint, ProcessSample, SystemSample };

// ---------------------------------------------------------------------------------------------
// Pure parsing

/** One line of /proc/<pid>/cgroup: `id:controllers:path` (v2 is `0::path`). */
export interface CgroupMembership {
  id: number;
  controllers: string[];
  path: string;
}

export function parseProcCgroup(text: string): CgroupMembership[] {
  const out: CgroupMembership[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (m) out.push({ id: Number(m[1]), controllers: m[2] ? m[2].split(',') : [], path: m[3] });
  }
  return out;
}

/** A cgroup filesystem mount from /proc/self/mountinfo. */
export interface CgroupMount {
  /** the path inside the hierarchy that is mounted here ('/' unless a container bind-mounted its own) */
  root: string;
  mountPoint: string;
  version: 1 | 2;
  /** v1: the controllers bound to this hierarchy (from the super options); v2: [] */
  controllers: string[];
}

/** The cgroup (v1 and v2) mounts listed in /proc/self/mountinfo. */
export function parseMountinfo(text: string): CgroupMount[] {
  const out: CgroupMount[] = [];
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const [fsType, , superOptions = ''] = line.slice(sep + 3).split(' ');
    if (fsType !== 'cgroup' && fsType !== 'cgroup2') continue;
    const unescape = (s: string): string => s.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    out.push({
      root: unescape(left[3]),
      mountPoint: unescape(left[4]),
      version: fsType === 'cgroup2' ? 2 : 1,
      controllers: fsType === 'cgroup2' ? [] : superOptions.split(',').filter((o) => !['rw', 'ro'].includes(o) && !o.includes('=')),
    });
  }
  return out;
}

/** cgroup v2 `cpu.max` ("max 100000" or "150000 100000") → cores allowed, undefined when unlimited. */
export function parseCpuMax(text: string): number | undefined {
  const [quota, period] = text.trim().split(/\s+/);
  if (quota === 'max' || quota === undefined) return undefined;
  return cfsCores(Number(quota), Number(period ?? 100000));
}

/** cgroup v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us` → cores allowed, undefined when unlimited (-1). */
export function parseCfsQuota(quotaText: string, periodText: string): number | undefined {
  return cfsCores(Number(quotaText.trim()), Number(periodText.trim()));
}

function cfsCores(quota: number, period: number): number | undefined {
  if (!Number.isFinite(quota) || quota <= 0 || !Number.isFinite(period) || period <= 0) return undefined;
  return quota / period;
}

/**
 * A memory limit file (v2 `memory.max`, v1 `memory.limit_in_bytes`) → bytes, undefined when unlimited.
 * v1 spells "unlimited" as a huge page-aligned number near 2^63.
 */
export function parseMemoryLimit(text: string): number | undefined {
  const t = text.trim();
  if (t === 'max' || t === '') return undefined;
  const n = Number(t);
  if (!Number.isFinite(n) || n <= 0 || n >= 2 ** 60) return undefined;
  return n;
}

/** A cpu list such as "0-3,8,10-11" (cpuset.cpus) → the cpu numbers. */
export function parseCpuList(text: string): number[] {
  const ids: number[] = [];
  for (const part of text.trim().split(',')) {
    if (!part) continue;
    const [a, b] = part.split('-').map(Number);
    if (!Number.isInteger(a)) continue;
    for (let i = a; i <= (Number.isInteger(b) ? b : a); i++) ids.push(i);
  }
  return ids;
}

/** "key value" lines (memory.stat, cpu.stat) → map. */
export function parseFlatKeyed(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && Number.isFinite(Number(v))) out.set(k, Number(v));
  }
  return out;
}

/** Where each resource's cgroup directory is (absolute, before any fixture root is prefixed). */
export interface CgroupLocation {
  /** the cgroup path of the memory controller (or the v2 path) as /proc/self/cgroup shows it */
  path: string;
  cpu?: { version: 1 | 2; dir: string; mountPoint: string };
  cpuacct?: { version: 1 | 2; dir: string; mountPoint: string };
  cpuset?: { version: 1 | 2; dir: string; mountPoint: string };
  memory?: { version: 1 | 2; dir: string; mountPoint: string };
}

/**
 * Finds the cgroup directories of this process for cpu, cpuacct, cpuset and memory. A controller
 * bound to a v1 hierarchy is read there; everything else is read from the v2 unified hierarchy
 * (on a hybrid host the unified mount carries no controllers, so v1 wins, as the kernel does).
 */
export function locateCgroup(procCgroup: string, mountinfo: string): CgroupLocation | undefined {
  const members = parseProcCgroup(procCgroup);
  const mounts = parseMountinfo(mountinfo);
  if (!members.length || !mounts.length) return undefined;
  const loc: CgroupLocation = { path: '/' };
  const resolve = (mount: CgroupMount, cgPath: string): string => {
    // A container sees its own cgroup as the mount root: map the path below it, or use the mount itself.
    let rel = cgPath;
    if (mount.root !== '/') rel = cgPath.startsWith(mount.root) ? cgPath.slice(mount.root.length) : '/';
    const dir = path.posix.join(mount.mountPoint, rel || '/');
    return dir.length > 1 && dir.endsWith('/') ? dir.slice(0, -1) : dir;
  };
  const v2member = members.find((m) => m.id === 0 && m.controllers.length === 0);
  const v2mount = mounts.find((m) => m.version === 2);
  for (const controller of ['cpu', 'cpuacct', 'cpuset', 'memory'] as const) {
    const member = members.find((m) => m.controllers.includes(controller));
    const mount = member && mounts.find((m) => m.version === 1 && m.controllers.includes(controller));
    if (member && mount) {
      loc[controller] = { version: 1, dir: resolve(mount, member.path), mountPoint: mount.mountPoint };
      if (controller === 'memory') loc.path = member.path;
    } else if (v2member && v2mount) {
      // v2 has no cpuacct controller: CPU usage lives in cpu.stat of the same directory
      loc[controller] = { version: 2, dir: resolve(v2mount, v2member.path), mountPoint: v2mount.mountPoint };
      if (controller === 'memory') loc.path = v2member.path;
    }
  }
  return loc.cpu || loc.memory || loc.cpuset ? loc : undefined;
}

// ---------------------------------------------------------------------------------------------
// Samples

/** A one-paragraph explanation of the cgroup limits for the tooltip; undefined when none apply. */
export function describeLimits(limits: CgroupLimits | undefined, hostCores: number, hostMemBytes: number): string | undefined {
  if (!limits) return undefined;
  const parts: string[] = [];
  if (limits.cpuQuotaCores !== undefined) parts.push(`CPU ${round1(limits.cpuQuotaCores)} of ${hostCores} cores`);
  if (limits.cpuset) parts.push(`cores ${formatCpuList(limits.cpuset)} (${limits.cpuset.length} of ${hostCores})`);
  if (limits.memoryBytes !== undefined) parts.push(`memory ${formatGiB(limits.memoryBytes)} of ${formatGiB(hostMemBytes)} GB`);
  if (!parts.length) return undefined;
  return `Limited by cgroup v${limits.version} ${limits.path} (${limits.sources.join(', ')}): ${parts.join(', ')}. ` +
    'CPU and RAM percentages are of this limit (a container or a Slurm allocation).';
}

/** [0,1,2,3,6] → "0-3,6" */
export function formatCpuList(ids: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < ids.length; i++) {
    let j = i;
    while (j + 1 < ids.length && ids[j + 1] === ids[j] + 1) j++;
    parts.push(j > i ? `${ids[i]}-${ids[j]}` : `${ids[i]}`);
    i = j;
  }
  return parts.join(',');
}

function formatGiB(bytes: number): string {
  const g = bytes / 2 ** 30;
  return g >= 10 ? g.toFixed(0) : g.toFixed(1);
}
function round1(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(1);
}

// ---------------------------------------------------------------------------------------------
// File access


/** Reads small pseudo-files, keeping hot ones open so each sample is one pread per file. */
class FileReader {
  private readonly open = new Map<string, number>();
  private buf = Buffer.allocUnsafe(16 * 1024);

  constructor(private readonly root: string) {}

  /** Text of `file` (absolute, under the root), or undefined when it cannot be read. */
  read(file: string, keepOpen = false): string | undefined {
    const full = this.root === '/' ? file : path.join(this.root, file);
    let fd = this.open.get(full);
    const cached = fd !== undefined;
    try {
      if (fd === undefined) fd = fs.openSync(full, 'r');
      let n = 0;
      for (;;) {
        const room = this.buf.length - n;
        const got = fs.readSync(fd, this.buf, n, room, n);
        n += got;
        // procfs/sysfs fill the buffer as far as they can: a short read is the end (saves a syscall per file)
        if (got < room) break;
        const bigger = Buffer.allocUnsafe(this.buf.length * 2);
        this.buf.copy(bigger);
        this.buf = bigger;
      }
      if (keepOpen && !cached) this.open.set(full, fd);
      else if (!keepOpen) fs.closeSync(fd);
      return this.buf.toString('latin1', 0, n);
    } catch {
      if (fd !== undefined) {
        this.open.delete(full);
        try { fs.closeSync(fd); } catch { /* already closed */ }
      }
      return undefined;
    }
  }

  list(dir: string): string[] {
    try {
      return fs.readdirSync(this.root === '/' ? dir : path.join(this.root, dir));
    } catch {
      return [];
    }
  }

  exists(file: string): boolean {
    return fs.existsSync(this.root === '/' ? file : path.join(this.root, file));
  }

  close(): void {
    for (const fd of this.open.values()) {
      try { fs.closeSync(fd); } catch { /* ignore */ }
    }
    this.open.clear();
  }
}

/** Reads the cgroup limits and usage of this process's cgroup. */
class CgroupReader {
  constructor(private readonly files: FileReader, readonly loc: CgroupLocation) {}

  /** Limits along the path from our cgroup up to the mount point: the tightest wins (Slurm sets them on the job, not the step). */
  limits(onlineCores: number, hostMemBytes: number): CgroupLimits | undefined {
    const { loc } = this;
    const sources: string[] = [];
    let cpuQuotaCores: number | undefined;
    if (loc.cpu) {
      for (const dir of this.ancestors(loc.cpu.dir, loc.cpu.mountPoint)) {
        const cores = loc.cpu.version === 2
          ? parseCpuMax(this.files.read(`${dir}/cpu.max`, true) ?? 'max')
          : parseCfsQuota(this.files.read(`${dir}/cpu.cfs_quota_us`, true) ?? '-1', this.files.read(`${dir}/cpu.cfs_period_us`, true) ?? '100000');
        if (cores !== undefined && cores < onlineCores && (cpuQuotaCores === undefined || cores < cpuQuotaCores)) cpuQuotaCores = cores;
      }
      if (cpuQuotaCores !== undefined) sources.push(loc.cpu.version === 2 ? 'cpu.max' : 'cpu.cfs_quota_us');
    }
    let cpuset: number[] | undefined;
    if (loc.cpuset) {
      const file = loc.cpuset.version === 2 ? 'cpuset.cpus.effective' : 'cpuset.effective_cpus';
      const text = this.files.read(`${loc.cpuset.dir}/${file}`, true) ?? this.files.read(`${loc.cpuset.dir}/cpuset.cpus`, true);
      const ids = text ? parseCpuList(text) : [];
      if (ids.length && ids.length < onlineCores) {
        cpuset = ids;
        sources.push(loc.cpuset.version === 2 ? 'cpuset.cpus.effective' : 'cpuset.cpus');
      }
    }
    let memoryBytes: number | undefined;
    if (loc.memory) {
      const file = loc.memory.version === 2 ? 'memory.max' : 'memory.limit_in_bytes';
      for (const dir of this.ancestors(loc.memory.dir, loc.memory.mountPoint)) {
        const bytes = parseMemoryLimit(this.files.read(`${dir}/${file}`, true) ?? 'max');
        if (bytes !== undefined && bytes < hostMemBytes && (memoryBytes === undefined || bytes < memoryBytes)) memoryBytes = bytes;
      }
      if (memoryBytes !== undefined) sources.push(file);
    }
    if (cpuQuotaCores === undefined && !cpuset && memoryBytes === undefined) return undefined;
    const version = (loc.memory ?? loc.cpu ?? loc.cpuset)!.version;
    return { version, path: loc.path, cpuQuotaCores, cpuset, memoryBytes, sources };
  }

  /** Cumulative CPU time of the cgroup in microseconds. */
  cpuUsageMicros(): number | undefined {
    const { loc } = this;
    if (loc.cpuacct?.version === 1) {
      const ns = Number(this.files.read(`${loc.cpuacct.dir}/cpuacct.usage`, true)?.trim());
      return Number.isFinite(ns) ? ns / 1000 : undefined;
    }
    if (loc.cpu?.version === 2) return parseFlatKeyed(this.files.read(`${loc.cpu.dir}/cpu.stat`, true) ?? '').get('usage_usec');
    return undefined;
  }

  /** Memory charged to the cgroup minus reclaimable inactive page cache (what `docker stats` shows). */
  memoryUsedBytes(): number | undefined {
    const m = this.loc.memory;
    if (!m) return undefined;
    const usage = Number(this.files.read(`${m.dir}/${m.version === 2 ? 'memory.current' : 'memory.usage_in_bytes'}`, true)?.trim());
    if (!Number.isFinite(usage)) return undefined;
    const stat = parseFlatKeyed(this.files.read(`${m.dir}/memory.stat`, true) ?? '');
    const inactive = stat.get(m.version === 2 ? 'inactive_file' : 'total_inactive_file') ?? 0;
    return Math.max(0, usage - inactive);
  }

  private ancestors(dir: string, mountPoint: string): string[] {
    const out: string[] = [];
    for (let d = dir; d.startsWith(mountPoint); d = path.posix.dirname(d)) {
      out.push(d);
      if (d === mountPoint || d === '/') break;
    }
    return out;
  }
}

/**
 * The memory a new process can get now (for --memfree): the machine's MemAvailable, and when a cgroup
 * (a container, a Slurm job) limits memory, no more than that limit minus what the cgroup uses. Cheap
 * enough to ask before every task: /proc/meminfo and two cgroup files, the limit looked up once.
 */
export class AvailableMemory {
  private readonly files: FileReader;
  private cgroup: CgroupReader | undefined | null = null; // null = not looked up yet
  private limit: number | undefined;

  constructor(root = '/', private readonly linux = process.platform === 'linux') {
    this.files = new FileReader(root);
  }

  bytes(): number {
    if (!this.linux) return os.freemem();
    const meminfo = this.files.read('/proc/meminfo', true);
    if (!meminfo) return os.freemem();
    const mem = parseMeminfo(meminfo);
    let available = mem.availableBytes;
    if (this.cgroup === null) {
      const loc = locateCgroup(this.files.read('/proc/self/cgroup') ?? '', this.files.read('/proc/self/mountinfo') ?? '');
      this.cgroup = loc ? new CgroupReader(this.files, loc) : undefined;
      this.limit = this.cgroup?.limits(Number.MAX_SAFE_INTEGER, mem.totalBytes)?.memoryBytes;
    }
    if (this.cgroup && this.limit !== undefined) {
      const used = this.cgroup.memoryUsedBytes();
      if (used !== undefined) available = Math.min(available, Math.max(0, this.limit - used));
    }
    return available;
  }
}

// ---------------------------------------------------------------------------------------------
// The sampler

export interface SamplerOptions {
  /** sampling period while someone listens; default 1000 ms */
  intervalMs?: number;
  /** filesystem root under which /proc and /sys are read (tests point it at fixtures); default '/' */
  root?: string;
  /** default process.platform; anything but 'linux' uses the os module */
  platform?: NodeJS.Platform;
  /** how much history to keep; default 10 minutes */
  historyMs?: number;
  /** how often the (rarely changing) cgroup limits are re-read; default 10 s */
  limitsRefreshMs?: number;
  /** the clock, epoch ms; tests may pass their own */
  now?: () => number;
}

/** Unsubscribes a listener (the sampler pauses when the last one leaves). */
export type Unsubscribe = () => void;

/**
 * One sampler per window, shared by every consumer (status bar, monitor panel, run reports).
 * It runs only while at least one listener is subscribed: unsubscribe to pause it.
 */
export class Sampler {
  private readonly listeners = new Set<(s: SystemSample) => void>();
  private readonly files: FileReader;
  private readonly linux: boolean;
  private readonly historyMs: number;
  private readonly limitsRefreshMs: number;
  private readonly now: () => number;
  private intervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  private prevCpu: CpuTimes | undefined;
  private prevCgroupCpu: { micros: number; at: number } | undefined;
  private prevProc = new Map<number, { ticks: number; at: number }>();
  private cgroup: CgroupReader | undefined | null = null; // null = not looked up yet
  private limitsCache: { limits: CgroupLimits | undefined; at: number } | undefined;
  private loadCache: { load: [number, number, number] | undefined; at: number } | undefined;
  private last: SystemSample | undefined;
  private readonly points: HistoryPoint[] = [];
  private processSource: (() => number[]) | undefined;
  private groupLeadersOf: number | undefined;
  private disposed = false;

  constructor(opts: SamplerOptions = {}) {
    this.files = new FileReader(opts.root ?? '/');
    this.linux = (opts.platform ?? process.platform) === 'linux';
    this.intervalMs = Math.max(50, timerMs(opts.intervalMs ?? 1000));
    this.historyMs = opts.historyMs ?? 10 * 60_000;
    this.limitsRefreshMs = opts.limitsRefreshMs ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  /** Adds a listener for every new sample; starts sampling if it was paused. */
  subscribe(listener: (s: SystemSample) => void): Unsubscribe {
    if (this.disposed) throw new Error('Sampler is disposed');
    this.listeners.add(listener);
    if (!this.timer) this.start();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  /** True while sampling (someone is subscribed). */
  get running(): boolean {
    return this.timer !== undefined;
  }

  get interval(): number {
    return this.intervalMs;
  }

  /** Changes the period; takes effect at the next tick. */
  setIntervalMs(ms: number): void {
    this.intervalMs = Math.max(50, timerMs(ms));
    if (this.timer) {
      this.stop();
      this.start();
    }
  }

  /**
   * Watch these processes (a run's workers) and their descendants; undefined stops watching.
   * `groupLeadersOf`: when the source has no pids, watch the direct children of that pid that lead
   * their own process group (how the engine starts every task), so a run's processes show even
   * when its engine does not publish them.
   */
  watchProcesses(source: (() => number[]) | undefined, opts: { groupLeadersOf?: number } = {}): void {
    this.processSource = source;
    this.groupLeadersOf = source ? opts.groupLeadersOf : undefined;
    if (!source) this.prevProc.clear();
  }

  /** The most recent sample, if any. */
  latest(): SystemSample | undefined {
    return this.last;
  }

  /** Compact samples of the last `historyMs` (oldest first), gaps where the sampler was paused. */
  history(): HistoryPoint[] {
    return this.points.slice();
  }

  /**
   * Takes one sample now (synchronously; pseudo-files cost microseconds). CPU percentages are
   * over the time since the previous sample; the first one after a pause covers the time since boot.
   */
  sample(): SystemSample {
    const t = this.now();
    const s = this.linux ? this.sampleLinux(t) ?? this.sampleOs(t) : this.sampleOs(t);
    this.last = s;
    this.points.push({ t, cpu: s.cpu.total, cores: s.cpu.cores, memUsed: s.memory.usedBytes, memTotal: s.memory.totalBytes, swapUsed: s.memory.swapUsedBytes });
    while (this.points.length && this.points[0].t < t - this.historyMs) this.points.shift();
    return s;
  }

  dispose(): void {
    this.disposed = true;
    this.listeners.clear();
    this.stop();
    this.files.close();
  }

  private start(): void {
    // prime the tick counters so the first emitted sample covers one interval, not the time since boot
    this.sampleQuietly();
    // one re-armed interval timer: cheaper than a new timeout per tick
    this.timer = setInterval(() => {
      const s = this.sampleQuietly();
      if (!s) return;
      for (const l of [...this.listeners]) {
        try {
          l(s);
        } catch {
          // one consumer's bug must not stop the others' samples
        }
      }
    }, this.intervalMs);
    this.timer.unref(); // never keep a CLI or test process alive just to sample
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private sampleQuietly(): SystemSample | undefined {
    try {
      return this.sample();
    } catch {
      return undefined;
    }
  }

  private sampleLinux(t: number): SystemSample | undefined {
    const statText = this.files.read('/proc/stat', true);
    const memText = this.files.read('/proc/meminfo', true);
    if (!statText || !memText) return undefined;
    const cpu = parseProcStat(statText);
    const mem = parseMeminfo(memText);
    // the kernel recomputes load averages every 5 s (LOAD_FREQ): reading them more often is waste
    if (!this.loadCache || t - this.loadCache.at >= 5000 || t < this.loadCache.at) {
      const loadText = this.files.read('/proc/loadavg', true);
      this.loadCache = { load: loadText ? parseLoadavg(loadText) : undefined, at: t };
    }
    const load = this.loadCache.load;

    const online = cpu.cores.length || os.cpus().length || 1;
    const limits = this.limits(t, online, mem.totalBytes);
    const prev = this.prevCpu && this.prevCpu.cores.length === cpu.cores.length ? this.prevCpu : undefined;
    const zero = { busy: 0, idle: 0 };
    const allCores = cpu.cores.map((c, i) => cpuPercent(prev?.cores[i] ?? zero, c));
    const hostTotal = cpuPercent(prev?.total ?? zero, cpu.total);
    this.prevCpu = cpu;

    let cores = allCores;
    let coreIds = cpu.ids;
    let total = hostTotal;
    let capacity = online;
    if (limits?.cpuset) {
      const allowed = new Set(limits.cpuset);
      const keep = cpu.ids.map((id, i) => (allowed.has(id) ? i : -1)).filter((i) => i >= 0);
      cores = keep.map((i) => allCores[i]);
      coreIds = keep.map((i) => cpu.ids[i]);
      capacity = keep.length || online;
      total = cores.length ? cores.reduce((a, b) => a + b, 0) / cores.length : hostTotal;
    }
    if (limits?.cpuQuotaCores !== undefined) capacity = Math.min(capacity, limits.cpuQuotaCores);
    if (limits && (limits.cpuQuotaCores !== undefined || limits.cpuset)) {
      // usage against the allocation: the cgroup's own CPU time over wall time × allowed cores
      const micros = this.cgroup?.cpuUsageMicros();
      if (micros !== undefined) {
        const p = this.prevCgroupCpu;
        if (p && t > p.at) total = clampPercent(((micros - p.micros) / 1000 / (t - p.at) / capacity) * 100);
        this.prevCgroupCpu = { micros, at: t };
      }
    }

    const hostUsed = mem.totalBytes - mem.availableBytes;
    let usedBytes = hostUsed;
    let totalBytes = mem.totalBytes;
    if (limits?.memoryBytes !== undefined) {
      totalBytes = limits.memoryBytes;
      usedBytes = this.cgroup?.memoryUsedBytes() ?? hostUsed;
    }
    return {
      t,
      cpu: { total, hostTotal, cores, coreIds, capacityCores: capacity },
      load,
      memory: {
        usedBytes,
        totalBytes,
        hostUsedBytes: hostUsed,
        hostTotalBytes: mem.totalBytes,
        swapUsedBytes: mem.swapTotalBytes - mem.swapFreeBytes,
        swapTotalBytes: mem.swapTotalBytes,
        percent: totalBytes > 0 ? clampPercent((100 * usedBytes) / totalBytes) : 0,
      },
      limits,
      processes: this.sampleProcesses(t),
    };
  }

  private limits(t: number, online: number, hostMem: number): CgroupLimits | undefined {
    if (this.limitsCache && t - this.limitsCache.at < this.limitsRefreshMs) return this.limitsCache.limits;
    if (this.cgroup === null) {
      const loc = locateCgroup(this.files.read('/proc/self/cgroup') ?? '', this.files.read('/proc/self/mountinfo') ?? '');
      this.cgroup = loc ? new CgroupReader(this.files, loc) : undefined;
    }
    const limits = this.cgroup?.limits(online, hostMem);
    this.limitsCache = { limits, at: t };
    return limits;
  }

  /** The watched pids with their descendants (found through the ppid of every process). */
  private sampleProcesses(t: number): ProcessSample[] {
    if (!this.processSource) {
      this.prevProc.clear();
      return [];
    }
    const given = this.processSource();
    if (!given.length && this.groupLeadersOf === undefined) {
      this.prevProc.clear();
      return [];
    }
    // one pass over /proc builds the process tree; only done while a run is being watched
    const stats = new Map<number, PidStat>();
    const children = new Map<number, number[]>();
    for (const entry of this.files.list('/proc')) {
      const code = entry.charCodeAt(0);
      if (code < 48 || code > 57) continue;
      const text = this.files.read(`/proc/${entry}/stat`);
      if (!text) continue;
      try {
        const st = parseProcPidStat(text);
        stats.set(st.pid, st);
        const list = children.get(st.ppid);
        if (list) list.push(st.pid);
        else children.set(st.ppid, [st.pid]);
      } catch {
        // the process exited between readdir and read
      }
    }
    let roots = given;
    if (!given.length && this.groupLeadersOf !== undefined) {
      // tasks lead their own groups; the engine's own helpers (e.g. its watchdog) run the parent's
      // executable, tasks run the user's interpreter: skip children with the parent's command name
      const parentComm = stats.get(this.groupLeadersOf)?.comm;
      roots = (children.get(this.groupLeadersOf) ?? []).filter((pid) => stats.get(pid)?.pgid === pid && stats.get(pid)?.comm !== parentComm);
    }
    const uptimeTicks = Number((this.files.read('/proc/uptime') ?? '').split(' ')[0]) * USER_HZ;
    const seen = new Map<number, { ticks: number; at: number }>();
    const out: ProcessSample[] = [];
    for (const pid of new Set(roots)) {
      const root = stats.get(pid);
      if (!root) continue;
      let ticks = 0;
      let rssBytes = 0;
      let descendants = -1;
      const stack = [pid];
      while (stack.length) {
        const p = stack.pop()!;
        const st = stats.get(p);
        if (!st) continue;
        descendants++;
        // childTicks folds in children that already exited, so a tree's total never goes backwards
        ticks += st.ticks + st.childTicks;
        const status = this.files.read(`/proc/${p}/status`);
        rssBytes += status ? parseProcPidStatus(status).rssBytes : st.rssPages * 4096;
        stack.push(...(children.get(p) ?? []));
      }
      const prev = this.prevProc.get(pid);
      let cpu: number;
      if (prev && t > prev.at) cpu = ((ticks - prev.ticks) / USER_HZ / ((t - prev.at) / 1000)) * 100;
      else {
        // first sight of this process: average since it started
        const age = (uptimeTicks - root.startTicks) / USER_HZ;
        cpu = age > 0 ? (ticks / USER_HZ / age) * 100 : 0;
      }
      seen.set(pid, { ticks, at: t });
      out.push({ pid, name: root.comm, cpuPercent: Math.max(0, cpu), rssBytes, descendants });
    }
    this.prevProc = seen;
    return out.sort((a, b) => b.cpuPercent - a.cpuPercent);
  }

  /** Portable fallback: per-core times from os.cpus() (ms), memory from os.totalmem/freemem. */
  private sampleOs(t: number): SystemSample {
    const cpus = os.cpus();
    const cores = cpus.map((c) => ({ busy: c.times.user + c.times.nice + c.times.sys + c.times.irq, idle: c.times.idle }));
    const total = cores.reduce((a, c) => ({ busy: a.busy + c.busy, idle: a.idle + c.idle }), { busy: 0, idle: 0 });
    const cur: CpuTimes = { total, cores, ids: cores.map((_, i) => i) };
    const prev = this.prevCpu && this.prevCpu.cores.length === cores.length ? this.prevCpu : undefined;
    const zero = { busy: 0, idle: 0 };
    const percents = cores.map((c, i) => cpuPercent(prev?.cores[i] ?? zero, c));
    const totalPct = cpuPercent(prev?.total ?? zero, total);
    this.prevCpu = cur;
    const totalBytes = os.totalmem();
    const used = totalBytes - os.freemem();
    const load = process.platform === 'win32' ? undefined : (os.loadavg() as [number, number, number]);
    return {
      t,
      cpu: { total: totalPct, hostTotal: totalPct, cores: percents, coreIds: cur.ids, capacityCores: cores.length },
      load,
      memory: {
        usedBytes: used, totalBytes, hostUsedBytes: used, hostTotalBytes: totalBytes,
        swapUsedBytes: 0, swapTotalBytes: 0, percent: totalBytes > 0 ? (100 * used) / totalBytes : 0,
      },
      processes: [],
    };
  }
}
