/** BLAS/OpenMP thread maths and env: defaults, user overrides, oversubscription, core counts. */
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as os from 'os';
import * as path from 'path';
import { defaultThreads, LEGACY_THREAD_ENV_VARS, logicalCores, oversubscription, physicalCores, THREAD_ENV_VARS, threadEnv } from '../../extension/core/threads';
import { PYTHON, ROOT } from './engineHelpers';

describe('threads', () => {
  it('names the six variables the common runtimes read', () => {
    assert.deepStrictEqual([...THREAD_ENV_VARS], ['OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS', 'VECLIB_MAXIMUM_THREADS', 'NUMEXPR_NUM_THREADS', 'BLIS_NUM_THREADS']);
  });
  it('the Python helpers read the same list (the source analysis and the BLAS probe)', () => {
    const py = 'import json, sys\nsys.path.insert(0, sys.argv[1])\nimport blas_probe\nfrom pr_analysis import constants\nprint(json.dumps([list(constants.DEFAULT_THREAD_VARS), blas_probe.DEFAULT_ENV_VARS]))';
    const [analysis, probe] = JSON.parse(execFileSync(PYTHON, ['-c', py, path.join(ROOT, 'media', 'python')], { encoding: 'utf8' }));
    assert.deepStrictEqual(analysis, [...THREAD_ENV_VARS]);
    assert.deepStrictEqual(probe, [...THREAD_ENV_VARS, ...LEGACY_THREAD_ENV_VARS]);
  });
  it('defaultThreads = max(1, floor(cores / workers))', () => {
    const table: Array<[number, number, number]> = [[8, 1, 8], [8, 2, 4], [8, 3, 2], [8, 8, 1], [8, 16, 1], [2, 2, 1], [64, 5, 12], [1, 1, 1], [4, 0, 1]];
    for (const [cores, workers, want] of table) assert.strictEqual(defaultThreads(cores, workers), want, `${cores}/${workers}`);
  });
  it('threadEnv sets every variable, user values win, empty user values do not', () => {
    const env = threadEnv(3, { MKL_NUM_THREADS: '1', OMP_NUM_THREADS: '', OTHER: 'x' });
    assert.deepStrictEqual(env, { OMP_NUM_THREADS: '3', OPENBLAS_NUM_THREADS: '3', MKL_NUM_THREADS: '1', VECLIB_MAXIMUM_THREADS: '3', NUMEXPR_NUM_THREADS: '3', BLIS_NUM_THREADS: '3' });
  });
  it('oversubscription = workers × threads / cores', () => {
    assert.strictEqual(oversubscription(2, 1, 2), 1);
    assert.strictEqual(oversubscription(8, 4, 8), 4);
    assert.strictEqual(oversubscription(1, 1, 4), 0.25);
    assert.strictEqual(oversubscription(1, 1, 0), 0);
  });
  it('counts cores: physical ≤ logical, from /proc/cpuinfo on Linux', () => {
    const logical = logicalCores();
    assert.ok(logical >= 1 && logical <= os.cpus().length);
    const physical = physicalCores();
    assert.ok(physical >= 1 && physical <= os.cpus().length, `${physical}`);
  });
});
