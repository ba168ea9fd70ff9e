/**
 * Input tuples: several input sources combined as GNU Parallel combines them, so a run goes over
 * parameter sets as well as files.
 *
 *   ::: a b ::: 1 2      the product, the last source varying fastest: (a,1) (a,2) (b,1) (b,2)
 *   ::: a b :::+ 1 2     linked to the source before (zip): (a,1) (b,2); the shortest sets the length
 *   --colsep REGEX       each line (value) split into columns
 *   --header :           the first line (value) of each source names its columns: {name}
 *   --grid NAME=VALUES   one more named source: a comma list, or START:STOP:STEP (inclusive, exact)
 *
 * Columns are numbered across all sources, 1-based ({1} {2} ...), and each may be given a name.
 * Replacement strings: {} (all values), {n} and {name} with the modifiers {n.} {n/} {n//} {n/.}
 * (and {.} {/} {//} {/.} on the first column), {#} and {%}; with none, the values are appended in
 * order. Values go into argv elements verbatim: there is no shell.
 *
 * Everything here is pure or reads only the table files it is given: no process starts, nothing is
 * written, and every problem is a UsageError naming the fix.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parse as parseCsv } from 'csv-parse/sync';
import { split as shellWords } from 'shlex';
import { basename, dirname, removeExtension } from './templates';
import { FileSource, InputSourceSpec, InputsSpec, UsageError } from './types';

export type { InputSourceSpec, InputsSpec };

/** A run of more tasks than this needs an explicit yes (a typo in a grid can ask for billions). */
export const MAX_TASKS_WITHOUT_YES = 1_000_000;

/** What a tuple's columns are: named (header, grid, "file") or only numbered. */
export interface InputLayout {
  /** per column (0-based): the name {name} addresses, if any */
  names: Array<string | undefined>;
  /** per column: the name results.csv gives it (names, "file", else input1, input2 ...) */
  resultNames: string[];
  /** per column: the source it comes from (0-based) */
  sourceOf: number[];
}

/** One source once read: its rows (each an array of its columns) and its column names. */
interface ReadSource {
  rows: string[][];
  width: number;
  names: Array<string | undefined>;
  isFiles: boolean;
  link: boolean;
  label: string;
  /** a tuples source: the results.csv names it carries */
  resultNames?: string[];
}

/** The inputs, read and checked: the layout and the tuples in order (generated lazily). */
export interface Inputs {
  layout: InputLayout;
  /** number of tuples (tasks) */
  count: number;
  /** the tuples in GNU Parallel's order, generated lazily (a 10^6 grid is never one array) */
  tuples(): Generator<string[]>;
}

// ------------------------------------------------------------------------------------------------
// grids

/** An exact decimal: mantissa × 10^-scale. */
interface Dec {
  m: bigint;
  scale: number;
}

function parseDecimal(s: string): Dec | undefined {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s.trim());
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  const frac = m[3] ?? '';
  let scale = frac.length - Number(m[4] ?? 0);
  let mant = BigInt((m[1] === '-' ? '-' : '') + (m[2] || '0') + frac);
  if (scale < 0) {
    mant *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { m: mant, scale };
}

function rescale(d: Dec, scale: number): bigint {
  return d.m * 10n ** BigInt(scale - d.scale);
}

/** A decimal as a person writes it: no trailing zeros, no exponent ("0.5", "1", "-0.25"). */
function formatDecimal(m: bigint, scale: number): string {
  const neg = m < 0n;
  const digits = (neg ? -m : m).toString().padStart(scale + 1, '0');
  const int = digits.slice(0, digits.length - scale);
  const frac = digits.slice(digits.length - scale).replace(/0+$/, '');
  const text = frac ? `${int}.${frac}` : int;
  return neg ? `-${text}` : text;
}

/** The most values a range may give (a range is materialised: a typo in STEP must not fill memory). */
const MAX_RANGE_VALUES = 10_000_000;

