import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  benchmarkBlas, envWithThreads, envWithoutThreadVars, formatBlasReport, inspectBlas, parseProbeOutput,
  parseShowConfigText, vendorFromName,
} from '../../extension/core/python/blasProbe';
import { THREAD_ENV_VARS } from '../../extension/core/threads';

const root = path.resolve(__dirname, '../../..');
const fixtures = path.join(root, 'test/fixtures/blas');
const mediaDir = path.join(root, 'media');
const fixture = (name: string): string => fs.readFileSync(path.join(fixtures, name), 'utf8');

describe('BLAS probe parsing (real numpy output)', () => {
  it('numpy 2 wheel (scipy-openblas), ctypes runtime detection: OpenBLAS 0.3.31, pthreads, 2 threads', () => {
    const info = parseProbeOutput(fixture('pyenv-numpy2-probe.json'));
    assert.strictEqual(info.numpy!.version, '2.4.6');
    assert.strictEqual(info.vendor, 'OpenBLAS');
    assert.strictEqual(info.vendorVersion, '0.3.31.188.0');
    assert.strictEqual(info.threadingLayer, 'pthreads');
    assert.strictEqual(info.architecture, 'Haswell');
    assert.strictEqual(info.currentThreads, 2);
    assert.strictEqual(info.source, 'runtime (ctypes)');
    assert.strictEqual(info.build!.name, 'scipy-openblas');
    assert.match(info.build!.detail!, /MAX_THREADS=64/);
    assert.strictEqual(info.threadpoolctl.installed, false);
    assert.deepStrictEqual(info.envSet, []);
    assert.deepStrictEqual(info.notes, []);
  });

  it('the same numpy with the thread variables set to 1 reports 1 thread and the variables', () => {
    const info = parseProbeOutput(fixture('pyenv-numpy2-probe-threads1.json'));
    assert.strictEqual(info.currentThreads, 1);
    assert.deepStrictEqual(info.envSet.sort(), ['MKL_NUM_THREADS', 'OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS']);
    assert.strictEqual(info.env.OMP_NUM_THREADS, '1');
    assert.strictEqual(info.env.BLIS_NUM_THREADS, null);
  });

  it('Debian numpy 1.24 with threadpoolctl: OpenBLAS at run time although the build says generic "blas"', () => {
    const info = parseProbeOutput(fixture('debian-numpy1.24-threadpoolctl-probe.json'));
    assert.strictEqual(info.vendor, 'OpenBLAS');
    assert.strictEqual(info.vendorVersion, '0.3.21');
    assert.strictEqual(info.source, 'threadpoolctl');
    assert.strictEqual(info.threadpoolctl.version, '3.1.0');
    assert.strictEqual(info.currentThreads, 2);
    assert.strictEqual(info.build!.name, 'blas');
    assert.match(info.notes.join(' '), /built against "blas" but OpenBLAS is what is loaded/);
  });

  it('Debian numpy 1.24 without threadpoolctl: ctypes finds OpenBLAS once (libblas.so.3 alias deduplicated)', () => {
    const info = parseProbeOutput(fixture('debian-numpy1.24-ctypes-probe.json'));
    assert.strictEqual(info.vendor, 'OpenBLAS');
    assert.strictEqual(info.libraries.length, 1, JSON.stringify(info.libraries));
    assert.strictEqual(info.currentThreads, 2);
  });

  it('numpy absent: a clean result naming the fix, no vendor guessed', () => {
    const info = parseProbeOutput(fixture('no-numpy-probe.json'));
    assert.strictEqual(info.numpy, null);
    assert.strictEqual(info.vendor, 'unknown');
    assert.strictEqual(info.currentThreads, null);
    assert.match(info.numpyError!, /No module named 'numpy'/);
    assert.match(info.notes.join(' '), /numpy is not installed in \/usr\/bin\/python3 .* -m pip install numpy/);
    const md = formatBlasReport({ current: info, defaultThreads: null });
    assert.match(md, /numpy is not installed in this interpreter/);
    assert.doesNotMatch(md, /BLAS vendor/);
  });

  it('show_config text, numpy >= 1.25 format (wrapped value joined)', () => {
    const b = parseShowConfigText(fixture('pyenv-numpy2-show_config.txt'))!;
    assert.strictEqual(b.name, 'scipy-openblas');
    assert.strictEqual(b.version, '0.3.31.188.0');
    assert.strictEqual(b.detail, 'OpenBLAS 0.3.31.188.0  USE64BITINT DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64');
  });

  it('show_config text, legacy format: Debian generic blas and the tutorial MKL', () => {
    const deb = parseShowConfigText(fixture('debian-numpy1.24-show_config.txt'))!;
    assert.strictEqual(deb.name, 'blas');
    assert.strictEqual(vendorFromName(deb.name), 'reference BLAS');
    const mkl = parseShowConfigText(fixture('mkl-tutorial-show_config.txt'))!;
    assert.strictEqual(vendorFromName(mkl.name), 'MKL');
    assert.deepStrictEqual(mkl.libraries, ['mkl_rt', 'pthread']);
  });

  it('MKL from build config alone when no runtime detection is available', () => {
    const probe = JSON.stringify({
      probe: 1, python: { executable: '/opt/conda/bin/python', version: '3.9.1' }, env: {}, numpy: { version: '1.21.0' },
      configText: fixture('mkl-tutorial-show_config.txt'), threadpoolctl: null, loaded: [],
    });
    const info = parseProbeOutput(probe);
    assert.strictEqual(info.vendor, 'MKL');
    assert.strictEqual(info.source, 'numpy build config');
    assert.match(info.notes.join(' '), /install threadpoolctl/);
  });

  it('vendor names', () => {
    assert.strictEqual(vendorFromName('scipy-openblas'), 'OpenBLAS');
    assert.strictEqual(vendorFromName('mkl-sdl'), 'MKL');
    assert.strictEqual(vendorFromName('accelerate'), 'Accelerate');
    assert.strictEqual(vendorFromName('blis'), 'BLIS');
    assert.strictEqual(vendorFromName(''), 'unknown');
  });

  it('bad probe output names the problem', () => {
    assert.throws(() => parseProbeOutput('Traceback ...'), /printed no result: Traceback/);
  });

  it('environments: clean removes every thread variable, limited sets all of them', () => {
    const clean = envWithoutThreadVars({ PATH: '/bin', OMP_NUM_THREADS: '4', OPENBLAS_NUM_THREADS: '3' });
    assert.deepStrictEqual(clean, { PATH: '/bin' });
    const lim = envWithThreads(2, { PATH: '/bin', OMP_NUM_THREADS: '4' });
    for (const v of THREAD_ENV_VARS) assert.strictEqual(lim[v], '2');
  });
});

