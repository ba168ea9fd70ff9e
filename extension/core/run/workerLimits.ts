/**
 * How many workers (-j) a run may have, and what a worker costs. Workers start lazily, one per file
 * in flight, so -j above the number of files costs nothing; above the cores it only pays for work
 * that waits (disk, network), roughly up to twice the cores.
 */

/** The most workers a run may have (-j, parallelRun.workers). */
export const MAX_WORKERS = 1024;

/** What one worker costs, for the messages: a thread in the runner and, usually, a Python host process. */
export const WORKER_COST = 'a thread in the runner (about 2 MB) and, for Python scripts and measured commands, a Python host process (about 10 MB, plus the imports of a warm script)';

/** The note for a -j well above the machine (more than twice its cores), else undefined. */
export function workersWarning(workers: number, cores: number): string | undefined {
  if (workers <= 2 * cores) return undefined;
  return `-j ${workers} is more than twice this machine's ${cores} cores: CPU-bound work gains nothing above ${cores}, work that waits on disk or network rarely above ${2 * cores}. Each worker costs ${WORKER_COST}.`;
}
