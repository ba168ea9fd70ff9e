/** One way to say a duration or a size, everywhere (CLI, host, webviews). */
import * as assert from 'assert';
import { formatDuration as cliSide } from '../../extension/host/run/format';
import { formatBytes, formatDuration, formatGB } from '../../extension/shared/format';
import { formatBytes as reportBytes, formatDuration as reportSide } from '../../extension/webview/report/format';

describe('shared formatting', () => {
  it('sizes are binary with one unit style: B, KB, MB, GB', () => {
    assert.strictEqual(formatBytes(512), '512 B');
    assert.strictEqual(formatBytes(1536), '2 KB');
    assert.strictEqual(formatBytes(812 * 2 ** 20), '812 MB');
    assert.strictEqual(formatBytes(1.44 * 2 ** 30), '1.4 GB');
    assert.strictEqual(formatBytes(24 * 2 ** 30), '24 GB');
    assert.strictEqual(formatBytes(undefined), '—');
    assert.strictEqual(formatGB(9.1 * 2 ** 30), '9.1');
  });

  it('the host and the report panel say a duration the same way', () => {
    for (const ms of [12, 999, 1234, 9_999, 49_500, 75_000, 3_599_000, 12_600_000]) {
      assert.strictEqual(cliSide(ms), formatDuration(ms));
      assert.strictEqual(reportSide(ms), formatDuration(ms));
    }
    assert.strictEqual(reportBytes(45 * 2 ** 20), formatBytes(45 * 2 ** 20));
  });
});