describe('BLAS probe on this machine (real Python processes)', function () {
  this.timeout(120_000);
  const python = execFileSync('python3', ['-c', 'import sys;print(sys.executable)'], { encoding: 'utf8' }).trim();

  it('reports OpenBLAS for this machine\'s numpy, default threads = cores, current threads honour the variables', async () => {
    const ins = await inspectBlas(python, mediaDir, { env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' } });
    assert.strictEqual(ins.current.vendor, 'OpenBLAS');
    assert.ok(ins.current.numpy);
    assert.strictEqual(ins.current.currentThreads, 1);
    assert.strictEqual(ins.defaultThreads, os.availableParallelism());
    assert.ok(ins.current.envSet.includes('OPENBLAS_NUM_THREADS'));
    const md = formatBlasReport(ins);
    assert.match(md, /\| BLAS vendor \| OpenBLAS/);
  });

  it('an interpreter without numpy (a fresh venv) gives the clean "not installed" result', async () => {
    const venv = fs.mkdtempSync(path.join(os.tmpdir(), 'pr-venv-'));
    try {
      execFileSync(python, ['-m', 'venv', '--without-pip', venv]);
      const ins = await inspectBlas(path.join(venv, 'bin', 'python'), mediaDir);
      assert.strictEqual(ins.current.numpy, null);
      assert.match(ins.current.notes[0], /numpy is not installed/);
      await assert.rejects(benchmarkBlas(path.join(venv, 'bin', 'python'), mediaDir, { threadCounts: [1], number: 1 }), /numpy is not installed/);
    } finally {
      fs.rmSync(venv, { recursive: true, force: true });
    }
  });

  it('the tutorial benchmark runs each thread count in a fresh process with the limit applied', async () => {
    const seen: number[] = [];
    const b = await benchmarkBlas(python, mediaDir, { threadCounts: [1, 2], number: 2, rows: 200, cols: 300, onProgress: (t) => seen.push(t) });
    assert.deepStrictEqual(seen, [1, 2]);
    assert.deepStrictEqual(b.points.map((p) => p.measuredThreads), [1, 2]);
    for (const p of b.points) assert.ok(p.seconds > 0 && p.perCallMs > 0);
    assert.ok(b.speedup! > 0);
    const md = formatBlasReport({ current: parseProbeOutput(fixture('pyenv-numpy2-probe.json')), defaultThreads: 2 }, b, 2);
    assert.match(md, /\| 2 cores \| [\d.]+ \|/);
    assert.match(md, /\| 1 core \| [\d.]+ \|/);
  });

  it('a missing interpreter is a clear error', async () => {
    await assert.rejects(inspectBlas('/nonexistent/python3', mediaDir), /BLAS probe failed in "\/nonexistent\/python3".*parallelRun\.python\.path/);
  });
});
