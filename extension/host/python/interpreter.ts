/**
 * Which Python runs the user's script: the Python extension's active interpreter when that extension
 * is installed, else `parallelRun.python.path`, else `python3`. Resolved ONCE to the real executable
 * (a pyenv shim costs 0.1-0.2 s per start, paid per file otherwise) and cached until the setting or the
 * Python extension's active environment changes.
 */
import * as vscode from 'vscode';
import { PythonExtension } from '@vscode/python-extension';
import { resolvePython } from '../../core/python/interpreter';
import { CONFIG_SECTION, Settings } from '../../shared/ids';
import type { Services } from '../services';

export type InterpreterSource = 'pythonExtension' | 'setting' | 'default';

export interface ResolvedInterpreter {
  /** Real executable (shims resolved). */
  executable: string;
  version: string;
  /** What the user configured (before resolution), for messages. */
  candidate: string;
  source: InterpreterSource;
}

const PYTHON_EXTENSION_ID = 'ms-python.python';

/** Published on services as `python`. */
export class InterpreterService implements vscode.Disposable {
  private readonly cache = new Map<string, Promise<ResolvedInterpreter>>();
  private readonly disposables: vscode.Disposable[] = [];
  private pythonApiSubscribed = false;

  constructor(private readonly services: Services) {
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`${CONFIG_SECTION}.${Settings.pythonPath}`) || e.affectsConfiguration('python')) {
          this.invalidate();
        }
      }),
      vscode.extensions.onDidChange(() => this.invalidate()),
    );
  }

  /** Forget every cached resolution (setting or active environment changed). */
  invalidate(): void {
    this.cache.clear();
  }

  /**
   * The interpreter for a workspace folder, resolved to the real executable.
   * Throws an Error whose message says what is wrong and how to fix it.
   */
  resolve(folder?: vscode.WorkspaceFolder): Promise<ResolvedInterpreter> {
    const key = folder?.uri.toString() ?? '';
    let p = this.cache.get(key);
    if (!p) {
      p = this.resolveUncached(folder);
      this.cache.set(key, p);
      // a failure must not stick: the user fixes the setting/installs Python and retries
      p.catch(() => this.cache.delete(key));
    }
    return p;
  }

  private async resolveUncached(folder?: vscode.WorkspaceFolder): Promise<ResolvedInterpreter> {
    const fromExtension = await this.fromPythonExtension(folder);
    let candidate: string;
    let source: InterpreterSource;
    if (fromExtension) {
      candidate = fromExtension;
      source = 'pythonExtension';
    } else {
      const configured = this.services.config.get(folder?.uri).pythonPath;
      candidate = configured || 'python3';
      source = configured ? 'setting' : 'default';
    }
    try {
      const r = await resolvePython(candidate);
      this.services.log.info(`Python: ${r.executable} (${r.version}) from ${describeSource(source, candidate)}`);
      return { executable: r.executable, version: r.version, candidate, source };
    } catch (err) {
      throw new Error(interpreterErrorMessage(candidate, source, err));
    }
  }

  /** The Python extension's active interpreter for the folder, or undefined when not installed. */
  private async fromPythonExtension(folder?: vscode.WorkspaceFolder): Promise<string | undefined> {
    if (!vscode.extensions.getExtension(PYTHON_EXTENSION_ID)) return undefined;
    try {
      const api = await PythonExtension.api();
      if (!this.pythonApiSubscribed) {
        this.pythonApiSubscribed = true;
        this.disposables.push(api.environments.onDidChangeActiveEnvironmentPath(() => this.invalidate()));
      }
      const envPath = api.environments.getActiveEnvironmentPath(folder?.uri);
      const env = await api.environments.resolveEnvironment(envPath);
      return env?.executable.uri?.fsPath ?? envPath.path;
    } catch (err) {
      this.services.log.warn(`Python extension did not give an interpreter (${String(err)}); using ${CONFIG_SECTION}.${Settings.pythonPath}.`);
      return undefined;
    }
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

function describeSource(source: InterpreterSource, candidate: string): string {
  switch (source) {
    case 'pythonExtension':
      return `the Python extension's selected interpreter "${candidate}"`;
    case 'setting':
      return `setting ${CONFIG_SECTION}.${Settings.pythonPath} = "${candidate}"`;
    case 'default':
      return `"${candidate}" on PATH (setting ${CONFIG_SECTION}.${Settings.pythonPath} is empty)`;
  }
}

export function interpreterErrorMessage(candidate: string, source: InterpreterSource, err: unknown): string {
  const why = err instanceof Error ? err.message : String(err);
  // the core's message already names parallelRun.python.path and the fix
  if (source !== 'pythonExtension') return why;
  return (
    `Cannot run: the Python extension's selected interpreter "${candidate}" is not usable (${why.replace(/^Cannot run: /, '')}). ` +
    'Pick a working one with "Python: Select Interpreter".'
  );
}
