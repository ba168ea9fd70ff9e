/**
 * `Parallel Run: Submit to Slurm…` and watching job arrays: the code behind slurm/register.ts, loaded
 * on first use (a submission, a Slurm run to cancel or re-run, or one still queued when a window opens).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { createRunDir, readDefinition, runStem } from '../../core/run/runDir';
import { RUN_FILES, type FileSource, type RunEvent, type RunReport } from '../../core/run/types';
import {
  attachSlurmRun, cancelSlurmRun, isSlurmRun, prepareSlurmRun, resubmitFailed, PreparedSlurmRun, SlurmError, SlurmRunHandle, SlurmRunOptions, SlurmSettings,
  slurmDirOf, SLURM_FILES, submitSlurmRun,
} from '../../core/slurm';
import { readJson } from '../../core/slurm/layout';
import { Commands } from '../../shared/ids';
import { isProgrammatic, type CommandTable } from '../commands';
import type { QueuedSlurmRun, SlurmApi, SlurmProgressState, SlurmStatusBarState, SlurmTestHooks, SubmitSlurmArgs, SubmitSlurmResult } from './register';
import { messageOf } from '../config';
import { formatDuration, RUN_STATUS_TEXT } from '../run/format';
import { RunTracker } from '../run/runTracker';
import type { Services } from '../services';
import { NotTrustedError, requireTrust } from '../trust';

/** What a refusal names (the same words as the command's). */
const SUBMIT = 'submit scripts to Slurm';

export class SlurmFeature implements SlurmApi, SlurmTestHooks, vscode.Disposable {
  /** the local run's tracker, its status bar item marked as Slurm */
  private readonly tracker = new RunTracker<SlurmRunHandle>('parallelRun.slurm', 'Parallel Run: Slurm job arrays', 49, 'Slurm ', (n) => `(${n} Slurm runs watched)`);

  constructor(private readonly context: vscode.ExtensionContext, private readonly services: Services) {}

  active(): SlurmRunHandle[] {
    return this.tracker.active().map((w) => w.handle);
  }

  statusBar(): SlurmStatusBarState {
    return this.tracker.status();
  }

  progress(): SlurmProgressState[] {
    return this.tracker.active().filter((w) => w.title).map((w) => ({ runDir: path.resolve(w.handle.outDir), title: w.title, message: w.message, percent: w.percent }));
  }

  isSlurmRun(runDir: string): boolean {
    return isSlurmRun(runDir) || readJson<{ backend?: string }>(path.join(runDir, RUN_FILES.definition))?.backend === 'slurm';
  }

  private folderFor(p?: string): vscode.WorkspaceFolder {
    const folders = vscode.workspace.workspaceFolders ?? [];
    if (folders.length === 0) throw new Error('Cannot submit to Slurm: no folder is open. Open the folder holding your script and its input files.');
    if (!p) return folders[0];
    const f = folders.find((x) => x.uri.fsPath === path.resolve(p)) ?? vscode.workspace.getWorkspaceFolder(vscode.Uri.file(path.resolve(p)));
    if (!f) throw new Error(`Cannot submit to Slurm: "${p}" is not a workspace folder.`);
    return f;
  }

  private runsDir(folder: vscode.WorkspaceFolder): string {
    return path.resolve(folder.uri.fsPath, this.services.config.get(folder.uri).runsDirectory);
  }

  private async newRunDir(folder: vscode.WorkspaceFolder, stemOf: string): Promise<string> {
    return createRunDir(this.runsDir(folder), `${runStem(stemOf)}-slurm`);
  }