/**
 * `START:STOP:STEP`, inclusive of STOP when a whole number of steps reaches it, computed in exact
 * decimals (no floating-point drift: 0:1:0.1 gives 11 values, 0 0.1 ... 0.9 1). STEP may be negative
 * for a falling range; STEP defaults to 1.
 */
export function rangeValues(spec: string, what = 'range'): string[] {
  const parts = spec.split(':');
  if (parts.length < 2 || parts.length > 3) {
    throw new UsageError(`The ${what} "${spec}" is not START:STOP:STEP. E.g. 0:1:0.1 (11 values) or 1:10 (step 1).`);
  }
  const [a, b, c] = [parseDecimal(parts[0]), parseDecimal(parts[1]), parseDecimal(parts[2] ?? '1')];
  if (!a || !b || !c) {
    throw new UsageError(`The ${what} "${spec}" has a part that is not a number. Write START:STOP:STEP with decimal numbers, e.g. 0:1:0.1.`);
  }
  const scale = Math.max(a.scale, b.scale, c.scale);
  const [start, stop, step] = [rescale(a, scale), rescale(b, scale), rescale(c, scale)];
  if (step === 0n) throw new UsageError(`The ${what} "${spec}" has a step of 0. Give a step that is not 0, e.g. ${parts[0]}:${parts[1]}:1.`);
  if ((stop - start) * step < 0n) {
    throw new UsageError(`The ${what} "${spec}" is empty: the step goes away from STOP. Use a ${step > 0n ? 'negative' : 'positive'} step, or swap START and STOP.`);
  }
  const n = (stop - start) / step + 1n;
  if (n > BigInt(MAX_RANGE_VALUES)) {
    throw new UsageError(`The ${what} "${spec}" gives ${n} values (more than ${MAX_RANGE_VALUES.toLocaleString('en-US')}). Check START, STOP and STEP.`);
  }
  const out: string[] = [];
  for (let i = 0n; i < n; i++) out.push(formatDecimal(start + i * step, scale));
  return out;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * `--grid NAME=VALUES`: VALUES is a comma list (`1,2,5`) or an inclusive range `START:STOP:STEP`.
 * A name must be usable as {NAME} (letters, digits, _; not starting with a digit).
 */
export function parseGrid(spec: string): { name: string; values: string[] } {
  const eq = spec.indexOf('=');
  if (eq < 0) throw new UsageError(`--grid "${spec}" has no "=". Write --grid NAME=VALUES, e.g. --grid mu=0:1:0.1 or --grid sigma=1,2,5.`);
  const name = spec.slice(0, eq).trim();
  const body = spec.slice(eq + 1).trim();
  if (!NAME.test(name)) {
    throw new UsageError(`--grid name "${name}" cannot be used as {${name}}: use letters, digits and _ (not starting with a digit), e.g. --grid mu=0:1:0.1.`);
  }
  if (!body) throw new UsageError(`--grid ${name}= has no values (an empty axis). Give a comma list (${name}=1,2,5) or a range (${name}=0:1:0.1).`);
  let values: string[];
  if (!body.includes(',') && /^[^:]+:[^:]+(:[^:]+)?$/.test(body) && body.split(':').every((p) => parseDecimal(p))) {
    values = rangeValues(body, `--grid ${name} range`);
  } else {
    values = body.split(',').map((v) => v.trim());
    if (values.some((v) => v === '')) {
      throw new UsageError(`--grid ${name}=${body} has an empty value in its comma list. Remove the extra comma.`);
    }
  }
  return { name, values };
}

// ------------------------------------------------------------------------------------------------
// reading sources

function splitter(colsep: string | undefined): (line: string) => string[] {
  if (colsep === undefined) return (l) => [l];
  let re: RegExp;
  try {
    re = new RegExp(colsep);
  } catch (e) {
    throw new UsageError(`--colsep "${colsep}" is not a valid regular expression (${(e as Error).message}). E.g. --colsep , or --colsep '\\t'.`);
  }
  if (re.test('')) throw new UsageError(`--colsep "${colsep}" matches the empty string, so it cannot split columns. Give a separator such as , or '\\t' or ' +'.`);
  return (l) => l.split(re);
}

function readTableLines(file: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`Cannot read the input file ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}). Give a readable file with one input per line.`);
  }
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Reads every value of a file source (a grid of files × parameters needs them all to combine). */
async function readFiles(src: FileSource, openSource: (s: FileSource) => Promise<{ files: AsyncIterable<string>; close(): void }>): Promise<string[]> {
  const opened = await openSource(src);
  const out: string[] = [];
  try {
    for await (const f of opened.files) out.push(f);
  } finally {
    opened.close();
  }
  return out;
}

