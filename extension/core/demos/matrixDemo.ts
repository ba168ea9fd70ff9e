/**
 * The tutorial's `matrix_loop` without Python: mat · matᵀ for a 1000 × 1500 matrix, split into row
 * blocks (default 10) computed by workerpool workers with ml-matrix, 1 worker vs N, against a serial
 * product computed in one ml-matrix call (which also checks the result). It measures JavaScript on
 * Node worker threads — not numpy and not BLAS (the BLAS inspector times the numpy version) — and
 * says so; a parallel time longer than the serial one is worded as a slowdown, with its likely cause. Matrices cross the worker
 * boundary as plain {rows, columns, data} (the input on a SharedArrayBuffer, so N workers share it
 * without N copies; the result blocks are transferred, not copied).
 */
import * as os from 'os';
import * as path from 'path';
import * as workerpool from 'workerpool';
import { Matrix } from 'ml-matrix';
import { MATRIX_WORKER, type MatrixWorkerApi, type PlainMatrix } from '../../shared/workerApi';
import type { LoadSummary, RunReport, TaskRecord } from '../run/types';
import { LoadWatch } from '../load';
import { busySentence, fasterOrSlower, formatDuration, formatFactor, sentenceCase } from '../../shared/figures';

/** What the demo measures, said wherever its numbers appear. */
export const MATRIX_DEMO_MEASURES =
  'JavaScript (ml-matrix) computing mat · matᵀ in row blocks on Node worker threads: not numpy, not BLAS. ' +
  'The numpy version of the tutorial\'s benchmark (BLAS threads) is in Inspect BLAS Threads.';

/** ml-matrix Matrix from plain row-major data (copies into ml-matrix's row arrays). */
export function toMatrix(m: PlainMatrix): Matrix {
  checkPlain(m);
  return Matrix.from1DArray(m.rows, m.columns, m.data);
}

/** Plain row-major data from an ml-matrix Matrix. */
export function fromMatrix(m: Matrix): PlainMatrix {
  const data = new Float64Array(m.rows * m.columns);
  for (let i = 0; i < m.rows; i++) data.set(m.getRow(i), i * m.columns);
  return { rows: m.rows, columns: m.columns, data };
}

function checkPlain(m: PlainMatrix): void {
  if (!Number.isInteger(m.rows) || !Number.isInteger(m.columns) || m.rows < 0 || m.columns < 0 || m.data.length !== m.rows * m.columns) {
    throw new RangeError(`plain matrix is ${m.rows} × ${m.columns} but holds ${m.data.length} values`);
  }
}

/** Rows [rowStart, rowEnd) of a · aᵀ. */
export function productBlock(a: Matrix, aT: Matrix, rowStart: number, rowEnd: number): Matrix {
  if (!(rowStart >= 0 && rowEnd <= a.rows && rowStart < rowEnd)) throw new RangeError(`row block [${rowStart}, ${rowEnd}) is outside 0..${a.rows}`);
  return a.subMatrix(rowStart, rowEnd - 1, 0, a.columns - 1).mmul(aT);
}

