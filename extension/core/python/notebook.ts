/**
 * Jupyter notebooks as Python modules: their code cells in order, IPython magics and shell escapes
 * recognised line by line.
 *
 * Two users:
 * - the editor analyses a notebook as ONE module (`joinCells`): the analyzer sees the code cells
 *   joined, magics replaced by inert statements on the same line, and its findings (ranges, fix
 *   edits) are mapped back to the cell and line they belong to (`toCellRange`, `splitEdits`);
 * - "Run Notebook over Files" turns a notebook into a plain script (`notebookScript`) that the engine
 *   runs like any `--script`, cold or warm: papermill's convention, a cell tagged `parameters`
 *   whose assignments are the defaults, and a cell injected right after it that assigns the inputs.
 *
 * Pure Node (no `vscode`), unit-tested on real notebooks.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { UsageError } from '../run/types';
import type { SourcePosition, SourceRange, SourceTextEdit } from './sourceAnalysis';

export interface NotebookCell {
  kind: 'code' | 'markup';
  /** the cell's text, lines separated by \n */
  source: string;
  /** cell tags (papermill's `parameters`, `injected-parameters`...) */
  tags: readonly string[];
}

/** The cell tag that marks the defaults cell (papermill's convention). */
export const PARAMETERS_TAG = 'parameters';

/**
 * Line magics that only change how results are shown (or load an extension that does): a run over
 * files skips them. Any other magic or shell escape is refused before the run.
 */
export const HARMLESS_LINE_MAGICS: ReadonlySet<string> = new Set([
  'matplotlib', 'load_ext', 'reload_ext', 'unload_ext', 'autoreload', 'aimport', 'config', 'precision', 'pprint',
  'xmode', 'colors', 'who', 'whos', 'who_ls', 'lsmagic', 'magic', 'pwd', 'history', 'pdef', 'pdoc', 'pinfo', 'pinfo2',
  'psource', 'pfile', 'page', 'doctest_mode', 'automagic', 'autocall', 'quickref', 'notebook', 'reset_selective',
]);
/** Cell magics whose body is ordinary Python that runs once (they only time or capture its output). */
export const PYTHON_BODY_CELL_MAGICS: ReadonlySet<string> = new Set(['time', 'capture']);

export type MagicKind = 'line' | 'cell' | 'shell' | 'help';

export interface MagicLine {
  /** index of the cell in the notebook (all cells, markup too) */
  cell: number;
  /** 0-based line in the cell */
  line: number;
  text: string;
  kind: MagicKind;
  /** the magic's name (`matplotlib`), the command for a shell escape */
  name: string;
  /** skipped by a run (display only); otherwise the run is refused */
  harmless: boolean;
}

// ---------------------------------------------------------------- reading .ipynb

function cellText(src: unknown): string {
  if (Array.isArray(src)) return src.map((s) => String(s)).join('');
  return typeof src === 'string' ? src : '';
}

/**
 * The cells of an .ipynb file's JSON (nbformat 4). Throws a UsageError naming the file when it is
 * not a notebook.
 */
export function parseNotebook(json: string, file: string): NotebookCell[] {
  let nb: { cells?: unknown; nbformat?: unknown };
  try {
    nb = JSON.parse(json);
  } catch (e) {
    throw new UsageError(`${file} is not a Jupyter notebook (not JSON: ${(e as Error).message}).`);
  }
  if (!nb || typeof nb !== 'object' || !Array.isArray(nb.cells)) {
    throw new UsageError(`${file} is not a Jupyter notebook (no "cells" list; nbformat 4 is needed: open and save it in Jupyter or VS Code to upgrade).`);
  }
  return (nb.cells as Array<Record<string, unknown>>).map((c) => {
    const meta = (c.metadata ?? {}) as { tags?: unknown };
    const tags = Array.isArray(meta.tags) ? meta.tags.filter((t): t is string => typeof t === 'string') : [];
    return { kind: c.cell_type === 'code' ? 'code' : 'markup', source: cellText(c.source).replace(/\r\n?/g, '\n'), tags };
  });
}

export function readNotebook(file: string): NotebookCell[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`Cannot read the notebook ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`);
  }
  return parseNotebook(text, file);
}

// ---------------------------------------------------------------- magics