function describeSource(s: InputSourceSpec, i: number): string {
  switch (s.kind) {
    case 'values': return `input source ${i + 1} (:::)`;
    case 'table': return `${s.path} (input source ${i + 1})`;
    case 'files': return `the files (input source ${i + 1})`;
    case 'grid': return `--grid ${s.name}`;
    case 'csv': return `the table ${s.path}`;
    case 'tuples': return 'the tuples (--tuples-from)';
  }
}

/** The first line of a tuples source (see InputSourceSpec 'tuples'): its columns. */
export interface TuplesHeader {
  names: Array<string | null>;
  resultNames: string[];
}

/** The layout a tuples header describes (the columns of a run over tuples, as run elsewhere). */
export function layoutOfHeader(h: TuplesHeader): InputLayout {
  return { names: h.names.map((n) => n ?? undefined), resultNames: [...h.resultNames], sourceOf: h.names.map(() => 0) };
}

/** The NDJSON lines of a tuples source: the header, then one JSON array of strings per tuple. */
export function tuplesLines(layout: InputLayout, tuples: Iterable<string[]>): Generator<string> {
  const header: TuplesHeader = { names: layout.names.map((n) => n ?? null), resultNames: layout.resultNames };
  return (function* () {
    yield JSON.stringify(header);
    for (const t of tuples) yield JSON.stringify(t);
  })();
}

/** Reads a tuples source; a line that is not what it should be is named (UsageError). */
function parseTuples(lines: string[], label: string): ReadSource {
  const bad = (line: number, what: string) => new UsageError(`${label}, line ${line}: ${what}. Each line after the first must be a JSON array of strings, one per column (the first: {"names": [...], "resultNames": [...]}).`);
  let header: TuplesHeader;
  try {
    header = JSON.parse(lines[0] ?? '');
  } catch {
    throw bad(1, 'not the header object');
  }
  const width = Array.isArray(header?.names) ? header.names.length : -1;
  if (width < 1 || !Array.isArray(header.resultNames) || header.resultNames.length !== width || header.resultNames.some((n) => typeof n !== 'string') || header.names.some((n) => n !== null && (typeof n !== 'string' || !NAME.test(n)))) {
    throw bad(1, 'not a header with as many names as resultNames');
  }
  const rows: string[][] = [];
  for (let i = 1; i < lines.length; i++) {
    if (!lines[i].trim()) continue;
    let row: unknown;
    try {
      row = JSON.parse(lines[i]);
    } catch {
      throw bad(i + 1, 'not JSON');
    }
    if (!Array.isArray(row) || row.length !== width || row.some((v) => typeof v !== 'string')) throw bad(i + 1, `not an array of ${width} strings`);
    rows.push(row as string[]);
  }
  if (rows.length === 0) throw new UsageError(`${label} holds no tuples (an empty input). Give at least one line after the header.`);
  return { rows, width, names: header.names.map((n) => n ?? undefined), isFiles: false, link: false, label, resultNames: header.resultNames };
}

