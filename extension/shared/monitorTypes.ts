/**
 * What the resource monitor measures, as plain data: the sampler in core produces these, the host
 * and the monitor webview consume them. Types only, so both the Node and the browser side can
 * import them.
 */

/** Limits a cgroup puts on this process tree (only those tighter than the machine are set). */
export interface CgroupLimits {
  version: 1 | 2;
  /** the cgroup path, e.g. /slurm/uid_1000/job_42/step_batch */
  path: string;
  /** CPU bandwidth limit in cores (cpu.max / cfs quota), when below the online cores */
  cpuQuotaCores?: number;
  /** cpu numbers of the cpuset, when it excludes some online cpus */
  cpuset?: number[];
  /** memory limit in bytes, when below the machine's RAM */
  memoryBytes?: number;
  /** the files the limits came from, for the tooltip, e.g. "memory.max" */
  sources: string[];
}

/** A watched process (a run's worker) with its live descendants folded in. */
export interface ProcessSample {
  pid: number;
  name: string;
  /** percent of ONE core, like top (two busy threads = 200) */
  cpuPercent: number;
  rssBytes: number;
  /** live descendants included in cpuPercent and rssBytes */
  descendants: number;
}

/** One sample of the machine as this process tree sees it. */
export interface SystemSample {
  /** epoch ms */
  t: number;
  cpu: {
    /** 0..100 of the CPU capacity available here (the cgroup quota or cpuset when one applies) */
    total: number;
    /** 0..100 over every online core of the host */
    hostTotal: number;
    /** 0..100 per core (only the cpuset's cores when a cpuset restricts us) */
    cores: number[];
    /** kernel cpu numbers of `cores` */
    coreIds: number[];
    /** cores' worth of CPU available: min(online, cpuset, quota) */
    capacityCores: number;
  };
  /** 1, 5, 15 minute load averages (undefined on Windows) */
  load?: [number, number, number];
  memory: {
    /** used bytes against `totalBytes`: the cgroup's usage when a memory limit applies */
    usedBytes: number;
    /** RAM, or the cgroup memory limit when lower */
    totalBytes: number;
    hostUsedBytes: number;
    hostTotalBytes: number;
    swapUsedBytes: number;
    swapTotalBytes: number;
    /** usedBytes / totalBytes * 100 */
    percent: number;
  };
  limits?: CgroupLimits;
  /** the watched processes (see Sampler.watchProcesses), largest CPU first */
  processes: ProcessSample[];
}

/** The compact form kept in history (10 minutes by default). */
export interface HistoryPoint {
  t: number;
  cpu: number;
  cores: number[];
  memUsed: number;
  memTotal: number;
  swapUsed: number;
}
