/**
 * Compare Runs, like with like (pure; unit-tested in Node). Two runs are only "faster" or "slower"
 * than each other when they processed the same inputs; otherwise the per-file times (median, p90)
 * and the throughput are what can be compared, and every difference that can explain a gap — inputs,
 * file counts, mode, workers × threads, interpreter, machine, load — is named first.
 */
import type { RunReport, TaskRecord } from '../../core/run/types';
import type { ResultCell, ResultsTable } from '../../shared/protocol';
import { cellText, formatNumber, numeric, ResultsModel } from './resultsModel';
import { fasterOrSlower, formatDuration, formatFactor, formatPercent, formatRate, loadText, MODE_TEXT, runFigures, runMode, workersThreads } from '../../shared/figures';

export interface CompareRow {
  label: string;
  a: string;
  b: string;
  /** b relative to a, in words ("1.80× faster", "+12 points"), or why there is no comparison */
  change: string;
  /** true when b is better than a, false when worse, undefined when neutral or not comparable */
  better?: boolean;
}

export interface Comparison {
  /** the runs processed the same set of input files */
  sameInputs: boolean;
  /** one sentence; never "faster" unless the inputs are the same */
  headline: string;
  /** what differs between the runs, each a sentence (empty: like with like) */
  differences: string[];
  rows: CompareRow[];
}

/** Per-file wall times of the succeeded tasks: median and 90th percentile (null without any). */
export function perFileTimes(tasks: readonly Pick<TaskRecord, 'status' | 'wallMs'>[]): { median: number; p90: number; n: number } | null {
  const xs = tasks.filter((t) => t.status === 'succeeded').map((t) => t.wallMs).sort((a, b) => a - b);
  if (xs.length === 0) return null;
  return { median: quantile(xs, 0.5), p90: quantile(xs, 0.9), n: xs.length };
}

