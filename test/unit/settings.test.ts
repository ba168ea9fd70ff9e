import * as assert from 'assert';
import { settingIn, SettingsError, validateSettings } from '../../extension/core/settings';

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
    assert.throws(() => validateSettings({ timeoutPercentOfMedian: 80 }), /parallelRun\.timeoutPercentOfMedian is 80, at or below the median itself\. Set it above 100/);
    assert.throws(() => validateSettings({ timeoutPercentOfMedian: 300, timeoutSeconds: 10 }), /timeoutPercentOfMedian and parallelRun\.timeoutSeconds are both set/);
    assert.throws(() => validateSettings({ memFreeGB: -1 }), /parallelRun\.memFreeGB/);
  });
  it('a timeout in percent of the median and a free-memory threshold', () => {
    const s = validateSettings({ timeoutPercentOfMedian: 300, memFreeGB: 1.5 });
    assert.deepStrictEqual([s.timeoutPercentOfMedian, s.memFreeGB, s.timeoutSeconds], [300, 1.5, 0]);
    const d = validateSettings({});
    assert.deepStrictEqual([d.timeoutPercentOfMedian, d.memFreeGB], [0, 0]);
    // memoryFreeGB (titled "Memory Free GB") is the setting; the old name memFreeGB is read when it is 0
    assert.strictEqual(validateSettings({ memoryFreeGB: 2, memFreeGB: 0 }).memFreeGB, 2);
    assert.strictEqual(validateSettings({ memoryFreeGB: 2, memFreeGB: 5 }).memFreeGB, 2);
    assert.strictEqual(validateSettings({ memoryFreeGB: 0, memFreeGB: 5 }).memFreeGB, 5);
    assert.throws(() => validateSettings({ memoryFreeGB: -1 }), /parallelRun\.memoryFreeGB/);
  });

  it('finds the setting an error names, for its "Open Setting" button', () => {
    let err: unknown;
    try {
      validateSettings({ workers: -3 });
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof SettingsError);
    assert.strictEqual(settingIn((err as Error).message), 'parallelRun.workers');
    assert.strictEqual(settingIn('Cannot run: interpreter "python9" not found (setting parallelRun.python.path).'), 'parallelRun.python.path');
    assert.strictEqual(settingIn('no input files given'), undefined);
  });
});