/** A CSV/TSV table with a header: its column names and rows (csv-parse; a bad line is named). */
export function readParamsTable(file: string): { names: string[]; rows: string[][] } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`Cannot read the table ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}). Give a readable CSV or TSV file with a header line.`);
  }
  const delimiter = /\.(tsv|tab)$/i.test(file) ? '\t' : ',';
  let records: string[][];
  try {
    records = parseCsv(text, { delimiter, bom: true, skip_empty_lines: true, relax_column_count: false }) as string[][];
  } catch (e) {
    const err = e as Error & { lines?: number };
    throw new UsageError(`The table ${file} is malformed${err.lines ? ` at line ${err.lines}` : ''}: ${err.message}. Fix that line (quote a value holding ${delimiter === ',' ? 'a comma' : 'a tab'} or a newline).`);
  }
  if (records.length === 0) throw new UsageError(`The table ${file} is empty. Put the parameter names on its first line and one row of values per line below.`);
  const names = records[0].map((n) => n.trim());
  const bad = names.find((n) => !NAME.test(n));
  if (bad !== undefined) throw new UsageError(`The table ${file}: header column "${bad}" cannot be used as {name}: use letters, digits and _ (not starting with a digit). Rename it on line 1.`);
  if (records.length === 1) throw new UsageError(`The table ${file} has no rows below its header (an empty axis). Add at least one row.`);
  return { names, rows: records.slice(1) };
}

/**
 * Reads and checks every source. `openSource` opens a FileSource (fileSources.openSource); passed in
 * so this module stays free of globbing.
 */
export async function readInputs(
  spec: InputsSpec,
  openSource: (s: FileSource) => Promise<{ files: AsyncIterable<string>; close(): void }>,
): Promise<Inputs> {
  if (spec.sources.length === 0) throw new UsageError('No inputs given. Give files, "::: VALUES", ":::: FILE" or --grid NAME=VALUES.');
  if (spec.sources[0].link) throw new UsageError('":::+" / "::::+" link a source to the one before it, but it is the first source. Use ":::" for the first.');
  const split = splitter(spec.colsep);
  const takesHeader = (s: InputSourceSpec) => s.kind === 'values' || s.kind === 'table';
  if (spec.header && !spec.sources.some(takesHeader)) {
    throw new UsageError('--header : names columns from the first line of a table, but no source here has one (only files or --grid). Add ":::: TABLE" (a file with a header line), or drop --header.');
  }
  const read: ReadSource[] = [];
  for (let i = 0; i < spec.sources.length; i++) {
    const s = spec.sources[i];
    const label = describeSource(s, i);
    if (s.kind === 'tuples') {
      if (spec.sources.length > 1 || spec.header || spec.colsep !== undefined) {
        throw new UsageError('--tuples-from gives whole tuples: it takes no other input source, --header or --colsep. Drop those (or --tuples-from).');
      }
      read.push(parseTuples(await readFiles(s.source, openSource), label));
      continue;
    }
    if (s.kind === 'grid') {
      if (s.values.length === 0) throw new UsageError(`${label} has no values (an empty axis). Give at least one value.`);
      read.push({ rows: s.values.map((v) => [v]), width: 1, names: [s.name], isFiles: false, link: !!s.link, label });
      continue;
    }
    if (s.kind === 'csv') {
      const t = readParamsTable(s.path);
      read.push({ rows: t.rows, width: t.names.length, names: t.names, isFiles: false, link: !!s.link, label });
      continue;
    }
    if (s.kind === 'files') {
      const files = await readFiles(s.source, openSource);
      read.push({ rows: files.map((f) => [f]), width: 1, names: [undefined], isFiles: true, link: !!s.link, label });
      continue;
    }
    const lines = s.kind === 'values' ? s.values : readTableLines(s.path);
    let names: Array<string | undefined> | undefined;
    let body = lines;
    let firstLine = 1;
    if (spec.header) {
      if (lines.length === 0) throw new UsageError(`${label} is empty, so --header : finds no header line. Put the column names on its first line.`);
      names = split(lines[0]).map((n) => n.trim());
      const bad = names.find((n) => !NAME.test(n!));
      if (bad !== undefined) {
        throw new UsageError(`${label}: header column "${bad}" cannot be used as {name}: header names need letters, digits and _ (not starting with a digit). Rename it on line 1.`);
      }
      body = lines.slice(1);
      firstLine = 2;
    }
    if (body.length === 0) throw new UsageError(`${label} has no ${spec.header ? 'rows below its header' : 'values'} (an empty axis). Give at least one.`);
    const rows = body.map(split);
    const width = names?.length ?? rows[0].length;
    // with --header (or --colsep) a table is rectangular: a ragged line is a mistake, named here
    if (spec.header || spec.colsep !== undefined) {
      for (let r = 0; r < rows.length; r++) {
        if (rows[r].length !== width) {
          const where = s.kind === 'table' ? `line ${r + firstLine}` : `value ${r + firstLine}`;
          throw new UsageError(`${label}, ${where}: ${rows[r].length} column${rows[r].length === 1 ? '' : 's'} where ${names ? 'the header has' : 'the first row has'} ${width} (--colsep ${JSON.stringify(spec.colsep ?? '')}). Fix that line (a separator inside a value cannot be escaped in --colsep).`);
        }
      }
    }
    read.push({ rows, width, names: names ?? new Array(width).fill(undefined), isFiles: false, link: !!s.link, label });
  }
  const layout = layoutOf(read);
  if (spec.only) return onlyTheseTuples(spec.only, layout);
  // groups: a source and the sources linked to it; the product runs over groups
  const groups: ReadSource[][] = [];
  for (const r of read) {
    if (r.link) groups[groups.length - 1].push(r);
    else groups.push([r]);
  }
  // as GNU Parallel's :::+ (unlike its --link, which wraps): the shortest linked source sets the length
  const lengths = groups.map((g) => Math.min(...g.map((r) => r.rows.length)));
  const count = lengths.reduce((a, b) => a * b, 1);
  function* tuples(): Generator<string[]> {
    const idx = new Array(groups.length).fill(0);
    for (let n = 0; n < count; n++) {
      const t: string[] = [];
      for (let g = 0; g < groups.length; g++) {
        for (const r of groups[g]) t.push(...r.rows[idx[g]]);
      }
      yield t;
      for (let g = groups.length - 1; g >= 0; g--) {
        if (++idx[g] < lengths[g]) break;
        idx[g] = 0;
      }
    }
  }
  return { layout, count, tuples };
}

