import * as assert from 'assert';
import { endNotice, formatDuration, lastLine, threadsReason } from '../../extension/host/run/format';
import type { RunReport } from '../../extension/core/run/types';

function report(over: Partial<RunReport>): RunReport {
  return {
    status: 'failed', wallMs: 83_000, counts: { total: 5000, done: 5000, succeeded: 4688, failed: 300, timedOut: 12, cancelled: 0, skipped: 0, retried: 0 },
    failureGroups: [
      { key: 'k', kind: 'python', title: "KeyError: 'EXPTIME' (analyze.py:57)", count: 280, signature: { key: 'k', kind: 'python', title: '' }, files: [], indexes: [], logs: [] },
    ],
    ...over,
  } as RunReport;
}

describe('run UI formatting', () => {
  it('explains the default BLAS threads with the core arithmetic', () => {
    assert.strictEqual(threadsReason(1, 2, 2), '1 thread × 2 workers = 2 cores');
    assert.strictEqual(threadsReason(2, 4, 8), '2 threads × 4 workers = 8 cores');
    assert.strictEqual(threadsReason(1, 3, 8), '1 thread × 3 workers = 3 cores of 8');
    assert.match(threadsReason(4, 2, 2), /^4 threads × 2 workers = 8 cores — more than the 2 cores/);
  });

  it('formats durations for humans', () => {
    assert.strictEqual(formatDuration(450), '450 ms');
    assert.strictEqual(formatDuration(1234), '1.23 s');
    assert.strictEqual(formatDuration(83_000), '1 min 23 s');
    assert.strictEqual(formatDuration(4_000_000), '1 h 7 min');
    assert.strictEqual(formatDuration(null), '—');
  });

  it('takes the last non-empty line of an output tail', () => {
    assert.strictEqual(lastLine('Traceback\n  File "x"\nValueError: bad\n\n'), 'ValueError: bad');
    assert.strictEqual(lastLine(''), '');
  });

  it('the end notification: N of M failed with the largest group, succeeded, cancelled, stopped early', () => {
    assert.deepStrictEqual(endNotice(report({}), 'analyze.py over data/'), {
      severity: 'warning',
      text: `Parallel Run "analyze.py over data/": 312 of 5,000 files failed — most (280) with KeyError: 'EXPTIME' (analyze.py:57).`,
      actions: ['Show Report', 'Re-run Failed'],
    });
    const early = endNotice(report({ status: 'halted', counts: { total: 40, done: 5, succeeded: 0, failed: 5, timedOut: 0, cancelled: 0, skipped: 0, retried: 0 }, stopped: { reason: 'early', message: 'the first 5 files all failed with X; nothing else was started. Fix the script and Resume.' }, failureGroups: [{ ...report({}).failureGroups![0], count: 5, title: 'X' }] }), 'r');
    // a group title that ends its own sentence gets no second full stop
    const sentence = endNotice(report({ counts: { total: 17, done: 17, succeeded: 16, failed: 1, timedOut: 0, cancelled: 0, skipped: 0, retried: 0 }, failureGroups: [{ ...report({}).failureGroups![0], count: 1, title: 'exit code 1: bad image. Pass a .fits or .npy image.' }] }), 'r');
    assert.strictEqual(sentence.text, 'Parallel Run "r": 1 of 17 files failed: exit code 1: bad image. Pass a .fits or .npy image.');
    assert.strictEqual(early.text, 'Parallel Run "r": 5 of 40 files failed: X. Stopped early: the first 5 files all failed with X; nothing else was started. Fix the script and Resume.');
    const ok = endNotice(report({ status: 'succeeded', counts: { total: 3, done: 3, succeeded: 3, failed: 0, timedOut: 0, cancelled: 0, skipped: 0, retried: 0 }, failureGroups: [] }), 'r');
    assert.deepStrictEqual([ok.severity, ok.text, ok.actions], ['info', 'Parallel Run "r" succeeded: 3 files in 1 min 23 s.', ['Show Report']]);
    const cancelled = endNotice(report({ status: 'cancelled', counts: { total: 10, done: 4, succeeded: 4, failed: 0, timedOut: 0, cancelled: 2, skipped: 0, retried: 0 } }), 'r');
    assert.deepStrictEqual([cancelled.text, cancelled.actions], ['Parallel Run "r" was cancelled after 4 of 10 files. Resume it to do the rest.', ['Show Report', 'Resume']]);
    // a run over parameters counts tasks
    const tuples = endNotice(report({ status: 'succeeded', counts: { total: 6, done: 6, succeeded: 6, failed: 0, timedOut: 0, cancelled: 0, skipped: 0, retried: 0 }, tasks: [{ inputs: ['0.5', '2'] }] as RunReport['tasks'] }), 'r');
    assert.strictEqual(tuples.text, 'Parallel Run "r" succeeded: 6 tasks in 1 min 23 s.');
  });
});