/** Linear-interpolated quantile of sorted values (the same definition numpy uses by default). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 1) return sorted[0];
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function inputSet(r: RunReport): Set<string> | null {
  // a trimmed report does not list every file: it cannot prove two runs had the same inputs
  if (r.tasksOmitted) return null;
  return new Set(r.tasks.map((t) => resolve(r.cwd, t.file)));
}

function resolve(cwd: string, file: string): string {
  return file.startsWith('/') || /^[A-Za-z]:[\\/]/.test(file) ? file : `${cwd.replace(/[\\/]+$/, '')}/${file}`;
}

function interpreter(r: RunReport): string {
  if (r.python) return `${r.python.executable}${r.python.version ? ` (Python ${r.python.version})` : ''}`;
  return r.command.kind === 'python' ? r.command.python : 'not a Python run';
}

function machine(r: RunReport): string {
  const m = r.machine;
  const cores = `${r.cores.logical} logical cores`;
  return m ? `${m.host}, ${cores}${m.cpu ? `, ${m.cpu}` : ''}` : `${cores} (host not recorded)`;
}

/** The comparison of run b against run a (a = the baseline). */
export function compareRuns(a: RunReport, b: RunReport): Comparison {
  const fa = runFigures(a);
  const fb = runFigures(b);
  const pa = perFileTimes(a.tasks);
  const pb = perFileTimes(b.tasks);
  const filesA = a.counts.done - a.counts.skipped;
  const filesB = b.counts.done - b.counts.skipped;
  const setA = inputSet(a);
  const setB = inputSet(b);
  let sameInputs = false;
  const differences: string[] = [];
  if (setA && setB) {
    let common = 0;
    for (const f of setA) if (setB.has(f)) common++;
    sameInputs = common === setA.size && common === setB.size && setA.size > 0;
    if (!sameInputs) {
      differences.push(setA.size === setB.size
        ? `Different inputs: ${setA.size} files each, ${common} of them the same.`
        : `Different inputs: A ran ${setA.size} files, B ran ${setB.size} (${common} in both).`);
    }
  } else {
    differences.push(`The inputs cannot be checked (a report lists only its latest files): A ran ${filesA} files, B ran ${filesB}.`);
  }
  const modeA = runMode(a);
  const modeB = runMode(b);
  if (modeA !== modeB) differences.push(`Different modes: A ${MODE_TEXT[modeA]}, B ${MODE_TEXT[modeB]}.`);
  if (a.workers !== b.workers || a.threads !== b.threads) differences.push(`Different settings: A ${workersThreads(a.workers, a.threads)}, B ${workersThreads(b.workers, b.threads)}.`);
  if (interpreter(a) !== interpreter(b)) differences.push(`Different interpreters: A ${interpreter(a)}, B ${interpreter(b)}.`);
  if (machine(a) !== machine(b)) differences.push(`Different machines: A ${machine(a)}, B ${machine(b)}.`);
  if (a.load?.busy || b.load?.busy) differences.push(`Machine load: A ${loadText(a.load)}, B ${loadText(b.load)}; a busy machine makes its run look slower.`);

  const wallRatio = a.wallMs > 0 && b.wallMs > 0 ? a.wallMs / b.wallMs : NaN;
  let headline: string;
  if (sameInputs && Number.isFinite(wallRatio) && fa.ok && fb.ok) {
    headline = `Same ${setA!.size} inputs: B was ${fasterOrSlower(wallRatio)} than A in wall time.`;
  } else if (pa && pb) {
    headline = `${sameInputs ? 'Same inputs, but not every file succeeded, so' : 'Different inputs, so'} the wall times are not compared: per file, A took ${formatDuration(pa.median)} (median; p90 ${formatDuration(pa.p90)}) and B ${formatDuration(pb.median)} (median; p90 ${formatDuration(pb.p90)}).`;
  } else {
    headline = `Nothing to compare per file: ${!pa && !pb ? 'neither run' : !pa ? 'run A' : 'run B'} has a succeeded file.`;
  }

  const comparable = sameInputs;
  const rows: CompareRow[] = [];
  rows.push({
    label: 'Files (succeeded / failed)',
    a: `${a.counts.succeeded} / ${a.counts.failed + a.counts.timedOut}`,
    b: `${b.counts.succeeded} / ${b.counts.failed + b.counts.timedOut}`,
    change: filesA === filesB ? 'same count' : `${signed(filesB - filesA, 0, '')} files`,
  });
  const perFile = (label: string, x: number | undefined, y: number | undefined): CompareRow => {
    const ratio = x !== undefined && y !== undefined && y > 0 ? x / y : NaN;
    return {
      label,
      a: x !== undefined ? formatDuration(x) : '—',
      b: y !== undefined ? formatDuration(y) : '—',
      change: Number.isFinite(ratio) ? fasterOrSlower(ratio) : '—',
      better: Number.isFinite(ratio) && Math.abs(ratio - 1) >= 0.02 ? ratio > 1 : undefined,
    };
  };
  rows.push(perFile('Per-file time (median)', pa?.median, pb?.median), perFile('Per-file time (p90)', pa?.p90, pb?.p90));
  const ta = fa.throughput;
  const tb = fb.throughput;
  rows.push({
    label: 'Throughput (succeeded files)',
    a: formatRate(ta),
    b: formatRate(tb),
    change: ta && tb ? `${signed(((tb - ta) / ta) * 100, 0, '')}%` : '—',
    better: ta && tb ? neutralOr(tb - ta, ta * 0.02) : undefined,
  });
  rows.push({
    label: 'Wall time',
    a: formatDuration(a.wallMs),
    b: formatDuration(b.wallMs),
    change: !comparable ? 'not comparable (different inputs)' : Number.isFinite(wallRatio) ? fasterOrSlower(wallRatio) : '—',
    better: comparable && Number.isFinite(wallRatio) && Math.abs(wallRatio - 1) >= 0.02 ? wallRatio > 1 : undefined,
  });
  rows.push({
    label: `Speedup (${fa.kind === fb.kind ? fa.kind : 'A ' + fa.kind + ', B ' + fb.kind})`,
    a: formatFactor(fa.speedup),
    b: formatFactor(fb.speedup),
    change: fa.speedup !== null && fb.speedup !== null ? signed(fb.speedup - fa.speedup, 2, '×') : '—',
  });
  rows.push({
    label: 'Efficiency',
    a: formatPercent(fa.efficiency),
    b: formatPercent(fb.efficiency),
    change: fa.efficiency !== null && fb.efficiency !== null ? `${signed((fb.efficiency - fa.efficiency) * 100, 0, '')} points` : '—',
  });
  rows.push({ label: 'Mode', a: modeA, b: modeB, change: modeA === modeB ? 'same' : 'different' });
  rows.push({ label: 'Workers × threads', a: `${a.workers} × ${a.threads}`, b: `${b.workers} × ${b.threads}`, change: a.workers === b.workers && a.threads === b.threads ? 'same' : 'different' });
  rows.push({ label: 'Interpreter', a: interpreter(a), b: interpreter(b), change: interpreter(a) === interpreter(b) ? 'same' : 'different' });
  rows.push({ label: 'Machine', a: machine(a), b: machine(b), change: machine(a) === machine(b) ? 'same' : 'different' });
  rows.push({ label: 'Machine load', a: loadText(a.load), b: loadText(b.load), change: !!a.load?.busy === !!b.load?.busy ? 'same' : 'different' });
  return { sameInputs, headline, differences, rows };
}

