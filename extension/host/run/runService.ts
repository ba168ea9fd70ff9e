/**
 * The host side of a run: turns a request (script, files, workers, …) into an engine run, and shows it
 * the way VS Code users expect — a cancellable progress notification, a status bar item, one log line
 * per finished task, the `parallelRun.runActive` context key — and tells the rest of the extension
 * (Runs view, monitor, report panel) through `onDidChange`. Published on `services.runs`.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { createRunDir, runStem } from '../../core/run/runDir';
import { defaultThreads, logicalCores } from '../../core/threads';
import type { FileSource, InputsSpec, RunEvent, RunHandle, RunOptions, RunReport } from '../../core/run/types';
import { Commands, CONFIG_SECTION, ContextKeys, Settings } from '../../shared/ids';
import { figuresLine } from '../../shared/figures';
import { executeForUser } from '../commands';
import type { Services } from '../services';
import { NotTrustedError, requireTrust } from '../trust';
import type { InterpreterService } from '../python/interpreter';
import { childPidsMatching } from './processes';
import { type EndNotice, endNotice, formatDuration, lastLine, RUN_STATUS_TEXT, TASK_STATUS_SYMBOL } from './format';
import { RunDirsWatcher } from './runDirsWatcher';
import { RunTracker, type TrackedRun } from './runTracker';

/** The per-run knobs shared by the command arguments and the `parallel-run` task definition. */
export interface RunKnobs {
  /** Extra arguments after the file path. */
  args?: string[];
  /** Files at once; 0 = setting / cores. */
  workers?: number;
  /** BLAS threads per task; 0 = setting / cores ÷ workers. */
  threads?: number;
  warm?: boolean;
  /** Per-task timeout in seconds; 0 = none. */
  timeout?: number;
  retries?: number;
}

/** Everything needed to start (or start again) a run. */
export interface RunRequest {
  folder: vscode.WorkspaceFolder;
  /** Absolute path of the Python script. */
  script: string;
  /** Extra arguments after the file path. */
  args: string[];
  files: FileSource;
  /**
   * A run over tuples (an experiment): its input sources (the files, named axes, parameter tables),
   * combined as a product; then `files` is not used. See core/run/inputs.
   */
  inputs?: InputsSpec;
  /** In-process calls of this function of the script per task (--call); needs named inputs. */
  call?: string;
  /** Allow more than a million tasks (the command line's --yes; the run flow asks first). */
  yes?: boolean;
  /** For humans: the glob, the folder or "3 selected files". */
  filesLabel: string;
  /** 0 = from settings (0 there = one per core). */
  workers: number;
  /** 0 = from settings (0 there = cores / workers). */
  threads: number;
  warm?: boolean;
  timeoutSec?: number;
  /** Timeout in percent of the median of succeeded files; 0 = none; default: the setting. */
  timeoutPercent?: number;
  /** Start a file only while this much memory is available; 0 = no gate; default: the setting. */
  memFreeBytes?: number;
  retries?: number;
  halt?: boolean | string;
  /** Skip files that already succeeded in `outDir` (same definition). */
  resume?: boolean;
  /** The files are some of the run's in `outDir`, run again there (a failure group's re-run). */
  subset?: boolean;
  /** K of the early stop (0 = off); default the setting. */
  stopEarly?: number;
  /** Reuse this run directory (resume); default: a new one under the runs directory. */
  outDir?: string;
  label?: string;
  /** Open the report when done; default: setting parallelRun.openReportWhenDone. */
  openReport?: boolean;
  /** 'notification' (commands) or 'none' (tasks show output in their terminal). */
  progress?: 'notification' | 'none';
}

/** The JSON-safe form of a request, remembered per workspace ("Run again", resume, re-run failed). */
export interface StoredRequest extends Omit<RunRequest, 'folder'> {
  folder: string;
  /** the inputs are too long to keep here: they are the ones in outDir's run.json */
  inputsInRunJson?: boolean;
}

export interface RunChange {
  kind: 'started' | 'progress' | 'finished';
  runId: string;
  outDir: string;
  folder: vscode.WorkspaceFolder;
  report?: RunReport;
}

/** What other features use (services.runs). */
export interface RunsApi {
  start(req: RunRequest): Promise<RunHandle>;
  /** the most recent run still going */
  active(): RunHandle | undefined;
  /** every run going in this window */
  activeRuns(): RunHandle[];
  /** files counted for a run before the engine listed them (done/total and ETA from the start) */
  expectedTotal(outDir: string): number | null | undefined;
  readonly onDidChange: vscode.Event<RunChange>;
  runsDir(folder: vscode.WorkspaceFolder): string;
}

