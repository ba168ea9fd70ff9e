/**
 * The editor feature's code, loaded with the first Python file or notebook (editor/register.ts): the
 * source analysis behind the code lenses, diagnostics and quick fixes, loop rewrites, "Run Notebook
 * over Files…" and "Run over a Grid".
 */
import * as vscode from 'vscode';
import type { LoopRewrite, SourceFixFile } from '../../core/python/sourceAnalysis';
import { Commands } from '../../shared/ids';
import type { CommandTable } from '../commands';
import { messageOf } from '../config';
import type { Services } from '../services';
import type { EditorParts } from './register';
import { EditorAnalysis, writeFixFiles } from './analysisService';
import { ParallelRunCodeLenses } from './codeLenses';
import { ParallelRunCodeActions, ParallelRunDiagnostics } from './diagnostics';
import { runNotebook } from './runNotebook';
import { runGrid } from './runGrid';

/** The loaded editor feature: what editor/register.ts publishes and the providers it forwards to. */
export interface EditorFeature extends EditorParts {
  actions: ParallelRunCodeActions;
  commands: CommandTable;
}

export function createEditor(context: vscode.ExtensionContext, services: Services): EditorFeature {
  const analysis = new EditorAnalysis(services);
  const lenses = new ParallelRunCodeLenses(services, analysis);
  const diagnostics = new ParallelRunDiagnostics(services, analysis);
  const actions = new ParallelRunCodeActions(analysis, (doc) => lenses.blasAssumption(doc));
  context.subscriptions.push(analysis, lenses, diagnostics);
  const commands: CommandTable = {
    [Commands.runNotebook]: (arg?: unknown) => runNotebook(services, analysis, arg as Parameters<typeof runNotebook>[2]),
    [Commands.runGrid]: (arg?: unknown, func?: string, params?: string[]) => runGrid(services, arg as Parameters<typeof runGrid>[1], func, params),
    [Commands.writeFixFiles]: (dir: string, files: SourceFixFile[]) => {
      try {
        return writeFixFiles(dir, files);
      } catch (err) {
        throw new Error(`could not write ${files.map((f) => f.name).join(', ')} in ${dir}: ${messageOf(err)}`);
      }
    },
    [Commands.parallelizeLoop]: (uri?: vscode.Uri | string, line?: number, kind?: LoopRewrite['kind']) => parallelizeLoop(analysis, uri, line, kind),
  };
  // the analyzer process dies with the extension (its process group is killed)
  services.shutdownHooks.push(async () => analysis.dispose());
  return { analysis, lenses, diagnostics, actions, commands };
}

/**
 * Rewrites the loop over files on `line` of `uri` (default: the active editor's cursor line): into a
 * multiprocessing Pool, or into main(path) so Parallel Run can run the script per file. With one
 * possible rewrite (or `kind` given) it applies directly, otherwise it asks.
 */
async function parallelizeLoop(analysis: EditorAnalysis, uriArg?: vscode.Uri | string, lineArg?: number, kind?: LoopRewrite['kind']): Promise<{ applied: boolean; kind?: string }> {
  const editor = vscode.window.activeTextEditor;
  const uri = typeof uriArg === 'string' ? vscode.Uri.parse(uriArg) : uriArg ?? editor?.document.uri;
  if (!uri) throw new Error('open a Python file and put the cursor on a `for` loop over files.');
  const doc = await vscode.workspace.openTextDocument(uri);
  const line = lineArg ?? (editor && editor.document.uri.toString() === uri.toString() ? editor.selection.active.line : -1);
  const local = await analysis.analyzeLocal(doc);
  const a = local?.analysis;
  if (!local || !a) throw new Error('the Python source analyzer is not available (see the Parallel Run output).');
  if (a.syntaxError) throw new Error(`the file has a syntax error on line ${a.syntaxError.line + 1} (${a.syntaxError.message}); fix it first.`);
  const loop = a.fileLoops.find((l) => l.line === line) ?? a.fileLoops.find((l) => line >= l.range.start.line && line <= l.range.end.line);
  if (!loop) {
    void vscode.window.showInformationMessage('No loop over files here. Put the cursor on a `for … in glob(…)` / `os.listdir(…)` / `Path.glob(…)` loop.');
    return { applied: false };
  }
  const possible = loop.rewrites.filter((w) => w.edits && (!kind || w.kind === kind));
  if (!possible.length) {
    const why = loop.rewrites.map((w) => `${w.title}: ${w.unavailable ?? 'not requested'}`).join('; ');
    void vscode.window.showWarningMessage(`This loop cannot be parallelized as written. ${why}`);
    return { applied: false };
  }
  let choice = possible[0];
  if (possible.length > 1) {
    const picked = await vscode.window.showQuickPick(
      possible.map((w) => ({
        label: w.kind === 'pool' ? '$(server-process) Use a multiprocessing Pool' : '$(run-all) Extract main(path) for Parallel Run',
        detail: w.title,
        rewrite: w,
      })),
      { title: `Parallelize: for ${loop.target} in ${loop.iter}`, placeHolder: 'How should this loop run in parallel?' },
    );
    if (!picked) return { applied: false };
    choice = picked.rewrite;
  }
  const edit = local.toEdit(choice.edits!);
  if (!edit) throw new Error('this rewrite would change several notebook cells at once; move the loop into one cell first.');
  const ok = await vscode.workspace.applyEdit(edit);
  return { applied: ok, kind: choice.kind };
}
