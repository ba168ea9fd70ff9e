/**
 * The failures feature in the editor: the latest run of each folder feeds the Problems panel (a
 * diagnostic per failure group at the user's line) and the Explorer (marks on the inputs); "Debug
 * This File" and "Copy the File List". Returns FailuresApi (published as `services.failures`).
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { readDefinition } from '../../core/run/runDir';
import { Commands } from '../../shared/ids';
import { registerCommands } from '../commands';
import type { Services } from '../services';
import type { RunService } from '../run/runService';
import { InputDecorations } from './decorations';
import type { DebugOutcome } from './debugFile';
import { history } from '../history';
import { LatestRuns } from './latestRuns';
import { FailureProblems } from './problems';

export interface FailuresApi {
  latest: LatestRuns;
  problems: FailureProblems;
  decorations: InputDecorations;
}

/** A command argument naming a run and one or more of its files (Runs view nodes, the report, tests). */
interface FilesArg {
  runDir?: string;
  file?: string;
  files?: string[];
  record?: { file: string };
}

export function register(context: vscode.ExtensionContext, services: Services, runs: RunService): FailuresApi {
  const latest = new LatestRuns(runs);
  const problems = new FailureProblems(latest);
  const decorations = new InputDecorations(services, latest);
  context.subscriptions.push(latest, problems, decorations, vscode.window.registerFileDecorationProvider(decorations));

  registerCommands(context, services, {
    // a debug session (or a terminal's command line) runs the workspace's script: refused when untrusted
    [Commands.debugFile]: async (arg?: unknown): Promise<DebugOutcome | undefined> => {
      const target = await fileOf(arg, latest);
      const { debugFile } = await import('./debugFile');
      return debugFile(target.runDir, target.file);
    },
    [Commands.copyFileList]: async (arg?: FilesArg) => {
      const a = (arg ?? {}) as FilesArg;
      if (!a.runDir) throw new Error('Copy the File List needs a run: use it on a failure group in the Runs view or the report.');
      const cwd = readDefinition(a.runDir)?.cwd ?? path.dirname(a.runDir);
      const files = a.files ?? (await (await history()).failedFiles(a.runDir));
      const text = files.map((f) => path.resolve(cwd, f)).join('\n') + (files.length ? '\n' : '');
      await vscode.env.clipboard.writeText(text);
      void vscode.window.setStatusBarMessage(`Parallel Run: ${files.length} file path${files.length === 1 ? '' : 's'} copied`, 4000);
      return text;
    },
  });

  return { latest, problems, decorations };
}

/** The run and file a "Debug This File" argument names (an Explorer file: the latest run that ran it). */
async function fileOf(arg: unknown, latest: LatestRuns): Promise<{ runDir: string; file: string }> {
  if (arg instanceof vscode.Uri) {
    await latest.whenReady();
    const run = latest.runOfInput(arg.fsPath);
    if (!run) throw new Error(`${path.basename(arg.fsPath)} is not an input of the latest run: nothing to debug.`);
    return { runDir: run.runDir, file: arg.fsPath };
  }
  const a = (arg ?? {}) as FilesArg;
  const file = a.file ?? a.record?.file ?? a.files?.[0];
  if (a.runDir && file) return { runDir: a.runDir, file };
  throw new Error('Debug This File needs a failed file: use it on a failed file in the report, the Runs view, the Problems panel or the Explorer.');
}