const ASSIGNED_MAGIC = /^(\s*)([A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*)\s*=\s*([%!])(.*)$/;

/** The magic on one line of a code cell, if it is one (`%x`, `!cmd`, `var = !cmd`, `obj?`). */
export function magicOf(line: string, firstLineOfCell: boolean): { kind: MagicKind; name: string; indent: string; assigns?: string } | undefined {
  const indent = /^\s*/.exec(line)![0];
  const t = line.slice(indent.length);
  if (firstLineOfCell && t.startsWith('%%')) return { kind: 'cell', name: /^%%\s*(\S*)/.exec(t)![1], indent };
  if (t.startsWith('%')) return { kind: 'line', name: /^%+\s*([^\s(]*)/.exec(t)![1], indent };
  if (t.startsWith('!')) return { kind: 'shell', name: t.slice(1).trim().split(/\s+/)[0] ?? '', indent };
  if (/^\?\??[A-Za-z_]/.test(t) || /^[A-Za-z_][\w.]*\?\??\s*$/.test(t)) return { kind: 'help', name: t.replace(/\?/g, '').trim(), indent };
  const m = ASSIGNED_MAGIC.exec(line);
  if (m) {
    const name = m[3] === '!' ? m[4].trim().split(/\s+/)[0] ?? '' : /^\s*([^\s(]*)/.exec(m[4])![1];
    return { kind: m[3] === '!' ? 'shell' : 'line', name, indent: m[1], assigns: m[2] };
  }
  return undefined;
}

function isHarmless(kind: MagicKind, name: string): boolean {
  if (kind === 'help') return true;
  if (kind === 'line') return HARMLESS_LINE_MAGICS.has(name);
  if (kind === 'cell') return PYTHON_BODY_CELL_MAGICS.has(name);
  return false;
}

// ---------------------------------------------------------------- the notebook as one module

export interface JoinedNotebook {
  /** the code cells joined with \n, magics replaced by inert statements on the same lines */
  source: string;
  /** for each code cell, in order: its index among all cells and its first line in `source` */
  codeCells: Array<{ cell: number; start: number; lines: number }>;
  magics: MagicLine[];
}

/**
 * Joins the code cells into one module, line for line: a magic becomes `pass` (or `NAME = None` for
 * `NAME = !cmd`) on its own line, a cell magic whose body is not Python blanks the cell, so every
 * line of the result is the same line of some cell.
 */
export function joinCells(cells: readonly NotebookCell[]): JoinedNotebook {
  const out: string[] = [];
  const codeCells: JoinedNotebook['codeCells'] = [];
  const magics: MagicLine[] = [];
  cells.forEach((c, cell) => {
    if (c.kind !== 'code') return;
    const lines = c.source.split('\n');
    codeCells.push({ cell, start: out.length, lines: lines.length });
    let blankAll = false;
    lines.forEach((text, line) => {
      if (blankAll) {
        out.push('');
        return;
      }
      const m = magicOf(text, line === 0);
      if (!m) {
        out.push(text);
        return;
      }
      magics.push({ cell, line, text, kind: m.kind, name: m.name, harmless: isHarmless(m.kind, m.name) });
      if (m.kind === 'cell') {
        blankAll = !PYTHON_BODY_CELL_MAGICS.has(m.name);
        out.push('');
      } else {
        out.push(m.assigns ? `${m.indent}${m.assigns} = None` : `${m.indent}pass`);
      }
    });
  });
  return { source: out.join('\n'), codeCells, magics };
}

/** The code cell holding joined line `line` (binary search). */
function cellAt(j: JoinedNotebook, line: number): JoinedNotebook['codeCells'][number] | undefined {
  let lo = 0;
  let hi = j.codeCells.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = j.codeCells[mid];
    if (line < c.start) hi = mid - 1;
    else if (line >= c.start + c.lines) lo = mid + 1;
    else return c;
  }
  return undefined;
}

/** A joined-source position as (cell index, position in that cell). */
export function toCellPosition(j: JoinedNotebook, p: SourcePosition): { cell: number; position: SourcePosition } | undefined {
  const c = cellAt(j, p.line);
  return c && { cell: c.cell, position: { line: p.line - c.start, character: p.character } };
}

/** A joined-source range inside one cell, as (cell index, range in that cell); undefined when it spans cells. */
export function toCellRange(j: JoinedNotebook, r: SourceRange): { cell: number; range: SourceRange } | undefined {
  const s = toCellPosition(j, r.start);
  const e = toCellPosition(j, r.end);
  if (!s || !e || s.cell !== e.cell) return undefined;
  return { cell: s.cell, range: { start: s.position, end: e.position } };
}

/** The joined-source position of a cell position (the inverse of toCellPosition). */
export function fromCellPosition(j: JoinedNotebook, cell: number, p: SourcePosition): SourcePosition | undefined {
  const c = j.codeCells.find((x) => x.cell === cell);
  return c && { line: c.start + p.line, character: p.character };
}

/**
 * Edits on the joined source as edits per cell. An edit that ends at the first column of the next
 * cell (a replaced block of whole lines at the end of a cell) ends at the end of its own cell, minus
 * the line break the joined text had there. Undefined when some edit really spans two cells.
 */
export function splitEdits(j: JoinedNotebook, edits: readonly SourceTextEdit[]): Map<number, SourceTextEdit[]> | undefined {
  const out = new Map<number, SourceTextEdit[]>();
  let joinedLines: string[] | undefined;
  const lineText = (line: number): string => (joinedLines ??= j.source.split('\n'))[line] ?? '';
  for (const e of edits) {
    const s = toCellPosition(j, e.range.start);
    if (!s) return undefined;
    let start = s.position;
    let end = toCellPosition(j, e.range.end)?.position;
    let text = e.newText;
    if (!end || toCellPosition(j, e.range.end)!.cell !== s.cell) {
      const c = j.codeCells.find((x) => x.cell === s.cell)!;
      const next = c.start + c.lines;
      if (e.range.end.line !== next || e.range.end.character !== 0) return undefined;
      // up to the start of the next cell = to the end of this cell's last line, without the break
      end = { line: c.lines - 1, character: lineText(next - 1).length };
      if (text.endsWith('\n')) text = text.slice(0, -1);
      else if (text === '' && start.character === 0 && start.line > 0) start = { line: start.line - 1, character: lineText(c.start + start.line - 1).length };
      else if (text !== '') return undefined;
    }
    const list = out.get(s.cell) ?? [];
    list.push({ range: { start, end }, newText: text });
    out.set(s.cell, list);
  }
  return out;
}

// ---------------------------------------------------------------- parameters

/** Names assigned at the top level of a cell, in order (`x = 1`, `x: int = 1`, `a = b = 2`). */
export function assignedNames(source: string): string[] {
  const names: string[] = [];
  for (const line of source.split('\n')) {
    const m = /^([A-Za-z_]\w*)\s*(?::[^=]*)?=(?!=)/.exec(line);
    if (m && !names.includes(m[1])) names.push(m[1]);
  }
  return names;
}

/** Index of the first code cell tagged `parameters`, or -1. */
export function parametersCell(cells: readonly NotebookCell[]): number {
  return cells.findIndex((c) => c.kind === 'code' && c.tags.includes(PARAMETERS_TAG));
}

// ---------------------------------------------------------------- the notebook as a script

export interface NotebookScriptOptions {
  /** the notebook's path (named in the script's header and in errors) */
  notebook: string;
  /** the name the input file goes to (default: the first name the parameters cell assigns) */
  fileVar?: string;
  /**
   * Further names and the Python expression each is assigned (named inputs: grid or header
   * columns). Each must be defined by the parameters cell. `castArg(i, name)` makes the expression
   * of sys.argv[i] converted to the type of the parameters cell's default.
   */
  inputs?: Readonly<Record<string, string>>;
  /** no input file (a run over named values only): no name gets sys.argv[1] */
  noFile?: boolean;
}

/** Python expression: sys.argv[i] converted to the type of `name`'s default (int, float, bool; else str). */
export function castArg(i: number, name: string): string {
  return `_parallel_run_cast(_parallel_run_sys.argv[${i}], ${name})`;
}

const CAST_HELPER = [
  'def _parallel_run_cast(value, default):',
  '    """An input value (text) as the type of the parameters cell\'s default, as papermill does."""',
  '    if isinstance(default, bool):',
  '        return value.strip().lower() in ("1", "true", "yes", "on")',
  '    if isinstance(default, int):',
  '        try:',
  '            return int(value)',
  '        except ValueError:',
  '            return float(value)',
  '    if isinstance(default, float):',
  '        return float(value)',
  '    return value',
];

export interface NotebookScript {
  /** the script's text: the code cells in order, the injected cell after the parameters cell */
  text: string;
  /** the name the input file is assigned to */
  fileVar: string | undefined;
  /** names the parameters cell assigns */
  parameters: string[];
  /** the magics skipped (display only) */
  skipped: MagicLine[];
}

/** `pass`-free rendering of a cell for the script; harmless magics become comments. */
function scriptLines(cell: NotebookCell, cellIndex: number, magics: MagicLine[]): string[] {
  const lines = cell.source.split('\n');
  const mine = magics.filter((m) => m.cell === cellIndex);
  if (!mine.length) return lines;
  const cellMagic = mine.find((m) => m.kind === 'cell');
  return lines.map((text, i) => {
    const m = mine.find((x) => x.line === i);
    if (m) return `${/^\s*/.exec(text)![0]}pass  # skipped by Parallel Run: ${text.trim()}`;
    if (cellMagic && !PYTHON_BODY_CELL_MAGICS.has(cellMagic.name)) return '';
    return text;
  });
}

function pyString(s: string): string {
  return JSON.stringify(s); // a JSON string literal is a valid Python str literal
}

/**
 * The notebook as a plain script the engine runs once per input. Refused (UsageError naming the cell
 * and line, and the fix) for: no `parameters` cell, a file variable or input name the parameters
 * cell does not assign, a magic or shell escape that is not display-only.
 */
export function notebookScript(cells: readonly NotebookCell[], opts: NotebookScriptOptions): NotebookScript {
  const name = path.basename(opts.notebook);
  const p = parametersCell(cells);
  if (p < 0) {
    throw new UsageError(`${name} has no cell tagged "${PARAMETERS_TAG}". Tag the cell that assigns the input (e.g. path = "data/example.csv") with "${PARAMETERS_TAG}" (papermill's convention; in VS Code: the cell's "..." menu > Add Cell Tag), then run again.`);
  }
  const parameters = assignedNames(cells[p].source);
  const cellNo = (i: number) => i + 1;
  if (!parameters.length) {
    throw new UsageError(`The "${PARAMETERS_TAG}" cell of ${name} (cell ${cellNo(p)}) assigns no name. Give it the defaults, e.g. path = "data/example.csv".`);
  }
  const fileVar = opts.noFile ? undefined : opts.fileVar ?? parameters[0];
  const unknown = [...(fileVar !== undefined ? [fileVar] : []), ...Object.keys(opts.inputs ?? {})].filter((n) => !parameters.includes(n));
  if (unknown.length) {
    throw new UsageError(`${unknown.map((n) => `"${n}"`).join(', ')} ${unknown.length > 1 ? 'are' : 'is'} not assigned in the "${PARAMETERS_TAG}" cell of ${name} (cell ${cellNo(p)}), which defines ${parameters.map((n) => `"${n}"`).join(', ')}. ${opts.fileVar && unknown.includes(opts.fileVar) ? 'Pick one of those with --file-var, or add' : 'Add'} the name to that cell.`);
  }
  const { magics } = joinCells(cells);
  const refused = magics.filter((m) => !m.harmless);
  if (refused.length) {
    const list = refused.slice(0, 5).map((m) => `cell ${cellNo(m.cell)}, line ${m.line + 1}: ${m.text.trim()}`).join('; ');
    throw new UsageError(`${name} uses IPython ${refused.length > 1 ? 'magics or shell escapes that a plain Python run cannot do' : 'a magic or shell escape that a plain Python run cannot do'} (${list}${refused.length > 5 ? `; and ${refused.length - 5} more` : ''}). Replace ${refused.length > 1 ? 'them' : 'it'} with Python (subprocess.run for "!", the module's function for a magic), then run again. Display-only magics (%matplotlib, %load_ext...) are skipped.`);
  }
  const out: string[] = [
    `# Generated by Parallel Run from ${name}: its code cells in order, run once per input.`,
    `# The inputs are assigned in the cell injected after the "${PARAMETERS_TAG}" cell. Edit the notebook, not this file.`,
  ];
  const usesDisplay = cells.some((c) => c.kind === 'code' && /\bdisplay\s*\(/.test(c.source));
  if (usesDisplay) {
    out.push('try:', '    display', 'except NameError:  # IPython\'s display() outside IPython: print the objects', '    def display(*objs, **kwargs):', '        print(*objs)');
  }
  cells.forEach((c, i) => {
    if (c.kind !== 'code') return;
    out.push('', `# %% cell ${cellNo(i)}${i === p ? ` [${PARAMETERS_TAG}]` : ''}`);
    out.push(...scriptLines(c, i, magics));
    if (i === p) {
      out.push('', '# %% injected parameters (Parallel Run)', 'import sys as _parallel_run_sys');
      if (fileVar !== undefined) out.push(`${fileVar} = _parallel_run_sys.argv[1]`);
      if (Object.keys(opts.inputs ?? {}).length) out.push('', ...CAST_HELPER, '');
      for (const [n, expr] of Object.entries(opts.inputs ?? {})) out.push(`${n} = ${expr}`);
    }
  });
  return { text: out.join('\n') + '\n', fileVar, parameters, skipped: magics };
}

/**
 * Writes the notebook's script into `dir` under a name that holds the script's content hash
 * (`analysis.ipynb-1a2b3c4d.py`): a resume of an unchanged notebook finds the same script, an edited
 * notebook is a new run definition. Returns the script's absolute path.
 */
export function writeNotebookScript(script: NotebookScript, notebook: string, dir: string): string {
  const hash = createHash('sha256').update(script.text).digest('hex').slice(0, 8);
  const file = path.join(dir, `${path.basename(notebook)}-${hash}.py`);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, script.text);
    fs.renameSync(tmp, file);
  }
  return file;
}

/** Where generated notebook scripts go, under a workspace (or the CLI's working) folder. */
export const NOTEBOOK_SCRIPTS_DIR = path.join('.parallel-run', 'notebooks');

/** `pyString` for tests and callers that build input expressions. */
export const pythonStringLiteral = pyString;
