/**
 * "Run over a grid…" (a lens on each top-level function with parameters, e.g. `def loglike(mu, sigma)`):
 * asks for the values of each parameter (a list, or a range START:STOP:STEP), shows the number of
 * tasks, and runs the function once per combination with in-process calls (--call) on every core;
 * each return value becomes a row of the run's results.csv.
 *
 *   executeCommand('parallelRun.runGrid', { script: 'lik.py', func: 'loglike', grid: { mu: '0:1:0.1', sigma: [1, 2] }, wait: true })
 *     -> RunReport (wait) or RunHandle
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { experimentInputs, parseGrid, readInputs } from '../../core/run/inputs';
import { openSource } from '../../core/run/fileSources';
import type { RunsApi } from '../run/runService';
import type { Services } from '../services';
import { gridFunctions } from '../../core/python/gridFunctions';

export interface RunGridArgs {
  /** the script, absolute or relative to the workspace folder */
  script: string;
  func: string;
  /** axes: name → a list of values or a range text; asked for when absent */
  grid?: Record<string, unknown>;
  workers?: number;
  /** resolve with the report once the run ends */
  wait?: boolean;
}

async function askAxes(func: string, params: string[]): Promise<Record<string, string> | undefined> {
  const grid: Record<string, string> = {};
  for (const p of params) {
    const v = await vscode.window.showInputBox({
      title: `Run ${func} over a grid: ${p}`,
      prompt: `Values of ${p}: a list (1, 2, 5) or a range START:STOP:STEP (0:1:0.1, both ends included). Empty: keep ${p}'s default.`,
      ignoreFocusOut: true,
      validateInput: (text) => {
        if (!text.trim()) return undefined;
        try {
          parseGrid(`${p}=${text}`);
          return undefined;
        } catch (e) {
          return (e as Error).message;
        }
      },
    });
    if (v === undefined) return undefined;
    if (v.trim()) grid[p] = v.trim();
  }
  return grid;
}

export async function runGrid(services: Services, arg: vscode.Uri | RunGridArgs | undefined, func?: string, params?: string[]): Promise<unknown> {
  const programmatic = !!arg && !(arg instanceof vscode.Uri);
  const base = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd();
  const uri = arg instanceof vscode.Uri ? arg : arg ? vscode.Uri.file(path.resolve(base, arg.script)) : vscode.window.activeTextEditor?.document.uri;
  const fn = programmatic ? (arg as RunGridArgs).func : func;
  if (!uri || uri.scheme !== 'file') throw new Error('Run over a grid: open the Python script (saved on disk) that defines the function.');
  if (!fn) throw new Error('Run over a grid: click the lens above a top-level function with parameters, e.g. def loglike(mu, sigma).');
  const folder = vscode.workspace.getWorkspaceFolder(uri) ?? vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('Run over a grid needs a workspace folder: open the folder that holds the script (File > Open Folder…).');
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (open?.isDirty) await open.save();
  const grid = programmatic ? (arg as RunGridArgs).grid ?? {} : await askAxes(fn, params ?? gridFunctions(open?.getText() ?? '').find((f) => f.name === fn)?.params ?? []);
  if (!grid) return undefined;
  const inputs = experimentInputs(undefined, grid);
  if (!inputs) throw new Error(`Run over a grid: give values for at least one parameter of ${fn}.`);
  const count = (await readInputs(inputs, openSource)).count;
  if (!programmatic) {
    const axes = Object.keys(grid).join(' × ');
    const go = await vscode.window.showInformationMessage(`Run ${fn}() over ${count.toLocaleString('en-US')} point${count === 1 ? '' : 's'} (${axes}) on every core, in-process?`, { modal: true, detail: 'Each point is one call in a warm worker; its return value becomes a row of results.csv.' }, 'Run');
    if (go !== 'Run') return undefined;
  }
  const runs = services.runs as RunsApi | undefined;
  if (!runs) throw new Error('Run over a grid: the run feature is not available.');
  const handle = await runs.start({
    folder,
    script: uri.fsPath,
    args: [],
    files: { kind: 'list', files: [] },
    inputs,
    call: fn,
    filesLabel: `${count} grid points`,
    workers: programmatic ? (arg as RunGridArgs).workers ?? 0 : 0,
    threads: 0,
    label: `${fn}() over ${Object.keys(grid).join(' × ')}`,
    ...(programmatic ? { openReport: false } : {}),
  });
  return programmatic && (arg as RunGridArgs).wait ? handle.done : handle;
}
