import * as assert from 'assert';
import { formatDuration, lastLine, threadsReason } from '../../extension/host/run/format';

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
});
