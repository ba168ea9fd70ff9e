/**
 * --call FUNC: in-process calls of one function of the script per task (media/python/call_host.py).
 * Before anything starts, the function is looked up in the script's source (nothing of the script
 * runs) and checked against the inputs: it must exist, take the file first when there is a file
 * source, and take every other input by name, with no required parameter left without a value.
 */
import { execFile } from 'child_process';
import * as path from 'path';
import { assertMayStartProcess } from '../processGate';
import { ScriptSyntaxError, syntaxProblem } from '../python/syntaxCheck';
import type { InputLayout } from './inputs';
import { UsageError } from './types';

/** Path of media/python/call_host.py, relative to the bundles (dist/workers/../../media/python). */
export function callHostPath(workersDir: string): string {
  return path.resolve(workersDir, '..', '..', 'media', 'python', 'call_host.py');
}

interface Signature {
  /** the script does not compile: what Python said (see syntaxCheck.ts) */
  syntax?: Parameters<typeof syntaxProblem>[0];
  params?: Array<{ name: string; kind: 'posonly' | 'normal' | 'kwonly'; default: boolean }>;
  varargs?: boolean;
  varkw?: boolean;
  error?: string;
  functions?: string[];
}

/** How a task's inputs become the call's arguments: the file column (if any) first, the rest by name. */
export interface CallShape {
  /** the column passed positionally (the file), if any */
  fileColumn?: number;
  /** the columns passed by name: [column, parameter name] */
  named: Array<[number, string]>;
}

/** The call's shape for these inputs (undefined layout: a run over files, FUNC(file)). */
export function callShape(layout: InputLayout | undefined): CallShape {
  if (!layout) return { fileColumn: 0, named: [] };
  const shape: CallShape = { named: [] };
  layout.names.forEach((name, c) => {
    if (name !== undefined) shape.named.push([c, name]);
    else if (layout.resultNames[c] === 'file' && shape.fileColumn === undefined) shape.fileColumn = c;
    else {
      throw new UsageError(`--call passes inputs by name, but input ${c + 1} has none. Name the columns: --grid NAME=VALUES, or a table with --header :.`);
    }
  });
  return shape;
}

/** The request field a call host gets for one task: {"args": [file], "kwargs": {name: value}}. */
export function callRequest(shape: CallShape, values: string[]): string {
  const kwargs: Record<string, string> = {};
  for (const [c, name] of shape.named) kwargs[name] = values[c] ?? '';
  return JSON.stringify({ args: shape.fileColumn !== undefined ? [values[shape.fileColumn] ?? ''] : [], kwargs });
}

/**
 * Checks that the script compiles (ScriptSyntaxError otherwise, as the syntax check of other runs) and
 * that `func` can take the inputs (UsageError naming the fix otherwise), in one interpreter start:
 * `python -I -S call_host.py --signature` compiles the script and reads the function's parameters from
 * its source with Python's ast (nothing of the script runs; -I -S: nothing of the user's site either).
 */
export async function checkCall(python: string, workersDir: string, script: string, func: string, shape: CallShape): Promise<void> {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(func)) {
    throw new UsageError(`--call "${func}" is not a Python function name. Give the name of a top-level function of ${path.basename(script)}, e.g. --call loglike.`);
  }
  assertMayStartProcess(`start the Python interpreter "${python}"`);
  const r = await new Promise<{ stdout: string; stderr: string; error?: Error }>((resolve) =>
    execFile(python, ['-I', '-S', callHostPath(workersDir), '--signature', script, func], { encoding: 'utf8', timeout: 30_000, maxBuffer: 1 << 20 }, (error, stdout, stderr) =>
      resolve({ stdout, stderr, error: error ?? undefined }),
    ),
  );
  let sig: Signature;
  try {
    sig = JSON.parse(r.stdout);
  } catch {
    throw new UsageError(`Could not read the functions of ${script} with ${python} (${(r.stderr || r.error?.message || 'no output').trim()}). Check the interpreter (--python) and the script.`);
  }
  if (sig.syntax) throw new ScriptSyntaxError(syntaxProblem(sig.syntax, script), python);
  if (sig.error) {
    const known = sig.functions?.length ? ` Its top-level functions: ${sig.functions.join(', ')}.` : '';
    throw new UsageError(`--call ${func}: ${sig.error}.${known} Give a top-level "def ${func}(...)" of the script.`);
  }
  const params = sig.params ?? [];
  const taken = new Set<string>();
  let positional = params.filter((p) => p.kind !== 'kwonly');
  if (shape.fileColumn !== undefined) {
    if (positional.length === 0 && !sig.varargs) {
      throw new UsageError(`--call ${func}: it takes no positional parameter, but each task passes its file first: ${func}(file, ...). Add a first parameter for the file.`);
    }
    if (positional.length > 0) taken.add(positional[0].name);
    positional = positional.slice(1);
  }
  for (const [, name] of shape.named) {
    const p = params.find((q) => q.name === name && q.kind !== 'posonly');
    if (!p || taken.has(name)) {
      if (sig.varkw && !taken.has(name)) continue;
      throw new UsageError(`--call ${func}: the input "${name}" has no parameter of that name in ${func}(${params.map((q) => q.name).join(', ')}). Rename the input (--grid, header) or add the parameter (or **kwargs).`);
    }
    taken.add(name);
  }
  const missing = params.filter((p) => !p.default && !taken.has(p.name));
  if (missing.length > 0) {
    throw new UsageError(`--call ${func}: no input gives its required parameter${missing.length === 1 ? '' : 's'} ${missing.map((p) => p.name).join(', ')}. Add --grid ${missing[0].name}=VALUES (or a table column of that name), or give ${missing.length === 1 ? 'it' : 'them'} a default.`);
  }
}
