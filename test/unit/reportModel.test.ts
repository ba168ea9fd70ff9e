import * as assert from 'assert';
import type { RunReport, TaskRecord } from '../../extension/core/run/types';
import { formatDuration, formatFactor, formatPercent, baseName } from '../../extension/webview/report/format';
import { amdahl, barKind, laneCount, meanConcurrency, oversubscriptionFacts, stragglers, sweepCurves, sweepSentence } from '../../extension/webview/report/model';
import { runFigures } from '../../extension/shared/figures';
import { niceStep, panWindow, TimelineIndex, zoomWindow } from '../../extension/webview/report/timeline';

function task(i: number, over: Partial<TaskRecord> = {}): TaskRecord {
  const start = 1_000_000 + i * 100;
  return {
    index: i, file: `/data/f${i}.dat`, slot: (i % 4) + 1, status: 'succeeded', attempts: 1, start, end: start + 100, wallMs: 100,
    exitCode: 0, signal: null, cpuUserSec: 0.1, cpuSysSec: 0, maxRssKb: null, stdoutTail: '', stderrTail: '',
    stdoutLog: `logs/${i}.out`, stderrLog: `logs/${i}.err`, threadEnv: { OMP_NUM_THREADS: '1' }, mode: 'cold', ...over,
  };
}

function report(over: Partial<RunReport> = {}): RunReport {
  return {
    version: 1, runId: 'r1', backend: 'local', status: 'succeeded', fingerprint: 'x',
    command: { kind: 'template', argv: ['true'] }, cwd: '/', startedAt: 1_000_000, endedAt: 1_010_000, wallMs: 10_000,
    counts: { total: 10, done: 10, succeeded: 10, failed: 0, timedOut: 0, cancelled: 0, skipped: 0, retried: 0 },
    sumTaskMs: 30_000, speedupEstimate: 3, efficiency: 0.75, throughput: 1, etaMs: null, workers: 4, threads: 1,
    cores: { logical: 4, physical: 2 }, oversubscription: 1, threadEnv: { OMP_NUM_THREADS: '1' }, tasks: [], failures: [], cpuSamples: [], notes: [],
    ...over,
  };
}

describe('report formatting', () => {
  it('formats durations at every scale', () => {
    assert.strictEqual(formatDuration(12.4), '12 ms');
    assert.strictEqual(formatDuration(1234), '1.23 s');
    assert.strictEqual(formatDuration(49_500), '49.5 s');
    assert.strictEqual(formatDuration(75_000), '1 min 15 s');
    assert.strictEqual(formatDuration(3.5 * 3_600_000), '3 h 30 min');
    assert.strictEqual(formatDuration(null), '—');
    assert.strictEqual(formatFactor(3.456), '3.46×');
    assert.strictEqual(formatPercent(0.873), '87%');
    assert.strictEqual(baseName('/a/b/<img src=x>.dat'), '<img src=x>.dat');
  });
});