/** A reproducible uniform [0, 1) matrix (mulberry32), optionally on a SharedArrayBuffer. */
export function seededMatrix(rows: number, columns: number, seed = 1, shared = true): PlainMatrix {
  const n = rows * columns;
  const data = new Float64Array(shared ? new SharedArrayBuffer(n * 8) : new ArrayBuffer(n * 8));
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    data[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  return { rows, columns, data };
}

/** Splits `rows` into `blocks` contiguous ranges, sizes differing by at most one (all rows covered). */
export function rowBlocks(rows: number, blocks: number): Array<[number, number]> {
  const b = Math.max(1, Math.min(rows, Math.floor(blocks)));
  const out: Array<[number, number]> = [];
  for (let i = 0; i < b; i++) out.push([Math.floor((i * rows) / b), Math.floor(((i + 1) * rows) / b)]);
  return out;
}

/** Largest |a − b| over all elements (Infinity when the shapes differ). */
export function maxAbsDiff(a: PlainMatrix, b: PlainMatrix): number {
  if (a.rows !== b.rows || a.columns !== b.columns) return Infinity;
  let d = 0;
  for (let i = 0; i < a.data.length; i++) {
    const x = Math.abs(a.data[i] - b.data[i]);
    if (x > d || Number.isNaN(x)) d = x;
  }
  return d;
}

export interface MatrixDemoOptions {
  /** Absolute path of dist/workers (matrixWorker.js). */
  workersDir: string;
  rows?: number;
  columns?: number;
  /** Row blocks (tasks); default 10 like the tutorial. */
  blocks?: number;
  /** Worker counts to time; default [1, cores] (just [1] on one core). */
  workerCounts?: number[];
  seed?: number;
  /** Skip the serial reference product (benchmarks); maxAbsDiff is then against the 1-worker result. */
  skipReference?: boolean;
  signal?: AbortSignal;
  onProgress?: (message: string, fraction: number) => void;
  /** How long other processes' CPU use is sampled before the demo starts, ms (default 500). */
  loadBeforeMs?: number;
}

export interface MatrixDemoTiming {
  workers: number;
  /** Wall ms for all blocks, including starting the workers (as the tutorial's processes). */
  ms: number;
  /** baseline ms / this ms; the baseline is the serial product (else the 1-worker timing). */
  speedup: number;
  /** Largest |difference| from the serial product. */
  maxAbsDiff: number;
  /** Each block: rows, which worker (1-based, in order of first use) and when (epoch ms). */
  blocks: Array<{ rowStart: number; rowEnd: number; worker: number; start: number; end: number }>;
  /** epoch ms when this worker count started (pool creation included). */
  startedAt: number;
}

export interface MatrixDemoResult {
  rows: number;
  columns: number;
  blocks: number;
  cores: number;
  /** The serial reference: one ml-matrix mmulByTranspose call in one worker (null when skipped). */
  serialMs: number | null;
  timings: MatrixDemoTiming[];
  /** Largest difference of any timed run from the reference. */
  maxAbsDiff: number;
  /** CPU other processes used before and during the demo (absent off Linux). */
  load?: LoadSummary;
}

/**
 * Runs the demo. Throws an Error named 'AbortError' when `signal` fires (the pool is terminated).
 * The product is checked for every worker count, so a wrong block split fails loudly.
 */
export async function runMatrixDemo(opts: MatrixDemoOptions): Promise<MatrixDemoResult> {
  const rows = opts.rows ?? 1000;
  const columns = opts.columns ?? 1500;
  const blocks = opts.blocks ?? 10;
  const cores = os.availableParallelism();
  const counts = opts.workerCounts ?? (cores > 1 ? [1, cores] : [1]);
  if (!(rows > 0 && columns > 0 && Number.isInteger(rows) && Number.isInteger(columns))) throw new RangeError(`matrix size ${rows} × ${columns}: both must be positive whole numbers`);
  if (!(blocks >= 1 && blocks <= rows)) throw new RangeError(`blocks = ${blocks}: must be between 1 and the ${rows} rows`);
  if (counts.some((c) => !(Number.isInteger(c) && c >= 1))) throw new RangeError(`worker counts ${JSON.stringify(counts)}: each must be a whole number ≥ 1`);
  const script = path.join(opts.workersDir, `${MATRIX_WORKER}.js`);
  const a = seededMatrix(rows, columns, opts.seed ?? 1);
  const key = `${rows}x${columns}:${opts.seed ?? 1}:${process.pid}:${Date.now()}`;
  const steps = counts.length + (opts.skipReference ? 0 : 1);
  let step = 0;

  const load = await LoadWatch.start({ beforeMs: opts.loadBeforeMs ?? 500 });
  let reference: PlainMatrix | null = null;
  let serialMs: number | null = null;
  if (!opts.skipReference) {
    opts.onProgress?.('serial reference product (one worker, one ml-matrix call)', 0);
    const t0 = performance.now();
    reference = await withPool(script, 1, opts.signal, (exec) => exec('productSerial', [{ a }]));
    serialMs = performance.now() - t0;
    step++;
  }

  const timings: MatrixDemoTiming[] = [];
  for (const n of counts) {
    opts.onProgress?.(`${n} worker${n === 1 ? '' : 's'} × ${blocks} row blocks`, step / steps);
    const out = new Float64Array(rows * rows);
    const done: MatrixDemoTiming['blocks'] = [];
    const lanes = new Map<number, number>();
    const startedAt = Date.now();
    const t0 = performance.now();
    await withPool(script, n, opts.signal, (exec) => Promise.all(rowBlocks(rows, blocks).map(async ([r0, r1]) => {
      const r = await exec('productBlock', [{ a, key, rowStart: r0, rowEnd: r1 }]);
      out.set(r.block.data, r0 * rows);
      if (!lanes.has(r.threadId)) lanes.set(r.threadId, lanes.size + 1);
      done.push({ rowStart: r0, rowEnd: r1, worker: lanes.get(r.threadId)!, start: r.start, end: r.end });
    })));
    const ms = performance.now() - t0;
    const result: PlainMatrix = { rows, columns: rows, data: out };
    if (!reference) reference = result;
    done.sort((x, y) => x.rowStart - y.rowStart);
    timings.push({ workers: n, ms, speedup: 0, maxAbsDiff: maxAbsDiff(result, reference), blocks: done, startedAt });
    step++;
  }
  const base = serialMs ?? timings.find((t) => t.workers === 1)?.ms ?? timings[0].ms;
  for (const t of timings) t.speedup = base / t.ms;
  opts.onProgress?.('done', 1);
  const loadSummary = load.stop();
  return {
    rows, columns, blocks, cores, serialMs, timings, maxAbsDiff: Math.max(...timings.map((t) => t.maxAbsDiff)),
    ...(loadSummary ? { load: loadSummary } : {}),
  };
}

/** The demo's outcome in words: what was timed against what, and why a slowdown happened when it can tell. */
export interface MatrixVerdict {
  workers: number;
  ms: number;
  baselineMs: number;
  /** "serially (one ml-matrix call)" or "on 1 worker" */
  baselineLabel: string;
  speedup: number;
  /** "2 workers took 4.34 s against 1.83 s serially (one ml-matrix call): 2.37× slower." */
  headline: string;
  /** the likely causes of a slowdown (or of a busy machine), each a sentence */
  causes: string[];
}

/** Words the most-workers timing against the serial product (pure; the notification, Markdown and report use it). */
export function matrixVerdict(r: MatrixDemoResult): MatrixVerdict {
  const t = r.timings.reduce((a, b) => (b.workers > a.workers ? b : a));
  const one = r.timings.find((x) => x.workers === 1);
  const baselineMs = r.serialMs ?? one?.ms ?? t.ms;
  const baselineLabel = r.serialMs !== null ? 'serially (one ml-matrix call)' : 'on 1 worker';
  const speedup = t.ms > 0 ? baselineMs / t.ms : 0;
  const who = `${t.workers} worker${t.workers === 1 ? '' : 's'}`;
  const headline = speedup >= 1
    ? `${who} took ${formatDuration(t.ms)} against ${formatDuration(baselineMs)} ${baselineLabel}: ${fasterOrSlower(speedup)}.`
    : `${who} ${t.workers === 1 ? 'was' : 'were'} ${fasterOrSlower(speedup)}: ${formatDuration(t.ms)} against ${formatDuration(baselineMs)} ${baselineLabel}.`;
  const causes: string[] = [];
  const busy = busySentence(r.load);
  if (busy) causes.push(`${sentenceCase(busy)}.`);
  if (speedup < 1) {
    const firstStart = t.blocks.length ? Math.min(...t.blocks.map((b) => b.start)) : t.startedAt;
    const startup = Math.max(0, firstStart - t.startedAt);
    if (startup > 0.2 * t.ms) {
      causes.push(`Starting the ${who} took ${formatDuration(startup)} of the ${formatDuration(t.ms)}: a ${r.rows} × ${r.columns} matrix is too small for the workers' start-up to pay off.`);
    }
    if (t.workers > r.cores) causes.push(`${who} on ${r.cores} core${r.cores === 1 ? '' : 's'}: they take turns.`);
    if (r.serialMs !== null && one && one.ms > r.serialMs * 1.2) {
      causes.push(`Splitting into ${r.blocks} blocks costs too: 1 worker on the same blocks took ${formatDuration(one.ms)}, ${formatFactor(one.ms / r.serialMs)} the single call.`);
    }
    if (causes.length === 0) causes.push('Neither a busy machine nor the workers\' start-up explains it.');
  }
  return { workers: t.workers, ms: t.ms, baselineMs, baselineLabel, speedup, headline, causes };
}

type Exec = <K extends keyof MatrixWorkerApi>(method: K, params: Parameters<MatrixWorkerApi[K]>) => Promise<ReturnType<MatrixWorkerApi[K]>>;

/** Runs `body` on a fresh pool of `n` thread workers; always terminates the pool; honours `signal`. */
async function withPool<T>(script: string, n: number, signal: AbortSignal | undefined, body: (exec: Exec) => Promise<T>): Promise<T> {
  if (signal?.aborted) throw abortError();
  const pool = workerpool.pool(script, { maxWorkers: n, minWorkers: n, workerType: 'thread' });
  const onAbort = (): void => void pool.terminate(true);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const exec: Exec = (method, params) => pool.exec(method, params as unknown[]) as unknown as Promise<never>;
    return await body(exec);
  } catch (err) {
    if (signal?.aborted) throw abortError();
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await pool.terminate();
  }
}