interface ActiveRun {
  handle: RunHandle;
  request: RunRequest;
  busy: Set<number>;
  /** its progress, notification and status bar item */
  tracked: TrackedRun;
}

const STATE_LAST_REQUEST = 'parallelRun.lastRequest';
const STATE_REQUESTS_BY_DIR = 'parallelRun.requestsByRunDir';
const MAX_REMEMBERED_RUNS = 100;
const MAX_REMEMBERED_INPUTS_CHARS = 256 * 1024;

export class RunService implements RunsApi, vscode.Disposable {
  private readonly runs = new Map<string, ActiveRun>();
  private readonly emitter = new vscode.EventEmitter<RunChange>();
  readonly onDidChange = this.emitter.event;
  private readonly tracker = new RunTracker('parallelRun.run', 'Parallel Run: active run', 50, '', (n) => `(${n} runs going)`);
  private lastProgressFire = 0;
  /** the Python host scripts of the engine (markers of the run's processes for the monitor), known once the engine loaded */
  private hostScripts: string[] = [];

  constructor(
    private readonly services: Services,
    private readonly python: InterpreterService,
  ) {
    this.runDirs = new RunDirsWatcher(services, (f) => this.runsDir(f));
  }

  /** The one watcher on the runs directories (the Runs view and the failures marks follow it). */
  readonly runDirs: RunDirsWatcher;

  /** Absolute runs directory of a workspace folder (setting parallelRun.runsDirectory). */
  runsDir(folder: vscode.WorkspaceFolder): string {
    const rel = this.services.config.get(folder.uri).runsDirectory;
    return path.resolve(folder.uri.fsPath, rel);
  }

  /** The most recently started run still going. */
  active(): RunHandle | undefined {
    let last: ActiveRun | undefined;
    for (const r of this.runs.values()) last = r;
    return last?.handle;
  }

  activeRuns(): RunHandle[] {
    return [...this.runs.values()].map((r) => r.handle);
  }

  /** Files of a live run as counted before it started (the engine knows its total only at the end of listing). */
  expectedTotal(outDir: string): number | null | undefined {
    return [...this.runs.values()].find((r) => path.resolve(r.handle.outDir) === path.resolve(outDir))?.tracked.total;
  }

  /**
   * Validates, resolves the interpreter, starts the engine and wires the UI. Rejects with a message that
   * names the problem and the fix (nothing is started then).
   */
  async start(req: RunRequest): Promise<RunHandle> {
    if (!(await requireTrust('run scripts'))) {
      throw new NotTrustedError();
    }
    const settings = this.services.config.get(req.folder.uri); // throws SettingsError naming the key
    await checkScript(req.script);
    checkCount('workers', req.workers);
    checkCount('threads', req.threads);
    // a run over tuples: the engine reads and checks every source (a bad table starts nothing)
    const expectedTotal = req.inputs ? undefined : await this.checkFiles(req);
    const interpreter = await this.python.resolve(req.folder);

    const cores = logicalCores();
    const workers = req.workers || settings.workers || cores;
    const threads = req.threads || settings.threadsPerTask || defaultThreads(cores, workers);
    const outDir = req.outDir ?? (await this.newRunDir(req));
    const opts: RunOptions = {
      command: {
        kind: 'python', python: interpreter.executable, script: req.script, args: req.args, warm: req.call ? false : req.warm ?? settings.warmWorkers,
        ...(req.call ? { call: req.call } : {}),
      },
      files: req.files,
      ...(req.inputs ? { inputs: req.inputs, ...(req.yes ? { yes: true } : {}) } : {}),
      cwd: req.folder.uri.fsPath,
      workers,
      threads,
      timeoutSec: req.timeoutSec ?? settings.timeoutSeconds,
      // a timeout in seconds asked for this run wins over the setting in percent
      timeoutPercent: positive(req.timeoutPercent ?? (req.timeoutSec === undefined ? settings.timeoutPercentOfMedian : 0)),
      memFreeBytes: positive(req.memFreeBytes ?? Math.round(settings.memFreeGB * 2 ** 30)),
      retries: req.retries ?? settings.retries,
      // the rule asked for, else the setting's rule, else the simple switch (now,fail=1)
      halt: req.halt ?? (settings.halt || settings.haltOnFailure),
      stopEarly: req.stopEarly ?? settings.stopEarlyAfter,
      subset: req.subset,
      outDir,
      resume: req.resume ?? false,
      workersDir: path.join(this.services.distDir, 'workers'),
      label: req.label ?? `${path.basename(req.script)} over ${req.filesLabel}`,
    };
    let handle: RunHandle;
    try {
      // the engine loads with the first run
      const [engine, plan] = await Promise.all([import('../../core/run/engine'), import('../../core/run/plan')]);
      this.hostScripts = [plan.hostScriptPath(opts.workersDir), plan.execHostScriptPath(opts.workersDir)];
      handle = await engine.startRun(opts);
    } catch (err) {
      // bad input found by the engine: nothing started, so no empty run directory either
      if (!req.outDir) await fs.promises.rm(outDir, { recursive: true, force: true }).catch(() => undefined);
      throw err;
    }
    // subscribe before any await: the engine starts dispatching on the next turn of the event loop,
    // and its first events (runStarted, the first taskStarted) must not be missed
    this.track(handle, { ...req, outDir, label: opts.label }, expectedTotal);
    // a re-run of some files keeps the run's own request (a later Resume goes over all its files)
    if (!req.subset) await this.remember(handle.outDir, toStored({ ...req, outDir, label: opts.label }));
    return handle;
  }

