/**
 * The run flow's experiment questions: besides files, values typed per named parameter (a list or a
 * range, parsed as --grid), a table of parameters from the workspace (CSV/TSV with a header line, read
 * as `:::: TABLE --header : --colsep SEP`), and the script's arguments (what follows `--` on the
 * command line, e.g. `--mu {mu} --sigma {sigma}`). The inputs combine as a product, exactly as the
 * command line combines the same options (core/run/inputs.flowInputs), and `planTasks` says what the
 * run would be: the number of tasks and the first task's command, or the problem and its fix.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { taskArgv } from '../../core/run/plan';
import { openSource } from '../../core/run/fileSources';
import {
  flowInputs, MAX_TASKS_WITHOUT_YES, namesUsed, parseGrid, readInputs, splitArguments, tableSeparator, type TypedParameter, validateTupleTemplate,
} from '../../core/run/inputs';
import type { FileSource, InputsSpec } from '../../core/run/types';
import { askLine, pickItem } from './quickInput';

export type { TypedParameter };

/** The inputs chosen in the flow (files and/or parameters and/or a table) and the arguments line. */
export interface FlowInputs {
  /** absent: the parameters (or the table) are the only inputs */
  files?: { source: FileSource; label: string; count?: number };
  params: TypedParameter[];
  /** absolute path of the table of parameters */
  table?: string;
  /** the arguments as typed (split into words as a shell would, with no expansion) */
  args: string;
}

/** What the run would be, for the review step. */
export interface TaskPlan {
  /** tasks in the run (undefined: not known before the run lists its files, e.g. a folder) */
  count?: number;
  /** the problem that keeps the run from starting, naming the fix */
  error?: string;
  /** the run's inputs as tuples (undefined: a plain run over files) */
  inputs?: InputsSpec;
  /** the arguments split into words */
  argv: string[];
  /** the first task's command line after the interpreter: "lik.py --mu 0 --sigma 1" */
  firstTask?: string;
  /** names the arguments use as {name} that no parameter or table column gives */
  missing: string[];
  /** the table's rows and column names */
  table?: { rows: number; names: string[] } | { error: string };
}

/** More tasks than this need a confirmation (the command line's --yes). */
export const CONFIRM_ABOVE = MAX_TASKS_WITHOUT_YES;

const TABLE_EXCLUDE = '**/{node_modules,.git,.venv,venv,env,__pycache__,site-packages,.parallel-run}/**';

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** How the flow gives an input a name (the end of the message about an unknown {name}). */
function flowNameHint(name: string): string {
  return `Add a parameter ${name} (or a table column ${name}), or fix the spelling in the arguments.`;
}

/** "11 values: 0, 0.1, 0.2, …, 1" */
export function valuesPreview(values: string[]): string {
  const shown = values.length <= 6 ? values.join(', ') : `${values.slice(0, 3).join(', ')}, …, ${values[values.length - 1]}`;
  return `${values.length.toLocaleString('en-US')} value${values.length === 1 ? '' : 's'}: ${shown}`;
}