/** InputsSpec.only: exactly these tuples (each once, in the order given), checked against the layout. */
function onlyTheseTuples(only: string[][], layout: InputLayout): Inputs {
  const width = layout.names.length;
  const seen = new Set<string>();
  const rows: string[][] = [];
  for (const t of only) {
    if (!Array.isArray(t) || t.length !== width || t.some((v) => typeof v !== 'string')) {
      throw new UsageError(`A task to re-run has ${Array.isArray(t) ? t.length : 0} values where the inputs have ${width} column${width === 1 ? '' : 's'} (${layout.resultNames.join(', ')}): the run's inputs changed since it ran. Start a new run instead.`);
    }
    const k = tupleKey(t);
    if (!seen.has(k)) rows.push([...t]);
    seen.add(k);
  }
  if (rows.length === 0) throw new UsageError('No tasks to re-run were given.');
  return { layout, count: rows.length, tuples: function* () { yield* rows; } };
}

function layoutOf(read: ReadSource[]): InputLayout {
  const names: Array<string | undefined> = [];
  const sourceOf: number[] = [];
  read.forEach((r, i) => {
    for (let c = 0; c < r.width; c++) {
      names.push(r.names[c]);
      sourceOf.push(i);
    }
  });
  const seen = new Map<string, number>();
  names.forEach((n, c) => {
    if (n === undefined) return;
    const before = seen.get(n);
    if (before !== undefined) {
      throw new UsageError(`The input name "${n}" is given twice (${read[sourceOf[before]].label} and ${read[sourceOf[c]].label}). Give each header column and --grid a different name.`);
    }
    seen.set(n, c);
  });
  if (read.length === 1 && read[0].resultNames) return { names, resultNames: read[0].resultNames, sourceOf };
  const fileSources = read.filter((r) => r.isFiles).length;
  const resultNames = names.map((n, c) => n ?? (fileSources === 1 && read[sourceOf[c]].isFiles && !seen.has('file') ? 'file' : `input${c + 1}`));
  return { names, resultNames, sourceOf };
}

