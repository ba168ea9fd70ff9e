/**
 * Every number a report view draws comes from files anyone who can write the workspace can edit
 * (report.json, run.json, the journal, sweep.json). A view sizes arrays and loops by some of them
 * (one timeline lane per worker slot, one sweep column per worker count), so `workers: 1e8` would
 * hang a panel and `workers: 3e8` in a sweep throws a RangeError. This module is the one check the
 * host runs on a report or sweep before it reaches a view: structure, enums, and every number finite,
 * of the right kind and within a stated bound. A failure names the field, its value, the bound and
 * what to do. No `vscode` import (JSON Schema validated by ajv).
 */
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import type { RunReport } from './types';

/** The bounds, with what each is for (the message quotes it). */
export const VIEW_LIMITS = {
  /** workers, and the worker slot of a task: one timeline lane each (Slurm: one per array task) */
  lanes: 10_000,
  /** BLAS threads per task */
  threads: 4096,
  /** logical or physical cores of a machine */
  cores: 100_000,
  /** files, counts and task indexes */
  files: 1_000_000_000,
  /** attempts of one task */
  attempts: 1_000_000,
  /** an instant, epoch milliseconds (year 2286) */
  epochMs: 1e13,
  /** a duration, milliseconds (about 31 years) */
  durationMs: 1e12,
  /** speedup, efficiency, oversubscription, serial fractions (as factors) */
  factor: 1e6,
  /** tasks per second */
  throughput: 1e9,
  /** CPU seconds of one task */
  cpuSec: 1e9,
  /** bytes (memory, file sizes) */
  bytes: Number.MAX_SAFE_INTEGER,
  /** rows of a results table carried to a view (results.csv has them all) */
  resultRows: 100_000,
  /** columns of a results table (inputs, measures and result keys) */
  resultColumns: 200,
  /** characters of one results cell or column name (longer text is cut, marked with …) */
  resultText: 500,
  /** magnitude of a number in a results table (beyond: shown as text, never plotted) */
  resultMagnitude: 1e300,
} as const;

/** A report or sweep that must not reach a view; `message` names the field, the value and the fix. */
export class MalformedReportError extends Error {
  constructor(message: string, readonly field: string) {
    super(message);
    this.name = 'MalformedReportError';
  }
}

const int = (minimum: number, maximum: number) => ({ type: 'integer', minimum, maximum });
const num = (minimum: number, maximum: number) => ({ type: 'number', minimum, maximum });
const nullable = (s: object) => ({ anyOf: [s, { type: 'null' }] });
const str = { type: 'string' };
const L = VIEW_LIMITS;

const TASK_STATUS = { enum: ['succeeded', 'failed', 'timedOut', 'cancelled', 'skipped'] };
const epoch = num(0, L.epochMs);
const duration = num(0, L.durationMs);

const taskSchema = {
  type: 'object',
  required: ['index', 'file', 'slot', 'status', 'attempts', 'start', 'end', 'wallMs'],
  properties: {
    index: int(0, L.files),
    file: str,
    slot: int(0, L.lanes),
    status: TASK_STATUS,
    attempts: int(0, L.attempts),
    start: epoch,
    end: epoch,
    wallMs: duration,
    exitCode: nullable(int(-(2 ** 31), 2 ** 31)),
    signal: nullable(str),
    cpuUserSec: num(0, L.cpuSec),
    cpuSysSec: num(0, L.cpuSec),
    maxRssKb: nullable(num(0, L.bytes)),
    stdoutTail: str,
    stderrTail: str,
    stdoutLog: str,
    stderrLog: str,
    fileSize: num(0, L.bytes),
    fileMtimeMs: num(-L.epochMs, L.epochMs),
  },
};

const countsSchema = {
  type: 'object',
  required: ['total', 'done', 'succeeded', 'failed', 'timedOut', 'cancelled', 'skipped', 'retried'],
  properties: {
    total: nullable(int(0, L.files)),
    ...Object.fromEntries(['done', 'succeeded', 'failed', 'timedOut', 'cancelled', 'skipped', 'retried'].map((k) => [k, int(0, L.files)])),
  },
};