describe('report model', () => {
  it('names the speedup an estimate unless a measured baseline exists', () => {
    const est = runFigures(report());
    assert.strictEqual(est.kind, 'estimate');
    assert.strictEqual(est.speedup, 3);
    assert.match(est.basis, /the succeeded files' times one after another/);
    const meas = runFigures(report({ speedupMeasured: { value: 2.5, baselineWallMs: 25_000, source: 'sweep 1×1' } }));
    assert.strictEqual(meas.kind, 'measured');
    assert.strictEqual(meas.speedup, 2.5);
    assert.strictEqual(meas.efficiency, 2.5 / 4);
    assert.match(meas.basis, /serial baseline 25\.0 s \(sweep 1×1\)/);
  });

  it('warns in plain language when workers × threads exceed the cores', () => {
    const ok = oversubscriptionFacts(report());
    assert.strictEqual(ok.level, 'ok');
    const bad = oversubscriptionFacts(report({ workers: 4, threads: 4, oversubscription: 4 }));
    assert.strictEqual(bad.level, 'warning');
    assert.match(bad.text, /16 threads compete for 4 logical cores/);
    assert.match(bad.text, /Set threads per task to 1/);
  });

  it('classifies bars so failed, timed-out and retried tasks are distinct', () => {
    assert.strictEqual(barKind({ status: 'succeeded', attempts: 1 }), 'ok');
    assert.strictEqual(barKind({ status: 'succeeded', attempts: 2 }), 'retried');
    assert.strictEqual(barKind({ status: 'failed', attempts: 1 }), 'failed');
    assert.strictEqual(barKind({ status: 'timedOut', attempts: 3 }), 'timedOut');
    assert.strictEqual(barKind({ status: 'skipped', attempts: 0 }), undefined);
  });

  it('finds stragglers slowest first with their factor over the median', () => {
    const tasks = [task(1), task(2, { wallMs: 500 }), task(3, { wallMs: 300 }), task(4, { status: 'skipped', wallMs: 9999 })];
    const s = stragglers(tasks, 2);
    assert.deepStrictEqual(s.map((x) => x.task.index), [2, 3]);
    assert.strictEqual(s[0].timesMedian, 500 / 300);
  });

  it('uses the highest slot for the lane count', () => {
    assert.strictEqual(laneCount({ workers: 2 }, [task(1, { slot: 5 })]), 5);
  });

  it('builds sweep curves: ideal line, Amdahl fit and measured points', () => {
    const s = {
      points: [{ workers: 1, threads: 1, wallMs: 1000, speedup: 1, efficiency: 1 }, { workers: 2, threads: 1, wallMs: 550, speedup: 1.82, efficiency: 0.91 }, { workers: 4, threads: 1, wallMs: 325, speedup: 3.08, efficiency: 0.77 }],
      fit: { serialFraction: 0.1, relError: 0.01, points: 2 },
    };
    const c = sweepCurves(s);
    assert.deepStrictEqual(c.x, [1, 2, 3, 4]);
    assert.deepStrictEqual(c.ideal, [1, 2, 3, 4]);
    assert.strictEqual(c.fit![1], amdahl(2, 0.1));
    assert.deepStrictEqual(c.measured, [{ threads: 1, y: [1, 1.82, null, 3.08] }]);
    assert.match(sweepSentence(s), /Amdahl fit \(good: within 1\.0% of the measurements over 2 points\): serial fraction 10\.0%, so more workers could reach at most 10\.0×/);
    // one parallel point tests nothing: no fit drawn, no ceiling claimed
    const two = { ...s, points: s.points.slice(0, 2), fit: { serialFraction: 0.1, relError: 0, points: 1 } };
    assert.strictEqual(sweepCurves(two).fit, null);
    assert.match(sweepSentence(two), /cannot be tested/);
  });
});

describe('timeline index (culling for 10,000 tasks)', () => {
  const N = 10_000;
  const lanes = 8;
  const idx = new TimelineIndex(lanes);
  // a realistic pattern: each lane runs its tasks back to back, durations vary
  const cursor = new Array(lanes).fill(0);
  for (let i = 0; i < N; i++) {
    const lane = i % lanes;
    const dur = 50 + ((i * 7919) % 400);
    idx.add({ lane, start: cursor[lane], end: cursor[lane] + dur, kind: i % 97 === 0 ? 'failed' : 'ok', ref: i });
    cursor[lane] += dur;
  }

  it('keeps every task', () => {
    assert.strictEqual(idx.size, N);
    assert.strictEqual(idx.lanes.reduce((n, l) => n + l.length, 0), N);
  });

  it('draws a bounded number of rectangles for the whole run (merging sub-pixel bars)', () => {
    const width = 1000;
    let rects = 0;
    let merged = 0;
    for (let l = 0; l < lanes; l++) {
      const r = idx.rects(l, idx.min, idx.max, width / (idx.max - idx.min));
      rects += r.length;
      merged += r.reduce((n, x) => n + x.count, 0);
    }
    assert.strictEqual(merged, N, 'every task is inside some rectangle');
    assert.ok(rects <= lanes * width, `at most one rectangle per pixel per lane, got ${rects}`);
    assert.ok(rects < N / 2, `merging must reduce the draw count, got ${rects} for ${N} tasks`);
  });

  it('culls to the visible window when zoomed in, drawing tasks one by one', () => {
    const from = idx.min + (idx.max - idx.min) / 2;
    const to = from + 2000;
    const r = idx.rects(0, from, to, 1000 / 2000);
    const expected = idx.lanes[0].filter((b) => b.end >= from && b.start <= to).length;
    assert.strictEqual(r.reduce((n, x) => n + x.count, 0), expected);
    assert.ok(r.every((x) => x.x + x.w >= 0 && x.x <= 1000 + 1));
  });

  it('hit-tests the bar under the cursor', () => {
    const b = idx.lanes[3][100];
    const hit = idx.hit(3, (b.start + b.end) / 2, 0);
    assert.strictEqual(hit?.ref, b.ref);
    assert.strictEqual(idx.hit(3, -1000, 1), undefined);
  });

  it('zooms around the cursor and pans within bounds', () => {
    const [f, t] = zoomWindow(0, 1000, 250, 0.5, 0, 1000);
    assert.deepStrictEqual([f, t], [125, 625]);
    assert.deepStrictEqual(panWindow(0, 100, -50, 0, 1000), [0, 100]);
    assert.deepStrictEqual(panWindow(0, 100, 950, 0, 1000), [900, 1000]);
    assert.strictEqual(niceStep(10_000, 10), 1000);
  });

  it('keeps lanes sorted when bars arrive out of order (live runs)', () => {
    const i2 = new TimelineIndex(1);
    i2.add({ lane: 0, start: 10, end: 20, kind: 'ok', ref: 1 });
    i2.add({ lane: 0, start: 0, end: 5, kind: 'ok', ref: 0 });
    i2.add({ lane: 2, start: 3, end: 4, kind: 'running', ref: -1 });
    assert.deepStrictEqual(i2.lanes[0].map((b) => b.ref), [0, 1]);
    assert.strictEqual(i2.laneCount, 3);
    i2.remove((b) => b.kind === 'running');
    assert.strictEqual(i2.size, 2);
  });
});

describe('report model: the CPU chart\'s "tasks running" series', () => {
  it('is the mean number of tasks running over each interval between samples, like the CPU samples', () => {
    const ok = (start: number, end: number) => ({ start, end, status: 'succeeded' as const });
    // two tasks 100-1100 and 600-2100; a skipped one is not counted
    const tasks = [ok(100, 1100), ok(600, 2100), { start: 0, end: 3000, status: 'skipped' as const }];
    const m = meanConcurrency([0, 1000, 2000, 2100, 3000], tasks);
    assert.strictEqual(m[0], 0, 'the count at the first time (no interval before it)');
    assert.ok(Math.abs(m[1] - 1.3) < 1e-9, `0-1000: 900 + 400 task-ms over 1000 ms, not ${m[1]}`);
    assert.ok(Math.abs(m[2] - 1.1) < 1e-9, `1000-2000: 100 + 1000 task-ms, not ${m[2]}`);
    assert.strictEqual(m[3], 1, '2000-2100: one task');
    assert.strictEqual(m[4], 0, '2100-3000: none');
    assert.deepStrictEqual(meanConcurrency([], tasks), []);
    assert.deepStrictEqual(meanConcurrency([5, 5], [ok(0, 10)]), [1, 1], 'a zero-length interval gets the count');
  });
});
