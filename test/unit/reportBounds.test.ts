/**
 * The check every report and sweep passes before it reaches a view: a real report passes; hostile
 * files (numbers that would make the panel allocate or loop for minutes: workers 1e8, a slot of 5e7,
 * a sweep with workers 3e8; Infinity from `1e999`; numbers as strings; wrong shapes) are refused
 * with a message naming the field, the value and the bound.
 */
import * as assert from 'assert';
import { analyseSweep } from '../../extension/core/sweep';
import { checkReport, checkSweep, MalformedReportError, VIEW_LIMITS } from '../../extension/core/run/reportBounds';
import { ReportBuilder } from '../../extension/core/run/report';
import type { RunDefinition, RunReport, TaskRecord } from '../../extension/core/run/types';
import { normaliseSweep } from '../../extension/host/report/sweepFile';
import { malformedReason } from '../../extension/host/report/checkMessage';

const T0 = 1_700_000_000_000;

function realReport(): RunReport {
  const def = {
    version: 1, runId: 'r1', label: 'ok', backend: 'local', fingerprint: 'fp', command: { kind: 'template', argv: ['/bin/true'] },
    files: { kind: 'list', files: [] }, cwd: '/data', workers: 2, threads: 1, timeoutSec: 0, retries: 0, halt: false, env: {}, threadEnv: {},
    cores: { logical: 4, physical: 2 }, createdAt: T0, sessions: [],
  } as RunDefinition;
  const b = new ReportBuilder(def, T0);
  for (let i = 1; i <= 4; i++) {
    const rec: TaskRecord = {
      index: i, file: `f${i}.txt`, slot: 1 + (i % 2), status: i === 3 ? 'failed' : 'succeeded', attempts: 1, start: T0 + i * 100, end: T0 + i * 100 + 80,
      wallMs: 80, exitCode: i === 3 ? 1 : 0, signal: null, cpuUserSec: 0.01, cpuSysSec: 0, maxRssKb: 9000, stdoutTail: '', stderrTail: i === 3 ? 'boom' : '',
      stdoutLog: `logs/${i}.stdout`, stderrLog: `logs/${i}.stderr`, threadEnv: {}, mode: 'cold', fileSize: 10, fileMtimeMs: T0 - 1000,
    };
    b.add(rec);
  }
  b.sample({ t: T0 + 200, cpu: 55, memUsed: 1e9 });
  b.status = 'failed';
  b.endedAt = T0 + 1000;
  // as report.json holds it
  return JSON.parse(JSON.stringify(b.snapshot())) as RunReport;
}

function refusal(fn: () => void): MalformedReportError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof MalformedReportError, `a MalformedReportError, got ${String(err)}`);
    return err;
  }
  throw new Error('the hostile data passed the check');
}

/** report.json text → the object JSON.parse gives (so `1e999` is Infinity, as from a real file). */
function hostile(edit: (r: Record<string, unknown> & RunReport) => void, raw?: (text: string) => string): unknown {
  const r = realReport() as Record<string, unknown> & RunReport;
  edit(r);
  const text = JSON.stringify(r);
  return JSON.parse(raw ? raw(text) : text);
}

