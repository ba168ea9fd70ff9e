/**
 * The run commands. Each accepts, besides what VS Code passes from menus (a Uri, a selection, a Runs
 * view node), an optional argument object that skips every question — that is how tests, tasks and
 * other features drive them:
 *
 *   executeCommand('parallelRun.runScript', { script: 'ok.py', files: 'data/*.txt', workers: 2, wait: true })
 *     -> RunReport (wait) or RunHandle
 *
 * Bad input rejects with one message naming the problem and the fix; interactive calls show it.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { failedFiles, failedInputs, readReport } from '../../core/run/history';
import { resolveTaskLog, TaskLogError } from '../../core/run/taskLog';
import { RUN_FILES, type FileSource, type RunHandle, type RunReport, type TaskRecord } from '../../core/run/types';
import { Commands, type CommandId } from '../../shared/ids';
import { formatFactor, formatPercent, formatRate, loadText, MODE_TEXT, runFigures, runMode } from '../../shared/figures';
import { isProgrammatic, type CommandTable } from '../commands';
import type { Services } from '../services';
import { askRunRequest, loadDefaults, pickScript, type PickedFiles } from './questions';
import { type RunKnobs, type RunRequest, type RunService, type StoredRequest } from './runService';
import { formatDuration, RUN_STATUS_TEXT, TASK_STATUS_SYMBOL } from './format';
import { fromStored, loadRunRequest, runLimits } from './runDefinition';

/** The argument object every run command accepts (all optional). */
export interface RunArgs extends RunKnobs {
  /** Script path, absolute or relative to the workspace folder. */
  script?: string;
  /** A glob (string) or explicit files (array), relative to the workspace folder or absolute. */
  files?: string | string[];
  /** An input folder (every file in it, recursively). */
  inputFolder?: string;
  /** Workspace folder path (multi-root); default the first. */
  workspaceFolder?: string;
  halt?: boolean | string;
  label?: string;
  /** Resolve with the final report instead of the handle. */
  wait?: boolean;
  openReport?: boolean;
  /** Run directory (resume, rerunFailed, showReport, openRunLogs, deleteRun). */
  runDir?: string;
  /** A task's file (openTaskLog / openRunLogs). */
  file?: string;
  /** deleteRun: ask first (default true). */
  confirm?: boolean;
  runId?: string;
}

type Arg = RunArgs | vscode.Uri | { runDir: string; record?: TaskRecord } | undefined;