  /** Cancel a run (the most recent one by default) and wait until its process trees are gone. */
  async cancel(runId?: string): Promise<RunReport | undefined> {
    const run = runId ? this.runs.get(runId) : [...this.runs.values()].pop();
    if (!run) return undefined;
    this.services.log.info(`[${run.handle.runId}] cancel requested`);
    run.handle.cancel();
    return run.handle.done;
  }

  /** Shutdown hook: cancel everything and await the teardown (journals stay resumable). */
  async cancelAll(timeoutMs = 10_000): Promise<void> {
    const all = [...this.runs.values()].map((r) => {
      r.handle.cancel();
      return r.handle.done.catch(() => undefined);
    });
    if (all.length === 0) return;
    await Promise.race([Promise.allSettled(all), new Promise((r) => setTimeout(r, timeoutMs))]);
  }

  /** The request of the last run started in this workspace ("Run again"). */
  lastRequest(): StoredRequest | undefined {
    return this.services.context.workspaceState.get<StoredRequest>(STATE_LAST_REQUEST);
  }

  /** The request that produced a run directory, when this workspace started it. */
  requestFor(runDir: string): StoredRequest | undefined {
    const map = this.services.context.workspaceState.get<Record<string, StoredRequest>>(STATE_REQUESTS_BY_DIR) ?? {};
    return map[path.resolve(runDir)];
  }

  private async remember(outDir: string, stored: StoredRequest): Promise<void> {
    const state = this.services.context.workspaceState;
    // a long list of tuples (a typed range of a million values) is not copied into the workspace
    // state: run.json holds it, and fromStored reads it back from there
    if (stored.inputs && JSON.stringify(stored.inputs).length > MAX_REMEMBERED_INPUTS_CHARS) stored = { ...stored, inputs: undefined, inputsInRunJson: true };
    const map = { ...(state.get<Record<string, StoredRequest>>(STATE_REQUESTS_BY_DIR) ?? {}) };
    delete map[path.resolve(outDir)];
    map[path.resolve(outDir)] = stored;
    const keys = Object.keys(map);
    for (const k of keys.slice(0, Math.max(0, keys.length - MAX_REMEMBERED_RUNS))) delete map[k];
    await state.update(STATE_REQUESTS_BY_DIR, map);
    await state.update(STATE_LAST_REQUEST, stored);
  }

  private async newRunDir(req: RunRequest): Promise<string> {
    return createRunDir(this.runsDir(req.folder), runStem(req.script));
  }


  /**
   * Checks the inputs exist; returns how many files there are when that is cheap to know (the engine
   * streams files and only knows the total at the end: this lets progress show n/total and an ETA now).
   */
  private async checkFiles(req: RunRequest): Promise<number | undefined> {
    const f = req.files;
    let knownTotal: number | undefined;
    switch (f.kind) {
      case 'globs': {
        if (f.patterns.length === 0 || f.patterns.some((p) => !p.trim())) {
          throw new Error('Cannot run: no file pattern given. Give a glob relative to the workspace folder, e.g. "data/**/*.csv".');
        }
        const found = await countMatches(req.folder, f.patterns, 10_000_000);
        if (found === 0) {
          throw new Error(
            `Cannot run: no files match ${f.patterns.map((p) => `"${p}"`).join(', ')} in ${req.folder.uri.fsPath}. ` +
              'Check the pattern (relative to the workspace folder), e.g. "data/**/*.csv".',
          );
        }
        knownTotal = found;
        return knownTotal;
      }
      case 'folder': {
        const st = await fs.promises.stat(f.path).catch(() => undefined);
        if (!st?.isDirectory()) throw new Error(`Cannot run: folder "${f.path}" does not exist. Pick an existing folder of input files.`);
        return;
      }
      case 'list': {
        knownTotal = f.files.length;
        if (f.files.length === 0) throw new Error('Cannot run: no files selected. Select the input files (or a folder) in the Explorer, or give a glob.');
        for (const file of f.files) {
          const abs = path.resolve(req.folder.uri.fsPath, file);
          const st = await fs.promises.stat(abs).catch(() => undefined);
          if (!st?.isFile()) throw new Error(`Cannot run: input file "${file}" does not exist. Remove it from the list or restore it.`);
        }
        return knownTotal;
      }
      default:
        return;
    }
  }

