/**
 * The harness must be able to fail: run the integration launcher on a suite with a deliberately
 * failing test in the REAL extension host and check that it exits non-zero and reports the failure.
 */
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..', '..');

describe('integration launcher', function () {
  this.timeout(240_000);
  it('exits non-zero and reports "1 failed" for a suite containing a failing test', () => {
    const results = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pr-harness-')), 'results.json');
    const r = spawnSync(process.execPath, [
      path.join(ROOT, 'out', 'test', 'integration', 'runTest.js'),
      '--suite', path.join(ROOT, 'test', 'fixtures', 'harness', 'failingSuite.js'),
    ], { encoding: 'utf8', env: { ...process.env, VSCODE_TEST_RESULTS_FILE: results }, timeout: 230_000 });
    const out = `${r.stdout}\n${r.stderr}`;
    assert.notStrictEqual(r.status, 0, `launcher exited 0 for a failing suite:\n${out}`);
    const json = JSON.parse(fs.readFileSync(results, 'utf8'));
    assert.strictEqual(json.failures.length, 1, out);
    assert.strictEqual(json.passes.length, 1, out);
    assert.match(out, /vscode-tests: 1 passed, 1 failed/);
  });
});
