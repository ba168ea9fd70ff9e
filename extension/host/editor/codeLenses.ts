/**
 * Code lenses on Python scripts and notebook cells:
 *  - on the entry point of a script that takes an input: `▶ Run over files in parallel` and `⏱ Measure speedup`;
 *  - on a notebook's `parameters` cell: `▶ Run Notebook over Files…`;
 *  - on Pool / ProcessPoolExecutor / Process: the thread picture (processes × BLAS threads on cores)
 *    and, after a run of this script, its measured median task time;
 *  - on loops over files: `Parallelize this loop`.
 * Each kind switches off with its parallelRun.codeLens.* setting.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { assumedBlasThreads, BlasThreadsAssumption, latestRunOfScript, ScriptRunStats, threadPicture } from '../../core/python/sourceAnalysis';
import { formatDuration } from '../../shared/format';
import { logicalCores } from '../../core/threads';
import { Commands } from '../../shared/ids';
import type { BlasInspection } from '../../core/python/blasProbe';
import type { Services } from '../services';
import { EditorAnalysis, toRange } from './analysisService';
import { gridFunctions } from '../../core/python/gridFunctions';
import { BlasKnowledge } from './blasKnowledge';

/** The BLAS threads of an inspection as the lens uses them: the default (no thread variable set), else the current. */
export function inspectedBlas(ins: BlasInspection | undefined): { threads: number; library?: string } | undefined {
  if (!ins) return undefined;
  const threads = ins.defaultThreads ?? ins.current.currentThreads;
  if (typeof threads !== 'number' || !(threads > 0)) return undefined;
  return { threads, library: ins.current.vendor === 'unknown' ? undefined : ins.current.vendor };
}