/** The run commands' handlers (host/run/register.ts registers them, loaded on first use). */
export function runCommandHandlers(services: Services, runs: RunService, refresh: () => void): CommandTable {
  const table: Record<string, (...a: unknown[]) => Promise<unknown>> = {};
  const reg = (id: CommandId, fn: (...a: unknown[]) => Promise<unknown>) => {
    table[id] = fn;
  };

  const launch = async (req: RunRequest, args: RunArgs | undefined): Promise<RunHandle | RunReport> => {
    const handle = await runs.start(req);
    return args?.wait ? handle.done : handle;
  };

  reg(Commands.runScript, async (arg, selection) => {
    if (isArgs(arg) && (arg.files || arg.inputFolder || arg.wait)) {
      return launch(await requestFromArgs(services, arg), arg);
    }
    if (isArgs(arg) && arg.script) {
      // only the script known (e.g. from another feature): ask for the rest
      const folder = workspaceFolderFor(arg.workspaceFolder);
      const req = await askRunRequest(services, { folder, script: vscode.Uri.file(path.resolve(folder.uri.fsPath, arg.script)) });
      return req ? launch(req, undefined) : undefined;
    }
    const uri = arg instanceof vscode.Uri ? arg : undefined;
    const sel = Array.isArray(selection) ? (selection as vscode.Uri[]) : undefined;
    // the explorer passes a selection too: if it holds inputs as well as the script, use them
    const inputs = sel && uri ? sel.filter((u) => u.toString() !== uri.toString()) : [];
    const req = await askRunRequest(services, {
      script: uri && uri.fsPath.endsWith('.py') ? uri : undefined,
      files: inputs.length ? await selectionSource(inputs) : undefined,
    });
    return req ? launch(req, undefined) : undefined;
  });

  reg(Commands.runOverSelection, async (arg, selection) => {
    if (isArgs(arg)) return vscode.commands.executeCommand(Commands.runScript, arg);
    const uris = Array.isArray(selection) && selection.length ? (selection as vscode.Uri[]) : arg instanceof vscode.Uri ? [arg] : [];
    if (uris.length === 0) return vscode.commands.executeCommand(Commands.runScript);
    const folder = vscode.workspace.getWorkspaceFolder(uris[0]);
    if (!folder) throw new Error('Cannot run: the selected files are outside the workspace. Open their folder as a workspace folder first.');
    // one script selected together with its inputs: run that script over the others
    const scripts = uris.filter((u) => u.fsPath.endsWith('.py'));
    const script = scripts.length === 1 && uris.length > 1 ? scripts[0] : undefined;
    const inputs = script ? uris.filter((u) => u !== script) : uris;
    const req = await askRunRequest(services, { folder, script, files: await selectionSource(inputs) });
    return req ? launch(req, undefined) : undefined;
  });

  reg(Commands.runAgain, async (arg) => {
    const args = isArgs(arg) ? arg : undefined;
    const last = runs.lastRequest();
    const req = last && fromStored(last);
    if (!req) {
      if (args) throw new Error('Nothing to run again: no run has been started in this workspace yet. Use "Parallel Run: Run Script over Files…".');
      return vscode.commands.executeCommand(Commands.runScript);
    }
    return launch({ ...req, outDir: undefined, resume: false, openReport: args?.openReport ?? req.openReport, progress: 'notification' }, args);
  });

  reg(Commands.cancelRun, async (arg) => {
    const args = isArgs(arg) ? arg : undefined;
    const runId = args?.runId ?? (arg && typeof arg === 'object' && 'runId' in arg ? String((arg as { runId: unknown }).runId) : undefined);
    // a run named by its directory: the local run with that directory, else (below) a Slurm run;
    // never "the newest local run" when the directory names another one
    const dir = runDirOf(arg);
    const local = dir ? runs.activeRuns().find((h) => path.resolve(h.outDir) === path.resolve(dir)) : undefined;
    if (!dir || local) {
      const report = await runs.cancel(local?.runId ?? runId);
      if (report) return report;
    }
    // not a local run: a Slurm run watched by this window (or named by its run dir) is cancelled with scancel
    const slurm = services.slurm;
    const target = runDirOf(arg) ?? runId ?? slurm?.active()[0]?.outDir;
    if (slurm && target) return slurm.cancel(target);
    if (!args) void vscode.window.showInformationMessage('No Parallel Run is running.');
    return undefined;
  });

  reg(Commands.resumeLastRun, async (arg) => {
    const args = isArgs(arg) ? arg : undefined;
    const runDir = runDirOf(arg) ?? (await lastRunDir(services, runs, (r) => r.status !== 'succeeded' && r.status !== 'running'));
    if (!runDir) throw new Error('Nothing to resume: no cancelled, interrupted or failed run in this workspace.');
    if (runs.activeRuns().some((h) => path.resolve(h.outDir) === path.resolve(runDir))) {
      throw new Error('That run is still going; cancel it first or let it finish.');
    }
    const req = await requestForRun(services, runs, runDir);
    return launch({ ...req, outDir: runDir, resume: true, openReport: args?.openReport ?? req.openReport, progress: 'notification' }, args);
  });

  /**
   * Runs tasks of a run again in its own directory, merged into it as a resume is (the report then shows
   * the whole run): the given files or tuple labels (a failure group), else every task that did not
   * succeed. A run over tuples re-runs exactly those tuples.
   */
  const rerunInRun = async (runDir: string, given: string[] | undefined, args: RunArgs | undefined): Promise<RunHandle | RunReport | undefined> => {
    if (runs.activeRuns().some((h) => path.resolve(h.outDir) === path.resolve(runDir))) {
      throw new Error('That run is still going; cancel it first or let it finish.');
    }
    const req = await requestForRun(services, runs, runDir);
    const nothing = () => {
      if (!args) void vscode.window.showInformationMessage(`Every ${req.inputs ? 'task' : 'file'} of that run succeeded: nothing to re-run.`);
      return undefined;
    };
    const again = { outDir: runDir, resume: true, subset: true, openReport: args?.openReport ?? req.openReport, progress: 'notification' as const };
    if (req.inputs) {
      const wanted = given && new Set(given);
      const failed = (await failedInputs(runDir)).filter((f) => f.inputs && (!wanted || wanted.has(f.file)));
      if (failed.length === 0) return nothing();
      return launch(
        {
          ...req,
          inputs: { ...req.inputs, only: failed.map((f) => f.inputs!) },
          // the tuples' labels: the rest of the run is told from them (carried into the report as it ended)
          files: { kind: 'list', files: failed.map((f) => f.file) },
          filesLabel: `${failed.length} task${failed.length === 1 ? '' : 's'} again`,
          ...again,
        },
        args,
      );
    }
    const files = given ?? (await failedFiles(runDir));
    if (files.length === 0) return nothing();
    return launch({ ...req, files: { kind: 'list', files }, filesLabel: `${files.length} file${files.length === 1 ? '' : 's'} again`, ...again }, args);
  };

  // every failed task of a run (the palette, the Runs view), merged into that run
  reg(Commands.rerunFailed, async (arg) => {
    const args = isArgs(arg) ? arg : undefined;
    const runDir = runDirOf(arg) ?? (await lastRunDir(services, runs, (r) => r.counts.failed + r.counts.timedOut > 0));
    if (!runDir) throw new Error('Nothing to re-run: no run in this workspace has failed files.');
    const report = await readReport(runDir);
    if (!report) throw new Error(`Cannot re-run: ${runDir} has no report yet (the run is still going or never started).`);
    const slurm = services.slurm;
    if (report.backend === 'slurm' && slurm) return slurm.rerunFailed(runDir, { wait: args?.wait });
    return rerunInRun(runDir, undefined, args);
  });

  // a failure group's files (or every failed file) run again in the same run directory, merged into it
  // as a resume is: the report then shows the whole run
  reg(Commands.rerunFiles, async (arg) => {
    const args = isArgs(arg) ? arg : undefined;
    const runDir = runDirOf(arg) ?? (await lastRunDir(services, runs, (r) => r.counts.failed + r.counts.timedOut > 0));
    if (!runDir) throw new Error('Nothing to re-run: no run in this workspace has failed files.');
    const given = (arg as { files?: unknown } | undefined)?.files;
    return rerunInRun(runDir, Array.isArray(given) && given.every((f) => typeof f === 'string') ? (given as string[]) : undefined, args);
  });

  reg(Commands.showReport, async (arg) => {
    const runDir = runDirOf(arg) ?? (await lastRunDir(services, runs, () => true));
    if (!runDir) throw new Error('No run to show yet: start one with "Parallel Run: Run Script over Files…".');
    const panel = services.reportPanel;
    if (panel) {
      await panel.show(runDir);
      return { runDir, via: 'panel' };
    }
    // no report panel in this build: the live log while running, a readable summary after
    if (runs.activeRuns().some((h) => path.resolve(h.outDir) === path.resolve(runDir))) {
      services.log.show(true);
      return { runDir, via: 'log' };
    }
    const report = await readReport(runDir);
    if (!report) throw new Error(`${runDir} has no report.json yet: the run is still going or was killed before it wrote one. Resume it to finish.`);
    const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: markdownSummary(report, runDir) });
    await vscode.window.showTextDocument(doc, { preview: true });
    return { runDir, via: 'markdown', document: doc.uri.toString() };
  });

  reg(Commands.openRunLogs, async (arg) => {
    const args = isArgs(arg) ? arg : undefined;
    const runDir = runDirOf(arg) ?? (await lastRunDir(services, runs, () => true));
    if (!runDir) throw new Error('No run yet: start one with "Parallel Run: Run Script over Files…".');
    const tasks = await tasksOf(runs, runDir);
    if (args?.file) return openTaskLog(runDir, findTask(tasks, args.file, runDir));
    if (tasks.length === 0) {
      // nothing finished yet: show the logs folder in the explorer
      const logs = vscode.Uri.file(path.join(runDir, RUN_FILES.logs));
      await vscode.commands.executeCommand('revealInExplorer', logs);
      return logs.fsPath;
    }
    const order = (t: TaskRecord) => (t.status === 'succeeded' || t.status === 'skipped' ? 1 : 0);
    const pick = await vscode.window.showQuickPick(
      [...tasks].sort((a, b) => order(a) - order(b) || a.index - b.index).map((t) => ({
        label: `${TASK_STATUS_SYMBOL[t.status]} ${path.basename(t.file)}`,
        description: `${t.status} · ${formatDuration(t.wallMs)}${t.exitCode !== null && t.exitCode !== 0 ? ` · exit ${t.exitCode}` : ''}`,
        detail: t.file,
        task: t,
      })),
      { title: `Logs of ${path.basename(runDir)}`, placeHolder: 'Failed files first; pick one to open its log', matchOnDetail: true },
    );
    return pick ? openTaskLog(runDir, pick.task) : undefined;
  });

  reg(Commands.openTaskLog, async (arg, record) => {
    // the Runs view passes (runDir, record); tests pass { runDir, file }
    if (typeof arg === 'string' && record && typeof record === 'object') return openTaskLog(arg, record as TaskRecord);
    const node = arg as { runDir?: string; record?: TaskRecord; file?: string } | undefined;
    if (!node?.runDir) throw new Error('Open Task Log needs a task: click a file under a run in the Runs view.');
    if (node.record) return openTaskLog(node.runDir, node.record);
    if (!node.file) throw new Error('Open Task Log needs the task\'s file.');
    return openTaskLog(node.runDir, findTask(await tasksOf(runs, node.runDir), node.file, node.runDir));
  });

  reg(Commands.deleteRun, async (arg) => {
    const args = isArgs(arg) ? arg : undefined;
    const runDir = runDirOf(arg);
    if (!runDir) throw new Error('Delete Run needs a run: use it from a run in the Runs view.');
    if (runs.activeRuns().some((h) => path.resolve(h.outDir) === path.resolve(runDir))) {
      throw new Error('Cannot delete a run that is still going: cancel it first.');
    }
    // only ever delete what is recognisably a run directory
    const isRun = [RUN_FILES.definition, RUN_FILES.journal, RUN_FILES.report].some((f) => fs.existsSync(path.join(runDir, f)));
    if (!isRun) throw new Error(`Refusing to delete ${runDir}: it is not a Parallel Run run directory (no run.json, journal or report).`);
    if (args?.confirm !== false) {
      const ok = await vscode.window.showWarningMessage(
        `Delete run ${path.basename(runDir)} with its journal, logs and report?`, { modal: true, detail: runDir }, 'Delete',
      );
      if (ok !== 'Delete') return false;
    }
    await fs.promises.rm(runDir, { recursive: true, force: true });
    services.log.info(`deleted run ${runDir}`);
    refresh();
    return true;
  });

  reg(Commands.refreshRuns, async () => {
    refresh();
    return true;
  });
  return table as CommandTable;
}