  /** Turns the arguments into SlurmRunOptions (settings + overrides, interpreter resolved). */
  private async optionsFor(args: SubmitSlurmArgs): Promise<{ opts: SlurmRunOptions; folder: vscode.WorkspaceFolder }> {
    const folder = this.folderFor(args.workspaceFolder);
    const settings = this.services.config.get(folder.uri); // throws SettingsError naming the key
    const cwd = folder.uri.fsPath;
    if (!args.script) throw new Error('Cannot submit to Slurm: no script given. Open the Python script (it processes ONE file given as sys.argv[1]) or pass { script }.');
    const script = path.resolve(cwd, args.script);
    if (!fs.existsSync(script)) throw new Error(`Cannot submit to Slurm: script "${script}" does not exist. Pick an existing Python script.`);
    let files: FileSource;
    if (Array.isArray(args.files)) {
      if (args.files.length === 0) throw new Error('Cannot submit to Slurm: no input files given. Give a glob such as "data/**/*.csv".');
      files = { kind: 'list', files: args.files.map((f) => path.resolve(cwd, f)) };
    } else if (typeof args.files === 'string' && args.files.trim()) {
      files = { kind: 'globs', patterns: [args.files.trim()], cwd };
    } else {
      throw new Error('Cannot submit to Slurm: no input files given. Give a glob relative to the workspace folder, e.g. "data/**/*.csv".');
    }
    const python = this.services.python;
    const executable = python ? (await python.resolve(folder)).executable : settings.pythonPath || 'python3';
    const outDir = args.outDir ? path.resolve(cwd, args.outDir) : await this.newRunDir(folder, script);
    return {
      folder,
      opts: {
        command: { kind: 'python', python: executable, script, args: args.args ?? [], warm: false },
        files,
        cwd,
        threads: args.threads ?? (settings.threadsPerTask || 1),
        timeoutSec: args.timeout ?? settings.timeoutSeconds,
        retries: args.retries ?? settings.retries,
        outDir,
        label: args.label ?? `${path.basename(script)} over ${Array.isArray(args.files) ? `${args.files.length} files` : args.files} (Slurm)`,
        slurm: { ...settings.slurm, ...(args.slurm ?? {}) },
        cliPath: path.join(this.services.distDir, 'cli.js'),
        runsDir: this.runsDir(folder),
        exportOnly: !!args.exportOnly,
        runner: 'vscode',
      },
    };
  }

  async submit(args: SubmitSlurmArgs): Promise<SubmitSlurmResult> {
    if (!requireTrust(SUBMIT)) throw new NotTrustedError(SUBMIT);
    if (args.rerunFailedOf) return this.rerunFailed(args.rerunFailedOf, { wait: args.wait, slurm: args.slurm });
    const { opts } = await this.optionsFor(args);
    const prep = await this.prepare(opts);
    if (args.exportOnly) return { runDir: prep.runDir, scriptPath: prep.scriptPath, jobIds: [] };
    return this.launch(prep, opts.label ?? prep.def.runId, args.wait);
  }

  private async prepare(opts: SlurmRunOptions): Promise<PreparedSlurmRun> {
    try {
      return await prepareSlurmRun(opts);
    } catch (err) {
      // nothing submitted: leave no half-written run directory behind
      if (!(err instanceof SlurmError) && fs.existsSync(path.join(opts.outDir, 'slurm')) && !fs.existsSync(path.join(opts.outDir, RUN_FILES.report))) {
        await fs.promises.rm(opts.outDir, { recursive: true, force: true }).catch(() => undefined);
      } else {
        await fs.promises.rmdir(opts.outDir).catch(() => undefined); // the new, still empty run directory
      }
      throw err;
    }
  }

  private async launch(prep: PreparedSlurmRun, label: string, wait?: boolean): Promise<SubmitSlurmResult> {
    const handle = await submitSlurmRun(prep, { runner: 'vscode' });
    this.services.log.info(`[slurm] submitted job array ${handle.jobIds().join(', ')}: ${prep.plan.files} files in ${prep.plan.tasks.length} array tasks (${prep.runDir})`);
    this.track(handle, label, true);
    const result: SubmitSlurmResult = { runDir: prep.runDir, scriptPath: prep.scriptPath, jobIds: handle.jobIds() };
    if (wait) result.report = await handle.done;
    return result;
  }