const reportSchema = {
  type: 'object',
  required: ['runId', 'status', 'startedAt', 'endedAt', 'wallMs', 'counts', 'sumTaskMs', 'speedupEstimate', 'efficiency', 'throughput', 'workers', 'threads', 'cores', 'oversubscription', 'tasks', 'failures', 'cpuSamples'],
  properties: {
    runId: str,
    label: str,
    status: { enum: ['running', 'succeeded', 'failed', 'cancelled', 'halted', 'interrupted'] },
    backend: { enum: ['local', 'slurm'] },
    startedAt: epoch,
    endedAt: nullable(epoch),
    wallMs: duration,
    counts: countsSchema,
    sumTaskMs: num(0, L.durationMs * L.lanes),
    speedupEstimate: num(0, L.factor),
    speedupMeasured: {
      type: 'object',
      required: ['value', 'baselineWallMs'],
      properties: { value: num(0, L.factor), baselineWallMs: duration, source: str },
    },
    efficiency: num(0, L.factor),
    throughput: num(0, L.throughput),
    etaMs: nullable(duration),
    workers: int(0, L.lanes),
    threads: int(0, L.threads),
    cores: { type: 'object', required: ['logical', 'physical'], properties: { logical: int(0, L.cores), physical: int(0, L.cores) } },
    oversubscription: num(0, L.factor),
    python: { type: 'object', required: ['executable'], properties: { executable: str, version: str, blas: str } },
    tasks: { type: 'array', items: taskSchema },
    tasksOmitted: int(0, L.files),
    batched: { type: 'object', properties: { batches: int(0, L.files), tasks: int(0, L.files) } },
    failures: {
      type: 'array',
      items: {
        type: 'object',
        required: ['index', 'file', 'status'],
        properties: { index: int(0, L.files), file: str, status: TASK_STATUS, exitCode: nullable(int(-(2 ** 31), 2 ** 31)), signal: nullable(str), stderrLog: str, stderrTail: str },
      },
    },
    cpuSamples: {
      type: 'array',
      items: { type: 'object', required: ['t', 'cpu'], properties: { t: epoch, cpu: num(0, 100 * L.cores), memUsed: num(0, L.bytes) } },
    },
    notes: { type: 'array', items: str },
  },
};

const sweepSchema = {
  type: 'object',
  required: ['points'],
  properties: {
    points: {
      type: 'array',
      items: {
        type: 'object',
        required: ['workers', 'threads', 'wallMs', 'speedup', 'efficiency'],
        properties: {
          workers: int(1, L.lanes),
          threads: int(1, L.threads),
          wallMs: duration,
          speedup: num(0, L.factor),
          efficiency: num(0, L.factor),
          karpFlatt: nullable(num(-L.factor, L.factor)),
          spread: nullable(num(0, L.factor)),
          oversubscribed: { type: 'boolean' },
        },
      },
    },
    // fit.serialFraction may be NaN (no fit): the view clamps it to [0, 1] or says "no fit"
    sampleFiles: int(0, L.files),
    recommendation: { type: 'object', required: ['workers', 'threads'], properties: { workers: int(1, L.lanes), threads: int(1, L.threads), reason: str } },
    createdAt: epoch,
  },
};

const resultText = { type: 'string', maxLength: L.resultText };
const resultsSchema = {
  type: 'object',
  required: ['columns', 'inputs', 'rows'],
  properties: {
    columns: { type: 'array', maxItems: L.resultColumns, items: resultText },
    inputs: int(0, L.resultColumns),
    rows: {
      type: 'array',
      maxItems: L.resultRows,
      items: { type: 'array', maxItems: L.resultColumns, items: { anyOf: [resultText, num(-L.resultMagnitude, L.resultMagnitude), { type: 'boolean' }, { type: 'null' }] } },
    },
    omitted: int(0, L.files),
    bounded: int(0, L.files),
  },
};

