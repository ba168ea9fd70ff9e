/**
 * `Parallel Run: Submit to Slurm…`: the same run definition as a local run, submitted as ONE job array.
 * Interactive: script → files → Slurm options (settings, editable here) → the generated sbatch script
 * opens in an editor as a preview → modal confirm → sbatch. Progress in a notification, the status bar
 * and the Runs view (a Slurm run is an ordinary run directory with report.json backend 'slurm'), worded
 * and formatted like a local run's (same title, "done/total files · failed · left" message, spinner
 * status bar item opening the live report, same end-of-run summary and actions) plus the array tasks'
 * Slurm states.
 *
 * Programmatic (tests, other features): executeCommand(submitSlurm, { script, files, ... }) skips every
 * prompt and the preview and resolves with { runDir, scriptPath, jobIds, report? }.
 *
 * Publishes `services.slurm` (SlurmApi): rerunFailed(runDir) and cancel(runDir) for the run feature's
 * "Re-run Failed Files" / "Cancel Run" on Slurm runs, plus submit(). The Slurm backend and the code
 * that watches arrays (slurmFeature.ts) load on first use: a submission, a Slurm run to cancel or
 * re-run, or a run still queued when the window opens.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { RUN_FILES, type RunReport } from '../../core/run/types';
import type { SlurmRunHandle, SlurmSettings } from '../../core/slurm';
import { readJson, slurmDirOf, SLURM_FILES, type SlurmSubmissionFile } from '../../core/slurm/layout';
import { Commands } from '../../shared/ids';
import { lazyTable, registerCommands } from '../commands';
import type { Services } from '../services';
import type { SlurmFeature } from './slurmFeature';

/** The argument object of parallelRun.submitSlurm (all optional except script + files when given). */
export interface SubmitSlurmArgs {
  /** Python script, absolute or relative to the workspace folder. */
  script?: string;
  /** A glob (string) or explicit files (array), relative to the workspace folder or absolute. */
  files?: string | string[];
  args?: string[];
  /** workspace folder path (multi-root); default the first */
  workspaceFolder?: string;
  /** CPUs per array task = BLAS threads per file (default: setting threadsPerTask, else 1) */
  threads?: number;
  timeout?: number;
  retries?: number;
  label?: string;
  /** overrides of the parallelRun.slurm.* settings */
  slurm?: Partial<SlurmSettings>;
  /** only write the script, manifest and README (for another cluster); nothing is submitted */
  exportOnly?: boolean;
  /** resolve with the final report (else right after submission) */
  wait?: boolean;
  /** run directory (default: a new one under the runs directory) */
  outDir?: string;
  /** re-submit only the failed files of this run directory */
  rerunFailedOf?: string;
}

export interface SubmitSlurmResult {
  runDir: string;
  scriptPath: string;
  jobIds: number[];
  /** final report (with wait) */
  report?: RunReport;
}

/** What the rest of the extension uses (services.slurm). */
export interface SlurmApi {
  submit(args: SubmitSlurmArgs): Promise<SubmitSlurmResult>;
  /** "Re-run Failed Files" for a Slurm run: re-submits only the failed files as a new array. */
  rerunFailed(runDir: string, opts?: { wait?: boolean }): Promise<SubmitSlurmResult>;
  /** "Cancel Run" for a Slurm run: scancel; resolves with the final (cancelled) report when watched here. */
  cancel(runDirOrRunId: string): Promise<RunReport | undefined>;
  isSlurmRun(runDir: string): boolean;
  /** Slurm runs watched by this window. */
  active(): SlurmRunHandle[];
}

/** What tests read of the Slurm feature (not for other features). */
export interface SlurmTestHooks {
  /** What the Slurm status bar item shows now. */
  statusBar(): SlurmStatusBarState;
  /** The last message of each watched run's progress notification, by run directory. */
  progress(): SlurmProgressState[];
}

export interface SlurmStatusBarState {
  visible: boolean;
  text: string;
  tooltip: string;
  command: string | undefined;
}

export interface SlurmProgressState {
  runDir: string;
  title: string;
  message: string;
  /** percent of files done, as reported to the notification */
  percent: number;
}

/** A Slurm run an earlier window left queued or running. */
export interface QueuedSlurmRun {
  dir: string;
  jobIds: number[];
  label: string;
}

/** A run directory holding a Slurm submission. */
function submitted(runDir: string): boolean {
  return fs.existsSync(path.join(slurmDirOf(runDir), SLURM_FILES.submission));
}

export function register(context: vscode.ExtensionContext, services: Services): SlurmApi & SlurmTestHooks {
  let current: SlurmFeature | undefined;
  let loading: Promise<SlurmFeature> | undefined;
  const feature = (): Promise<SlurmFeature> => {
    loading ??= import(/* webpackChunkName: "slurm" */ './slurmFeature').then((m) => {
      current = new m.SlurmFeature(context, services);
      context.subscriptions.push(current);
      return current;
    });
    loading.catch(() => (loading = undefined)); // a failed load is tried again on the next use
    return loading;
  };
  registerCommands(context, services, lazyTable([Commands.submitSlurm], async () => (await feature()).commands()));
  // Slurm runs outlive a window: watch the ones still queued again (quietly) when a trusted workspace
  // opens; the backend loads only when there is one
  if (vscode.workspace.isTrusted) {
    void queuedSlurmRuns(services).then(async (found) => {
      if (found.length) await (await feature()).reattach(found);
    }).catch((err) => services.log.warn(`[slurm] cannot watch earlier runs again: ${(err as Error).message}`));
  }
  return {
    submit: async (args) => (await feature()).submit(args),
    rerunFailed: async (runDir, opts) => (await feature()).rerunFailed(runDir, opts),
    // a directory with no submission is no Slurm run: nothing to load for it
    cancel: async (target) => (current || submitted(target) ? (await feature()).cancel(target) : undefined),
    isSlurmRun: (runDir) => submitted(runDir) || readJson<{ backend?: string }>(path.join(runDir, RUN_FILES.definition))?.backend === 'slurm',
    active: () => current?.active() ?? [],
    statusBar: () => current?.statusBar() ?? { visible: false, text: '', tooltip: '', command: undefined },
    progress: () => current?.progress() ?? [],
  };
}

/** Slurm runs of the open folders whose report still says running (their arrays may still be queued). */
async function queuedSlurmRuns(services: Services): Promise<QueuedSlurmRun[]> {
  const found: QueuedSlurmRun[] = [];
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    let root: string;
    try {
      root = path.resolve(folder.uri.fsPath, services.config.get(folder.uri).runsDirectory);
    } catch {
      continue;
    }
    const names = await fs.promises.readdir(root).catch(() => [] as string[]);
    for (const n of names) {
      const dir = path.join(root, n);
      const sub = readJson<SlurmSubmissionFile>(path.join(slurmDirOf(dir), SLURM_FILES.submission));
      const report = readJson<RunReport>(path.join(dir, RUN_FILES.report));
      if (!sub || report?.status !== 'running') continue;
      found.push({ dir, jobIds: sub.jobs.map((j) => j.jobId), label: report.label ?? report.runId });
    }
  }
  return found;
}
