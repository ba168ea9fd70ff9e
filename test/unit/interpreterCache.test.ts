/**
 * An interpreter given by absolute path (a real binary) has its version remembered on disk by the
 * binary's identity, so a CLI run does not start Python once just to ask it; anything else (a
 * command on PATH, a `#!` shim) is asked every time.
 */
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { resolvePython } from '../../extension/core/python/interpreter';
import { setProcessGate } from '../../extension/core/processGate';
import { CLI, PYTHON, tmpDir, writeFiles } from './engineHelpers';

function cli(dir: string, home: string, python: string, out: string) {
  const r = spawnSync(process.execPath, [CLI, 'run', '-j', '1', '--quiet', '--python', python, '--files', 'in/*.txt', '--out', out, '--script', 'p.py'], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 50_000,
    env: { ...process.env, HOME: home, PARALLEL_RUN_PYTHON: '' },
  });
  assert.strictEqual(r.status, 0, r.stderr);
  return JSON.parse(fs.readFileSync(path.join(dir, out, 'report.json'), 'utf8'));
}

describe('interpreter version cache', function () {
  this.timeout(60_000);

  it('remembers the version of an absolute binary by its identity, and only that', () => {
    const dir = tmpDir('pr-pycache-');
    const home = path.join(dir, 'home');
    fs.mkdirSync(home);
    writeFiles(dir, { 'p.py': 'import sys\nprint(sys.version_info[0])\n', 'in/a.txt': '' });
    const cacheFile = path.join(home, '.cache', 'parallel-run', 'python-versions.json');

    const first = cli(dir, home, PYTHON, 'r1');
    const cache = JSON.parse(fs.readFileSync(cacheFile, 'utf8'));
    const ids = Object.keys(cache);
    assert.strictEqual(ids.length, 1);
    assert.ok(ids[0].startsWith(fs.realpathSync(PYTHON) + '|'), ids[0]);
    assert.strictEqual(cache[ids[0]], first.python.version, 'the probed version is what was stored');
    assert.strictEqual(first.python.executable, PYTHON);

    // the next run takes the version from the cache (a planted value shows it was not probed again)
    fs.writeFileSync(cacheFile, JSON.stringify({ [ids[0]]: '3.99.0' }));
    const second = cli(dir, home, PYTHON, 'r2');
    assert.strictEqual(second.python.version, '3.99.0');
    assert.strictEqual(second.counts.succeeded, 1);

    // another binary identity (here: the same file seen with another mtime) is probed again
    fs.writeFileSync(cacheFile, JSON.stringify({ [ids[0].replace(/\|[^|]+$/, '|1')]: '3.99.0' }));
    const third = cli(dir, home, PYTHON, 'r3');
    assert.strictEqual(third.python.version, first.python.version);

    // a `#!` script standing in for python (what a pyenv shim is) is never cached
    const shim = path.join(dir, 'shim-python');
    fs.writeFileSync(shim, `#!/bin/sh\nexec ${PYTHON} "$@"\n`, { mode: 0o755 });
    fs.rmSync(cacheFile);
    const viaShim = cli(dir, home, shim, 'r4');
    assert.strictEqual(viaShim.python.executable, PYTHON, 'the shim resolves to the real interpreter');
    assert.ok(!fs.existsSync(cacheFile) || Object.keys(JSON.parse(fs.readFileSync(cacheFile, 'utf8'))).every((k) => !k.startsWith(shim)));
  });

  it('the executable a shim resolved to is known at once: resolving it next starts no Python', async () => {
    const dir = tmpDir('pr-pycache-');
    const home = path.join(dir, 'home');
    fs.mkdirSync(home);
    // a path of the interpreter no other test resolved, behind a `#!` shim
    const real = path.join(dir, 'python3-here');
    fs.symlinkSync(PYTHON, real);
    const shim = path.join(dir, 'shim-python');
    fs.writeFileSync(shim, `#!/bin/sh\nexec ${real} "$@"\n`, { mode: 0o755 });
    const oldHome = process.env.HOME;
    process.env.HOME = home;
    try {
      const viaShim = await resolvePython(shim);
      assert.strictEqual(viaShim.executable, real);
      setProcessGate(() => 'no process may start in this test');
      const direct = await resolvePython(real);
      assert.deepStrictEqual(direct, viaShim);
      await assert.rejects(resolvePython(path.join(dir, 'another-python')), /no process may start/);
    } finally {
      setProcessGate(undefined);
      process.env.HOME = oldHome;
    }
  });
});