describe('report bounds (numbers read from disk, checked before a view)', () => {
  it('a real report and a real sweep pass', () => {
    checkReport(realReport());
    const sweep = normaliseSweep(analyseSweep([
      { workers: 1, threads: 1, oversubscribed: false, samplesMs: [1000] },
      { workers: 2, threads: 1, oversubscribed: false, samplesMs: [550] },
      { workers: 4, threads: 1, oversubscribed: false, samplesMs: [300] },
    ], 4));
    assert.ok(sweep);
    checkSweep(sweep);
  });

  it('workers: 1e8 (a panel would build 100,000,000 timeline lanes)', () => {
    const e = refusal(() => checkReport(hostile((r) => (r.workers = 1e8)), 'The report of /runs/x'));
    assert.strictEqual(e.field, 'report.workers');
    assert.match(e.message, /^The report of \/runs\/x cannot be shown: report\.workers is 100000000, more than 10000 \(the most workers \(timeline lanes\) a report can have\)\./);
    assert.match(e.message, /edited or is damaged/);
  });

  it('a task with slot: 5e7', () => {
    const e = refusal(() => checkReport(hostile((r) => (r.tasks[2].slot = 5e7))));
    assert.strictEqual(e.field, 'report.tasks[2].slot');
    assert.match(e.message, /report\.tasks\[2\]\.slot is 50000000, more than 10000/);
  });

  it('a sweep.json with workers: 3e8 (the chart would put 300,000,000 columns in a Set)', () => {
    const sweep = normaliseSweep({ points: [{ workers: 1, threads: 1, wallMs: 100, speedup: 1 }, { workers: 3e8, threads: 1, wallMs: 1, speedup: 100 }], fit: { serialFraction: 0.1 } });
    const e = refusal(() => checkSweep(sweep));
    assert.strictEqual(e.field, 'sweep.points[1].workers');
    assert.match(e.message, /is 300000000, more than 10000/);
  });

  it('Infinity (1e999 in the file), negative, fractional and string numbers; huge times', () => {
    const cases: Array<[unknown, string]> = [
      [hostile((r) => (r.wallMs = 12345), (t) => t.replace('"wallMs":12345', '"wallMs":1e999')), 'report.wallMs'],
      [hostile((r) => (r.threads = -3)), 'report.threads'],
      [hostile((r) => (r.workers = 2.5)), 'report.workers'],
      [hostile((r) => ((r as Record<string, unknown>).workers = '8')), 'report.workers'],
      [hostile((r) => (r.tasks[0].start = 1e300)), 'report.tasks[0].start'],
      [hostile((r) => (r.cpuSamples[0].t = -1)), 'report.cpuSamples[0].t'],
      [hostile((r) => (r.etaMs = 1e20)), 'report.etaMs'],
      [hostile((r) => (r.counts.total = 1e12)), 'report.counts.total'],
      [hostile((r) => (r.cores.logical = 1e9)), 'report.cores.logical'],
      [hostile((r) => (r.tasks[1].index = -1)), 'report.tasks[1].index'],
    ];
    for (const [data, field] of cases) assert.strictEqual(refusal(() => checkReport(data)).field, field);
  });

  it('wrong shapes and unknown enums', () => {
    assert.strictEqual(refusal(() => checkReport(null)).field, 'report');
    assert.strictEqual(refusal(() => checkReport(hostile((r) => ((r as Record<string, unknown>).tasks = { length: 1e9 })))).field, 'report.tasks');
    assert.strictEqual(refusal(() => checkReport(hostile((r) => delete (r as Record<string, unknown>).counts))).field, 'report.counts');
    assert.match(refusal(() => checkReport(hostile((r) => ((r as Record<string, unknown>).status = 'exploded')))).message, /report\.status is "exploded", not one of "running"/);
    assert.strictEqual(refusal(() => checkReport(hostile((r) => ((r.tasks[0] as unknown as Record<string, unknown>).status = 'bogus')))).field, 'report.tasks[0].status');
    assert.strictEqual(refusal(() => checkSweep({ points: 'many' })).field, 'sweep.points');
  });

  it('the host replaces such a message by an error for the panel (report, compare, sweep); deltas pass', () => {
    const bad = hostile((r) => (r.workers = 1e8)) as RunReport;
    const good = realReport();
    assert.match(malformedReason({ type: 'report', subject: { report: bad, runDir: '/runs/bad' }, live: false }) ?? '', /^The report of \/runs\/bad cannot be shown: report\.workers/);
    assert.match(malformedReason({ type: 'compare', a: { report: good, runDir: '/runs/a' }, b: { report: bad, runDir: '/runs/b' } }) ?? '', /^The report of \/runs\/b/);
    assert.match(malformedReason({ type: 'report', subject: { report: good, sweep: { points: [{ workers: 3e8, threads: 1, wallMs: 1, speedup: 1, efficiency: 1 }], fit: { serialFraction: NaN } } }, live: false }) ?? '', /sweep\.points\[0\]\.workers/);
    assert.strictEqual(malformedReason({ type: 'report', subject: { report: good }, live: false }), undefined);
    assert.strictEqual(malformedReason({ type: 'error', message: 'x' }), undefined);
  });

  it('the bounds leave room for real runs: 4,096 workers (four times the -j maximum; Slurm lanes), 1,000 BLAS threads, a 30-year wall time', () => {
    checkReport(hostile((r) => {
      r.workers = 4096;
      r.threads = 1000;
      r.wallMs = 30 * 365 * 24 * 3600e3;
      r.tasks[0].slot = 4096;
    }));
    assert.ok(VIEW_LIMITS.lanes >= 4096);
  });
});
