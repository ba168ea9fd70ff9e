/**
 * "Run Notebook over Files": what the engine runs for a notebook. Either the notebook as a plain
 * script (its code cells with the inputs injected after the `parameters` cell; the engine runs it
 * like any --script, cold or warm), or, with saveExecuted, media/python/run_notebook.py, which runs
 * the notebook in a Jupyter kernel per input (nbformat + nbclient + ipykernel) and writes the executed
 * copy with its outputs. Both are checked before the run: parameters cell, names, magics, packages.
 */
import { execFile } from 'child_process';
import * as path from 'path';
import { assertMayStartProcess } from '../processGate';
import { UsageError } from '../run/types';
import { castArg, NOTEBOOK_SCRIPTS_DIR, notebookScript, readNotebook, writeNotebookScript } from './notebook';

export interface NotebookRunOptions {
  /** the .ipynb file (absolute) */
  notebook: string;
  /** folder whose .parallel-run/notebooks holds the generated script (the run's working folder) */
  cwd: string;
  /** real interpreter executable */
  python: string;
  /** extension media/ folder (run_notebook.py) */
  mediaDir: string;
  /** the parameters-cell name the file goes to (default: the first it assigns) */
  fileVar?: string;
  /**
   * A run over input tuples: the 0-based column that is the file (the one without a name), if any,
   * and the names of the named columns (--grid, --header). Each named column goes to the
   * parameters-cell name it is called, converted to the type of that name's default.
   */
  tuple?: { fileColumn?: number; names: readonly string[] };
  /** write an executed copy per input (Jupyter kernel) */
  saveExecuted?: boolean;
}

export interface NotebookRun {
  /** what the engine runs: `python script FILE ...args` */
  script: string;
  args: string[];
  fileVar: string | undefined;
  /** where executed copies go (saveExecuted) */
  outputsDir?: string;
  /** display-only magics skipped, as `cell N line M: text` */
  skipped: string[];
}

/** Debian packages (and pip names) --save-notebooks needs. */
export const SAVE_NOTEBOOK_PACKAGES = ['nbformat', 'nbclient', 'ipykernel'] as const;

/** Modules of SAVE_NOTEBOOK_PACKAGES the interpreter cannot import (asked without blocking: in VS Code
 *  this runs in the extension host, which must keep answering while Python starts). */
export async function missingNotebookPackages(python: string): Promise<string[]> {
  const code = `import importlib.util as u\nprint(" ".join(m for m in ${JSON.stringify(SAVE_NOTEBOOK_PACKAGES)} if u.find_spec(m) is None))`;
  assertMayStartProcess(`start the Python interpreter "${python}"`);
  const out = await new Promise<string | undefined>((resolve) => {
    execFile(python, ['-c', code], { encoding: 'utf8', timeout: 30_000 }, (err, stdout) => resolve(err ? undefined : stdout));
  });
  if (out === undefined) return [...SAVE_NOTEBOOK_PACKAGES];
  return out.trim().split(/\s+/).filter(Boolean);
}

/** The folder executed copies of `notebook` go to: `<notebook>-outputs/` beside it. */
export function notebookOutputsDir(notebook: string): string {
  return path.join(path.dirname(notebook), `${path.basename(notebook).replace(/\.ipynb$/i, '')}-outputs`);
}

/** Checks the notebook and makes what the engine runs for it. Throws UsageError (nothing started). */
export async function prepareNotebookRun(o: NotebookRunOptions): Promise<NotebookRun> {
  if (!/\.ipynb$/i.test(o.notebook)) throw new UsageError(`${o.notebook} is not a notebook (.ipynb). Give a Jupyter notebook, or run a Python script with --script.`);
  const cells = readNotebook(o.notebook);
  // tuples: the script's args place the values ({1} = the file, {name} = a named column) in sys.argv
  const tupleArgs: string[] = [];
  const inputs: Record<string, string> = {};
  if (o.tuple) {
    if (o.tuple.fileColumn !== undefined) tupleArgs.push(`{${o.tuple.fileColumn + 1}}`);
    for (const n of o.tuple.names) {
      tupleArgs.push(`{${n}}`);
      inputs[n] = castArg(tupleArgs.length, n);
    }
  }
  const script = notebookScript(cells, { notebook: o.notebook, fileVar: o.fileVar, inputs, noFile: o.tuple ? o.tuple.fileColumn === undefined : false });
  const skipped = script.skipped.filter((m) => m.harmless).map((m) => `cell ${m.cell + 1} line ${m.line + 1}: ${m.text.trim()}`);
  if (o.saveExecuted) {
    if (o.tuple) throw new UsageError('Saving executed notebooks takes the input file only; named inputs are not supported with it yet. Drop the executed copies, or the named inputs.');
    const missing = await missingNotebookPackages(o.python);
    if (missing.length) {
      throw new UsageError(`Saving executed notebooks needs ${missing.join(', ')} in ${o.python}. Install them (Debian: sudo apt install ${missing.map((m) => `python3-${m}`).join(' ')}; or pip install ${missing.join(' ')} in that environment), or run without saving executed copies.`);
    }
    const outputsDir = notebookOutputsDir(o.notebook);
    return {
      script: path.join(o.mediaDir, 'python', 'run_notebook.py'),
      args: [o.notebook, script.fileVar!, outputsDir],
      fileVar: script.fileVar,
      outputsDir,
      skipped,
    };
  }
  return { script: writeNotebookScript(script, o.notebook, path.join(o.cwd, NOTEBOOK_SCRIPTS_DIR)), args: tupleArgs, fileVar: script.fileVar, skipped };
}