function isArgs(a: unknown): a is RunArgs {
  return isProgrammatic(a);
}

/** runDir from an argument object or a Runs view node. */
function runDirOf(a: unknown): string | undefined {
  if (a && typeof a === 'object' && typeof (a as { runDir?: unknown }).runDir === 'string') return (a as { runDir: string }).runDir;
  return undefined;
}

function workspaceFolderFor(p?: string): vscode.WorkspaceFolder {
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (folders.length === 0) throw new Error('Cannot run: no folder is open. Open the folder holding your script and its input files.');
  if (!p) return folders[0];
  const f = folders.find((x) => x.uri.fsPath === path.resolve(p)) ?? vscode.workspace.getWorkspaceFolder(vscode.Uri.file(path.resolve(p)));
  if (!f) throw new Error(`Cannot run: "${p}" is not a workspace folder.`);
  return f;
}

/** An argument object -> a request; nothing asked. */
export async function requestFromArgs(services: Services, a: RunArgs): Promise<RunRequest> {
  const folder = workspaceFolderFor(a.workspaceFolder);
  const root = folder.uri.fsPath;
  let script = a.script;
  if (!script) {
    script = loadDefaults(services).script ?? (await pickScript(folder, loadDefaults(services)));
    if (!script) throw new Error('Cannot run: no script given. Pass "script" (a Python file that processes the one file given as sys.argv[1]).');
  }
  let files: FileSource;
  let filesLabel: string;
  if (a.inputFolder) {
    files = { kind: 'folder', path: path.resolve(root, a.inputFolder), recursive: true };
    filesLabel = `${a.inputFolder}/`;
  } else if (typeof a.files === 'string') {
    files = { kind: 'globs', patterns: [a.files], cwd: root };
    filesLabel = a.files;
  } else if (Array.isArray(a.files)) {
    files = { kind: 'list', files: a.files.map((f) => path.resolve(root, f)) };
    filesLabel = `${a.files.length} file${a.files.length === 1 ? '' : 's'}`;
  } else {
    throw new Error('Cannot run: no input files given. Pass "files" (a glob such as "data/*.csv", or a list of files) or "inputFolder".');
  }
  return {
    folder,
    script: path.resolve(root, script),
    args: a.args ?? [],
    files,
    filesLabel,
    workers: a.workers ?? 0,
    threads: a.threads ?? 0,
    warm: a.warm,
    timeoutSec: a.timeout,
    retries: a.retries,
    halt: a.halt,
    label: a.label,
    openReport: a.openReport,
  };
}

