/**
 * The measure commands, loaded on their first use (measure/register.ts registers them): Measure
 * Speedup… (scaling sweep), Apply Recommended Workers and Threads, Inspect BLAS Threads, Matrix Demo.
 * The work is done by core (sweepRunner, python/blasProbe, demos/matrixDemo); this file asks, shows
 * progress with cancel, and shows results (report panel when available, else a Markdown preview).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { MatrixDemoResult } from '../../core/demos/matrixDemo';
import { benchmarkBlas, formatBlasReport, inspectBlas, type BlasBenchmark, type BlasInspection } from '../../core/python/blasProbe';
import type { FileSource, RunReport, TaskCommand } from '../../core/run/types';
import { collectFiles, formatSweep, readSweepFile, runSweep, sweepNotice, type SweepFileData } from '../../core/sweepRunner';
import { logicalCores } from '../../core/threads';
import { Commands, CONFIG_SECTION, Settings } from '../../shared/ids';
import { executeForUser, type CommandTable } from '../commands';
import { loadDefaults, pickFiles, pickScript } from '../run/questions';
import { interpreters, type Services } from '../services';
import type { MeasureState } from './register';

/** Arguments for programmatic use (tests, code lenses): every one skips its question. */
export interface MeasureArgs {
  /** Absolute or workspace-relative script path (or a Uri from the explorer/code lens). */
  script?: string | vscode.Uri;
  /** Globs relative to the workspace folder. */
  files?: string[];
  budgetSeconds?: number;
  /** Vary BLAS threads (default true). */
  varyThreads?: boolean;
  /** Apply the recommendation without asking (true) or never (false); undefined = ask. */
  apply?: boolean;
  /** Open the result (report panel / preview); default true. */
  show?: boolean;
  /** The inputs as a file source (Measure Again passes the previous sweep's). */
  source?: FileSource;
}

const STATE_LAST_SWEEP = 'parallelRun.lastSweepDir';

/** The measure commands' handlers (measure/register.ts registers them, loaded on first use). */
export function measureHandlers(context: vscode.ExtensionContext, services: Services, state: MeasureState): CommandTable {
  const workersDir = path.join(services.distDir, 'workers');
  const folderOf = (hint?: vscode.Uri): vscode.WorkspaceFolder | undefined =>
    (hint && vscode.workspace.getWorkspaceFolder(hint)) ?? vscode.workspace.workspaceFolders?.[0];

  return {
    [Commands.measureSpeedup]: async (arg?: MeasureArgs | vscode.Uri) => {
      const a: MeasureArgs = arg instanceof vscode.Uri ? { script: arg } : (arg ?? {});
      const out = await measureSpeedup(services, a, workersDir, folderOf);
      if (!out) return undefined;
      state.last = out;
      await context.workspaceState.update(STATE_LAST_SWEEP, out.dir);
      return out;
    },

    [Commands.applyRecommendation]: async (arg?: { workers: number; threads: number } | { sweepDir: string }) => {
      let rec: { workers: number; threads: number } | undefined;
      if (arg && 'workers' in arg) rec = arg;
      else {
        const last = state.last;
        const dir = (arg && 'sweepDir' in arg ? arg.sweepDir : undefined) ?? last?.dir ?? context.workspaceState.get<string>(STATE_LAST_SWEEP);
        const data = dir ? (dir === last?.dir ? last.result : await readSweepFile(dir)) : undefined;
        rec = data?.recommendation ?? undefined;
      }
      if (!rec) {
        void vscode.window.showInformationMessage('No recommendation yet: run "Parallel Run: Measure Speedup…" first.', 'Measure Speedup…').then((p) => {
          if (p) void executeForUser(Commands.measureSpeedup);
        });
        return undefined;
      }
      return applyRecommendation(rec);
    },

    [Commands.inspectBlas]: async (arg?: { bench?: boolean | number; show?: boolean }) => inspectBlasCommand(services, arg ?? {}, folderOf),

    [Commands.matrixDemo]: async (arg?: { workers?: number[]; blocks?: number; show?: boolean }) => matrixDemoCommand(services, arg ?? {}, workersDir),
  };
}

