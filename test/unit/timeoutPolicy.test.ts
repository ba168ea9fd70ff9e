/**
 * The timeout policy on its own: a fixed --timeout, or --timeout N% of the median of the latest
 * successes (none before 3, never under 1 s, the median over the latest 1,001), and the checks of both.
 */
import * as assert from 'assert';
import { checkTimeout, MEDIAN_OF, TimeoutPolicy } from '../../extension/core/run/timeoutPolicy';
import { MAX_TIMEOUT_SEC } from '../../extension/core/timers';

describe('timeout policy', () => {
  it('a fixed timeout is the same for every attempt; 0 is none; successes change nothing', () => {
    const t = new TimeoutPolicy(2.5);
    assert.strictEqual(t.timeoutMs(), 2500);
    for (let i = 0; i < 10; i++) t.succeeded(10);
    assert.strictEqual(t.timeoutMs(), 2500);
    assert.strictEqual(new TimeoutPolicy(0).timeoutMs(), 0);
  });

  it('N%: none before 3 successes, then the median × N/100', () => {
    const t = new TimeoutPolicy(0, 300);
    t.succeeded(2000);
    t.succeeded(4000);
    assert.strictEqual(t.timeoutMs(), 0, 'two successes: no timeout yet');
    t.succeeded(3000);
    assert.strictEqual(t.timeoutMs(), 9000, 'median 3 s × 300%');
    t.succeeded(5000);
    assert.strictEqual(t.timeoutMs(), 10_500, 'even count: the mean of the middle two (3.5 s) × 300%');
  });

  it('N%: never under 1 s, whatever the median', () => {
    const t = new TimeoutPolicy(0, 150);
    for (let i = 0; i < 5; i++) t.succeeded(20);
    assert.strictEqual(t.timeoutMs(), 1000);
  });

  it('N%: the median is over the latest 1,001 successes (a ring), so it follows a run whose files get slower', () => {
    const t = new TimeoutPolicy(0, 200);
    for (let i = 0; i < MEDIAN_OF; i++) t.succeeded(1000);
    assert.strictEqual(t.timeoutMs(), 2000);
    for (let i = 0; i < MEDIAN_OF; i++) t.succeeded(4000);
    assert.strictEqual(t.timeoutMs(), 8000, 'every 1 s success has left the ring');
  });

  it('N%: past 64 successes the median is taken again every 16 successes, not at each', () => {
    const t = new TimeoutPolicy(0, 200);
    for (let i = 0; i < 100; i++) t.succeeded(1000);
    assert.strictEqual(t.timeoutMs(), 2000);
    // 15 more successes of 10 s: the median is not taken again yet
    for (let i = 0; i < 15; i++) t.succeeded(10_000);
    assert.strictEqual(t.timeoutMs(), 2000, 'not taken again yet');
    for (let i = 0; i < 200; i++) t.succeeded(10_000);
    assert.strictEqual(t.timeoutMs(), 20_000, 'taken again: 10 s × 200%');
  });

  it('checks --timeout: seconds from 0 to the maximum, or N% above 100, not both', () => {
    assert.deepStrictEqual(checkTimeout(undefined, undefined), { timeoutSec: 0 });
    assert.deepStrictEqual(checkTimeout(30, undefined), { timeoutSec: 30 });
    assert.deepStrictEqual(checkTimeout(undefined, 250), { timeoutSec: 0, timeoutPercent: 250 });
    assert.deepStrictEqual(checkTimeout(0, 250), { timeoutSec: 0, timeoutPercent: 250 });
    assert.throws(() => checkTimeout(-1, undefined), /Timeout \(--timeout\) must be a number of seconds from 0 to \d+.*not -1\. Use 0 for no timeout/);
    assert.throws(() => checkTimeout(MAX_TIMEOUT_SEC + 1, undefined), /must be a number of seconds/);
    assert.throws(() => checkTimeout('5', undefined), /not "5"/);
    assert.throws(() => checkTimeout(undefined, 100), /must be above 100%, not 100%\. E\.g\. --timeout 300%/);
    assert.throws(() => checkTimeout(undefined, Number.NaN), /must be above 100%/);
    assert.throws(() => checkTimeout(5, 200), /in seconds or in percent of the median, not both/);
  });
});
