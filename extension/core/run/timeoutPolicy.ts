/**
 * A task attempt's timeout: fixed (`--timeout SECONDS`), or relative to the median run time of the
 * latest successes (`--timeout N%`, N > 100): once 3 files succeeded, an attempt may take N% of their
 * median, and at least 1 s. Pure: the engine tells it what succeeded.
 */
import { MAX_TIMEOUT_SEC } from '../timers';
import { UsageError } from './types';

/** How many of the latest successes the median is taken over. */
export const MEDIAN_OF = 1001;
/** Successes before a relative timeout applies (before that, none). */
export const MEDIAN_AFTER = 3;
/** A relative timeout is never below this: a median of a few ms must not kill a file held up by a busy disk. */
export const MIN_RELATIVE_TIMEOUT_MS = 1000;

/** Checks --timeout (seconds, 0 = none) and --timeout N%; throws the UsageError naming the fix. */
export function checkTimeout(timeoutSecOpt: unknown, timeoutPercent: unknown): { timeoutSec: number; timeoutPercent?: number } {
  const timeoutSec = timeoutSecOpt ?? 0;
  if (typeof timeoutSec !== 'number' || !Number.isFinite(timeoutSec) || timeoutSec < 0 || timeoutSec > MAX_TIMEOUT_SEC) {
    throw new UsageError(`Timeout (--timeout) must be a number of seconds from 0 to ${MAX_TIMEOUT_SEC} (about 115 days), not ${JSON.stringify(timeoutSecOpt)}. Use 0 for no timeout.`);
  }
  if (timeoutPercent === undefined) return { timeoutSec };
  if (typeof timeoutPercent !== 'number' || !Number.isFinite(timeoutPercent) || timeoutPercent <= 100) {
    throw new UsageError(`A timeout relative to the median (--timeout N%) must be above 100%, not ${JSON.stringify(timeoutPercent)}%. E.g. --timeout 300% kills a file taking 3x the median.`);
  }
  if (timeoutSec > 0) throw new UsageError('Give the timeout in seconds or in percent of the median, not both.');
  return { timeoutSec, timeoutPercent };
}

export class TimeoutPolicy {
  /** run times (ms) of the latest succeeded files, a ring */
  private readonly okMs = new Float64Array(MEDIAN_OF);
  private okCount = 0;
  private median: number | undefined;
  private okSinceMedian = 0;

  constructor(
    private readonly timeoutSec: number,
    /** --timeout N%: N (undefined: a fixed timeout) */
    private readonly timeoutPercent?: number,
  ) {}

  /** A file succeeded after `ms` (only a relative timeout keeps it). */
  succeeded(ms: number): void {
    if (this.timeoutPercent === undefined) return;
    this.okMs[this.okCount++ % this.okMs.length] = ms;
    this.okSinceMedian++;
  }

  /** An attempt's timeout now, ms (0 = none): fixed, or the median of the latest successes × N/100. */
  timeoutMs(): number {
    if (this.timeoutPercent === undefined) return Math.round(this.timeoutSec * 1000);
    if (this.okCount < MEDIAN_AFTER) return 0;
    // the median moves slowly: sorting up to 1,001 numbers again every 16 successes is enough
    if (this.median === undefined || this.okSinceMedian >= 16 || this.okCount < 64) {
      const n = Math.min(this.okCount, this.okMs.length);
      const sorted = Float64Array.from(this.okMs.subarray(0, n)).sort();
      this.median = n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
      this.okSinceMedian = 0;
    }
    return Math.max(MIN_RELATIVE_TIMEOUT_MS, Math.round((this.median * this.timeoutPercent) / 100));
  }
}
