import * as assert from 'assert';
import * as path from 'path';
import { Matrix } from 'ml-matrix';
import {
  formatMatrixDemo, fromMatrix, matrixDemoReport, maxAbsDiff, productBlock, rowBlocks, runMatrixDemo, seededMatrix, toMatrix,
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
    assert.strictEqual(r.timings[0].speedup, 1);
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
    assert.strictEqual(rep.speedupMeasured!.baselineWallMs, r.timings[0].ms);
    assert.match(rep.notes.join(' '), /max abs diff/);
    const md = formatMatrixDemo(r);
    assert.match(md, /\| 2 workers \| [\d.]+ \| [\d.]+× \|/);
    assert.match(md, /matches the serial product/);
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