/** Explorer selection -> a file source: one folder = that folder; otherwise the files (folders expanded). */
async function selectionSource(uris: vscode.Uri[]): Promise<PickedFiles> {
  const stats = await Promise.all(uris.map(async (u) => ({ u, dir: (await vscode.workspace.fs.stat(u)).type === vscode.FileType.Directory })));
  if (stats.length === 1 && stats[0].dir) {
    const rel = vscode.workspace.asRelativePath(stats[0].u, false);
    return { source: { kind: 'folder', path: stats[0].u.fsPath, recursive: true }, label: `${rel}/` };
  }
  const files: string[] = [];
  for (const s of stats) {
    if (!s.dir) files.push(s.u.fsPath);
    else for (const f of await vscode.workspace.findFiles(new vscode.RelativePattern(s.u, '**/*'), null)) files.push(f.fsPath);
  }
  return { source: { kind: 'list', files: [...new Set(files)].sort() }, label: `${files.length} selected file${files.length === 1 ? '' : 's'}` };
}

async function requestForRun(services: Services, runs: RunService, runDir: string): Promise<RunRequest> {
  const stored: StoredRequest | undefined = runs.requestFor(runDir);
  const fromState = stored && fromStored(stored);
  // the request remembered at the start holds no limits taken from settings: the run's own apply
  if (fromState) return { ...fromState, ...runLimits(runDir) };
  const req = await loadRunRequest(runDir);
  if (!req) throw new Error(`Cannot reuse ${runDir}: its run.json is missing or unreadable, so the script and files are unknown. Start a new run instead.`);
  return req;
}

