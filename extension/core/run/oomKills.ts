/**
 * Was a task killed by the kernel's OOM killer? A SIGKILL alone does not say. Two sources, where
 * readable (Linux): the kernel's OOM record in /dev/kmsg ("Killed process 1234 (python3) … anon-rss:…",
 * naming the pid, also for a limit set on a cgroup below the runner's), and the `oom_kill` count of
 * the runner's own memory cgroup (cgroup v2 memory.events, v1 memory.oom_control), which rises when
 * the container's or Slurm job's limit killed something. Elsewhere it always answers "not known".
 */
import * as fs from 'fs';
import * as path from 'path';

/** Pids the kernel record named (kept for the last few hundred kills). */
const MAX_REMEMBERED = 512;

export interface OomSources {
  /** default /dev/kmsg */
  kmsg?: string;
  /** default /proc/self/cgroup */
  selfCgroup?: string;
  /** default /sys/fs/cgroup */
  cgroupRoot?: string;
}

/** The file holding the `oom_kill` count of the memory cgroup in `selfCgroup`'s listing. */
export function oomCountFile(selfCgroupText: string, cgroupRoot: string): string | undefined {
  for (const line of selfCgroupText.split('\n')) {
    const [, controllers, rel] = line.split(':');
    if (rel === undefined) continue;
    if (controllers.split(',').includes('memory')) return path.join(cgroupRoot, 'memory', rel, 'memory.oom_control');
    if (line.startsWith('0::')) {
      const f = path.join(cgroupRoot, rel, 'memory.events');
      if (fs.existsSync(f)) return f;
    }
  }
  return undefined;
}

/** The `oom_kill N` value of a memory.events / memory.oom_control text. */
export function oomKillCount(text: string): number | undefined {
  const m = /^oom_kill (\d+)$/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** Pids (and their anon RSS in KiB) named by kernel OOM records in `text` (one record or many). */
export function oomRecordPids(text: string): Array<{ pid: number; rssKb?: number }> {
  const out: Array<{ pid: number; rssKb?: number }> = [];
  for (const m of text.matchAll(/Killed process (\d+) \([^)]*\)(?:[^\n]*?anon-rss:(\d+)kB)?/g)) out.push({ pid: Number(m[1]), ...(m[2] ? { rssKb: Number(m[2]) } : {}) });
  return out;
}

export class OomKills {
  private kmsgFd: number | undefined;
  private kmsgTried = false;
  private bootEpochMs = 0;
  private readonly countFile: string | undefined;
  private lastCount: number | undefined;
  private readonly killed = new Map<number, number | undefined>();

  /** epoch ms of the run's start: kernel records from before it are not about its tasks */
  private readonly since: number;

  constructor(private readonly src: OomSources = {}, since = Date.now()) {
    this.since = since;
    if (process.platform !== 'linux') return;
    try {
      this.countFile = oomCountFile(fs.readFileSync(src.selfCgroup ?? '/proc/self/cgroup', 'utf8'), src.cgroupRoot ?? '/sys/fs/cgroup');
      this.lastCount = this.countFile ? oomKillCount(fs.readFileSync(this.countFile, 'utf8')) : undefined;
    } catch {
      this.lastCount = undefined;
    }
  }

  /**
   * /dev/kmsg is opened at the first question (a SIGKILL is rare: a run without one pays nothing); it
   * reads from the oldest record the kernel keeps, so records are told apart by their time since boot.
   */
  private openKmsg(): void {
    if (this.kmsgFd !== undefined || this.kmsgTried || process.platform !== 'linux') return;
    this.kmsgTried = true;
    try {
      this.bootEpochMs = Date.now() - Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 1000;
      this.kmsgFd = fs.openSync(this.src.kmsg ?? '/dev/kmsg', fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    } catch {
      this.kmsgFd = undefined; // not readable (dmesg_restrict, no /dev/kmsg): the cgroup count may still say
    }
  }

  /** Reads the kernel records written since the last read (one record per read(2) on /dev/kmsg). */
  private drain(): void {
    if (this.kmsgFd === undefined) return;
    const buf = Buffer.alloc(8192);
    for (let i = 0; i < 1_000_000; i++) {
      let n: number;
      try {
        n = fs.readSync(this.kmsgFd, buf, 0, buf.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EPIPE') continue; // records overwritten before we read them
        return; // EAGAIN: nothing more
      }
      if (n <= 0) return;
      const text = buf.toString('utf8', 0, n);
      if (!text.includes('Killed process')) continue;
      // "priority,sequence,microseconds since boot,flags;message"
      const usec = Number(text.split(',', 3)[2]);
      if (Number.isFinite(usec) && this.bootEpochMs + usec / 1000 < this.since - 1000) continue;
      for (const k of oomRecordPids(text)) {
        this.killed.set(k.pid, k.rssKb);
        if (this.killed.size > MAX_REMEMBERED) this.killed.delete(this.killed.keys().next().value as number);
      }
    }
  }

  /**
   * After a task died of SIGKILL: true when the kernel's OOM record names its pid, or the runner's
   * cgroup counted an OOM kill since the last question (each counted kill is given to one task).
   */
  killedForMemory(pid: number | undefined): { killed: boolean; rssKb?: number } {
    this.openKmsg();
    this.drain();
    if (pid !== undefined && this.killed.has(pid)) {
      const rssKb = this.killed.get(pid);
      this.killed.delete(pid);
      return { killed: true, ...(rssKb ? { rssKb } : {}) };
    }
    if (this.countFile && this.lastCount !== undefined) {
      try {
        const now = oomKillCount(fs.readFileSync(this.countFile, 'utf8'));
        if (now !== undefined && now > this.lastCount) {
          this.lastCount++;
          return { killed: true };
        }
      } catch {
        /* the cgroup went away */
      }
    }
    return { killed: false };
  }

  close(): void {
    if (this.kmsgFd === undefined) return;
    try {
      fs.closeSync(this.kmsgFd);
    } catch {
      /* closed */
    }
    this.kmsgFd = undefined;
  }
}