function abortError(): Error {
  const e = new Error('Matrix demo cancelled');
  e.name = 'AbortError';
  return e;
}

/** The result as a Markdown table, like the tutorial's "4 cores / 1 core" lines, with what it measures. */
export function formatMatrixDemo(r: MatrixDemoResult): string {
  const v = matrixVerdict(r);
  const lines = [
    `### Matrix demo: mat · matᵀ, ${r.rows} × ${r.columns}, ${r.blocks} row blocks (${r.cores} cores)`,
    '',
    `What this measures: ${MATRIX_DEMO_MEASURES}`,
    '',
    `**${v.headline}**`,
    ...v.causes.map((c) => `- ${c}`),
    '',
    `| configuration | time (s) | vs ${r.serialMs !== null ? 'serial' : '1 worker'} | max abs diff vs serial |`,
    '| --- | ---: | ---: | ---: |',
  ];
  if (r.serialMs !== null) lines.push(`| serial (one mmulByTranspose call) | ${(r.serialMs / 1000).toFixed(3)} | – | 0 |`);
  for (const t of r.timings) {
    lines.push(`| ${t.workers} worker${t.workers === 1 ? '' : 's'} | ${(t.ms / 1000).toFixed(3)} | ${fasterOrSlower(t.speedup)} | ${t.maxAbsDiff.toExponential(2)} |`);
  }
  lines.push('', r.maxAbsDiff < 1e-9 ? `Result matches the serial product (max abs diff ${r.maxAbsDiff.toExponential(2)}).` : `WARNING: result differs from the serial product by ${r.maxAbsDiff}.`);
  return lines.join('\n');
}