/** The newest run directory (of any open folder) whose report passes `accept`. */
async function lastRunDir(services: Services, runs: RunService, accept: (r: RunReport) => boolean): Promise<string | undefined> {
  const active = runs.active();
  if (active && accept(active.report())) return active.outDir;
  const candidates: Array<{ dir: string; t: number }> = [];
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    let root: string;
    try {
      root = runs.runsDir(folder);
    } catch {
      continue;
    }
    const names = await fs.promises.readdir(root).catch(() => [] as string[]);
    for (const n of names) {
      const st = await fs.promises.stat(path.join(root, n)).catch(() => undefined);
      if (st?.isDirectory()) candidates.push({ dir: path.join(root, n), t: st.mtimeMs });
    }
  }
  candidates.sort((a, b) => b.t - a.t);
  for (const c of candidates) {
    const r = await readReport(c.dir).catch(() => undefined);
    if (r && accept(r)) return c.dir;
  }
  return undefined;
}

/** Finished tasks of a run: live from the engine when it is going, else from its report. */
export async function tasksOf(runs: RunService, runDir: string): Promise<TaskRecord[]> {
  const live = runs.activeRuns().find((h) => path.resolve(h.outDir) === path.resolve(runDir));
  if (live) return live.report().tasks;
  return (await readReport(runDir))?.tasks ?? [];
}