  private track(handle: RunHandle, request: RunRequest, expectedTotal: number | undefined): void {
    const log = this.services.log;
    const busy = new Set<number>();
    const tracked = this.tracker.track(handle, {
      label: request.label ?? handle.runId,
      unit: request.inputs ? 'tasks' : 'files',
      notification: (request.progress ?? 'notification') === 'notification',
      expectedTotal,
      onEvent: (e) => {
        switch (e.type) {
          case 'runStarted':
            log.info(`[${handle.runId}] ${e.workers} workers × ${e.threads} BLAS threads${e.resumeSkipped ? `, ${e.resumeSkipped} files already done (resumed)` : ''}`);
            break;
          case 'taskStarted':
            busy.add(e.index);
            this.busyChanged();
            break;
          case 'taskRetried':
            log.warn(`[${handle.runId}] ↻ ${e.file} attempt ${e.attempt}: ${e.reason}`);
            break;
          case 'taskFinished': {
            const r = e.record;
            busy.delete(r.index);
            this.busyChanged();
            const line = `[${handle.runId}] ${TASK_STATUS_SYMBOL[r.status]} ${r.file} ${formatDuration(r.wallMs)}`;
            if (r.status === 'succeeded' || r.status === 'skipped') log.info(line);
            else log.error(`${line} — ${r.status}${r.exitCode !== null ? ` (exit ${r.exitCode})` : r.signal ? ` (${r.signal})` : ''}${lastLine(r.stderrTail) ? `: ${lastLine(r.stderrTail)}` : ''}`);
            break;
          }
          case 'progress': {
            // the tree re-reads the run directory on change: at most twice a second
            const now = Date.now();
            if (now - this.lastProgressFire > 500) {
              this.lastProgressFire = now;
              this.emitter.fire({ kind: 'progress', runId: handle.runId, outDir: handle.outDir, folder: request.folder });
            }
            break;
          }
          case 'runCancelled':
            log.warn(`[${handle.runId}] cancelling: killing every task's process group`);
            break;
          default:
            break;
        }
      },
    });
    const run: ActiveRun = { handle, request, busy, tracked };
    this.runs.set(handle.runId, run);
    void vscode.commands.executeCommand('setContext', ContextKeys.runActive, true);
    log.info(`[${handle.runId}] started: ${request.label} (${handle.outDir})`);
    this.emitter.fire({ kind: 'started', runId: handle.runId, outDir: handle.outDir, folder: request.folder });
    this.tellMonitor();

    handle.done.then(
      (report) => this.finished(run, report),
      (err) => {
        this.runs.delete(handle.runId);
        log.error(`[${handle.runId}] run failed: ${err instanceof Error ? err.message : String(err)}`);
        this.afterEnd();
        this.emitter.fire({ kind: 'finished', runId: handle.runId, outDir: handle.outDir, folder: request.folder });
      },
    );
  }

  private finished(run: ActiveRun, report: RunReport): void {
    const { handle, request } = run;
    this.runs.delete(handle.runId);
    const c = report.counts;
    const summary =
      `${RUN_STATUS_TEXT[report.status]}: ${c.succeeded} succeeded, ${c.failed + c.timedOut} failed` +
      `${c.skipped ? `, ${c.skipped} skipped (already done)` : ''}${c.cancelled ? `, ${c.cancelled} cancelled` : ''}` +
      ` in ${formatDuration(report.wallMs)} — ${figuresLine(report)}`;
    const log = this.services.log;
    if (report.status === 'succeeded') log.info(`[${handle.runId}] ${summary}`);
    else log.warn(`[${handle.runId}] ${summary}`);
    this.afterEnd();
    this.emitter.fire({ kind: 'finished', runId: handle.runId, outDir: handle.outDir, folder: request.folder, report });
    if (request.progress === 'none') return;

    const settings = safeSettings(this.services, request.folder);
    const openReport = request.openReport ?? settings?.openReportWhenDone ?? false;
    if (openReport && report.status !== 'cancelled') void vscode.commands.executeCommand(Commands.showReport, { runDir: handle.outDir });
    if (settings?.notifyWhenDone ?? true) void this.notifyFinished(report, handle.outDir, request.label ?? report.label ?? report.runId);
  }

