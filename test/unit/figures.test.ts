/**
 * One source for every figure: the run's speedup, efficiency and throughput (succeeded tasks only),
 * the same text in the notification, the CLI summary and the report; the sweep's recommendation and
 * Amdahl verdict; and Compare Runs on unlike runs (different counts, modes, settings, load).
 */
import * as assert from 'assert';
import type { LoadSummary, RunReport, TaskRecord } from '../../extension/core/run/types';
import { formatSweep, sweepNotice, type SweepFileData } from '../../extension/core/sweepRunner';
import { normaliseSweep } from '../../extension/host/report/sweepFile';
import {
  amdahlVerdict, fasterOrSlower, figuresLine, formatFactor, formatPercent, formatRate, runFigures, runMode, settingFacts,
} from '../../extension/shared/figures';
import { compareRuns, perFileTimes } from '../../extension/webview/report/compareModel';
import { sweepRecommendation, sweepSentence } from '../../extension/webview/report/model';

function task(i: number, over: Partial<TaskRecord> = {}): TaskRecord {
  const start = 1_000_000 + i * 100;
  return {
    index: i, file: `/data/f${i}.dat`, slot: (i % 2) + 1, status: 'succeeded', attempts: 1, start, end: start + 100 * i, wallMs: 100 * i,
    exitCode: 0, signal: null, cpuUserSec: 0.1, cpuSysSec: 0, maxRssKb: null, stdoutTail: '', stderrTail: '',
    stdoutLog: `logs/${i}.out`, stderrLog: `logs/${i}.err`, threadEnv: {}, mode: 'cold', ...over,
  };
}

function report(over: Partial<RunReport> = {}): RunReport {
  const tasks = over.tasks ?? [1, 2, 3, 4].map((i) => task(i));
  const ok = tasks.filter((t) => t.status === 'succeeded');
  return {
    version: 1, runId: 'r1', backend: 'local', status: 'succeeded', fingerprint: 'x',
    command: { kind: 'python', python: '/usr/bin/python3', script: '/w/analyze.py', args: [], warm: false }, cwd: '/w', startedAt: 1_000_000, endedAt: 1_000_500, wallMs: 500,
    counts: { total: tasks.length, done: tasks.length, succeeded: ok.length, failed: tasks.length - ok.length, timedOut: 0, cancelled: 0, skipped: 0, retried: 0 },
    sumTaskMs: tasks.reduce((s, t) => s + t.wallMs, 0), sumSucceededMs: ok.reduce((s, t) => s + t.wallMs, 0),
    speedupEstimate: 2, efficiency: 1, throughput: 8, etaMs: null, workers: 2, threads: 1,
    cores: { logical: 2, physical: 2 }, oversubscription: 1, threadEnv: {}, tasks, failures: [], cpuSamples: [], notes: [],
    machine: { host: 'lab1', cpu: 'Xeon' }, taskPhase: { start: 1_000_000, end: 1_000_500 },
    ...over,
  };
}

const busyLoad: LoadSummary = { othersCores: 0.94, beforeCores: 0.9, duringCores: 0.94, peakCores: 1.1, samples: 5, busy: true, cores: 2 };
const quietLoad: LoadSummary = { othersCores: 0.04, beforeCores: 0.02, duringCores: 0.04, peakCores: 0.1, samples: 5, busy: false, cores: 2 };