function findTask(tasks: TaskRecord[], file: string, runDir: string): TaskRecord {
  const t = tasks.find((x) => x.file === file) ?? tasks.find((x) => path.basename(x.file) === path.basename(file) && x.file.endsWith(file));
  if (!t) throw new Error(`No task for "${file}" in ${runDir}.`);
  return t;
}

/** Opens the log that matters: stderr of a failed task (when not empty), else stdout. */
async function openTaskLog(runDir: string, t: TaskRecord): Promise<string> {
  const ok = t.status === 'succeeded' || t.status === 'skipped';
  // the record comes from a file: only logs really inside the run's logs folder open (links resolved)
  const real = (rel: string) =>
    resolveTaskLog(runDir, rel, `the log of ${t.file}`).then(
      async (p) => ({ p, size: (await fs.promises.stat(p)).size }),
      (err) => {
        if (err instanceof TaskLogError && err.kind === 'missing') return undefined;
        throw err;
      },
    );
  const first = await real(ok ? t.stdoutLog : t.stderrLog);
  const second = await real(ok ? t.stderrLog : t.stdoutLog);
  // an in-process call that wrote nothing has no logs: its log opens empty, as a silent task's does
  const chosen = first && (first.size > 0 || !second || second.size <= 0) ? first.p : second?.p ?? (t.mode === 'call' ? await resolveTaskLog(runDir, ok ? t.stdoutLog : t.stderrLog, `the log of ${t.file}`, { neverWritten: true }) : undefined);
  if (!chosen) throw new Error(`The log of ${t.file} is gone (${path.join(runDir, RUN_FILES.logs)}); the run directory may have been cleaned.`);
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(chosen));
  await vscode.window.showTextDocument(doc, { preview: true });
  return chosen;
}

/** Markdown summary of a report: what `Show Run Report` opens when the report panel is not there. */
export function markdownSummary(r: RunReport, runDir: string): string {
  const c = r.counts;
  const f = runFigures(r);
  const lines = [
    `# ${r.label ?? r.runId}`,
    '',
    `**${RUN_STATUS_TEXT[r.status]}** — ${c.succeeded} succeeded, ${c.failed} failed, ${c.timedOut} timed out, ${c.skipped} skipped, ${c.cancelled} cancelled of ${c.total ?? c.done}`,
    '',
    '| | |',
    '|---|---|',
    `| Wall time | ${formatDuration(r.wallMs)} |`,
    `| Sum of task times | ${formatDuration(r.sumTaskMs)} |`,
    ...(f.ok
      ? [`| Speedup (${f.kind}) | ${formatFactor(f.speedup)} |`, `| Efficiency | ${formatPercent(f.efficiency)} |`, `| Throughput | ${formatRate(f.throughput)} |`]
      : [`| Speedup, efficiency, throughput | ${f.basis} |`]),
    `| Mode | ${MODE_TEXT[runMode(r)]} |`,
    `| Machine load | ${loadText(r.load)} |`,
    `| Workers × BLAS threads | ${r.workers} × ${r.threads} on ${r.cores.logical} logical cores (oversubscription ${r.oversubscription.toFixed(2)}) |`,
    `| Python | ${r.python?.executable ?? '–'} ${r.python?.version ?? ''} |`,
    `| Run directory | \`${runDir}\` |`,
  ];
  if (r.failures.length) {
    lines.push('', '## Failures', '', '| File | Status | Exit | Last stderr line |', '|---|---|---|---|');
    for (const f of r.failures.slice(0, 200)) {
      const tail = f.stderrTail.split(/\r?\n/).filter(Boolean).pop() ?? '';
      lines.push(`| ${f.file} | ${f.status} | ${f.exitCode ?? f.signal ?? ''} | ${tail.replace(/\|/g, '\\|')} |`);
    }
  }
  if (r.notes.length) lines.push('', '## Notes', '', ...r.notes.map((n) => `- ${n}`));
  return lines.join('\n') + '\n';
}
