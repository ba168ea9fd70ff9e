/**
 * Run directories: one module names and makes them (VS Code runs, Slurm submissions), atomically, and
 * `.parallel-run/` keeps its contents out of git from the first run on (the CLI's runs too).
 */
import * as assert from 'assert';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { createRunDir, ignoreInGit, mkdirp, readDefinition, runStamp, runStem, writeJsonAtomic } from '../../extension/core/run/runDir';
import { CLI, PYTHON, tmpDir, writeFiles } from './engineHelpers';

describe('run directories', () => {
  it('names a run by its local start time and script stem', () => {
    assert.strictEqual(runStamp(new Date(2026, 0, 2, 3, 4, 5)), '20260102-030405');
    assert.strictEqual(runStem('/x/fit model.v2.py'), 'fit_model.v2');
    assert.strictEqual(runStem('/x/.py'), 'run');
  });

  it('two runs started in the same second get two folders, each made exactly once', () => {
    const root = path.join(tmpDir('pr-rundir-'), 'runs');
    const now = new Date(2026, 5, 1, 12, 0, 0);
    const made = Array.from({ length: 5 }, () => createRunDir(root, 'fit', now));
    assert.deepStrictEqual(made.map((d) => path.basename(d)), ['20260601-120000-fit', '20260601-120000-fit-2', '20260601-120000-fit-3', '20260601-120000-fit-4', '20260601-120000-fit-5']);
    for (const d of made) assert.deepStrictEqual(fs.readdirSync(d), [], 'new and empty');
  });

  it('two processes creating run directories at the same instant never share one (mkdir, retried on EEXIST)', async function () {
    this.timeout(60_000);
    const root = path.join(tmpDir('pr-rundir-race-'), 'runs');
    const n = 8;
    // each process waits for the same instant, then makes 3 run directories with the same name stem
    // and the same time stamp as fast as it can: the folders race for the same names
    const start = Date.now() + 1500;
    const code = `const { createRunDir } = require(${JSON.stringify(require.resolve('../../extension/core/run/runDir'))});
      const now = new Date(2026, 5, 1, 12, 0, 0);
      while (Date.now() < ${start}) {}
      const made = [];
      for (let i = 0; i < 40; i++) made.push(createRunDir(${JSON.stringify(root)}, 'fit', now));
      process.stdout.write(JSON.stringify(made));`;
    const made = await Promise.all(Array.from({ length: n }, () => new Promise<string[]>((resolve, reject) => {
      const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.on('error', reject);
      child.on('exit', (c) => (c === 0 ? resolve(JSON.parse(out) as string[]) : reject(new Error(`exit ${c}`))));
    })));
    const all = made.flat().map((d) => path.basename(d));
    const twice = all.filter((d, i) => all.indexOf(d) !== i);
    assert.deepStrictEqual(twice, [], 'every directory was handed to exactly one caller');
    const expected = ['20260601-120000-fit', ...Array.from({ length: n * 40 - 1 }, (_, i) => `20260601-120000-fit-${i + 2}`)];
    assert.deepStrictEqual([...all].sort(), [...expected].sort());
    assert.deepStrictEqual(fs.readdirSync(root).filter((f) => f !== '.gitignore').sort(), [...expected].sort(), 'no other folder made');
  });

  it('.parallel-run/ gets a .gitignore holding *; one the user wrote is kept', () => {
    const ws = tmpDir('pr-rundir-');
    createRunDir(path.join(ws, '.parallel-run', 'runs'), 'fit');
    assert.match(fs.readFileSync(path.join(ws, '.parallel-run', '.gitignore'), 'utf8'), /^\*$/m);
    assert.ok(!fs.existsSync(path.join(ws, '.parallel-run', 'runs', '.gitignore')));

    fs.writeFileSync(path.join(ws, '.parallel-run', '.gitignore'), 'mine\n');
    createRunDir(path.join(ws, '.parallel-run', 'runs'), 'fit');
    assert.strictEqual(fs.readFileSync(path.join(ws, '.parallel-run', '.gitignore'), 'utf8'), 'mine\n');
  });

  it('a runs folder elsewhere is ignored in git only when it is a runs root, never a folder named for one run', () => {
    const ws = tmpDir('pr-rundir-');
    createRunDir(path.join(ws, 'my-runs'), 'fit');
    assert.ok(fs.existsSync(path.join(ws, 'my-runs', '.gitignore')));
    ignoreInGit(path.join(ws, 'results'), false);
    assert.ok(!fs.existsSync(path.join(ws, 'results', '.gitignore')));
  });

  it('run.json is written whole or not at all: a failed write leaves the old file and no temporary file', () => {
    const dir = tmpDir('pr-rundir-json-');
    const file = path.join(dir, 'run.json');
    assert.strictEqual(readDefinition(dir), undefined, 'no run.json yet');
    writeJsonAtomic(file, { runId: 'r1', version: 1 });
    assert.strictEqual(readDefinition(dir)?.runId, 'r1');
    fs.writeFileSync(file, '{"runId": "r1", "ver');
    assert.strictEqual(readDefinition(dir), undefined, 'a torn run.json reads as none');
    // a rename onto a non-empty directory fails (EISDIR / ENOTEMPTY) after the temporary file was written
    const blocked = path.join(dir, 'blocked.json');
    fs.mkdirSync(blocked);
    fs.writeFileSync(path.join(blocked, 'x'), '');
    assert.throws(() => writeJsonAtomic(blocked, { a: 1 }), /EISDIR|ENOTEMPTY|EEXIST/);
    assert.deepStrictEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no .tmp left behind');
  });

  it('mkdirp makes every missing folder and refuses a file in the way', () => {
    const dir = tmpDir('pr-rundir-mk-');
    mkdirp(path.join(dir, 'a', 'b', 'c'));
    assert.ok(fs.statSync(path.join(dir, 'a', 'b', 'c')).isDirectory());
    mkdirp(path.join(dir, 'a', 'b')); // already there: nothing to do
    fs.writeFileSync(path.join(dir, 'f'), '');
    assert.throws(() => mkdirp(path.join(dir, 'f', 'g')), (e: NodeJS.ErrnoException) => e.code === 'ENOTDIR');
  });

  it('a CLI run in a fresh project leaves .parallel-run/.gitignore, so run logs are never committed', function () {
    this.timeout(60_000);
    const dir = tmpDir('pr-rundir-cli-');
    writeFiles(dir, { 'in/a.txt': 'a', 'in/b.txt': 'b' });
    const r = spawnSync(process.execPath, [CLI, 'run', '-j', '2', '--files', 'in/*.txt', '--', 'true', '{}'], {
      cwd: dir, encoding: 'utf8', timeout: 50_000, env: { ...process.env, PARALLEL_RUN_PYTHON: PYTHON },
    });
    assert.strictEqual(r.status, 0, r.stderr);
    assert.match(fs.readFileSync(path.join(dir, '.parallel-run', '.gitignore'), 'utf8'), /^\*$/m);
    assert.strictEqual(spawnSync('git', ['init', '-q'], { cwd: dir }).status, 0, 'git init');
    const st = spawnSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: dir, encoding: 'utf8' }).stdout;
    assert.ok(!st.includes('.parallel-run'), `git sees run files: ${st}`);
    assert.match(st, /in\/a\.txt/);
  });
});
