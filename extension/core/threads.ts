/**
 * BLAS/OpenMP thread maths and environment. Every task child gets the same thread count in all the
 * variables the common BLAS/OpenMP runtimes read, so `workers × threads` stays within the cores.
 */
import * as fs from 'fs';
import * as os from 'os';
import threadVars from '../../media/python/thread_env_vars.json';

/**
 * The variables OpenMP, OpenBLAS, MKL, Accelerate (vecLib), numexpr and BLIS read at start-up. The
 * list lives in media/python/thread_env_vars.json, which the Python helpers read too.
 */
export const THREAD_ENV_VARS: readonly string[] = Object.freeze([...threadVars.threadEnvVars]);

/** Older names some runtimes still read (GotoBLAS's, in OpenBLAS): shown by the BLAS inspector, never set. */
export const LEGACY_THREAD_ENV_VARS: readonly string[] = Object.freeze([...threadVars.legacy]);

/** Default BLAS threads per task: `max(1, floor(cores / workers))`. */
export function defaultThreads(cores: number, workers: number): number {
  if (!(workers > 0) || !(cores > 0)) return 1;
  return Math.max(1, Math.floor(cores / workers));
}

/**
 * The thread env vars a task child receives: every variable set to `threads`, except those the user
 * set explicitly in `userEnv` (user overrides win, and are recorded as what the child really got).
 */
export function threadEnv(threads: number, userEnv: Record<string, string | undefined> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of THREAD_ENV_VARS) {
    const user = userEnv[name];
    out[name] = user !== undefined && user !== '' ? user : String(threads);
  }
  return out;
}

/**
 * Oversubscription factor: runnable threads per logical core (`workers × threads / cores`).
 * 1 = every core busy, > 1 = threads fight over cores (context switches, cache thrash).
 */
export function oversubscription(workers: number, threads: number, cores: number): number {
  if (!(cores > 0)) return 0;
  return (workers * threads) / cores;
}

/** Logical cores the process may use (affinity-aware when Node knows it). */
export function logicalCores(): number {
  const avail = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, avail);
}

/** The machine a run ran on, so Compare can tell runs from different machines apart. */
export function machineOf(): { host: string; cpu: string } {
  return { host: os.hostname(), cpu: (os.cpus()[0]?.model ?? '').replace(/\s+/g, ' ').trim() };
}

let cachedPhysical: number | undefined;

/**
 * Physical cores (hyper-threads counted once). Linux: distinct (physical id, core id) pairs of
 * /proc/cpuinfo, else distinct sysfs `core_cpus_list`/`thread_siblings_list`; elsewhere the logical count.
 */
export function physicalCores(): number {
  if (cachedPhysical !== undefined) return cachedPhysical;
  cachedPhysical = physicalCoresUncached();
  return cachedPhysical;
}

function physicalCoresUncached(): number {
  const logical = os.cpus().length || 1;
  if (process.platform !== 'linux') return logical;
  try {
    const text = fs.readFileSync('/proc/cpuinfo', 'utf8');
    const pairs = new Set<string>();
    for (const block of text.split(/\n\s*\n/)) {
      const phys = /^physical id\s*:\s*(\d+)/m.exec(block);
      const core = /^core id\s*:\s*(\d+)/m.exec(block);
      if (phys && core) pairs.add(`${phys[1]}:${core[1]}`);
    }
    if (pairs.size > 0) return pairs.size;
  } catch {
    /* fall through to sysfs */
  }
  try {
    const base = '/sys/devices/system/cpu';
    const sets = new Set<string>();
    for (const d of fs.readdirSync(base)) {
      if (!/^cpu\d+$/.test(d)) continue;
      for (const f of ['core_cpus_list', 'thread_siblings_list']) {
        try {
          sets.add(fs.readFileSync(`${base}/${d}/topology/${f}`, 'utf8').trim());
          break;
        } catch {
          /* try the older name */
        }
      }
    }
    if (sets.size > 0) return sets.size;
  } catch {
    /* no sysfs */
  }
  return logical;
}