/**
 * The demo as a RunReport for the report panel: the row blocks of the most-workers timing are the
 * tasks (timeline lanes = workers), and the measured speedup is against the 1-worker timing.
 */
export function matrixDemoReport(r: MatrixDemoResult): RunReport {
  const t = r.timings.reduce((a, b) => (b.workers > a.workers ? b : a));
  const v = matrixVerdict(r);
  const tasks: TaskRecord[] = t.blocks.map((b, i) => ({
    index: i + 1, file: `rows ${b.rowStart}–${b.rowEnd - 1}`, slot: b.worker, status: 'succeeded', attempts: 1,
    // a block is pure computation on one worker thread: its CPU time is its wall time
    start: b.start, end: b.end, wallMs: b.end - b.start, exitCode: 0, signal: null, cpuUserSec: (b.end - b.start) / 1000, cpuSysSec: 0,
    maxRssKb: null, stdoutTail: '', stderrTail: '', stdoutLog: '', stderrLog: '', threadEnv: {}, mode: 'warm',
  }));
  const sumTaskMs = tasks.reduce((s, x) => s + x.wallMs, 0);
  const estimate = t.ms > 0 ? sumTaskMs / t.ms : 0;
  const cpuCount = Math.max(1, r.cores);
  return {
    version: 1, runId: `matrix-demo-${t.startedAt}`, label: `Matrix demo: mat · matᵀ ${r.rows} × ${r.columns} in ${r.blocks} row blocks (JavaScript ml-matrix, not numpy)`,
    backend: 'local', status: 'succeeded', fingerprint: '', command: { kind: 'template', argv: ['matrix-demo', `${r.rows}x${r.columns}`, `${r.blocks} blocks`] },
    demo: { measures: MATRIX_DEMO_MEASURES },
    cwd: process.cwd(), startedAt: t.startedAt, endedAt: t.startedAt + t.ms, wallMs: t.ms,
    counts: { total: tasks.length, done: tasks.length, succeeded: tasks.length, failed: 0, timedOut: 0, cancelled: 0, skipped: 0, retried: 0 },
    sumTaskMs, sumSucceededMs: sumTaskMs, speedupEstimate: estimate,
    speedupMeasured: { value: v.speedup, baselineWallMs: v.baselineMs, source: `matrix demo: the same product ${v.baselineLabel}` },
    efficiency: estimate / t.workers, throughput: tasks.length / Math.max(1e-3, t.ms / 1000), etaMs: null,
    workers: t.workers, threads: 1, cores: { logical: cpuCount, physical: cpuCount }, oversubscription: t.workers / cpuCount,
    threadEnv: {}, tasks, failures: [], cpuSamples: [],
    ...(r.load ? { load: r.load } : {}),
    notes: [
      v.headline,
      ...v.causes,
      `What this measures: ${MATRIX_DEMO_MEASURES}`,
      `ml-matrix on ${t.workers} workerpool thread workers; the input crosses as one shared Float64Array, each block comes back transferred.`,
      `Result checked against the serial product: max abs diff ${r.maxAbsDiff.toExponential(2)}.`,
      ...(r.serialMs !== null ? [`Serial (one mmulByTranspose call in one worker): ${formatDuration(r.serialMs)}.`] : []),
      ...r.timings.map((x) => `${x.workers} worker${x.workers === 1 ? '' : 's'}: ${formatDuration(x.ms)} (${fasterOrSlower(x.speedup)} than ${v.baselineLabel.replace(/^on /, '')})`),
    ],
  };
}