describe('figures: one source for every number', () => {
  it('counts succeeded tasks only, and says so in a sentence when nothing succeeded', () => {
    const all = report();
    const f = runFigures(all);
    assert.strictEqual(f.speedup, 1000 / 500);
    assert.strictEqual(f.throughput, 4 / 0.5);
    assert.strictEqual(f.efficiency, 1);
    // two of four failed: their 700 ms of task time and their count are left out
    const half = report({ tasks: [task(1), task(2), task(3, { status: 'failed' }), task(4, { status: 'timedOut' })] });
    const h = runFigures(half);
    assert.strictEqual(h.speedup, 300 / 500);
    assert.strictEqual(h.throughput, 2 / 0.5);
    assert.match(h.basis, /Only the 2 succeeded files count; the 2 that failed/);
    // the run's own start-up and finish count on the serial side too (a stopwatch on -j 1 sees them):
    // 200 ms before the first task, 100 ms after the last, 1000 ms of files, 1300 ms wall
    const slowStart = runFigures(report({ wallMs: 1300, endedAt: 1_001_300, taskPhase: { start: 1_000_200, end: 1_001_200 } }));
    assert.strictEqual(slowStart.speedup, (1000 + 300) / 1300);
    assert.match(slowStart.basis, /one after another \(1\.00 s\) plus the run's own start and finish \(300 ms\), ÷ wall time \(1\.30 s\)/);
    // while running, the time after the last finished file is not overhead (files are still going)
    assert.strictEqual(runFigures(report({ status: 'running', wallMs: 1300, endedAt: null, taskPhase: { start: 1_000_200, end: 1_001_000 } })).speedup, 1200 / 1300);
    // a report written before sumSucceededMs existed: rebuilt from its task records
    assert.strictEqual(runFigures({ ...half, sumSucceededMs: undefined }).speedup, 300 / 500);
    // every file failed: no 1.77×, no 88%
    const none = report({ status: 'failed', tasks: [task(1, { status: 'failed' }), task(2, { status: 'failed' })] });
    const n = runFigures(none);
    assert.deepStrictEqual([n.ok, n.speedup, n.efficiency, n.throughput], [false, null, null, null]);
    assert.strictEqual(n.basis, 'No file succeeded, so there is no speedup, efficiency or throughput to report.');
    assert.strictEqual(figuresLine(none), 'No file succeeded, so there is no speedup, efficiency or throughput to report (2 workers × 1 thread)');
  });

  it('the notification / CLI line carries exactly the report card values, and the busy sentence', () => {
    for (const r of [report(), report({ speedupMeasured: { value: 1.234, baselineWallMs: 617, source: 'sweep', wallMs: 500 } }), report({ load: busyLoad })]) {
      const f = runFigures(r);
      const line = figuresLine(r);
      // the report's cards: formatFactor(speedup), formatPercent(efficiency), formatRate(throughput)
      for (const card of [formatFactor(f.speedup), formatPercent(f.efficiency), formatRate(f.throughput)]) assert.ok(line.includes(card), `${card} in "${line}"`);
      assert.ok(line.includes(`(${f.kind})`));
    }
    assert.match(figuresLine(report({ load: busyLoad })), /; the machine was busy: 0\.9 cores used by other processes; these numbers are pessimistic$/);
    assert.doesNotMatch(figuresLine(report({ load: quietLoad })), /busy/);
  });

  it('states the mode, workers × threads and the machine in every header', () => {
    assert.strictEqual(runMode(report()), 'cold');
    assert.strictEqual(runMode(report({ command: { kind: 'python', python: 'p', script: 's', args: [], warm: true } })), 'warm');
    assert.strictEqual(runMode(report({ command: { kind: 'template', argv: ['wc'] } })), 'command');
    assert.strictEqual(runMode(report({ command: { kind: 'python', python: 'p', script: 's', args: [], warm: true, call: 'f' } as RunReport['command'] })), 'call');
    const facts = settingFacts(report({ load: busyLoad }));
    assert.deepStrictEqual(facts, {
      mode: 'mode: cold (a new interpreter per file)', setting: '2 workers × 1 thread on 2 logical cores',
      machine: 'machine: busy: 0.9 cores used by other processes', busy: true,
    });
    assert.strictEqual(settingFacts(report()).machine, 'machine: not measured');
  });

  it('words a speedup below 1 as a slowdown', () => {
    assert.strictEqual(fasterOrSlower(1.96), '1.96× faster');
    assert.strictEqual(fasterOrSlower(1 / 2.4), '2.40× slower');
    assert.strictEqual(fasterOrSlower(0), 'not measured');
  });
});

describe('Amdahl verdict', () => {
  it('is shown only when it fits, with its quality', () => {
    const good = amdahlVerdict({ serialFraction: 0.05, relError: 0.01, points: 3 }, 3.4);
    assert.deepStrictEqual([good.shown, good.quality], [true, 'good']);
    assert.strictEqual(good.ceiling, 20);
    const poor = amdahlVerdict({ serialFraction: 0.3, relError: 0.2, points: 3 }, 2);
    assert.deepStrictEqual([poor.shown, poor.ceiling], [false, null]);
    assert.match(poor.sentence, /does not fit these measurements \(off by 20% on average\)/);
    assert.strictEqual(amdahlVerdict({ serialFraction: 0.658, relError: 0, points: 1 }, 1.2).quality, 'untestable');
  });

  it('never claims a ceiling below a speedup already measured', () => {
    // the fit says 1/0.658 = 1.52×, but 1.96× was measured (e.g. the oversubscribed point)
    const v = amdahlVerdict({ serialFraction: 0.658, relError: 0.02, points: 2 }, 1.96);
    assert.strictEqual(v.ceiling, null);
    assert.match(v.sentence, /its ceiling of 1\.52× is below the 1\.96× already measured, so no ceiling is claimed/);
  });
});

describe('sweep: notification, CLI and report say the same', () => {
  const data: SweepFileData = {
    version: 1, kind: 'sweep', status: 'completed', createdAt: 1, endedAt: 2, label: 'Speedup sweep: python cpu.py',
    cores: { logical: 2, physical: 2 }, budgetSec: 30, perFileMs: 200, estimatedSec: 20, totalFiles: 40, sampleFiles: 8, sampleFileList: [],
    grid: [],
    points: [
      { workers: 1, threads: 1, oversubscribed: false, samplesMs: [1600, 1620], medianMs: 1610, minMs: 1600, maxMs: 1620, spread: 0.012, speedup: 1, efficiency: 1, processors: 1, karpFlatt: null, wallMs: 1610 },
      { workers: 2, threads: 1, oversubscribed: false, samplesMs: [1300, 1320], medianMs: 1310, minMs: 1300, maxMs: 1320, spread: 0.015, speedup: 1610 / 1310, efficiency: 0.61, processors: 2, karpFlatt: 0.63, wallMs: 1310 },
    ],
    fit: { serialFraction: 0.627, rmse: 0, relError: 0, points: 1 }, fits: [], baselineMs: 1610,
    recommendation: { workers: 2, threads: 1, speedup: 1610 / 1310, reason: 'fastest measured configuration' },
    notes: [], runs: [], load: busyLoad,
  };

  it('one recommendation sentence and one busy sentence everywhere', () => {
    const notice = sweepNotice(data);
    assert.strictEqual(notice, 'Recommended: 2 workers × 1 thread (1.23× faster than 1 worker × 1 thread on 2 cores). The machine was busy: 0.9 cores used by other processes; these numbers are pessimistic.');
    // the report panel reads sweep.json through the validator and words it with the same function
    const shown = normaliseSweep(JSON.parse(JSON.stringify(data)))!;
    assert.ok(sweepRecommendation(shown).startsWith(notice.split('.')[0] + '.'), sweepRecommendation(shown));
    assert.strictEqual(shown.load?.busy, true);
    const md = formatSweep({ ...data, fitVerdict: amdahlVerdict(data.fit, 1610 / 1310) });
    assert.ok(md.includes(notice.split(')')[0] + ')'), md);
    // one parallel point: the "no number of workers can beat 1.5×" claim is gone
    assert.match(sweepSentence(shown), /cannot be tested/);
    assert.doesNotMatch(md, /can beat|at most 1\.6×/);
  });
});

describe('Compare Runs: like with like', () => {
  const many = report({ runId: 'a', tasks: Array.from({ length: 300 }, (_, i) => task(i + 1, { wallMs: 200 })), wallMs: 30_000 });
  const few = report({
    runId: 'b', wallMs: 2_000, tasks: Array.from({ length: 40 }, (_, i) => task(i + 1, { wallMs: 100, mode: 'warm' })),
    command: { kind: 'python', python: '/usr/bin/python3', script: '/w/analyze.py', args: [], warm: true }, load: busyLoad,
  });

  it('different counts and modes: no "faster" headline, per-file figures instead, every difference named', () => {
    const c = compareRuns(many, few);
    assert.strictEqual(c.sameInputs, false);
    assert.doesNotMatch(c.headline, /faster|slower/);
    assert.match(c.headline, /^Different inputs, so the wall times are not compared: per file, A took 200 ms \(median; p90 200 ms\) and B 100 ms/);
    assert.deepStrictEqual(c.differences, [
      'Different inputs: A ran 300 files, B ran 40 (40 in both).',
      'Different modes: A cold (a new interpreter per file), B warm (forked from a worker that imported once).',
      'Machine load: A not measured, B busy: 0.9 cores used by other processes; a busy machine makes its run look slower.',
    ]);
    const wall = c.rows.find((r) => r.label === 'Wall time')!;
    assert.strictEqual(wall.change, 'not comparable (different inputs)');
    assert.strictEqual(wall.better, undefined);
    const med = c.rows.find((r) => r.label === 'Per-file time (median)')!;
    assert.deepStrictEqual([med.a, med.b, med.change, med.better], ['200 ms', '100 ms', '2.00× faster', true]);
    assert.ok(c.rows.some((r) => r.label === 'Throughput (succeeded files)'));
    assert.deepStrictEqual(c.rows.find((r) => r.label === 'Mode')!, { label: 'Mode', a: 'cold', b: 'warm', change: 'different' });
  });

  it('the same inputs: wall time may be called faster; settings, interpreter and machine still flagged', () => {
    const b = report({ runId: 'b', wallMs: 250, workers: 4, threads: 1, cores: { logical: 4, physical: 4 }, machine: { host: 'lab2', cpu: 'EPYC' }, python: { executable: '/opt/py3.12/bin/python3', version: '3.12.1' } });
    const c = compareRuns(report(), b);
    assert.strictEqual(c.sameInputs, true);
    assert.strictEqual(c.headline, 'Same 4 inputs: B was 2.00× faster than A in wall time.');
    assert.deepStrictEqual(c.differences.map((d) => d.split(':')[0]), ['Different settings', 'Different interpreters', 'Different machines']);
    assert.strictEqual(compareRuns(report(), report()).differences.length, 0, 'like with like');
  });

  it('per-file median and p90 of succeeded files (numpy\'s linear quantile)', () => {
    const p = perFileTimes([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((i) => task(i)).concat([task(11, { status: 'failed', wallMs: 99_999 })]));
    assert.deepStrictEqual(p, { median: 550, p90: 910, n: 10 });
    assert.strictEqual(perFileTimes([task(1, { status: 'failed' })]), null);
  });
});
