import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseSweepArgs } from '../../extension/cli/sweep';
import { UsageError } from '../../extension/core/run/types';

const cli = path.resolve(__dirname, '../../../dist/cli.js');

describe('CLI: parallel-run sweep / blas (argument handling and real runs of dist/cli.js)', function () {
  this.timeout(180_000);

  it('parses sweep options; bad values name the flag and an example', () => {
    const a = parseSweepArgs(['--script', 'a.py', '--files', '*.txt', '--files=b/*.csv', '--budget', '30', '--no-threads', '--json', '--', '--flag']);
    assert.strictEqual(a.script, 'a.py');
    assert.deepStrictEqual(a.files, ['*.txt', 'b/*.csv']);
    assert.strictEqual(a.budget, 30);
    assert.strictEqual(a.noThreads, true);
    assert.deepStrictEqual(a.rest, ['--flag']);
    assert.throws(() => parseSweepArgs(['--budget', 'soon']), (e: Error) => e instanceof UsageError && /--budget needs a positive number, not "soon". E\.g\. --budget 60/.test(e.message));
    assert.throws(() => parseSweepArgs(['--bogus']), /Unknown option --bogus\. See "parallel-run sweep --help"/);
    assert.throws(() => parseSweepArgs(['--files']), /--files needs a value/);
    assert.deepStrictEqual(parseSweepArgs(['--grid', 'mu=0:1:0.5', '--grid=s=1,2']).grids, [{ name: 'mu', values: ['0', '0.5', '1'] }, { name: 's', values: ['1', '2'] }]);
    assert.throws(() => parseSweepArgs(['--grid', 'mu=']), /empty axis/);
  });

  it('sweep over a command template: table, recommendation, sweep.json; exit 0', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pr-sweepcli-'));
    try {
      for (let i = 0; i < 12; i++) fs.writeFileSync(path.join(tmp, `f${i}.txt`), 'x\n');
      const r = spawnSync(process.execPath, [cli, 'sweep', '--files', '*.txt', '--budget', '8', '--', 'sh', '-c', 'sleep 0.05', 'sh', '{}'], { cwd: tmp, encoding: 'utf8' });
      assert.strictEqual(r.status, 0, r.stderr);
      assert.match(r.stdout, /\| workers \| threads \| median \(s\)/);
      assert.match(r.stdout, /\*\*Recommended: \d+ workers? × \d+ threads? \([\d.]+× (faster|slower) than 1 worker × 1 thread on \d+ cores?\)\*\*/);
      assert.match(r.stderr, /sweep: \d+ cores; sample of \d+ of 12 files/);
      const dir = /sweep: (\S+)\s*$/.exec(r.stdout)![1];
      assert.ok(fs.existsSync(path.join(dir, 'sweep.json')));
      const runs = spawnSync(process.execPath, [cli, 'runs', '--json'], { cwd: tmp, encoding: 'utf8' });
      assert.strictEqual(JSON.parse(runs.stdout).length, 1, 'the sweep is one entry of the run history');
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('sweep without files is a usage error (exit 2) naming the fix', () => {
    const r = spawnSync(process.execPath, [cli, 'sweep', '--', 'true'], { encoding: 'utf8' });
    assert.strictEqual(r.status, 2);
    assert.match(r.stderr, /No input files\. Give --files GLOB/);
  });

  it('blas --json reports this machine\'s OpenBLAS', () => {
    const r = spawnSync(process.execPath, [cli, 'blas', '--json'], { encoding: 'utf8' });
    assert.strictEqual(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.strictEqual(j.current.vendor, 'OpenBLAS');
    assert.strictEqual(j.defaultThreads, os.availableParallelism());
  });
});
