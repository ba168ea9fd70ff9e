/**
 * Edges of the command line and the run directory: help for every subcommand, a refused run leaves
 * no job log, an interpreter named by a bare file name, --memfree beyond the machine, a journal that
 * is a folder, and a project moved elsewhere resumes its run.
 */
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CLI, journalLines, PYTHON, tmpDir, writeFiles } from './engineHelpers';

function cli(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 50_000, env: { ...process.env, PARALLEL_RUN_PYTHON: PYTHON } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('cli edges', function () {
  this.timeout(60_000);

  it('report --help and runs --help print their usage (not taken as a run directory)', () => {
    const dir = tmpDir('pr-edge-');
    for (const sub of ['report', 'runs']) {
      const r = cli([sub, '--help'], dir);
      assert.strictEqual(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^usage: parallel-run ${sub}`));
    }
    assert.strictEqual(cli(['report', '--bogus'], dir).code, 2);
  });

  it('a refused run creates no --joblog file', () => {
    const dir = tmpDir('pr-edge-');
    const r = cli(['run', '--joblog', 'jobs.tsv', '--files', 'nothing-*.txt', '--', 'true'], dir);
    assert.strictEqual(r.code, 2, r.stderr);
    assert.ok(!fs.existsSync(path.join(dir, 'jobs.tsv')), 'no job log made');
  });

  it('--python NAME with a non-executable file NAME here says so (not just "not found")', () => {
    const dir = tmpDir('pr-edge-');
    writeFiles(dir, { afile: '', 'x.py': '', 'in.txt': '' });
    const r = cli(['run', '--python', 'afile', '--script', 'x.py', '--files', 'in.txt'], dir);
    assert.strictEqual(r.code, 2);
    assert.match(r.stderr, /the file \.\/afile here is not executable \(chmod \+x it\)/);
  });

  it('--memfree above the machine\'s memory is refused with exit 2', () => {
    const dir = tmpDir('pr-edge-');
    writeFiles(dir, { 'in.txt': '' });
    const tooMuch = `${Math.ceil(os.totalmem() / 2 ** 30) + 1}G`;
    const r = cli(['run', '--memfree', tooMuch, '--files', 'in.txt', '--out', 'out', '--', 'true'], dir);
    assert.strictEqual(r.code, 2, r.stderr);
    assert.match(r.stderr, /is more than this machine's memory/);
    assert.ok(!fs.existsSync(path.join(dir, 'out')));
  });

  it('a journal that is a folder is named, with the fix (not a bare EISDIR)', () => {
    const dir = tmpDir('pr-edge-');
    writeFiles(dir, { 'in.txt': '' });
    fs.mkdirSync(path.join(dir, 'out', 'journal.ndjson'), { recursive: true });
    const r = cli(['run', '--resume', '--files', 'in.txt', '--out', 'out', '--', 'true'], dir);
    assert.strictEqual(r.code, 2, r.stderr);
    assert.match(r.stderr, /journal .*journal\.ndjson is a directory, not a file\. Move it away/);
  });

  it('a project moved to another folder resumes its run: the files done are skipped', () => {
    const parent = tmpDir('pr-edge-');
    const dir = path.join(parent, 'project');
    writeFiles(dir, { 'in/a.txt': '', 'in/b.txt': '', 'task.py': 'import sys\nprint(sys.argv[1])\n' });
    const args = ['run', '--script', 'task.py', '--files', 'in/*.txt', '--out', 'out', '--quiet'];
    assert.strictEqual(cli(args, dir).code, 0);
    const moved = path.join(parent, 'moved');
    fs.renameSync(dir, moved);
    writeFiles(moved, { 'in/c.txt': '' });
    const r = cli([...args, '--resume'], moved);
    assert.strictEqual(r.code, 0, r.stderr);
    const runs = journalLines(path.join(moved, 'out')).map((l) => path.basename(l.file));
    assert.deepStrictEqual(runs.sort(), ['a.txt', 'b.txt', 'c.txt'], 'only the new file ran again');
  });
});