function quoteWord(w: string): string {
  return /^[\w@%+=:,./{}-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

/** Reads every source (as the run will) and says what the run would be. Never throws. */
export async function planTasks(state: FlowInputs, script: string, cwd: string): Promise<TaskPlan> {
  const plan: TaskPlan = { argv: [], missing: [] };
  if (state.table) {
    try {
      const t = await readInputs({ sources: [{ kind: 'table', path: state.table }], header: true, colsep: tableSeparator(state.table) }, openSource);
      plan.table = { rows: t.count, names: t.layout.names.map((n) => n ?? '') };
    } catch (e) {
      plan.table = { error: messageOf(e) };
    }
  }
  try {
    plan.argv = splitArguments(state.args);
  } catch (e) {
    plan.error = messageOf(e);
    return plan;
  }
  if (!state.files && state.params.length === 0 && !state.table) {
    plan.error = 'No inputs yet: choose input files, add a parameter (values typed per name) or a table of parameters.';
    return plan;
  }
  const command = { kind: 'python' as const, python: 'python', script, args: plan.argv, warm: false };
  const show = (argv: string[]) => argv.slice(1).map((w, i) => (i === 0 ? path.relative(cwd, w) || w : quoteWord(w))).join(' ');
  try {
    plan.inputs = flowInputs(state.files?.source, state.params, state.table, plan.argv);
    if (!plan.inputs) {
      // a plain run over files: the arguments follow the file; a {name} there has nothing to name
      plan.missing = namesUsed(plan.argv);
      validateTupleTemplate(plan.argv, { names: [undefined], resultNames: ['file'], sourceOf: [0] }, 'The arguments line', flowNameHint);
      plan.count = state.files?.count;
      plan.firstTask = show(taskArgv(command, 'FILE', 1, 1, false));
      return plan;
    }
    const inputs = await readInputs(plan.inputs, openSource);
    plan.missing = namesUsed(plan.argv).filter((n) => !inputs.layout.names.includes(n));
    validateTupleTemplate(plan.argv, inputs.layout, 'The arguments line', flowNameHint);
    plan.count = inputs.count;
    const first = inputs.tuples().next();
    if (!first.done) plan.firstTask = show(taskArgv(command, '', 1, 1, false, { layout: inputs.layout, values: first.value }));
  } catch (e) {
    plan.error = messageOf(e);
  }
  return plan;
}

/**
 * A parameter's values (the name known), or a new parameter as NAME=VALUES. Resolves with the
 * parameter, null when the values were emptied (remove it), undefined when the box was closed.
 */
export async function askParameter(name: string | undefined, current: string | undefined, taken: string[]): Promise<TypedParameter | null | undefined> {
  if (name !== undefined) {
    const text = await askLine({
      title: `Parallel Run: values of ${name}`,
      prompt: `Values of {${name}}: a list (1, 2, 5) or a range START:STOP:STEP with both ends included (0:1:0.1 gives 11 values).${current ? ' Empty removes the parameter.' : ''}`,
      value: current ?? '',
      placeholder: 'e.g. 0:1:0.1 or 1, 2, 5',
      check: (t) => {
        if (!t.trim()) return current ? { note: `Enter removes the parameter ${name}.` } : { error: `Type the values of ${name}, e.g. 0:1:0.1 or 1, 2, 5.` };
        try {
          return { note: valuesPreview(parseGrid(`${name}=${t}`).values) };
        } catch (e) {
          return { error: messageOf(e) };
        }
      },
    });
    if (text === undefined) return undefined;
    return text.trim() ? { name, values: text.trim() } : null;
  }
  const text = await askLine({
    title: 'Parallel Run: add a parameter',
    prompt: 'NAME=VALUES: a list (sigma=1,2,5) or a range START:STOP:STEP with both ends included (mu=0:1:0.1 gives 11 values). Use it in the arguments as {NAME}.',
    placeholder: 'e.g. mu=0:1:0.1',
    check: (t) => {
      if (!t.trim()) return { error: 'Type NAME=VALUES, e.g. mu=0:1:0.1 or sigma=1,2,5.' };
      try {
        const g = parseGrid(t);
        if (taken.includes(g.name)) return { error: `There is already an input named ${g.name}: pick its line in the review to change its values, or choose another name.` };
        return { note: `${g.name}: ${valuesPreview(g.values)}` };
      } catch (e) {
        return { error: messageOf(e) };
      }
    },
  });
  if (text === undefined) return undefined;
  const eq = text.indexOf('=');
  return { name: text.slice(0, eq).trim(), values: text.slice(eq + 1).trim() };
}

interface TableItem extends vscode.QuickPickItem {
  path?: string;
  action?: 'browse' | 'none';
}

/** A table of parameters from the workspace. Resolves with its path, null to remove it, undefined when closed. */
export async function pickTable(folder: vscode.WorkspaceFolder, current: string | undefined): Promise<string | null | undefined> {
  const uris = await vscode.workspace.findFiles(new vscode.RelativePattern(folder, '**/*.{csv,tsv,tab}'), TABLE_EXCLUDE, 500);
  const rel = uris.map((u) => path.relative(folder.uri.fsPath, u.fsPath)).sort();
  const items: TableItem[] = rel.map((r) => ({
    label: `$(table) ${r}`,
    description: r === (current && path.relative(folder.uri.fsPath, current)) ? 'current' : undefined,
    path: path.join(folder.uri.fsPath, r),
  }));
  items.push({ label: '$(folder-opened) Browse…', action: 'browse' });
  if (current) items.push({ label: '$(close) No table', description: 'remove the table from the inputs', action: 'none' });
  const picked = await pickItem({
    title: 'Parallel Run: table of parameters',
    placeholder: 'A CSV (or TSV) file whose first line names its columns: each row is one set of parameters, {column} in the arguments',
    items,
  });
  if (!picked) return undefined;
  if (picked.action === 'none') return null;
  if (picked.action === 'browse') {
    const res = await vscode.window.showOpenDialog({ defaultUri: folder.uri, canSelectMany: false, filters: { Tables: ['csv', 'tsv', 'tab'], 'All files': ['*'] }, openLabel: 'Use this table' });
    return res?.[0]?.fsPath;
  }
  return picked.path;
}

/** The arguments line; undefined when closed. */
export async function askArguments(current: string, script: string, names: string[]): Promise<string | undefined> {
  const base = path.basename(script);
  return askLine({
    title: `Parallel Run: arguments of ${base}`,
    prompt:
      `What follows ${base} on its command line, e.g. --mu {mu} --sigma {sigma}. {name} is a parameter's or a table column's value, ` +
      '{} the file, {/} its name, {.} without extension; with none of these the file (or the values) come first. Quotes group words; nothing is expanded by a shell.',
    value: current,
    placeholder: names.length ? names.map((n) => `--${n} {${n}}`).join(' ') : '--mu {mu} --sigma {sigma}',
    check: (t) => {
      if (!t.trim()) return undefined; // the prompt explains the line
      try {
        const words = splitArguments(t);
        const unknown = namesUsed(words).filter((n) => !names.includes(n));
        const line = `${base} ${words.map(quoteWord).join(' ')}`.trim();
        return { note: unknown.length ? `${line} — then give values for ${unknown.map((n) => `{${n}}`).join(', ')} in the review.` : line };
      } catch (e) {
        return { error: messageOf(e) };
      }
    },
  });
}