  /** Quick-pick flow: script → files → Slurm options → preview → confirm. */
  async interactive(uri?: vscode.Uri): Promise<SubmitSlurmResult | undefined> {
    if (!requireTrust(SUBMIT)) return undefined;
    const folder = uri ? vscode.workspace.getWorkspaceFolder(uri) ?? this.folderFor() : this.folderFor();
    let script = uri?.fsPath;
    const editor = vscode.window.activeTextEditor;
    if (!script && editor?.document.languageId === 'python' && editor.document.uri.scheme === 'file') script = editor.document.uri.fsPath;
    if (!script) {
      const found = await vscode.workspace.findFiles(new vscode.RelativePattern(folder, '**/*.py'), '**/{.venv,venv,node_modules,.parallel-run}/**', 200);
      const pick = await vscode.window.showQuickPick(found.map((u) => ({ label: path.relative(folder.uri.fsPath, u.fsPath), uri: u })), {
        title: 'Submit to Slurm (1/3): the Python script to run once per file', placeHolder: 'It processes ONE file given as sys.argv[1]',
      });
      if (!pick) return undefined;
      script = pick.uri.fsPath;
    }
    const lastGlob = this.context.workspaceState.get<string>('parallelRun.slurm.lastGlob') ?? 'data/**/*';
    const glob = await vscode.window.showInputBox({
      title: 'Submit to Slurm (2/3): input files', prompt: 'A glob relative to the workspace folder', value: lastGlob,
      validateInput: (v) => (v.trim() ? undefined : 'Give a glob, e.g. data/**/*.fits'),
    });
    if (!glob) return undefined;
    await this.context.workspaceState.update('parallelRun.slurm.lastGlob', glob);
    const settings = this.services.config.get(folder.uri).slurm;
    const slurm = { ...settings };
    let exportOnly = false;
    for (;;) {
      const items: Array<vscode.QuickPickItem & { id: string }> = [
        { id: 'submit', label: '$(cloud-upload) Preview the sbatch script and submit', detail: `partition ${slurm.partition || '(cluster default)'} · time ${slurm.timeLimit || '(default)'} · mem ${slurm.memory || '(default)'} · account ${slurm.account || '(default)'} · ≥ ${slurm.targetTaskSeconds} s per array task${slurm.maxConcurrent ? ` · at most ${slurm.maxConcurrent} at once` : ''}` },
        { id: 'export', label: '$(file-symlink-file) Export only (script + manifest + README for another cluster)' },
        { id: 'partition', label: 'Partition…', description: slurm.partition || '(cluster default)' },
        { id: 'timeLimit', label: 'Time limit per array task…', description: slurm.timeLimit || '(default)' },
        { id: 'memory', label: 'Memory per array task…', description: slurm.memory || '(default)' },
        { id: 'account', label: 'Account…', description: slurm.account || '(default)' },
      ];
      const pick = await vscode.window.showQuickPick(items, { title: 'Submit to Slurm (3/3): options (defaults from parallelRun.slurm.* settings)' });
      if (!pick) return undefined;
      if (pick.id === 'submit') break;
      if (pick.id === 'export') {
        exportOnly = true;
        break;
      }
      const key = pick.id as 'partition' | 'timeLimit' | 'memory' | 'account';
      const v = await vscode.window.showInputBox({ title: pick.label.replace('…', ''), value: slurm[key], prompt: key === 'timeLimit' ? 'HH:MM:SS or D-HH:MM:SS' : key === 'memory' ? 'e.g. 4G (empty = cluster default)' : 'empty = cluster default' });
      if (v !== undefined) slurm[key] = v.trim();
    }
    const { opts } = await this.optionsFor({ script, files: glob, workspaceFolder: folder.uri.fsPath, slurm, exportOnly });
    const prep = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Parallel Run: writing the sbatch script…' }, () => this.prepare(opts));
    // the preview: the exact script that will be submitted
    await vscode.window.showTextDocument(vscode.Uri.file(prep.scriptPath), { preview: true });
    if (exportOnly) {
      const open = await vscode.window.showInformationMessage(
        `Exported ${prep.plan.files} files as ${prep.plan.tasks.length} array tasks to ${prep.slurmDir}. To submit there: ${prep.submitLines.join(' && ')} (see README.txt).`,
        'Open README', 'Reveal Folder',
      );
      if (open === 'Open README') await vscode.window.showTextDocument(vscode.Uri.file(prep.readmePath));
      else if (open === 'Reveal Folder') await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(prep.slurmDir));
      return { runDir: prep.runDir, scriptPath: prep.scriptPath, jobIds: [] };
    }
    const go = await vscode.window.showInformationMessage(
      `Submit ${prep.plan.files} files as ${prep.plan.tasks.length} array task${prep.plan.tasks.length === 1 ? '' : 's'}` +
        `${prep.plan.parts.length > 1 ? ` (${prep.plan.parts.length} arrays: MaxArraySize ${prep.plan.maxArraySize})` : ''} to Slurm?`,
      { modal: true, detail: `${prep.plan.notes.join('\n')}\n\nThe script is open in the editor. ${prep.submitLines.join('; ')}` },
      'Submit',
    );
    if (go !== 'Submit') {
      await fs.promises.rm(prep.runDir, { recursive: true, force: true }).catch(() => undefined);
      return undefined;
    }
    return this.launch(prep, opts.label ?? prep.def.runId);
  }

  async rerunFailed(runDir: string, opts: { wait?: boolean; slurm?: Partial<SlurmSettings> } = {}): Promise<SubmitSlurmResult> {
    if (!requireTrust(SUBMIT)) throw new NotTrustedError(SUBMIT);
    if (this.tracker.get(runDir)) throw new Error('That Slurm run is still going; cancel it first or let it finish.');
    const def = readDefinition(runDir);
    if (!def) throw new Error(`Cannot re-run: ${runDir} holds no run (run.json missing). Pick a run from the Runs view.`);
    const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(def.cwd)) ?? this.folderFor();
    const settings = this.services.config.get(folder.uri);
    // same definition (script, interpreter, args, threads, env), only the failed files, as a new array
    const handle = await resubmitFailed(runDir, {
      slurm: { ...settings.slurm, ...(opts.slurm ?? {}) },
      cliPath: path.join(this.services.distDir, 'cli.js'),
      runsDir: this.runsDir(folder),
      outDir: await this.newRunDir(folder, def.command.kind === 'python' ? def.command.script : def.command.argv[0] ?? 'run'),
      label: `re-run failed of ${def.label ?? def.runId}`,
      runner: 'vscode',
    }, { runner: 'vscode' });
    this.services.log.info(`[slurm] re-submitted the failed files of ${def.runId} as job array ${handle.jobIds().join(', ')} (${handle.outDir})`);
    this.track(handle, `re-run failed of ${def.label ?? def.runId}`, true);
    const result: SubmitSlurmResult = { runDir: handle.outDir, scriptPath: path.join(slurmDirOf(handle.outDir), SLURM_FILES.script), jobIds: handle.jobIds() };
    if (opts.wait) result.report = await handle.done;
    return result;
  }

  async cancel(runDirOrRunId: string): Promise<RunReport | undefined> {
    const hit = this.tracker.get(runDirOrRunId) ?? this.tracker.active().find((w) => w.handle.runId === runDirOrRunId);
    if (hit) {
      hit.handle.cancel();
      return hit.handle.done;
    }
    if (!fs.existsSync(path.join(slurmDirOf(runDirOrRunId), SLURM_FILES.submission))) return undefined;
    // the job ids come from a file in the workspace: scancel them only when it is trusted
    if (!requireTrust('cancel Slurm jobs')) throw new NotTrustedError('cancel Slurm jobs');
    await cancelSlurmRun(runDirOrRunId);
    // not watched by this window: collect it now so the run is marked cancelled
    const handle = await attachSlurmRun(runDirOrRunId, { runner: 'vscode' });
    this.track(handle, path.basename(runDirOrRunId), false);
    return handle.done;
  }

  /** Watches again the Slurm runs an earlier window left running (found by queuedSlurmRuns). */
  async reattach(found: QueuedSlurmRun[]): Promise<void> {
    for (const q of found) {
      if (this.tracker.get(q.dir)) continue;
      try {
        const handle = await attachSlurmRun(q.dir, { runner: 'vscode' });
        this.services.log.info(`[slurm] watching job array ${q.jobIds.join(', ')} again (${q.dir})`);
        this.track(handle, q.label, false);
      } catch (err) {
        this.services.log.warn(`[slurm] cannot watch ${q.dir} again: ${messageOf(err)}`);
      }
    }
  }

  /** The command's handler: an argument object submits without asking; otherwise the questions. */
  commands(): CommandTable {
    return {
      [Commands.submitSlurm]: (arg?: SubmitSlurmArgs | vscode.Uri) => (isProgrammatic(arg) ? this.submit(arg as SubmitSlurmArgs) : this.interactive(arg instanceof vscode.Uri ? arg : undefined)),
    };
  }

  private track(handle: SlurmRunHandle, label: string, notify: boolean): void {
    const log = this.services.log;
    const refreshTree = () => this.services.runsTree?.refresh();
    const jobs = () => handle.jobIds().join(', ');
    this.tracker.track(handle, {
      label,
      // the same notification as a local run: title "Parallel Run: <label>", cancellable, percent of files
      notification: notify,
      startMessage: `job array ${jobs()} submitted, waiting for the queue…`,
      // the local run's words, then the array tasks' Slurm states
      moreMessage: () => `array tasks: ${Object.entries(handle.arrayStates()).map(([k, v]) => `${v} ${k.toLowerCase()}`).join(', ') || 'queued'}`,
      moreStatus: () => {
        const running = handle.arrayStates().RUNNING ?? 0;
        return running ? ` · ${running} running` : '';
      },
      tooltipNote: () => `Job array ${jobs()}.`,
      onEvent: (e: RunEvent) => {
        if (e.type === 'taskFinished') {
          const r = e.record;
          const line = `[slurm ${handle.runId}] ${r.status === 'succeeded' ? '✓' : r.status === 'cancelled' ? '⊘' : '✗'} ${r.file} (array task ${r.slot - 1})`;
          if (r.status === 'succeeded' || r.status === 'cancelled') log.info(line);
          else log.error(`${line} — ${r.status}${r.exitCode !== null ? ` (exit ${r.exitCode})` : ''}`);
        } else if (e.type === 'progress') {
          refreshTree();
        }
      },
    });
    refreshTree();
    void handle.done.then((report) => {
      refreshTree();
      const c = report.counts;
      // worded like a local run's summary; wall time includes the queue wait
      const summary = `${RUN_STATUS_TEXT[report.status]}: ${c.succeeded} succeeded, ${c.failed + c.timedOut} failed` +
        `${c.skipped ? `, ${c.skipped} skipped (already done)` : ''}${c.cancelled ? `, ${c.cancelled} cancelled` : ''}` +
        ` in ${formatDuration(report.wallMs)} on Slurm (job array ${jobs()}, ${report.workers} array task lane${report.workers === 1 ? '' : 's'})`;
      log.info(`[slurm ${handle.runId}] ${summary}`);
      if (notify) void this.notifyFinished(report, handle.outDir, `${label} ${summary}`);
    });
  }

  private async notifyFinished(report: RunReport, runDir: string, text: string): Promise<void> {
    const failed = report.counts.failed + report.counts.timedOut;
    const actions = ['Show Report', ...(failed > 0 ? ['Re-run Failed'] : [])];
    const pick = report.status === 'succeeded'
      ? await vscode.window.showInformationMessage(`Parallel Run: ${text}`, ...actions)
      : await vscode.window.showWarningMessage(`Parallel Run: ${text}`, ...actions);
    if (pick === 'Show Report') await vscode.commands.executeCommand(Commands.showReport, { runDir });
    // the same command a local run's notification runs (it routes Slurm runs back here)
    else if (pick === 'Re-run Failed') await Promise.resolve(vscode.commands.executeCommand(Commands.rerunFailed, { runDir })).catch((e) => vscode.window.showErrorMessage(messageOf(e)));
  }

  dispose(): void {
    this.tracker.dispose();
  }
}
