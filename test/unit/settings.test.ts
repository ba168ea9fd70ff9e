import * as assert from 'assert';
import { SettingsError, validateSettings } from '../../extension/core/settings';

describe('settings validation', () => {
  it('gives defaults for an empty section', () => {
    const s = validateSettings({});
    assert.strictEqual(s.workers, 0);
    assert.strictEqual(s.runsDirectory, '.parallel-run/runs');
    assert.strictEqual(s.monitor.intervalMs, 1000);
  });
  it('reads nested keys as VS Code returns them', () => {
    const s = validateSettings({ workers: 3, python: { path: '/usr/bin/python3' }, slurm: { extraDirectives: ['--qos=x'] } });
    assert.strictEqual(s.workers, 3);
    assert.strictEqual(s.pythonPath, '/usr/bin/python3');
    assert.deepStrictEqual(s.slurm.extraDirectives, ['--qos=x']);
  });
  it('names the bad key and the fix', () => {
    assert.throws(() => validateSettings({ workers: -1 }), (e: Error) => e instanceof SettingsError && /parallelRun\.workers/.test(e.message) && /Fix it in Settings/.test(e.message));
    assert.throws(() => validateSettings({ workers: 'abc' }), /parallelRun\.workers.*"abc"/);
    assert.throws(() => validateSettings({ monitor: { enabled: 'yes' } }), /parallelRun\.monitor\.enabled/);
    assert.throws(() => validateSettings({ runsDirectory: '  ' }), /parallelRun\.runsDirectory is empty/);
  });
});
