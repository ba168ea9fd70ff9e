import * as assert from 'assert';
import { amdahlSpeedup } from '../../extension/core/speedup';
import {
  analyseSweep, needsRepeat, pickSample, planGrid, planSampleSize, powerLadder, recommend,
  type PointSamples, type SweepPoint,
} from '../../extension/core/sweep';

const key = (c: { workers: number; threads: number }): string => `${c.workers}x${c.threads}`;

describe('sweep planning', () => {
  it('power ladder includes the core count when it is not a power of two', () => {
    assert.deepStrictEqual(powerLadder(2), [1, 2]);
    assert.deepStrictEqual(powerLadder(8), [1, 2, 4, 8]);
    assert.deepStrictEqual(powerLadder(6), [1, 2, 4, 6]);
    assert.deepStrictEqual(powerLadder(64), [1, 2, 4, 8, 16, 32, 64]);
    assert.deepStrictEqual(powerLadder(1), [1]);
  });

  it('2 cores: 1x1, 1x2, 2x1 and one oversubscribed 2x2', () => {
    const g = planGrid(2);
    assert.deepStrictEqual(g.map(key), ['1x1', '1x2', '2x1', '2x2']);
    assert.deepStrictEqual(g.filter((c) => c.oversubscribed).map(key), ['2x2']);
  });

  for (const cores of [8, 64, 6]) {
    it(`${cores} cores: every workers x threads <= cores, exactly one oversubscribed point, serial first`, () => {
      const g = planGrid(cores);
      const ladder = powerLadder(cores);
      assert.strictEqual(key(g[0]), '1x1');
      const normal = g.filter((c) => !c.oversubscribed);
      for (const c of normal) assert.ok(c.workers * c.threads <= cores, key(c));
      // complete: every ladder pair that fits is present
      const expected = ladder.flatMap((w) => ladder.filter((t) => w * t <= cores).map((t) => `${w}x${t}`));
      assert.deepStrictEqual(normal.map(key).sort(), expected.sort());
      assert.ok(normal.some((c) => c.workers === cores && c.threads === 1), 'all cores as processes');
      const over = g.filter((c) => c.oversubscribed);
      assert.strictEqual(over.length, 1);
      assert.ok(over[0].workers * over[0].threads > cores);
      assert.strictEqual(new Set(g.map(key)).size, g.length, 'no duplicates');
    });
  }

  it('8 and 64 cores: grid sizes', () => {
    assert.strictEqual(planGrid(8).length, 10 + 1); // 4+3+2+1 pairs + oversubscribed
    assert.strictEqual(planGrid(64).length, 28 + 1); // 7+6+…+1
  });

  it('workers only (no BLAS): threads fixed at 1, oversubscription by workers', () => {
    assert.deepStrictEqual(planGrid(8, { varyThreads: false }).map(key), ['1x1', '2x1', '4x1', '8x1', '16x1']);
    assert.deepStrictEqual(planGrid(1).map(key), ['1x1', '2x1']);
    assert.deepStrictEqual(planGrid(4, { oversubscribed: false }).filter((c) => c.oversubscribed), []);
  });

  it('sample size fits the budget on 2 cores and rounds to whole waves', () => {
    const grid = planGrid(2);
    const plan = planSampleSize({ perFileMs: 200, totalFiles: 10_000, budgetSec: 60, cores: 2, grid });
    // cost per file = 2 repeats * 200 * (1 + 1 + 1/2 + 1/2) = 1200 ms; 48 s usable => 40 files
    assert.strictEqual(plan.sampleSize, 40);
    assert.ok(plan.estimatedSec <= 60 * 0.8 + 1e-9, `${plan.estimatedSec}`);
    assert.strictEqual(plan.sampleSize % 2, 0);
    assert.deepStrictEqual(plan.notes, []);
  });

  it('sample size on 64 cores is a multiple of 64 and within budget', () => {
    const grid = planGrid(64);
    const plan = planSampleSize({ perFileMs: 10, totalFiles: 1e6, budgetSec: 60, cores: 64, grid });
    assert.strictEqual(plan.sampleSize % 64, 0);
    assert.ok(plan.sampleSize >= 128);
    assert.ok(plan.estimatedSec <= 48 + 1e-9, `${plan.estimatedSec}`);
  });

  it('sample size: too few files uses them all; too small a budget says so', () => {
    const grid = planGrid(8);
    const few = planSampleSize({ perFileMs: 10, totalFiles: 12, budgetSec: 60, cores: 8, grid });
    assert.strictEqual(few.sampleSize, 12);
    assert.match(few.notes.join(' '), /every file/);
    const slow = planSampleSize({ perFileMs: 60_000, totalFiles: 1000, budgetSec: 60, cores: 8, grid });
    assert.strictEqual(slow.sampleSize, 16, 'minimum: two waves of the widest configuration');
    assert.match(slow.notes.join(' '), /budget is too small/);
  });

  it('pickSample spreads over the list, keeps order, handles edges', () => {
    const items = Array.from({ length: 100 }, (_, i) => i);
    assert.deepStrictEqual(pickSample(items, 5), [0, 25, 50, 74, 99]);
    assert.deepStrictEqual(pickSample(items, 1), [0]);
    assert.deepStrictEqual(pickSample(items, 0), []);
    assert.strictEqual(pickSample(items, 500).length, 100);
    const s = pickSample(items, 37);
    assert.strictEqual(new Set(s).size, 37, 'no file twice');
  });

  it('repeats a point while its spread is large, up to the cap', () => {
    assert.strictEqual(needsRepeat([]), true);
    assert.strictEqual(needsRepeat([1000]), true, 'one sample shows no spread');
    assert.strictEqual(needsRepeat([1000, 1020]), false);
    assert.strictEqual(needsRepeat([1000, 1400]), true);
    assert.strictEqual(needsRepeat([1000, 1400, 1200, 900, 1300]), false, 'capped at 5');
    assert.strictEqual(needsRepeat([1000, 1400], { maxSpread: 0.5 }), false);
  });
});