/** A tuple's named values (header, grid and "file" names; unnamed columns as input1, input2 ...). */
export function namedValues(layout: InputLayout, values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  layout.resultNames.forEach((n, i) => (out[n] = values[i] ?? ''));
  return out;
}

// ------------------------------------------------------------------------------------------------
// replacement strings

/** `{1}`, `{2/}`...: GNU Parallel's positional replacement strings (they make a run go over tuples). */
export const POSITIONAL = /\{[1-9][0-9]*(?:\.|\/|\/\/|\/\.)?\}/;

/** {}, {.} ..., {#}, {%}, {n}, {n.} ..., {name}, {name.} ... */
const TOKEN = /\{(?:([1-9][0-9]*)|([A-Za-z_][A-Za-z0-9_]*))?(\.|\/|\/\/|\/\.)?\}|\{[#%]\}/g;
/** Anything that looks like a GNU Parallel replacement string we do not support ({+/}, {=...=}, {0}...). */
const LOOKALIKE = /\{[./#%+0-9=]*\}/g;

function modify(v: string, mod: string | undefined): string {
  switch (mod) {
    case undefined: return v;
    case '.': return removeExtension(v);
    case '/': return basename(v);
    case '//': return dirname(v);
    case '/.': return removeExtension(basename(v));
    default: return v;
  }
}

/** True when the argv holds a replacement string for tuples (then values are not appended). */
export function tupleHasReplacement(argv: string[], layout: InputLayout): boolean {
  return argv.some((a) => {
    for (const m of a.matchAll(TOKEN)) if (m[2] === undefined || layout.names.includes(m[2])) return true;
    return false;
  });
}

/** The names an argv addresses as {name} (with any modifier), each once, in order. */
export function namesUsed(argv: string[]): string[] {
  const out: string[] = [];
  for (const a of argv) for (const m of a.matchAll(TOKEN)) if (m[2] !== undefined && !out.includes(m[2])) out.push(m[2]);
  return out;
}

/** How the command line gives an input a name (the end of the message about an unknown {name}). */
function cliNameHint(name: string): string {
  return `Name it with --header : (a table's first line) or --grid ${name}=VALUES, or fix the spelling.`;
}

/**
 * Checks a command template (or a script's args) against the inputs before anything starts: {3} with
 * two columns, {name} that no header or --grid gives, GNU Parallel strings we do not expand.
 */
export function validateTupleTemplate(argv: string[], layout: InputLayout, what = 'The command', nameHint = cliNameHint): void {
  const width = layout.names.length;
  const named = layout.names.filter((n): n is string => n !== undefined);
  for (const arg of argv) {
    for (const m of arg.matchAll(TOKEN)) {
      if (m[1] !== undefined && Number(m[1]) > width) {
        throw new UsageError(`${what} uses ${m[0]} but the inputs have ${width} column${width === 1 ? '' : 's'} ({1} to {${width}}). Add an input source (::: ...) or use {1}..{${width}}.`);
      }
      if (m[2] !== undefined && !named.includes(m[2])) {
        throw new UsageError(`${what} uses {${m[2]}} but no input is named "${m[2]}" (${named.length ? `names: ${named.join(', ')}` : 'no input has a name'}). ${nameHint(m[2])}`);
      }
    }
    for (const m of arg.replace(TOKEN, '').matchAll(LOOKALIKE)) {
      throw new UsageError(`Unknown replacement string ${m[0]} in "${arg}". Supported: {} {.} {/} {//} {/.} {#} {%}, {n} and {name} with . / // /. (as in GNU Parallel).`);
    }
  }
}

/**
 * A tuple's argv: every replacement string expanded, or (none) the values appended in order. An
 * element that is exactly {} becomes one element per value (GNU Parallel's command line, word by
 * word); {} inside a longer element is the values joined by spaces.
 */
export function expandTuple(argv: string[], layout: InputLayout, values: string[], seq: number, slot: number): string[] {
  if (!tupleHasReplacement(argv, layout)) return [...argv, ...values];
  const out: string[] = [];
  for (const a of argv) {
    if (a === '{}') {
      out.push(...values);
      continue;
    }
    if (!a.includes('{')) {
      out.push(a);
      continue;
    }
    // one pass: a value holding "{1}" is never expanded again
    out.push(
      a.replace(TOKEN, (tok, num: string | undefined, name: string | undefined, mod: string | undefined) => {
        if (tok === '{#}') return String(seq);
        if (tok === '{%}') return String(slot);
        if (num !== undefined) return modify(values[Number(num) - 1] ?? '', mod);
        if (name !== undefined) {
          const c = layout.names.indexOf(name);
          return c < 0 ? tok : modify(values[c] ?? '', mod);
        }
        // {} {.} {/} {//} {/.}: all values ({}) or the first column with the modifier
        return mod === undefined ? values.join(' ') : modify(values[0] ?? '', mod);
      }),
    );
  }
  return out;
}

// ------------------------------------------------------------------------------------------------
// keys and names

/** The key a tuple is remembered under (journal, resume, retries, Re-run Failed): the whole tuple. */
export function tupleKey(values: string[]): string {
  return JSON.stringify(values);
}

/** A human label of a tuple: "mu=0.5 sigma=2" (named), "a 1" (numbered), a file as its path. */
export function tupleLabel(layout: InputLayout, values: string[]): string {
  return values.map((v, i) => (layout.names[i] !== undefined ? `${layout.names[i]}=${v}` : v)).join(' ');
}

/** Longest log-name stem part (the file system allows 255 bytes; readable names are much shorter). */
const LOG_PART_MAX = 80;

/**
 * A readable, bounded, safe log-name part: "mu=0.5,sigma=2"; a file as its base name; anything
 * outside [A-Za-z0-9._=,+-] becomes "_"; cut at LOG_PART_MAX characters.
 */
export function tupleLogPart(layout: InputLayout, values: string[]): string {
  const parts = values.map((v, i) => {
    const shown = layout.resultNames[i] === 'file' ? path.basename(v) : v;
    return layout.names[i] !== undefined ? `${layout.names[i]}=${shown}` : shown;
  });
  const s = parts.join(',').replace(/[^A-Za-z0-9._=,+-]+/g, '_').replace(/^[.]+/, '_');
  return s.slice(0, LOG_PART_MAX) || 'input';
}

// ------------------------------------------------------------------------------------------------
// what the engine iterates

/** One task's input: a file (a run over files), or a tuple of values (`file` is then its label). */
export interface TaskInput {
  file: string;
  /** the tuple's values, by column ({1} {2} ...); absent in a run over files */
  values?: string[];
}

/** The tuples of `inputs` as task inputs (labelled), in order; stops early when closed. */
export function tupleItems(inputs: Inputs): { items: AsyncIterable<TaskInput>; close(): void; count: () => Promise<number> } {
  let closed = false;
  const items: AsyncIterable<TaskInput> = {
    async *[Symbol.asyncIterator]() {
      let n = 0;
      for (const values of inputs.tuples()) {
        if (closed) return;
        yield { file: tupleLabel(inputs.layout, values), values };
        // a long grid must not hold the event loop: yield to it now and then
        if (++n % 1024 === 0) await new Promise((r) => setImmediate(r));
      }
    },
  };
  return { items, close: () => (closed = true), count: async () => inputs.count };
}

/**
 * The inputs of a run from the VS Code side (run flow, tasks.json, code lens): files (optional), named
 * axes (a list of values, or a "START:STOP:STEP" / "a,b,c" text), parameter tables; combined as a
 * product in that order. Undefined when there is nothing but files (a plain run over files).
 */
export function experimentInputs(files: FileSource | undefined, grid: Record<string, unknown> | undefined, tables: string[] = []): InputsSpec | undefined {
  const sources: InputSourceSpec[] = [];
  if (files) sources.push({ kind: 'files', source: files });
  for (const [name, v] of Object.entries(grid ?? {})) {
    if (Array.isArray(v)) {
      if (v.some((x) => typeof x !== 'string' && typeof x !== 'number' && typeof x !== 'boolean')) {
        throw new UsageError(`The values of "${name}" must be numbers or text, e.g. [0.1, 0.2] or "0:1:0.1".`);
      }
      sources.push({ kind: 'grid', ...parseGrid(`${name}=${v.map(String).join(',')}`) });
    } else if (typeof v === 'string' || typeof v === 'number') sources.push({ kind: 'grid', ...parseGrid(`${name}=${v}`) });
    else throw new UsageError(`The values of "${name}" must be a list ([1, 2, 5]) or a range text ("0:1:0.1"), not ${JSON.stringify(v)}.`);
  }
  for (const t of tables) sources.push({ kind: 'csv', path: t });
  if (sources.length === 0 || (sources.length === 1 && files)) return undefined;
  return { sources };
}

/** A parameter typed in VS Code's run flow: its name and its values as typed (a list or a range). */
export interface TypedParameter {
  name: string;
  values: string;
}

/**
 * The inputs of VS Code's run flow, built exactly as the command line builds them from
 * `--files GLOB --grid NAME=VALUES... :::: TABLE --header : --colsep SEP` (same sources in the same
 * order, so the same tuples, keys and results columns): the files (optional), each typed parameter
 * (parsed as --grid), then a table with a header line (CSV split on commas, TSV on tabs). Undefined when
 * only files are given (a plain run over files), unless the arguments place the file with a positional
 * replacement string ({1}), which makes the command line run over tuples too.
 */
export function flowInputs(files: FileSource | undefined, params: TypedParameter[], table: string | undefined, args: string[] = []): InputsSpec | undefined {
  const sources: InputSourceSpec[] = [];
  if (files) sources.push({ kind: 'files', source: files });
  for (const p of params) sources.push({ kind: 'grid', ...parseGrid(`${p.name}=${p.values}`) });
  if (table) sources.push({ kind: 'table', path: table, link: false });
  if (sources.length === 0) throw new UsageError('No inputs: give input files, a parameter (NAME=VALUES) or a table of parameters.');
  const positional = args.some((a) => POSITIONAL.test(a));
  if (sources.length === 1 && files && !positional) return undefined;
  return { sources, ...(table ? { colsep: tableSeparator(table), header: true } : {}) };
}

/** The --colsep of a table file: a tab for .tsv / .tab, else a comma. */
export function tableSeparator(file: string): string {
  return /\.(tsv|tab)$/i.test(file) ? '\\t' : ',';
}

/**
 * A line of arguments (what follows `--` on the command line) split into words as a POSIX shell
 * splits them, quotes and backslashes included, but with no expansion of any kind: `--mu {mu}
 * --title "a b"` is four words. An unclosed quote is a UsageError naming the fix.
 */
export function splitArguments(line: string): string[] {
  try {
    return shellWords(line);
  } catch (e) {
    const escape = /escape/.test((e as Error).message);
    throw new UsageError(
      escape
        ? 'The arguments end with a lone backslash: remove it, or double it (\\\\) for a backslash in the value.'
        : 'The arguments have a quote that is never closed: close the quote, or put a backslash before a quote that is part of a value (it\\\'s).',
    );
  }
}
