/**
 * The batch policy on its own: how many files a free slot gets, from what finished so far, the
 * input's total and what the engine says about its host and the early stop.
 */
import * as assert from 'assert';
import { BATCH_MAX, BATCH_MAX_CALL, batchLimitOf, BatchPolicy, type BatchContext } from '../../extension/core/run/batchPolicy';

const ctx = (c: Partial<BatchContext> = {}): BatchContext => ({ hosted: true, earlyStopUndecided: false, total: 10_000, taken: 0, ...c });

/** A policy for `workers` slots after `n` tasks of `ms` each. */
function after(n: number, ms: number, workers = 2, limit = BATCH_MAX): BatchPolicy {
  const b = new BatchPolicy(workers, limit);
  for (let i = 0; i < n; i++) b.taskFinished(ms);
  return b;
}

describe('batch policy', () => {
  it('one file at a time until every slot has finished a task', () => {
    assert.strictEqual(new BatchPolicy(2, BATCH_MAX).size(ctx()), 1, 'nothing finished yet');
    assert.strictEqual(after(1, 5).size(ctx()), 1, 'one of two slots finished');
    assert.strictEqual(after(2, 5).size(ctx()), 50, '250 ms of 5 ms tasks');
  });

  it('about 250 ms of work per batch, at most the limit', () => {
    assert.strictEqual(after(4, 10).size(ctx()), 25);
    assert.strictEqual(after(4, 50).size(ctx()), 5);
    assert.strictEqual(after(4, 1).size(ctx()), BATCH_MAX, '250 one-ms tasks are capped at 64');
    assert.strictEqual(after(4, 0).size(ctx()), BATCH_MAX, 'a 0 ms mean counts as 1 ms');
    assert.strictEqual(after(4, 1, 2, 8).size(ctx()), 8, 'PARALLEL_RUN_BATCH=8');
  });

  it('tasks of 100 ms or more on average go one at a time', () => {
    assert.strictEqual(after(4, 99).size(ctx()), 2);
    assert.strictEqual(after(4, 100).size(ctx()), 1);
    assert.strictEqual(after(4, 2000).size(ctx()), 1);
  });

  it('the mean follows recent tasks: 0.8 × the mean before + 0.2 × the latest', () => {
    const b = after(2, 10);
    assert.strictEqual(b.recentWallMs, 10);
    b.taskFinished(60);
    assert.strictEqual(b.recentWallMs, 20);
    assert.strictEqual(b.size(ctx()), 12);
    // long tasks arriving turn batches off after a few
    for (let i = 0; i < 5; i++) b.taskFinished(400);
    assert.ok(b.recentWallMs! >= 100, `mean ${b.recentWallMs}`);
    assert.strictEqual(b.size(ctx()), 1);
  });

  it('at most a quarter of each slot\'s share of what is left, so the slots end together', () => {
    const b = after(4, 2, 2);
    // 1,000 left over 2 slots: 1000 / 8 + 1 = 126, capped at 64
    assert.strictEqual(b.size(ctx({ total: 1000, taken: 0 })), 64);
    assert.strictEqual(b.size(ctx({ total: 1000, taken: 900 })), 13, '100 left: 100 / 8 + 1');
    assert.strictEqual(b.size(ctx({ total: 1000, taken: 995 })), 1, '5 left');
    assert.strictEqual(b.size(ctx({ total: 1000, taken: 1000 })), 1, 'nothing left is still one');
    assert.strictEqual(after(8, 2, 4).size(ctx({ total: 1000, taken: 900 })), 7, '4 slots: 100 / 16 + 1');
  });

  it('one at a time without a Python host, without a known total, while the early stop is undecided, or with batches off', () => {
    const b = after(4, 5);
    assert.strictEqual(b.size(ctx()), 50);
    assert.strictEqual(b.size(ctx({ hosted: false })), 1, 'Node spawns each task');
    assert.strictEqual(b.size(ctx({ total: null })), 1, 'stdin or a pipe');
    assert.strictEqual(b.size(ctx({ earlyStopUndecided: true })), 1, 'a batch would start files after the Kth failure');
    assert.strictEqual(after(4, 5, 2, 1).size(ctx()), 1, 'PARALLEL_RUN_BATCH=1');
  });

  it('PARALLEL_RUN_BATCH: a whole number ≥ 1 sets the limit; anything else keeps the default', () => {
    assert.strictEqual(batchLimitOf(undefined), BATCH_MAX);
    assert.strictEqual(batchLimitOf('1'), 1);
    assert.strictEqual(batchLimitOf('16'), 16);
    for (const bad of ['', '0', '-3', '2.5', 'many']) assert.strictEqual(batchLimitOf(bad), BATCH_MAX, JSON.stringify(bad));
    // in-process calls: a bigger default, the same override
    assert.strictEqual(batchLimitOf(undefined, true), BATCH_MAX_CALL);
    assert.strictEqual(batchLimitOf('16', true), 16);
    assert.strictEqual(after(10, 0.3, 2, BATCH_MAX_CALL).size(ctx({ total: 100_000 })), 250, 'calls of 0.3 ms: 250 ms of them, not BATCH_MAX');
  });
});