async function measureSpeedup(services: Services, a: MeasureArgs, workersDir: string, folderOf: (u?: vscode.Uri) => vscode.WorkspaceFolder | undefined): Promise<{ dir: string; result: SweepFileData; notice: string } | undefined> {
  const scriptHint = typeof a.script === 'string' ? undefined : a.script ?? activePython();
  const folder = folderOf(scriptHint);
  if (!folder) throw new Error('open the folder that holds your script and its input files first (File > Open Folder…).');
  const defaults = loadDefaults(services);

  let script = typeof a.script === 'string' ? path.resolve(folder.uri.fsPath, a.script) : scriptHint?.fsPath;
  if (!script) script = await pickScript(folder, defaults);
  if (!script) return undefined;
  if (!fs.existsSync(script)) throw new Error(`the script ${script} does not exist. Pick an existing Python script.`);

  // Measure Again passes the same inputs as a source; else globs, else ask
  let source: FileSource | undefined = a.source ?? (a.files?.length ? { kind: 'globs', patterns: a.files, cwd: folder.uri.fsPath } : undefined);
  source ??= (await pickFiles(folder, defaults))?.source;
  if (!source) return undefined;

  const python = await interpreters(services).resolve(folder);
  const settings = services.config.get(folder.uri);
  const command: TaskCommand = { kind: 'python', python: python.executable, script, args: [], warm: false };
  const runsDir = services.runs?.runsDir(folder) ?? path.resolve(folder.uri.fsPath, settings.runsDirectory);
  const budgetSec = a.budgetSeconds ?? settings.sweepBudgetSeconds;
  const cores = logicalCores();

  const out = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Measuring speedup of ${path.basename(script)}`, cancellable: true },
    async (progress, token) => {
      const ac = new AbortController();
      const sub = token.onCancellationRequested(() => ac.abort());
      let done = 0;
      let header = `${cores} cores, budget ${budgetSec} s`;
      try {
        progress.report({ message: 'listing files…' });
        const files = await collectFiles(source!);
        return await runSweep({
          command, files, cwd: folder.uri.fsPath, runsDir, workersDir, budgetSec, cores,
          varyThreads: a.varyThreads, timeoutSec: settings.timeoutSeconds || undefined, signal: ac.signal,
          onEvent: (e) => {
            if (e.type === 'probe') progress.report({ message: `${header}: timing ${e.files} file(s) serially…` });
            else if (e.type === 'plan') {
              // shown up front: what the sweep will do and how long it should take
              header = `sample of ${e.sampleSize}/${e.totalFiles} files × ${e.grid.length} configurations, about ${Math.round(e.estimatedSec)} s`;
              services.log.info(`Sweep plan: ${header} (budget ${e.budgetSec} s, ~${Math.round(e.perFileMs)} ms per file, ${e.cores} cores)`);
              progress.report({ message: header });
            } else if (e.type === 'pointStarted') {
              const inc = Math.round(e.fraction * 100) - done;
              done += inc;
              progress.report({ increment: inc, message: `${header} — ${e.workers} worker${e.workers === 1 ? '' : 's'} × ${e.threads} thread${e.threads === 1 ? '' : 's'} (repeat ${e.repeat})` });
            } else if (e.type === 'pointFinished') {
              services.log.info(`Sweep ${e.workers} × ${e.threads} repeat ${e.repeat}: ${(e.wallMs / 1000).toFixed(2)} s${e.failed ? ` (${e.failed} failed)` : ''}`);
            }
          },
        });
      } finally {
        sub.dispose();
      }
    },
  );

  const md = formatSweep(out.result);
  services.log.info(md);
  if (a.show !== false) {
    const panel = services.reportPanel;
    if (panel && fs.existsSync(path.join(out.dir, 'report.json'))) await panel.show(out.dir);
    else await showMarkdown(services, `sweep-${path.basename(out.dir)}.md`, md);
  }
  const rec = out.result.recommendation;
  const notice = sweepNotice(out.result);
  const busy = !!out.result.load?.busy;
  if (out.result.status === 'completed' && rec) {
    if (a.apply === true) await applyRecommendation(rec);
    else if (a.apply === undefined) {
      // on a busy machine the first offer is to measure again; Apply stays (the report has it too)
      const actions = busy ? ['Measure Again', 'Apply', 'Show Table'] : ['Apply', 'Show Table'];
      const shown = busy ? vscode.window.showWarningMessage(notice, ...actions) : vscode.window.showInformationMessage(notice, ...actions);
      void shown.then(async (pick) => {
        if (pick === 'Apply') await applyRecommendation(rec);
        else if (pick === 'Show Table') await showMarkdown(services, `sweep-${path.basename(out.dir)}.md`, md);
        else if (pick === 'Measure Again') await executeForUser(Commands.measureSpeedup, { ...a, script, files: undefined, source });
      });
    }
  } else if (out.result.status !== 'completed') {
    void vscode.window.showWarningMessage(`Speedup sweep ${out.result.status}. ${out.result.notes[0] ?? ''}`);
  }
  return { ...out, notice };
}

/** Writes parallelRun.workers / threadsPerTask into the workspace settings (used by the next run). */
async function applyRecommendation(rec: { workers: number; threads: number }): Promise<{ workers: number; threads: number }> {
  const cfg = vscode.workspace.getConfiguration(CONFIG_SECTION);
  const target = vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  await cfg.update(Settings.workers, rec.workers, target);
  await cfg.update(Settings.threadsPerTask, rec.threads, target);
  void vscode.window.showInformationMessage(`Parallel Run will use ${rec.workers} worker${rec.workers === 1 ? '' : 's'} × ${rec.threads} thread${rec.threads === 1 ? '' : 's'} (workspace settings ${CONFIG_SECTION}.${Settings.workers} and ${CONFIG_SECTION}.${Settings.threadsPerTask}).`);
  return { workers: rec.workers, threads: rec.threads };
}

async function inspectBlasCommand(services: Services, arg: { bench?: boolean | number; show?: boolean }, folderOf: (u?: vscode.Uri) => vscode.WorkspaceFolder | undefined): Promise<{ inspection: BlasInspection; bench?: BlasBenchmark; markdown: string; file?: string }> {
  const python = await interpreters(services).resolve(folderOf(activePython()));
  const cores = logicalCores();
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Inspecting BLAS threads', cancellable: true },
    async (progress, token) => {
      const ac = new AbortController();
      const sub = token.onCancellationRequested(() => ac.abort());
      try {
        progress.report({ message: `numpy in ${python.executable}…` });
        const inspection = await inspectBlas(python.executable, services.mediaDir, { signal: ac.signal });
        // shared knowledge: the pool code lenses (host/editor) and the report read it
        services.blasInfo = inspection;
        services.editorAnalysis?.refreshLenses();
        let bench: BlasBenchmark | undefined;
        const number = typeof arg.bench === 'number' ? arg.bench : 20;
        if (arg.bench !== false && inspection.current.numpy) {
          const counts = cores > 1 ? [1, cores] : [1];
          bench = await benchmarkBlas(python.executable, services.mediaDir, {
            threadCounts: counts, number, signal: ac.signal,
            onProgress: (t, i) => progress.report({ increment: 100 / (counts.length + 1), message: `mat.dot(mat.T) × ${number} with ${t} thread${t === 1 ? '' : 's'} (fresh process)…` }),
          });
        }
        const markdown = formatBlasReport(inspection, bench, cores);
        services.log.info(markdown);
        const file = arg.show === false ? undefined : await showMarkdown(services, 'blas-threads.md', markdown);
        return { inspection, bench, markdown, file };
      } finally {
        sub.dispose();
      }
    },
  );
}

async function matrixDemoCommand(services: Services, arg: { workers?: number[]; blocks?: number; show?: boolean }, workersDir: string): Promise<MatrixDemoResult & { markdown: string; notice: string }> {
  // ml-matrix and the demo load on first use, not at activation
  const { formatMatrixDemo, matrixDemoReport, matrixVerdict, runMatrixDemo } = await import(/* webpackChunkName: "matrixDemo" */ '../../core/demos/matrixDemo');
  const r = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Matrix demo: mat · matᵀ (1000 × 1500)', cancellable: true },
    async (progress, token) => {
      const ac = new AbortController();
      const sub = token.onCancellationRequested(() => ac.abort());
      let last = 0;
      try {
        return await runMatrixDemo({
          workersDir, workerCounts: arg.workers, blocks: arg.blocks, signal: ac.signal,
          onProgress: (message, fraction) => {
            progress.report({ message, increment: Math.round(fraction * 100) - last });
            last = Math.round(fraction * 100);
          },
        });
      } finally {
        sub.dispose();
      }
    },
  );
  const markdown = formatMatrixDemo(r);
  services.log.info(markdown);
  if (arg.show !== false) {
    // timings, speedup and the block timeline in the report panel when it exists; the table always
    const panel = services.reportPanel;
    if (panel) await panel.show(matrixDemoReport(r));
    await showMarkdown(services, 'matrix-demo.md', markdown);
  }
  const v = matrixVerdict(r);
  const notice = `Matrix demo (JavaScript ml-matrix on worker threads, not numpy): ${v.headline}${v.causes.length ? ' ' + v.causes.join(' ') : ''}`;
  const numpy = 'Time the numpy Version';
  const shown = v.speedup < 1 || r.load?.busy ? vscode.window.showWarningMessage(notice, numpy) : vscode.window.showInformationMessage(notice, numpy);
  void shown.then((pick) => {
    // the tutorial's numpy benchmark, 1 BLAS thread vs all cores, each in a fresh process
    if (pick === numpy) void executeForUser(Commands.inspectBlas, { bench: 20 });
  });
  return { ...r, markdown, notice };
}

function activePython(): vscode.Uri | undefined {
  const doc = vscode.window.activeTextEditor?.document;
  return doc && doc.uri.scheme === 'file' && (doc.languageId === 'python' || doc.fileName.endsWith('.py')) ? doc.uri : undefined;
}

/**
 * Shows Markdown in the built-in preview: written to the extension's storage (not an untitled editor
 * that would ask to be saved on close). Returns the file path.
 */
async function showMarkdown(services: Services, name: string, markdown: string): Promise<string> {
  const dir = services.context.globalStorageUri.fsPath;
  await fs.promises.mkdir(dir, { recursive: true });
  const file = path.join(dir, name);
  await fs.promises.writeFile(file, markdown, 'utf8');
  try {
    await vscode.commands.executeCommand('markdown.showPreview', vscode.Uri.file(file));
  } catch {
    await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: true });
  }
  return file;
}