/** What each bound is for, by the last key of the field (for the message). */
const BOUND_MEANING: Record<string, string> = {
  workers: 'the most workers (timeline lanes) a report can have',
  slot: 'the most worker slots (timeline lanes) a report can have',
  threads: 'the most BLAS threads per task',
};

let compiled: { report: ValidateFunction; sweep: ValidateFunction; results: ValidateFunction } | undefined;

function validators(): { report: ValidateFunction; sweep: ValidateFunction; results: ValidateFunction } {
  if (!compiled) {
    // allErrors off: stop at the first problem (one clear message, and fast on 100,000 tasks)
    const ajv = new Ajv({ allErrors: false, strict: false, verbose: true });
    compiled = { report: ajv.compile(reportSchema), sweep: ajv.compile(sweepSchema), results: ajv.compile(resultsSchema) };
  }
  return compiled;
}

/** "/tasks/3/slot" → "tasks[3].slot" */
function fieldName(e: ErrorObject, root: string): string {
  let out = root;
  for (const part of e.instancePath.split('/').slice(1)) out += /^\d+$/.test(part) ? `[${part}]` : `.${part.replace(/~1/g, '/').replace(/~0/g, '~')}`;
  if (e.keyword === 'required') out += `.${(e.params as { missingProperty: string }).missingProperty}`;
  return out;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number') return String(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : String(value);
}

function problem(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return 'is missing';
    case 'maximum': {
      const last = e.instancePath.split('/').pop() ?? '';
      const meaning = BOUND_MEANING[last];
      return `is ${describe(e.data)}, more than ${String(p.limit)}${meaning ? ` (${meaning})` : ''}`;
    }
    case 'minimum':
      return `is ${describe(e.data)}, less than ${String(p.limit)}`;
    case 'type':
      return `is ${describe(e.data)}, not ${p.type === 'integer' ? 'a whole number' : `${String(p.type)}`}`;
    case 'enum':
      return `is ${describe(e.data)}, not one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'anyOf':
      return `is ${describe(e.data)}, not a number in range or null`;
    case 'maxItems':
      return `has more than ${String(p.limit)} entries`;
    case 'maxLength':
      return `is longer than ${String(p.limit)} characters`;
    default:
      return `is ${describe(e.data)}: ${e.message ?? 'not valid'}`;
  }
}

function check(validate: ValidateFunction, value: unknown, what: string, root: string): void {
  if (validate(value)) return;
  // anyOf reports its branches first; the anyOf error itself names the field best
  const errors = validate.errors ?? [];
  const anyOf = errors.find((x) => x.keyword === 'anyOf');
  // text too long is said as such, not as "not a number" (the branch that applied to text)
  const e = (anyOf && errors.find((x) => x.keyword === 'maxLength' && x.instancePath === anyOf.instancePath)) ?? anyOf ?? errors[0];
  if (!e) throw new MalformedReportError(`${what} cannot be shown: it is not valid.`, root);
  const field = fieldName(e, root);
  throw new MalformedReportError(
    `${what} cannot be shown: ${field} ${problem(e)}. No run writes such a value: the file was edited or is damaged ` +
      '(report.json, run.json or journal.ndjson of the run; sweep.json for a sweep; results.ndjson or results.csv for results). Restore or delete it; a run directory without ' +
      'report.json is rebuilt from its journal.',
    field,
  );
}

/** Throws MalformedReportError unless `report` is fit for a view (structure, enums, bounded numbers). */
export function checkReport(report: unknown, what = 'This report'): asserts report is RunReport {
  check(validators().report, report, what, 'report');
}

/** Throws MalformedReportError unless `sweep` (a sweep result) is fit for a view. */
export function checkSweep(sweep: unknown, what = 'This sweep'): void {
  check(validators().sweep, sweep, what, 'sweep');
}

/**
 * Throws MalformedReportError unless `table` (a results table for a view) is within the bounds. The
 * reader (core/run/resultsTable) bounds every value it reads; this checks a table from anywhere else.
 */
export function checkResults(table: unknown, what = 'These results'): void {
  check(validators().results, table, what, 'results');
}
