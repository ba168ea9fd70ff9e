/**
 * Settings validation: the host passes the raw `parallelRun` configuration object
 * here; we return typed settings or throw a SettingsError naming the bad key and the fix.
 */
import { CONFIG_SECTION } from '../shared/ids';
import { MAX_WORKERS } from './run/workerLimits';
import { MAX_TIMEOUT_SEC } from './timers';
import { EARLY_STOP_DEFAULT, parseHalt } from './run/failures';

export interface ParallelRunSettings {
  workers: number; // 0 = cores
  threadsPerTask: number; // 0 = auto
  pythonPath: string;
  timeoutSeconds: number;
  /** 0 = off, else above 100 (see RunOptions.timeoutPercent) */
  timeoutPercentOfMedian: number;
  /** 0 = off (see RunOptions.memFreeBytes) */
  memFreeGB: number;
  retries: number;
  haltOnFailure: boolean;
  /** a GNU Parallel --halt rule ("" = none, or haltOnFailure's now,fail=1) */
  halt: string;
  /** K of the early stop on a systematic failure (0 = off) */
  stopEarlyAfter: number;
  notifyWhenDone: boolean;
  explorerDecorations: boolean;
  warmWorkers: boolean;
  /** Run Notebook over Files: write an executed copy of the notebook per input */
  saveNotebooks: boolean;
  runsDirectory: string;
  openReportWhenDone: boolean;
  monitor: { enabled: boolean; intervalMs: number; memoryWarningPercent: number };
  codeLens: { runScript: boolean; poolThreads: boolean; parallelizeLoop: boolean };
  diagnosticsEnabled: boolean;
  sweepBudgetSeconds: number;
  slurm: {
    partition: string; timeLimit: string; memory: string; account: string;
    extraDirectives: string[]; targetTaskSeconds: number; maxConcurrent: number;
  };
}

export class SettingsError extends Error {
  constructor(readonly key: string, problem: string, fix: string) {
    super(`Setting ${CONFIG_SECTION}.${key} ${problem}. ${fix}`);
    this.name = 'SettingsError';
  }
}

/** The first setting a message names (`parallelRun.slurm.memory`), for an "Open Setting" button. */
export function settingIn(message: string): string | undefined {
  return new RegExp(`\\b${CONFIG_SECTION.replace('.', '\\.')}\\.[A-Za-z][\\w.]*[A-Za-z0-9]`).exec(message)?.[0];
}

/** Reads `a.b.c` from a nested object (VS Code's getConfiguration returns nested objects). */
function lookup(raw: Record<string, unknown>, key: string): unknown {
  let cur: unknown = raw;
  for (const part of key.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function int(raw: Record<string, unknown>, key: string, dflt: number, min: number, max: number): number {
  const v = lookup(raw, key);
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new SettingsError(key, `is ${JSON.stringify(v)}, not a whole number between ${min} and ${max}`, `Fix it in Settings (search "${CONFIG_SECTION}.${key}").`);
  }
  return v;
}
function num(raw: Record<string, unknown>, key: string, dflt: number, min: number, max: number): number {
  const v = lookup(raw, key);
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new SettingsError(key, `is ${JSON.stringify(v)}, not a number between ${min} and ${max}`, `Fix it in Settings (search "${CONFIG_SECTION}.${key}").`);
  }
  return v;
}
function bool(raw: Record<string, unknown>, key: string, dflt: boolean): boolean {
  const v = lookup(raw, key);
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'boolean') throw new SettingsError(key, `is ${JSON.stringify(v)}, not true or false`, `Fix it in Settings (search "${CONFIG_SECTION}.${key}").`);
  return v;
}
function str(raw: Record<string, unknown>, key: string, dflt: string): string {
  const v = lookup(raw, key);
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'string') throw new SettingsError(key, `is ${JSON.stringify(v)}, not a string`, `Fix it in Settings (search "${CONFIG_SECTION}.${key}").`);
  return v;
}
function strArray(raw: Record<string, unknown>, key: string): string[] {
  const v = lookup(raw, key);
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    throw new SettingsError(key, `is ${JSON.stringify(v)}, not a list of strings`, `Fix it in Settings (search "${CONFIG_SECTION}.${key}").`);
  }
  return v as string[];
}