/** Synthetic sweep: time = serial·(f + (1−f)/p) for p = processors, times a per-point factor. */
function synth(cores: number, f: number, opts: { blasHelps?: boolean; factor?: Record<string, number[]> } = {}): PointSamples[] {
  const serial = 10_000;
  return planGrid(cores).map((c) => {
    const p = opts.blasHelps ? Math.min(c.workers * c.threads, cores) : Math.min(c.workers, cores);
    let t = serial * (f + (1 - f) / p);
    if (c.oversubscribed) t *= 1.4; // thrashing
    const factors = opts.factor?.[key(c)] ?? [1, 1];
    return { ...c, samplesMs: factors.map((x) => t * x) };
  });
}

describe('sweep analysis and recommendation', () => {
  it('pure-Python CPU-bound on 2 cores: 2 workers x 1 thread, speedup 2, Amdahl f = 0', () => {
    const a = analyseSweep(synth(2, 0), 2);
    assert.deepStrictEqual([a.recommendation!.workers, a.recommendation!.threads], [2, 1]);
    assert.strictEqual(a.amdahl!.serialFraction, 0);
    const p21 = a.points.find((p) => key(p) === '2x1')!;
    assert.strictEqual(p21.speedup, 2);
    assert.strictEqual(p21.efficiency, 1);
    assert.strictEqual(p21.karpFlatt, 0);
    assert.match(a.notes.join(' '), /Oversubscribed .* slower/);
  });

  it('64 cores, f = 0.05: fit recovers 0.05, Karp-Flatt 0.05 at every thread-1 point', () => {
    const a = analyseSweep(synth(64, 0.05), 64);
    assert.ok(Math.abs(a.amdahl!.serialFraction - 0.05) < 1e-12);
    for (const p of a.points.filter((q) => q.threads === 1 && q.workers > 1)) {
      assert.ok(Math.abs(p.karpFlatt! - 0.05) < 1e-12, `${key(p)} ${p.karpFlatt}`);
      assert.ok(Math.abs(p.speedup - amdahlSpeedup(0.05, p.workers)) < 1e-9);
    }
    // 64x1 is fastest, but not within 5% of 32x1? speedup 15.4 vs 12.5 -> clearly faster
    assert.deepStrictEqual(key(a.recommendation!), '64x1');
  });

  it('64 cores, heavy serial part: a smaller configuration within noise wins (fewer resources)', () => {
    // f = 0.5: 32 workers -> 1.94x, 64 -> 1.97x: 1.5% apart, below the 5% noise floor
    const a = analyseSweep(synth(64, 0.5), 64);
    const r = a.recommendation!;
    assert.ok(r.workers * r.threads < 64, key(r));
    assert.match(r.reason, /within the measurement noise/);
    // and the recommendation is within 5% of the fastest
    const fastest = Math.min(...a.points.filter((p) => !p.oversubscribed).map((p) => p.medianMs));
    const chosen = a.points.find((p) => key(p) === key(r))!;
    assert.ok(chosen.medianMs <= fastest * 1.05);
  });

  it('exact tie between 2x1 and 1x2 (BLAS helps as much as processes): fewer threads wins', () => {
    const a = analyseSweep(synth(2, 0, { blasHelps: true }), 2);
    assert.deepStrictEqual(key(a.recommendation!), '2x1');
  });

  it('noise: a point 8% faster but with 20% spread does not beat the cheaper one', () => {
    // 4x1: samples 430 and 526 -> median 478, spread 0.2: 8% faster than 2x1 but within its noise
    const pts: SweepPoint[] = [mk(1, 1, [1000, 1000]), mk(2, 1, [520, 520]), mk(4, 1, [430, 526])];
    const r = recommend(pts)!;
    assert.deepStrictEqual(key(r), '2x1');
    // same gap with tight timings IS a real difference
    const tight = recommend([mk(1, 1, [1000, 1000]), mk(2, 1, [520, 520]), mk(4, 1, [478, 479])])!;
    assert.deepStrictEqual(key(tight), '4x1');
  });

  it('never recommends the oversubscribed or a failing configuration', () => {
    const pts = [mk(1, 1, [1000]), mk(2, 1, [600]), { ...mk(2, 2, [300]), oversubscribed: true }, { ...mk(1, 2, [400]), failures: 3 }];
    assert.deepStrictEqual(key(recommend(pts)!), '2x1');
  });

  it('needs the serial baseline', () => {
    assert.throws(() => analyseSweep([{ workers: 2, threads: 1, oversubscribed: false, samplesMs: [5] }], 2), /serial 1 × 1 point is missing/);
  });
});

function mk(workers: number, threads: number, samplesMs: number[]): SweepPoint {
  const a = analyseSweep([{ workers: 1, threads: 1, oversubscribed: false, samplesMs: [1000] }, { workers, threads, oversubscribed: false, samplesMs }], 64);
  return a.points[a.points.length - 1];
}

describe('sweep sample sizing with a per-run overhead', () => {
  it('reserves the fixed cost of every planned run before sizing the sample', () => {
    const grid = planGrid(2);
    const without = planSampleSize({ perFileMs: 200, totalFiles: 10_000, budgetSec: 60, cores: 2, grid });
    const withOverhead = planSampleSize({ perFileMs: 200, perRunOverheadMs: 1000, totalFiles: 10_000, budgetSec: 60, cores: 2, grid });
    // 8 runs x 1 s = 8 s less: (48 - 8) s / 1.2 s per file = 33 -> 32 files
    assert.strictEqual(without.sampleSize, 40);
    assert.strictEqual(withOverhead.sampleSize, 32);
    assert.ok(withOverhead.estimatedSec <= 48 + 1e-9);
  });
});
