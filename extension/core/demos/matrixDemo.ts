/**
 * The tutorial's `matrix_loop` without Python: mat · matᵀ for a 1000 × 1500 matrix, split into row
 * blocks (default 10) computed by workerpool workers with ml-matrix, 1 worker vs N. The result is
 * checked against a serial product computed in one ml-matrix call. Matrices cross the worker
 * boundary as plain {rows, columns, data} (the input on a SharedArrayBuffer, so N workers share it
 * without N copies; the result blocks are transferred, not copied).
 */
import * as os from 'os';
import * as path from 'path';
import * as workerpool from 'workerpool';
import { Matrix } from 'ml-matrix';
import { MATRIX_WORKER, type MatrixWorkerApi, type PlainMatrix } from '../../shared/workerApi';
import type { RunReport, TaskRecord } from '../run/types';

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
}

export interface MatrixDemoTiming {
  workers: number;
  /** Wall ms for all blocks, including starting the workers (as the tutorial's processes). */
  ms: number;
  /** 1-worker ms / this ms. */
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
  const one = timings.find((t) => t.workers === 1)?.ms ?? timings[0].ms;
  for (const t of timings) t.speedup = one / t.ms;
  opts.onProgress?.('done', 1);
  return { rows, columns, blocks, cores, serialMs, timings, maxAbsDiff: Math.max(...timings.map((t) => t.maxAbsDiff)) };
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

/** The result as a Markdown table, like the tutorial's "4 cores / 1 core" lines. */
export function formatMatrixDemo(r: MatrixDemoResult): string {
  const lines = [
    `### Matrix demo: mat · matᵀ, ${r.rows} × ${r.columns}, ${r.blocks} row blocks (ml-matrix + workerpool, ${r.cores} cores)`,
    '',
    '| configuration | time (s) | speedup vs 1 worker | max abs diff vs serial |',
    '| --- | ---: | ---: | ---: |',
  ];
  if (r.serialMs !== null) lines.push(`| serial reference (one mmulByTranspose call) | ${(r.serialMs / 1000).toFixed(3)} | – | 0 |`);
  for (const t of r.timings) {
    lines.push(`| ${t.workers} worker${t.workers === 1 ? '' : 's'} | ${(t.ms / 1000).toFixed(3)} | ${t.speedup.toFixed(2)}× | ${t.maxAbsDiff.toExponential(2)} |`);
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
  const one = r.timings.find((x) => x.workers === 1);
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
    version: 1, runId: `matrix-demo-${t.startedAt}`, label: `Matrix demo: mat · matᵀ ${r.rows} × ${r.columns}, ${r.blocks} blocks`,
    backend: 'local', status: 'succeeded', fingerprint: '', command: { kind: 'template', argv: ['matrix-demo', `${r.rows}x${r.columns}`, `${r.blocks} blocks`] },
    cwd: process.cwd(), startedAt: t.startedAt, endedAt: t.startedAt + t.ms, wallMs: t.ms,
    counts: { total: tasks.length, done: tasks.length, succeeded: tasks.length, failed: 0, timedOut: 0, cancelled: 0, skipped: 0, retried: 0 },
    sumTaskMs, speedupEstimate: estimate,
    speedupMeasured: one ? { value: one.ms / t.ms, baselineWallMs: one.ms, source: `matrix demo: the same ${r.blocks} blocks on 1 worker` } : undefined,
    efficiency: estimate / t.workers, throughput: tasks.length / Math.max(1e-3, t.ms / 1000), etaMs: null,
    workers: t.workers, threads: 1, cores: { logical: cpuCount, physical: cpuCount }, oversubscription: t.workers / cpuCount,
    threadEnv: {}, tasks, failures: [], cpuSamples: [],
    notes: [
      `ml-matrix on ${t.workers} workerpool thread workers; the input crosses as one shared Float64Array, each block comes back transferred.`,
      `Result checked against the serial product: max abs diff ${r.maxAbsDiff.toExponential(2)}.`,
      ...r.timings.map((x) => `${x.workers} worker${x.workers === 1 ? '' : 's'}: ${(x.ms / 1000).toFixed(3)} s (${x.speedup.toFixed(2)}× vs 1 worker)`),
      ...(r.serialMs !== null ? [`Serial reference (one mmulByTranspose call): ${(r.serialMs / 1000).toFixed(3)} s.`] : []),
    ],
  };
}
