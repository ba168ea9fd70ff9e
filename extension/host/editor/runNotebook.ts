/**
 * "Run Notebook over Files…" (command palette, notebook toolbar, Explorer menu on .ipynb, and a lens
 * on the `parameters` cell): the notebook becomes the script the engine runs once per input (core
 * notebookRun), then the ordinary run flow takes over: same questions, journal, resume, report.
 *
 *   executeCommand('parallelRun.runNotebook', { notebook: 'analysis.ipynb', files: 'data/*.csv', wait: true })
 *     -> RunReport (wait) or RunHandle; extra keys: fileVar, saveNotebooks, warm, workers...
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { prepareNotebookRun } from '../../core/python/notebookRun';
import { Commands } from '../../shared/ids';
import type { RunArgs } from '../run/commands';
import { askRunRequest } from '../run/questions';
import type { Services } from '../services';
import { EditorAnalysis } from './analysisService';

export interface RunNotebookArgs extends RunArgs {
  /** the .ipynb, absolute or relative to the workspace folder */
  notebook?: string;
  /** the parameters-cell name the file goes to (default: the first it assigns) */
  fileVar?: string;
  /** write an executed copy per input (default: setting parallelRun.notebooks.saveExecuted) */
  saveNotebooks?: boolean;
}

type Arg = RunNotebookArgs | vscode.Uri | { notebookEditor?: { notebookUri?: vscode.Uri }; notebookUri?: vscode.Uri } | undefined;

function notebookUriOf(arg: Arg, folder?: vscode.WorkspaceFolder): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  if (arg && typeof arg === 'object') {
    if ('notebook' in arg && typeof arg.notebook === 'string') {
      const base = folder?.uri.fsPath ?? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd();
      return vscode.Uri.file(path.resolve(base, arg.notebook));
    }
    const fromToolbar = (arg as { notebookEditor?: { notebookUri?: vscode.Uri } }).notebookEditor?.notebookUri ?? (arg as { notebookUri?: vscode.Uri }).notebookUri;
    if (fromToolbar instanceof vscode.Uri) return fromToolbar;
  }
  return vscode.window.activeNotebookEditor?.notebook.uri;
}

export async function runNotebook(services: Services, analysis: EditorAnalysis, arg: Arg): Promise<unknown> {
  const args = arg && !(arg instanceof vscode.Uri) && ('notebook' in arg || 'files' in arg || 'wait' in arg) ? (arg as RunNotebookArgs) : undefined;
  const wsFolder = args?.workspaceFolder ? vscode.workspace.workspaceFolders?.find((f) => f.uri.fsPath === path.resolve(args.workspaceFolder!)) : undefined;
  const uri = notebookUriOf(arg, wsFolder);
  if (!uri) throw new Error('Run Notebook over Files: open a Jupyter notebook (.ipynb) first, or pick one in the Explorer.');
  if (uri.scheme !== 'file') throw new Error(`Run Notebook over Files: ${uri.toString()} is not on disk. Save the notebook first.`);
  const folder = wsFolder ?? vscode.workspace.getWorkspaceFolder(uri) ?? vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('Run Notebook over Files needs a workspace folder: open the folder that holds the notebook (File > Open Folder…).');
  // the run reads the notebook from disk: unsaved edits would silently not count
  const open = vscode.workspace.notebookDocuments.find((d) => d.uri.toString() === uri.toString());
  if (open?.isDirty) await open.save();
  const settings = services.config.get(folder.uri);
  const python = await analysis.interpreterFor(uri);
  const nb = await prepareNotebookRun({
    notebook: uri.fsPath,
    cwd: folder.uri.fsPath,
    python,
    mediaDir: services.mediaDir,
    fileVar: args?.fileVar,
    saveExecuted: args?.saveNotebooks ?? settings.saveNotebooks,
  });
  if (nb.outputsDir && (args?.warm ?? false)) throw new Error('Saving executed notebooks runs each file in a Jupyter kernel, which warm workers cannot do. Turn off warm workers or parallelRun.notebooks.saveExecuted.');
  if (nb.skipped.length) services.log.info(`${path.basename(uri.fsPath)}: display-only magics skipped in the run: ${nb.skipped.join('; ')}`);
  const label = args?.label ?? path.basename(uri.fsPath);
  if (args && (args.files || args.inputFolder || args.wait)) {
    const runArgs: RunArgs = { ...args, script: nb.script, args: nb.args, label, workspaceFolder: folder.uri.fsPath };
    delete (runArgs as RunNotebookArgs).notebook;
    delete (runArgs as RunNotebookArgs).fileVar;
    delete (runArgs as RunNotebookArgs).saveNotebooks;
    return vscode.commands.executeCommand(Commands.runScript, runArgs);
  }
  const req = await askRunRequest(services, { folder, script: vscode.Uri.file(nb.script), filesOnly: true });
  if (!req) return undefined;
  if (nb.outputsDir && req.warm) throw new Error('Saving executed notebooks runs each file in a Jupyter kernel, which warm workers cannot do. Turn off warm workers or parallelRun.notebooks.saveExecuted.');
  const runs = services.runs;
  if (!runs) throw new Error('Run Notebook over Files: the run feature is not available.');
  return runs.start({ ...req, args: nb.args, label });
}
