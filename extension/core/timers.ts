/**
 * Timers for delays that come from user input (task timeouts, poll and sampling intervals). Node's
 * setTimeout/setInterval take at most 2^31-1 ms (~24.8 days): a longer delay silently becomes 1 ms,
 * which would kill every task at once. `setLongTimeout` arms the timer in chunks no longer than that
 * and re-arms it until the whole delay has passed.
 */

/** The longest delay Node's timers take, ms (~24.8 days). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The longest task timeout accepted (--timeout, parallelRun.timeoutSeconds), seconds: 10,000,000 s ≈ 115 days. */
export const MAX_TIMEOUT_SEC = 10_000_000;

export interface LongTimer {
  clear(): void;
}

/**
 * Calls `fn` once `ms` have passed, for any finite `ms` (see the module comment). `chunkMs` is the
 * longest single timer armed (tests pass a small one to see the re-arming). Unref'd when `unref`.
 */
export function setLongTimeout(fn: () => void, ms: number, opts: { unref?: boolean; chunkMs?: number } = {}): LongTimer {
  const chunk = Math.min(MAX_TIMER_MS, Math.max(1, opts.chunkMs ?? MAX_TIMER_MS));
  const deadline = Date.now() + Math.max(0, ms);
  let t: NodeJS.Timeout | undefined;
  const arm = () => {
    const left = deadline - Date.now();
    if (left <= 0) {
      t = undefined;
      fn();
      return;
    }
    t = setTimeout(arm, Math.min(left, chunk));
    if (opts.unref) t.unref?.();
  };
  // arm on the next tick for 0 like setTimeout does, never synchronously
  t = setTimeout(arm, Math.min(Math.max(0, ms), chunk));
  if (opts.unref) t.unref?.();
  return {
    clear() {
      if (t) clearTimeout(t);
      t = undefined;
    },
  };
}

/** A delay for setTimeout/setInterval, kept within what Node's timers take (1 ms .. MAX_TIMER_MS). */
export function timerMs(ms: number): number {
  return Number.isFinite(ms) ? Math.min(MAX_TIMER_MS, Math.max(1, Math.round(ms))) : MAX_TIMER_MS;
}
