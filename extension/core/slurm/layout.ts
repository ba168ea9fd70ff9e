/**
 * Where a Slurm run keeps its files. The run directory is an ordinary run directory (run.json,
 * journal.ndjson, report.json) so history, the Runs view and the report panel need nothing special;
 * everything Slurm-specific lives under its `slurm/` folder.
 */
import * as fs from 'fs';
import * as path from 'path';
import { fsDecode } from '../run/fsNames';
import type { TuplesHeader } from '../run/inputs';
import type { ArrayPart, PackedTask } from './pack';

export const SLURM_FILES = {
  folder: 'slurm',
  script: 'submit.sbatch',
  readme: 'README.txt',
  /** every input file, one per line, in task order (NUL-separated when a name holds a newline) */
  manifest: 'manifest.txt',
  /** a run over input tuples: the header line, then every tuple (a JSON array), in task order */
  tuples: 'tuples.ndjson',
  /** the packing plan and what the array tasks need (plan.json) */
  plan: 'plan.json',
  /** job ids once submitted */
  submission: 'submission.json',
  /** one line per array task: "N FIRST LAST" = lines FIRST..LAST of the manifest (line N+1 is task N) */
  tasks: 'tasks.txt',
  shards: 'shards',
  logs: 'logs',
} as const;

/** plan.json: written at preparation, read by the watcher and by re-attach after a restart. */
export interface SlurmPlanFile {
  version: 1;
  runId: string;
  files: number;
  tasks: PackedTask[];
  parts: ArrayPart[];
  taskDigits: number;
  nulLists: boolean;
  cpusPerTask: number;
  maxConcurrent: number;
  maxArraySize: number;
  /** total CPUs of the cluster when known (the report's core count) */
  clusterCpus?: number;
  notes: string[];
  /** run this was re-submitted from (failed files only) */
  parentRunDir?: string;
  /**
   * a resumed run submits some of its inputs: the 1-based position of each (task order) among all
   * of them, which its journal lines and results rows keep (absent: positions 1..files)
   */
  positions?: number[];
  /** a run over input tuples (tuples.ndjson instead of manifest.txt): their columns */
  tuples?: TuplesHeader;
}

/** submission.json: one entry per sbatch call. */
export interface SlurmSubmissionFile {
  version: 1;
  submittedAt: number;
  jobs: Array<{ part: number; jobId: number; offset: number; count: number }>;
  /** set when the user cancelled (scancel sent) */
  cancelledAt?: number;
}

export function slurmDirOf(runDir: string): string {
  return path.join(runDir, SLURM_FILES.folder);
}

/** `00042` for task 42 with 5 digits. */
export function taskId(task: number, digits: number): string {
  return String(task).padStart(digits, '0');
}

export function shardDirPath(slurmDir: string, task: number, digits: number): string {
  return path.join(slurmDir, SLURM_FILES.shards, taskId(task, digits));
}

export function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Reads tuples.ndjson back: the tuples in task order (the header line skipped). */
export function readTuplesManifest(slurmDir: string): string[][] {
  const lines = fs.readFileSync(path.join(slurmDir, SLURM_FILES.tuples), 'utf8').split('\n');
  return lines.slice(1).filter((l) => l !== '').map((l) => JSON.parse(l) as string[]);
}

/** Reads the manifest back into the list of files (task order). */
export function readManifest(slurmDir: string, nul: boolean): string[] {
  // bytes: a name that is not UTF-8 keeps them (run/fsNames.ts)
  const text = fsDecode(fs.readFileSync(path.join(slurmDir, SLURM_FILES.manifest)));
  const parts = text.split(nul ? '\0' : '\n');
  if (parts.length && parts[parts.length - 1] === '') parts.pop();
  return parts;
}
