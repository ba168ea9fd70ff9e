/**
 * "Debug This File": the script again on one file of a run, with exactly that task's argv, working
 * directory, environment (the thread variables, PARALLEL_SEQ and PARALLEL_JOBSLOT included) and
 * interpreter — under the Python Debugger (`debugpy` debug type) when that extension is installed,
 * else in a terminal with the exact command line typed in, ready to run.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { taskArgv } from '../../core/run/plan';
import { readDefinition } from '../../core/run/runDir';
import { nameOfRecord } from '../../core/run/fsNames';
import { fileKey, readJournal } from '../../core/run/journal';
import { templatePythonScript } from '../../core/python/syntaxCheck';
import { shellQuote } from '../../core/slurm/script';
import { RUN_FILES, type RunDefinition, type TaskRecord } from '../../core/run/types';

/** The Python Debugger extension, which contributes the `debugpy` debug type. */
export const DEBUGPY_EXTENSION = 'ms-python.debugpy';

/** Exactly what a file's task ran. */
export interface TaskInvocation {
  file: string;
  argv: string[];
  cwd: string;
  /** what the engine added to the runner's environment for this task */
  env: Record<string, string>;
  /** Python runs: interpreter, script and the arguments after it */
  python?: { interpreter: string; program: string; args: string[] };
}

/** The invocation of `file`'s last attempt in a run (from run.json and the journal). */
export async function taskInvocation(runDir: string, file: string): Promise<TaskInvocation> {
  const def = readDefinition(runDir);
  if (!def) throw new Error(`Cannot debug: ${runDir} holds no run (its run.json is missing).`);
  const rec = await lastRecord(runDir, def, file);
  if (!rec) throw new Error(`Cannot debug: ${file} is not among the files ${path.basename(runDir)} ran.`);
  // a name that is not UTF-8: the record's argv shows it, the template with its bytes runs it
  const argv = rec.argv && !rec.fileBytes ? rec.argv : taskArgv(def.command, nameOfRecord(rec), rec.index, rec.slot, false);
  const env = { ...def.env, ...def.threadEnv, PARALLEL_SEQ: String(rec.index), PARALLEL_JOBSLOT: String(rec.slot) };
  let python: TaskInvocation['python'];
  if (def.command.kind === 'python') python = { interpreter: def.command.python, program: def.command.script, args: argv.slice(2) };
  else {
    const t = templatePythonScript(argv);
    if (t) {
      const at = argv.indexOf(t.script);
      python = { interpreter: argv[0], program: path.resolve(def.cwd, t.script), args: argv.slice(at + 1) };
    }
  }
  return { file: rec.file, argv, cwd: def.cwd, env, ...(python ? { python } : {}) };
}

async function lastRecord(runDir: string, def: RunDefinition, file: string): Promise<TaskRecord | undefined> {
  const want = fileKey(file, def.cwd);
  let found: TaskRecord | undefined;
  for await (const l of readJournal(path.join(runDir, RUN_FILES.journal))) {
    // asked by the name shown (the Explorer's) or by the engine's (a name that is not UTF-8 keeps its bytes)
    if (fileKey(l.file, def.cwd) === want || (l.fileBytes && fileKey(nameOfRecord(l), def.cwd) === want)) found = l;
  }
  return found;
}

/** The debug configuration handed to VS Code (type `debugpy`). */
export function debugConfiguration(inv: TaskInvocation): vscode.DebugConfiguration {
  if (!inv.python) throw new Error('not a Python task');
  return {
    type: 'debugpy',
    request: 'launch',
    name: `Debug ${path.basename(inv.file)} (Parallel Run)`,
    program: inv.python.program,
    args: inv.python.args,
    cwd: inv.cwd,
    env: inv.env,
    python: inv.python.interpreter,
    console: 'integratedTerminal',
    justMyCode: true,
  };
}

/** The command line to type: the task's variables, then its argv, each quoted for a POSIX shell. */
export function commandLine(inv: TaskInvocation): string {
  const vars = Object.entries(inv.env).map(([k, v]) => `${k}=${shellQuote(v)}`);
  return [...vars, ...inv.argv.map(shellQuote)].join(' ');
}

/** What "Debug This File" did. */
export type DebugOutcome =
  | { via: 'debugpy'; configuration: vscode.DebugConfiguration; started: boolean }
  | { via: 'terminal'; commandLine: string; terminal: vscode.Terminal };

export async function debugFile(runDir: string, file: string): Promise<DebugOutcome> {
  const inv = await taskInvocation(runDir, file);
  const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(inv.cwd)) ?? vscode.workspace.workspaceFolders?.[0];
  if (inv.python && vscode.extensions.getExtension(DEBUGPY_EXTENSION)) {
    const configuration = debugConfiguration(inv);
    const started = await vscode.debug.startDebugging(folder, configuration);
    if (!started) void vscode.window.showErrorMessage(`The Python Debugger did not start for ${path.basename(inv.file)}. See its output, or run the command line in a terminal.`);
    return { via: 'debugpy', configuration, started };
  }
  const line = commandLine(inv);
  const terminal = vscode.window.createTerminal({ name: `Parallel Run: ${path.basename(inv.file)}`, cwd: inv.cwd, env: inv.env });
  terminal.show();
  // typed, not run: the user reads it, sets a breakpoint() or adds -m pdb, and presses Enter
  terminal.sendText(line, false);
  return { via: 'terminal', commandLine: line, terminal };
}