/** Validate the raw `parallelRun` configuration section. */
/** parallelRun.halt: "" or a GNU Parallel halt rule, checked here so a typo names the setting. */
function haltSetting(raw: Record<string, unknown>): string {
  const v = str(raw, 'halt', '').trim();
  if (!v) return '';
  try {
    parseHalt(v);
  } catch (e) {
    throw new SettingsError('halt', `is "${v}", not a halt rule`, 'Use e.g. "now,fail=1", "soon,fail=10%", "now,success=1", or leave it empty.');
  }
  return v;
}

export function validateSettings(raw: Record<string, unknown>): ParallelRunSettings {
  const runsDirectory = str(raw, 'runsDirectory', '.parallel-run/runs').trim();
  if (!runsDirectory) throw new SettingsError('runsDirectory', 'is empty', 'Set it to a folder such as ".parallel-run/runs".');
  const timeoutSeconds = num(raw, 'timeoutSeconds', 0, 0, MAX_TIMEOUT_SEC);
  const timeoutPercentOfMedian = num(raw, 'timeoutPercentOfMedian', 0, 0, 1e6);
  if (timeoutPercentOfMedian > 0 && timeoutPercentOfMedian <= 100) {
    throw new SettingsError('timeoutPercentOfMedian', `is ${timeoutPercentOfMedian}, at or below the median itself`, 'Set it above 100 (e.g. 300 = 3x the median), or 0 for off.');
  }
  if (timeoutPercentOfMedian > 0 && timeoutSeconds > 0) {
    throw new SettingsError('timeoutPercentOfMedian', `and ${CONFIG_SECTION}.timeoutSeconds are both set`, 'Keep one of them and set the other to 0.');
  }
  return {
    workers: int(raw, 'workers', 0, 0, MAX_WORKERS),
    threadsPerTask: int(raw, 'threadsPerTask', 0, 0, 1024),
    pythonPath: str(raw, 'python.path', '').trim(),
    timeoutSeconds,
    timeoutPercentOfMedian,
    // (renamed for a readable title, "Memory Free GB"; the old key still counts when the new one is 0)
    memFreeGB: num(raw, 'memoryFreeGB', 0, 0, 1e6) || num(raw, 'memFreeGB', 0, 0, 1e6),
    retries: int(raw, 'retries', 0, 0, 100),
    haltOnFailure: bool(raw, 'haltOnFailure', false),
    halt: haltSetting(raw),
    stopEarlyAfter: int(raw, 'stopEarlyAfter', EARLY_STOP_DEFAULT, 0, 100_000),
    notifyWhenDone: bool(raw, 'notifyWhenDone', true),
    explorerDecorations: bool(raw, 'explorerDecorations', true),
    warmWorkers: bool(raw, 'warmWorkers', false),
    saveNotebooks: bool(raw, 'notebooks.saveExecuted', false),
    runsDirectory,
    openReportWhenDone: bool(raw, 'openReportWhenDone', true),
    monitor: {
      enabled: bool(raw, 'monitor.enabled', true),
      intervalMs: int(raw, 'monitor.intervalMs', 1000, 250, 60000),
      memoryWarningPercent: num(raw, 'monitor.memoryWarningPercent', 90, 1, 100),
    },
    codeLens: {
      runScript: bool(raw, 'codeLens.runScript', true),
      poolThreads: bool(raw, 'codeLens.poolThreads', true),
      parallelizeLoop: bool(raw, 'codeLens.parallelizeLoop', true),
    },
    diagnosticsEnabled: bool(raw, 'diagnostics.enabled', true),
    sweepBudgetSeconds: num(raw, 'sweep.budgetSeconds', 60, 5, 1e6),
    slurm: {
      partition: str(raw, 'slurm.partition', ''),
      timeLimit: str(raw, 'slurm.timeLimit', '01:00:00'),
      memory: str(raw, 'slurm.memory', ''),
      account: str(raw, 'slurm.account', ''),
      extraDirectives: strArray(raw, 'slurm.extraDirectives'),
      targetTaskSeconds: num(raw, 'slurm.targetTaskSeconds', 30, 1, 1e7),
      maxConcurrent: int(raw, 'slurm.maxConcurrent', 0, 0, 1e6),
    },
  };
}
