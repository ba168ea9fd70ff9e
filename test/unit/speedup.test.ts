import * as assert from 'assert';
import { amdahlSpeedup, efficiencyOf, fitAmdahl, karpFlatt, sampleStats, speedupOf } from '../../extension/core/speedup';

const close = (a: number, b: number, eps = 1e-9, msg?: string): void =>
  assert.ok(Math.abs(a - b) <= eps, `${msg ?? ''} expected ${b}, got ${a}`);

describe('speedup maths', () => {
  it('speedup and efficiency', () => {
    assert.strictEqual(speedupOf(1000, 250), 4);
    assert.strictEqual(efficiencyOf(4, 8), 0.5);
    assert.strictEqual(speedupOf(1000, 0), 0, 'a zero time is not an infinite speedup');
    assert.strictEqual(efficiencyOf(3, 0), 0);
  });

  it('Amdahl: f = 0 is ideal, f = 1 never speeds up, f = 0.1 on 10 cores is 1/0.19', () => {
    close(amdahlSpeedup(0, 64), 64);
    close(amdahlSpeedup(1, 64), 1);
    close(amdahlSpeedup(0.1, 10), 1 / 0.19);
  });

  for (const f of [0, 0.02, 0.05, 0.1, 0.25, 0.5, 0.9, 1]) {
    it(`fitAmdahl recovers the exact serial fraction ${f} from synthetic timings up to 64 cores`, () => {
      const serialMs = 60_000;
      const pts = [2, 4, 8, 16, 32, 64].map((p) => {
        const t = serialMs * (f + (1 - f) / p); // synthetic wall time
        return { p, speedup: serialMs / t };
      });
      const fit = fitAmdahl(pts)!;
      close(fit.serialFraction, f, 1e-12);
      close(fit.rmse, 0, 1e-9);
      assert.strictEqual(fit.points, 6);
      if (f > 0) close(fit.maxSpeedup, 1 / f, 1e-9);
      else assert.strictEqual(fit.maxSpeedup, Infinity);
    });
  }

  it('fitAmdahl on noisy timings stays near the true fraction and clamps to [0, 1]', () => {
    const f = 0.08;
    const noise = [1.03, 0.97, 1.02, 0.99, 1.01, 0.98];
    const pts = [2, 4, 8, 16, 32, 64].map((p, i) => ({ p, speedup: 1 / ((f + (1 - f) / p) * noise[i]) }));
    const fit = fitAmdahl(pts)!;
    assert.ok(Math.abs(fit.serialFraction - f) < 0.01, `fitted ${fit.serialFraction}`);
    assert.ok(fit.rmse > 0);
    // superlinear (cache effects) => negative f, clamped to 0
    assert.strictEqual(fitAmdahl([{ p: 2, speedup: 2.4 }, { p: 4, speedup: 5 }])!.serialFraction, 0);
    // slower in parallel => f > 1, clamped to 1
    assert.strictEqual(fitAmdahl([{ p: 2, speedup: 0.5 }])!.serialFraction, 1);
  });

  it('fitAmdahl needs a point with p > 1', () => {
    assert.strictEqual(fitAmdahl([]), null);
    assert.strictEqual(fitAmdahl([{ p: 1, speedup: 1 }]), null);
  });

  it('Karp–Flatt of an exact Amdahl point is the serial fraction; undefined at p = 1', () => {
    for (const f of [0, 0.05, 0.3]) {
      for (const p of [2, 3, 8, 64]) close(karpFlatt(amdahlSpeedup(f, p), p)!, f, 1e-12, `f=${f} p=${p}`);
    }
    assert.strictEqual(karpFlatt(1, 1), null);
    assert.strictEqual(karpFlatt(0, 4), null);
    // growing overhead shows as a growing Karp–Flatt value: 1.9x on 2, 3.2x on 4, 4.8x on 8
    const e = [[2, 1.9], [4, 3.2], [8, 4.8]].map(([p, s]) => karpFlatt(s, p)!);
    assert.ok(e[0] < e[1] && e[1] < e[2], `${e}`);
  });

  it('sampleStats: median, spread', () => {
    const s = sampleStats([110, 100, 90]);
    assert.strictEqual(s.median, 100);
    close(s.spread, 0.2);
    assert.strictEqual(sampleStats([4, 2, 1, 3]).median, 2.5);
    assert.strictEqual(sampleStats([7]).spread, 0);
    assert.throws(() => sampleStats([]), RangeError);
  });
});