function signed(x: number, digits: number, unit: string): string {
  if (!Number.isFinite(x)) return '—';
  if (Number(x.toFixed(digits)) === 0) return `±0${unit}`;
  return `${x > 0 ? '+' : '−'}${Math.abs(x).toFixed(digits)}${unit}`;
}

function neutralOr(delta: number, eps: number): boolean | undefined {
  if (!Number.isFinite(delta) || Math.abs(delta) <= Math.abs(eps)) return undefined;
  return delta > 0;
}

/** One result column of two runs compared over their matching inputs. */
export interface ResultColumnComparison {
  column: string;
  /** matching inputs with a value on both sides */
  matched: number;
  /** of those, how many differ (numbers by value, text exactly) */
  differ: number;
  /** the largest differences (numbers: by |B − A|), as sentences */
  largest: string[];
}

export interface ResultsComparison {
  headline: string;
  /** what keeps rows from being matched, said plainly (empty: every input matched) */
  unlike: string[];
  /** inputs present in both runs, and in one only */
  matched: number;
  onlyA: number;
  onlyB: number;
  columns: ResultColumnComparison[];
}

/** Differences listed per column. */
const LARGEST = 3;

/**
 * The results of two runs compared input by input: rows are matched by their input values (by
 * column name, so the order of the inputs does not matter); per result column (and status), how
 * many matched inputs have a value on both sides, how many differ, and the largest differences.
 * Undefined when neither run has results.
 */