export class ParallelRunCodeLenses implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.emitter.event;
  private readonly lastRuns = new Map<string, Promise<ScriptRunStats | undefined>>();
  private readonly subs: vscode.Disposable[] = [];
  /** services.blasInfo or this session's background probe (refreshes the lenses when it lands). */
  readonly blas: BlasKnowledge;

  constructor(private readonly services: Services, private readonly analysis: EditorAnalysis) {
    this.blas = new BlasKnowledge(services, () => this.refresh());
    this.subs.push(services.config.onDidChange(() => this.refresh()));
    if (services.runs) this.subs.push(services.runs.onDidChange(() => this.refresh()));
  }

  /** BLAS threads per process as the thread lens assumes them for this document's interpreter. */
  async blasAssumption(doc: vscode.TextDocument): Promise<BlasThreadsAssumption> {
    const python = await this.analysis.interpreter(doc).catch(() => undefined);
    const known = python ? this.blas.known(python) : undefined;
    if (python && !known) this.blas.ensure(python);
    return assumedBlasThreads(logicalCores(), process.env, inspectedBlas(known));
  }

  /** Recompute every lens (settings, BLAS knowledge or run history changed). */
  refresh(): void {
    this.lastRuns.clear();
    this.emitter.fire();
  }

  async provideCodeLenses(doc: vscode.TextDocument, token: vscode.CancellationToken): Promise<vscode.CodeLens[]> {
    if (!EditorAnalysis.accepts(doc)) return [];
    const settings = this.services.config.get().codeLens;
    if (!settings.runScript && !settings.poolThreads && !settings.parallelizeLoop) return [];
    const local = await this.analysis.analyzeLocal(doc);
    const a = local?.analysis;
    if (!local || !a || token.isCancellationRequested) return [];
    const lenses: vscode.CodeLens[] = [];
    const uri = doc.uri;

    const nb = local.notebook;
    if (settings.runScript && nb && nb.cell === nb.parametersCell && nb.document.uri.scheme === 'file') {
      lenses.push(new vscode.CodeLens(new vscode.Range(0, 0, 0, 0), {
        title: '$(play) Run Notebook over Files…',
        command: Commands.runNotebook,
        arguments: [nb.document.uri],
        tooltip: 'Run this notebook once per input file, on every core: each input is assigned in a cell injected after this "parameters" cell (Parallel Run)',
      }));
    }
    // only a script that takes an input (sys.argv, an argparse positional, main(path)) can run per file
    if (settings.runScript && a.entryPoint && a.entryPoint.takesInput && uri.scheme === 'file') {
      const r = toRange(a.entryPoint.range);
      lenses.push(
        new vscode.CodeLens(r, { title: '$(play) Run over files in parallel', command: Commands.runScript, arguments: [uri], tooltip: 'Run this script once per file, on every core (Parallel Run)' }),
        new vscode.CodeLens(r, { title: '$(watch) Measure speedup', command: Commands.measureSpeedup, arguments: [uri], tooltip: 'Scaling sweep: time this script on a sample of files with 1…N workers and recommend workers × BLAS threads' }),
      );
    }

    // a top-level function with parameters: run it over a grid of their values, in-process (--call)
    if (settings.runScript && uri.scheme === 'file' && !nb) {
      for (const f of gridFunctions(doc.getText())) {
        lenses.push(new vscode.CodeLens(new vscode.Range(f.line, 0, f.line, 0), {
          title: '$(table) Run over a grid…',
          command: Commands.runGrid,
          arguments: [uri, f.name, f.params],
          tooltip: `Run ${f.name}() once per combination of values of ${f.params.join(', ')} on every core, in-process; each return value becomes a row of results.csv (Parallel Run)`,
        }));
      }
    }

    if (settings.poolThreads && a.pools.length) {
      const cores = logicalCores();
      const blas = await this.blasAssumption(doc);
      const last = uri.scheme === 'file' && !nb ? await this.lastRun(doc) : undefined;
      for (const pool of a.pools) {
        const pic = threadPicture(pool, cores, blas, a.threadLimit);
        const r = toRange(pool.range);
        lenses.push(new vscode.CodeLens(r, { title: pic.title, command: Commands.inspectBlas, arguments: [], tooltip: `${pic.tooltip}\nClick to inspect the BLAS of your Python.` }));
        if (last) {
          lenses.push(new vscode.CodeLens(r, {
            title: `$(history) last run: median task ${formatDuration(last.medianTaskMs)} (${last.tasks} files)`,
            command: Commands.showReport,
            arguments: [{ runDir: last.runDir }],
            tooltip: `Measured by Parallel Run (run ${last.runId}). Click for the report.`,
          }));
        }
      }
    }

    if (settings.parallelizeLoop) {
      for (const loop of a.fileLoops) {
        const ok = loop.rewrites.filter((w) => w.edits);
        const tooltip = loop.rewrites.map((w) => (w.edits ? `• ${w.title}` : `• ${w.title}: not possible, ${w.unavailable}`)).join('\n');
        lenses.push(new vscode.CodeLens(toRange(loop.range), {
          title: ok.length ? 'Parallelize this loop' : 'Parallelize this loop (not possible as written)',
          command: Commands.parallelizeLoop,
          arguments: [uri, loop.line],
          tooltip,
        }));
      }
    }
    return lenses;
  }

  private lastRun(doc: vscode.TextDocument): Promise<ScriptRunStats | undefined> {
    const script = doc.uri.fsPath;
    let p = this.lastRuns.get(script);
    if (!p) {
      const folder = vscode.workspace.getWorkspaceFolder(doc.uri);
      if (!folder) return Promise.resolve(undefined);
      const runs = this.services.runs;
      const dir = runs ? runs.runsDir(folder) : path.resolve(folder.uri.fsPath, this.services.config.get(folder.uri).runsDirectory);
      p = latestRunOfScript(dir, script).catch(() => undefined);
      this.lastRuns.set(script, p);
    }
    return p;
  }

  dispose(): void {
    this.blas.dispose();
    this.subs.forEach((s) => s.dispose());
    this.emitter.dispose();
  }
}