  /** The last end-of-run notification shown (what the user was told), newest last; for tests and diagnostics. */
  readonly notices: Array<EndNotice & { runDir: string }> = [];

  private async notifyFinished(report: RunReport, runDir: string, label: string): Promise<void> {
    const notice = endNotice(report, label);
    this.notices.push({ ...notice, runDir });
    if (this.notices.length > 20) this.notices.shift();
    const pick = notice.severity === 'warning' ? await vscode.window.showWarningMessage(notice.text, ...notice.actions) : await vscode.window.showInformationMessage(notice.text, ...notice.actions);
    const arg = { runDir };
    if (pick === 'Show Report') await executeForUser(Commands.showReport, arg);
    // merged into this run (as Resume is): the failed files run again in its directory
    else if (pick === 'Re-run Failed') await executeForUser(Commands.rerunFiles, arg);
    else if (pick === 'Resume') await executeForUser(Commands.resumeLastRun, arg);
  }

  private afterEnd(): void {
    this.tracker.updateStatus();
    if (this.runs.size === 0) {
      void vscode.commands.executeCommand('setContext', ContextKeys.runActive, false);
      this.services.monitor?.setActiveRun(undefined);
    } else {
      this.tellMonitor();
    }
  }

  private busyTimer: NodeJS.Timeout | undefined;
  /** The busy count changed: show it in the monitor's status item soon (coalesced: a fast run
   * starts thousands of tasks a second), not only at its next sample, which may be seconds away. */
  private busyChanged(): void {
    if (this.busyTimer) return;
    this.busyTimer = setTimeout(() => {
      this.busyTimer = undefined;
      this.tellMonitor();
    }, 150);
  }

  /** Tells the resource monitor about the runs going (live getters: it polls them per sample). */
  private tellMonitor(): void {
    const m = this.services.monitor;
    if (!m || this.runs.size === 0) return;
    const markers = () => [...this.hostScripts, ...[...this.runs.values()].map((r) => r.request.script)];
    m.setActiveRun({
      busy: () => [...this.runs.values()].reduce((n, r) => n + r.busy.size, 0),
      workers: [...this.runs.values()].reduce((n, r) => n + r.handle.report().workers, 0),
      pids: () => childPidsMatching(markers()),
    });
  }

  dispose(): void {
    if (this.busyTimer) clearTimeout(this.busyTimer);
    this.tracker.dispose();
    this.runDirs.dispose();
    this.emitter.dispose();
  }
}

function safeSettings(services: Services, folder: vscode.WorkspaceFolder) {
  try {
    return services.config.get(folder.uri);
  } catch {
    return undefined;
  }
}

async function checkScript(script: string): Promise<void> {
  const st = await fs.promises.stat(script).catch(() => undefined);
  if (!st?.isFile()) {
    throw new Error(`Cannot run: script "${script}" does not exist. Open the Python script to run (it processes ONE file given as sys.argv[1]) or pass its path.`);
  }
}

/** undefined for 0 (or less): the engine's "not set". */
function positive(v: number): number | undefined {
  return v > 0 ? v : undefined;
}

function checkCount(name: 'workers' | 'threads', v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 4096) {
    const key = name === 'workers' ? Settings.workers : Settings.threadsPerTask;
    throw new Error(`Cannot run: ${name} is ${JSON.stringify(v)}, not a whole number from 1 to 4096 (0 = automatic, setting ${CONFIG_SECTION}.${key}).`);
  }
}

/** How many files the globs match (stopping at `max`). Same engine as the live count in the picker. */
export async function countMatches(folder: vscode.WorkspaceFolder, patterns: string[], max: number, token?: vscode.CancellationToken): Promise<number> {
  const seen = new Set<string>();
  for (const p of patterns) {
    // exclude = null: the engine does not apply files.exclude either, so the count matches the run
    const uris = await vscode.workspace.findFiles(new vscode.RelativePattern(folder, p), null, max, token);
    for (const u of uris) seen.add(u.fsPath);
    if (seen.size >= max) break;
  }
  return seen.size;
}

export function toStored(req: RunRequest): StoredRequest {
  return { ...req, folder: req.folder.uri.fsPath };
}