export function compareResults(ta: ResultsTable | undefined, tb: ResultsTable | undefined): ResultsComparison | undefined {
  const a = ta ? new ResultsModel(ta) : undefined;
  const b = tb ? new ResultsModel(tb) : undefined;
  const hasA = !!a?.hasResults();
  const hasB = !!b?.hasResults();
  if (!hasA && !hasB) return undefined;
  const empty = { matched: 0, onlyA: a?.rows.length ?? 0, onlyB: b?.rows.length ?? 0, columns: [] };
  if (!hasA || !hasB) {
    return { ...empty, headline: `Only ${hasA ? 'A' : 'B'} has results: there is nothing to compare them with.`, unlike: [] };
  }
  const ia = a!.inputColumns;
  const ib = b!.inputColumns;
  const sameNames = ia.length === ib.length && ia.every((c) => ib.includes(c));
  if (!sameNames) {
    const unlike = [`Unlike inputs: A's rows are keyed by ${list(ia)}, B's by ${list(ib)}. No row of one run can be matched with a row of the other, so their results are not compared.`];
    return { ...empty, headline: 'The results cannot be compared: the runs have different inputs.', unlike };
  }
  // B's rows by A's key (values in A's input order)
  const bIdx = ib.map((c) => b!.col(c));
  const order = ia.map((c) => ib.indexOf(c));
  const keyB = (r: readonly ResultCell[]) => JSON.stringify(order.map((k) => cellText(r[bIdx[k]])));
  const keyA = (r: readonly ResultCell[]) => JSON.stringify(ia.map((_, i) => cellText(r[i])));
  const rowsB = new Map<string, ResultCell[]>();
  for (const r of b!.rows) rowsB.set(keyB(r), r);
  const pairs: Array<[ResultCell[], ResultCell[]]> = [];
  const seenB = new Set<string>();
  for (const r of a!.rows) {
    const k = keyA(r);
    const o = rowsB.get(k);
    if (o) {
      pairs.push([r, o]);
      seenB.add(k);
    }
  }
  const onlyA = a!.rows.length - pairs.length;
  const onlyB = b!.rows.length - seenB.size;
  const label = (r: readonly ResultCell[]) => ia.map((c, i) => `${c}=${cellText(r[i])}`).join(', ');
  const colsA = a!.resultColumns();
  const colsB = b!.resultColumns();
  const shared = ['status', ...colsA.filter((c) => colsB.includes(c))];
  const columns: ResultColumnComparison[] = shared.map((column) => {
    const ca = a!.col(column);
    const cb = b!.col(column);
    let matched = 0;
    const diffs: Array<{ size: number; text: string }> = [];
    for (const [ra, rb] of pairs) {
      const va = ra[ca];
      const vb = rb[cb];
      if (va === null || va === '' || vb === null || vb === '') continue;
      matched++;
      const na = numeric(va);
      const nb = numeric(vb);
      if (na !== undefined && nb !== undefined) {
        if (na === nb) continue;
        const d = nb - na;
        const rel = na !== 0 ? ` (${signedText(d / Math.abs(na) * 100, 'percent')})` : '';
        diffs.push({ size: Math.abs(d), text: `${label(ra)}: A ${formatNumber(na)}, B ${formatNumber(nb)}, B − A = ${signedText(d, 'number')}${rel}` });
      } else if (cellText(va) !== cellText(vb)) {
        diffs.push({ size: -1, text: `${label(ra)}: A ${quote(cellText(va))}, B ${quote(cellText(vb))}` });
      }
    }
    diffs.sort((x, y) => y.size - x.size);
    return { column, matched, differ: diffs.length, largest: diffs.slice(0, LARGEST).map((d) => d.text) };
  });
  const unlike: string[] = [];
  if (onlyA || onlyB) unlike.push(`Unlike inputs: ${onlyA.toLocaleString('en-US')} input${onlyA === 1 ? '' : 's'} only in A, ${onlyB.toLocaleString('en-US')} only in B; their results are not compared.`);
  const onlyCols = [...colsA.filter((c) => !colsB.includes(c)).map((c) => `${c} (A only)`), ...colsB.filter((c) => !colsA.includes(c)).map((c) => `${c} (B only)`)];
  if (onlyCols.length) unlike.push(`Result columns in one run only: ${onlyCols.join(', ')}.`);
  const differing = columns.filter((c) => c.differ > 0);
  let headline: string;
  if (pairs.length === 0) headline = 'No input of A is in B: no result can be compared.';
  else if (differing.length === 0) headline = `Same results: ${pairs.length.toLocaleString('en-US')} matching input${pairs.length === 1 ? '' : 's'}, every shared result identical.`;
  else headline = `${pairs.length.toLocaleString('en-US')} matching input${pairs.length === 1 ? '' : 's'}; results differ in ${differing.map((c) => `${c.column} (${c.differ.toLocaleString('en-US')} of ${c.matched.toLocaleString('en-US')})`).join(', ')}.`;
  return { headline, unlike, matched: pairs.length, onlyA, onlyB, columns };
}

function list(names: readonly string[]): string {
  return names.length ? `(${names.join(', ')})` : '(no inputs)';
}

function quote(s: string): string {
  return `"${s.length > 40 ? `${s.slice(0, 39)}…` : s}"`;
}

function signedText(x: number, kind: 'number' | 'percent'): string {
  const body = kind === 'percent' ? `${Math.abs(x) >= 100 ? Math.abs(x).toFixed(0) : Math.abs(x).toPrecision(2)}%` : formatNumber(Math.abs(x));
  return `${x > 0 ? '+' : x < 0 ? '−' : '±'}${body}`;
}
