import * as assert from 'assert';
import * as path from 'path';
import { Matrix } from 'ml-matrix';
import {
  formatMatrixDemo, fromMatrix, matrixDemoReport, matrixVerdict, maxAbsDiff, productBlock, rowBlocks, runMatrixDemo, seededMatrix, toMatrix,
} from '../../extension/core/demos/matrixDemo';

const workersDir = path.resolve(__dirname, '../../../dist/workers');

describe('matrix demo (ml-matrix + workerpool)', function () {
  this.timeout(120_000);

  it('row blocks cover every row once, sizes differ by at most one', () => {
    assert.deepStrictEqual(rowBlocks(1000, 10)[3], [300, 400]);
    for (const [rows, b] of [[1000, 10], [7, 3], [5, 5], [10, 1], [3, 9]]) {
      const blocks = rowBlocks(rows, b);
      assert.strictEqual(blocks[0][0], 0);
      assert.strictEqual(blocks[blocks.length - 1][1], rows);
      for (let i = 1; i < blocks.length; i++) assert.strictEqual(blocks[i][0], blocks[i - 1][1]);
      const sizes = blocks.map(([s, e]) => e - s);
      assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1 && Math.min(...sizes) >= 1, `${rows}/${b}: ${sizes}`);
    }
  });

  it('plain <-> ml-matrix round trip, seeded data reproducible, shape checked', () => {
    const a = seededMatrix(3, 4, 7, false);
    assert.deepStrictEqual(fromMatrix(toMatrix(a)), a);
    assert.deepStrictEqual(seededMatrix(3, 4, 7, false).data, a.data);
    assert.notDeepStrictEqual(seededMatrix(3, 4, 8, false).data, a.data);
    assert.ok(seededMatrix(2, 2, 1).data.buffer instanceof SharedArrayBuffer);
    assert.throws(() => toMatrix({ rows: 2, columns: 2, data: new Float64Array(3) }), /2 × 2 but holds 3/);
  });

  it('blocks stacked equal the product computed in one call', () => {
    const a = toMatrix(seededMatrix(23, 17, 3, false));
    const aT = a.transpose();
    const full = a.mmul(aT);
    const stacked = new Float64Array(23 * 23);
    for (const [s, e] of rowBlocks(23, 4)) stacked.set(fromMatrix(productBlock(a, aT, s, e)).data, s * 23);
    assert.strictEqual(maxAbsDiff({ rows: 23, columns: 23, data: stacked }, fromMatrix(full)), 0);
    assert.throws(() => productBlock(a, aT, 5, 30), RangeError);
  });

  it('maxAbsDiff: shapes and values', () => {
    const x = fromMatrix(new Matrix([[1, 2], [3, 4]]));
    assert.strictEqual(maxAbsDiff(x, fromMatrix(new Matrix([[1, 2], [3, 4.5]]))), 0.5);
    assert.strictEqual(maxAbsDiff(x, fromMatrix(new Matrix([[1, 2]]))), Infinity);
  });

  it('1000 x 1500 in 10 blocks by the bundled worker, 1 and 2 workers, equals the serial product', async () => {
    const progress: string[] = [];
    const r = await runMatrixDemo({ workersDir, workerCounts: [1, 2], onProgress: (m) => progress.push(m) });
    assert.strictEqual(r.rows, 1000);
    assert.strictEqual(r.columns, 1500);
    assert.strictEqual(r.blocks, 10);
    assert.ok(r.serialMs! > 0);
    assert.deepStrictEqual(r.timings.map((t) => t.workers), [1, 2]);
    for (const t of r.timings) assert.ok(t.maxAbsDiff < 1e-9, `${t.workers} workers differ by ${t.maxAbsDiff}`);
    // speedups are against the serial product (one ml-matrix call), the time a user would otherwise wait
    assert.strictEqual(r.timings[0].speedup, r.serialMs! / r.timings[0].ms);
    assert.ok(progress.length >= 3 && progress.at(-1) === 'done', progress.join('|'));
    // every block computed once, by one of the workers, timed
    const two = r.timings[1];
    assert.deepStrictEqual(two.blocks.map((b) => b.rowStart), [0, 100, 200, 300, 400, 500, 600, 700, 800, 900]);
    assert.ok(two.blocks.every((b) => b.worker >= 1 && b.worker <= 2 && b.end >= b.start));
    assert.ok(r.timings[0].blocks.every((b) => b.worker === 1));
    // as a report for the panel: blocks = tasks on worker lanes, measured speedup vs 1 worker
    const rep = matrixDemoReport(r);
    assert.strictEqual(rep.tasks.length, 10);
    assert.strictEqual(rep.workers, 2);
    assert.strictEqual(rep.counts.succeeded, 10);
    assert.ok(Math.abs(rep.speedupMeasured!.value - two.speedup) < 1e-12);
    assert.strictEqual(rep.speedupMeasured!.baselineWallMs, r.serialMs);
    assert.match(rep.demo!.measures, /JavaScript \(ml-matrix\).*not numpy, not BLAS/);
    assert.match(rep.notes.join(' '), /max abs diff/);
    const md = formatMatrixDemo(r);
    assert.match(md, /\| 2 workers \| [\d.]+ \| [\d.]+× (faster|slower) \|/);
    assert.match(md, /What this measures: JavaScript/);
    assert.match(md, /matches the serial product/);
  });

  it('words a slowdown as a slowdown, with the likely causes it can tell', () => {
    const block = (i: number, start: number, end: number) => ({ rowStart: i * 100, rowEnd: (i + 1) * 100, worker: (i % 2) + 1, start, end });
    const t0 = 1_000_000;
    const r = {
      rows: 1000, columns: 1500, blocks: 10, cores: 2, serialMs: 1830, maxAbsDiff: 0,
      timings: [
        { workers: 1, ms: 2600, speedup: 1830 / 2600, maxAbsDiff: 0, startedAt: t0, blocks: [0, 1, 2].map((i) => block(i, t0 + 100 + i * 250, t0 + 350 + i * 250)) },
        // the 2 workers took 1.3 s to start before their first block
        { workers: 2, ms: 4392, speedup: 1830 / 4392, maxAbsDiff: 0, startedAt: t0 + 5000, blocks: [0, 1].map((i) => block(i, t0 + 6300, t0 + 9000)) },
      ],
      load: { othersCores: 0.94, beforeCores: 0.9, duringCores: 0.94, peakCores: 1.2, samples: 6, busy: true, cores: 2 },
    };
    const v = matrixVerdict(r);
    assert.strictEqual(v.headline, '2 workers were 2.40× slower: 4.39 s against 1.83 s serially (one ml-matrix call).');
    assert.deepStrictEqual(v.causes, [
      'The machine was busy: 0.9 cores used by other processes; these numbers are pessimistic.',
      'Starting the 2 workers took 1.30 s of the 4.39 s: a 1000 × 1500 matrix is too small for the workers\' start-up to pay off.',
      'Splitting into 10 blocks costs too: 1 worker on the same blocks took 2.60 s, 1.42× the single call.',
    ]);
    const md = formatMatrixDemo(r);
    assert.match(md, /\*\*2 workers were 2\.40× slower/);
    assert.match(md, /\| 2 workers \| 4\.392 \| 2\.40× slower \|/);
    assert.doesNotMatch(md, /0\.42×/, 'never a "speedup" below 1');
    const rep = matrixDemoReport(r);
    assert.strictEqual(rep.notes[0], v.headline);
    assert.strictEqual(rep.load?.busy, true);
    // a quiet machine and a real speedup: no causes
    const fast = { ...r, load: { ...r.load, othersCores: 0.02, duringCores: 0.02, busy: false }, timings: [r.timings[0], { ...r.timings[1], ms: 1000, speedup: 1.83 }] };
    assert.deepStrictEqual([matrixVerdict(fast).headline, matrixVerdict(fast).causes], ['2 workers took 1.00 s against 1.83 s serially (one ml-matrix call): 1.83× faster.', []]);
  });

  it('a wrong block split would be caught: the check compares against an independent product', async () => {
    // 7 blocks over 1000 rows (uneven) still equals the serial product
    const r = await runMatrixDemo({ workersDir, rows: 101, columns: 37, blocks: 7, workerCounts: [2] });
    assert.ok(r.maxAbsDiff < 1e-9);
  });

  it('cancel terminates the pool and rejects with AbortError', async () => {
    const ac = new AbortController();
    const p = runMatrixDemo({ workersDir, workerCounts: [1], skipReference: true, signal: ac.signal });
    setTimeout(() => ac.abort(), 200);
    await assert.rejects(p, (e: Error) => e.name === 'AbortError');
  });

  it('bad input names the problem', async () => {
    await assert.rejects(runMatrixDemo({ workersDir, blocks: 0 }), /blocks = 0/);
    await assert.rejects(runMatrixDemo({ workersDir, workerCounts: [0] }), /worker counts/);
  });
});
