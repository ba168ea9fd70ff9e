/**
 * Notebooks as one module (core/python/notebook + the analyzer's notebook mode), the start-method
 * resolution, and "Move to a module" checked by running the repaired notebook code under spawn in a
 * real Python. Notebooks are written with nbformat (Debian python3-nbformat), as Jupyter writes them.
 */
import * as assert from 'assert';
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  assignedNames, joinCells, magicOf, notebookScript, parseNotebook, readNotebook, splitEdits, toCellRange,
} from '../../extension/core/python/notebook';
import { missingNotebookPackages, prepareNotebookRun } from '../../extension/core/python/notebookRun';
import { applySourceEdits, SourceAnalysis, SourceAnalyzer } from '../../extension/core/python/sourceAnalysis';

const ROOT = path.resolve(__dirname, '../../..');
const NOTEBOOKS = path.join(ROOT, 'test', 'fixtures', 'notebooks');
const SCRIPT = path.join(ROOT, 'media', 'python', 'analyze_source.py');
const PYTHON = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
/** Debian's interpreter: it has nbformat (the notebooks are written with it). */
const DEBIAN_PYTHON = '/usr/bin/python3';

/** Writes a notebook with nbformat from a cells spec (as test/fixtures/notebooks/*.json). */
export function makeNotebook(file: string, cells: Array<{ type: 'code' | 'markdown'; source: string; tags?: string[] }>): string {
  execFileSync(DEBIAN_PYTHON, [path.join(NOTEBOOKS, 'make_notebook.py'), file], { input: JSON.stringify(cells) });
  return file;
}

function tutorialCells(): Array<{ type: 'code' | 'markdown'; source: string; tags?: string[] }> {
  return JSON.parse(fs.readFileSync(path.join(NOTEBOOKS, 'tutorial_pool.json'), 'utf8'));
}

/**
 * Runs code the way a notebook kernel does under `spawn`: exec'd in a `__main__` that has no file (as
 * `python -c`), so spawned workers cannot re-import it. Returns the process result.
 */
function runAsKernelUnderSpawn(code: string, cwd: string, timeout = 60_000): { status: number | null; stdout: string; stderr: string } {
  fs.writeFileSync(path.join(cwd, 'cells.py'), code);
  const driver = [
    'import multiprocessing, sys',
    'multiprocessing.set_start_method("spawn", force=True)',
    'sys.path.insert(0, "")  # the kernel imports from its working folder, the notebook\'s',
    'exec(compile(open("cells.py").read(), "<notebook>", "exec"))',
  ].join('\n');
  const env = { ...process.env, OMP_NUM_THREADS: '1' };
  const r = spawnSync(PYTHON, ['-c', driver], { cwd, encoding: 'utf8', timeout, env, killSignal: 'SIGKILL' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('notebooks as one module', function () {
  this.timeout(300_000);
  let tmp: string;
  let analyzer: SourceAnalyzer;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pr-nb-'));
    analyzer = new SourceAnalyzer({ python: PYTHON, script: SCRIPT });
  });
  after(() => {
    analyzer.dispose();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  describe('cells, magics and positions', () => {
    it('reads an nbformat notebook: cell kinds, sources and tags', () => {
      const cells = readNotebook(makeNotebook(path.join(tmp, 'read.ipynb'), tutorialCells()));
      assert.deepStrictEqual(cells.map((c) => c.kind), ['markup', 'code', 'code', 'code', 'code']);
      assert.deepStrictEqual(cells[2].tags, ['parameters']);
      assert.strictEqual(cells[2].source, 'chunks = 10');
    });

    it('refuses a file that is not a notebook, naming it', () => {
      assert.throws(() => parseNotebook('{"a": 1}', 'x.ipynb'), /x\.ipynb is not a Jupyter notebook/);
      assert.throws(() => parseNotebook('not json', 'y.ipynb'), /y\.ipynb is not a Jupyter notebook \(not JSON/);
    });

    it('recognises magics, shell escapes and help lines; leaves Python alone', () => {
      assert.deepStrictEqual(magicOf('%matplotlib inline', false)?.name, 'matplotlib');
      assert.deepStrictEqual(magicOf('  !pip install x', false)?.kind, 'shell');
      assert.deepStrictEqual(magicOf('files = !ls data', false)?.assigns, 'files');
      assert.deepStrictEqual(magicOf('%%bash', true)?.kind, 'cell');
      assert.deepStrictEqual(magicOf('np.dot?', false)?.kind, 'help');
      for (const py of ['x = 1 % 2', 'print("%d" % 3)', 'a != b', 'd = {"k": 1}']) assert.strictEqual(magicOf(py, false), undefined, py);
    });

    it('joins the code cells line for line, magics made inert, and maps every position back to its cell', () => {
      const cells = readNotebook(makeNotebook(path.join(tmp, 'join.ipynb'), [
        { type: 'markdown', source: '# title' },
        { type: 'code', source: '%load_ext autoreload\nimport os' },
        { type: 'code', source: '%%bash\necho hi' },
        { type: 'code', source: 'files = !ls\nfor f in files:\n    !echo {f}\n    print(f)' },
      ]));
      const j = joinCells(cells);
      assert.deepStrictEqual(j.source.split('\n'), ['pass', 'import os', '', '', 'files = None', 'for f in files:', '    pass', '    print(f)']);
      assert.deepStrictEqual(j.codeCells.map((c) => [c.cell, c.start, c.lines]), [[1, 0, 2], [2, 2, 2], [3, 4, 4]]);
      assert.deepStrictEqual(j.magics.map((m) => [m.cell, m.line, m.kind, m.harmless]), [
        [1, 0, 'line', true], [2, 0, 'cell', false], [3, 0, 'shell', false], [3, 2, 'shell', false]]);
      assert.deepStrictEqual(toCellRange(j, { start: { line: 7, character: 4 }, end: { line: 7, character: 12 } }),
        { cell: 3, range: { start: { line: 3, character: 4 }, end: { line: 3, character: 12 } } });
      assert.strictEqual(toCellRange(j, { start: { line: 1, character: 0 }, end: { line: 5, character: 0 } }), undefined);
      // a block of whole lines replaced up to the next cell's start ends at the end of its own cell
      const split = splitEdits(j, [{ range: { start: { line: 1, character: 0 }, end: { line: 2, character: 0 } }, newText: 'import sys\n' }])!;
      assert.deepStrictEqual([...split.entries()], [[1, [{ range: { start: { line: 1, character: 0 }, end: { line: 1, character: 9 } }, newText: 'import sys' }]]]);
    });

    it('names the assignments of a parameters cell in order', () => {
      assert.deepStrictEqual(assignedNames('path = "a.csv"  # input\nscale: float = 2\nx == 3\n  y = 1\nn = m = 4'), ['path', 'scale', 'n']);
    });
  });

  describe('the notebook as a script (Run Notebook over Files)', () => {
    it('injects the file after the parameters cell, into its first name or --file-var; skips display magics', () => {
      const cells = readNotebook(makeNotebook(path.join(tmp, 'script.ipynb'), [
        { type: 'code', source: '%matplotlib inline\nimport sys' },
        { type: 'code', source: 'path = "data/example.txt"\nlabel = "x"', tags: ['parameters'] },
        { type: 'code', source: 'print(label, open(path).read().strip())' },
      ]));
      const s = notebookScript(cells, { notebook: 'script.ipynb' });
      assert.strictEqual(s.fileVar, 'path');
      assert.deepStrictEqual(s.parameters, ['path', 'label']);
      const lines = s.text.split('\n');
      const param = lines.indexOf('# %% cell 2 [parameters]');
      const injected = lines.indexOf('# %% injected parameters (Parallel Run)');
      assert.ok(param > 0 && injected > param && injected < lines.indexOf('# %% cell 3'), s.text);
      assert.ok(lines.includes('path = _parallel_run_sys.argv[1]'));
      assert.match(s.text, /pass {2}# skipped by Parallel Run: %matplotlib inline/);
      // run it as the engine does: python SCRIPT FILE
      const data = path.join(tmp, 'in.txt');
      fs.writeFileSync(data, 'hello\n');
      const file = path.join(tmp, 'script.py');
      fs.writeFileSync(file, notebookScript(cells, { notebook: 'script.ipynb', fileVar: 'label' }).text);
      const r = spawnSync(PYTHON, [file, data], { encoding: 'utf8' });
      assert.notStrictEqual(r.status, 0, 'label = the file, path = the default (missing) file');
      fs.writeFileSync(file, s.text);
      const ok = spawnSync(PYTHON, [file, data], { encoding: 'utf8' });
      assert.strictEqual(ok.status, 0, ok.stderr);
      assert.strictEqual(ok.stdout, 'x hello\n');
      // named inputs go to their own names (a mapping name -> Python expression)
      const named = notebookScript(cells, { notebook: 'script.ipynb', inputs: { label: '"named"' } });
      fs.writeFileSync(file, named.text);
      assert.strictEqual(spawnSync(PYTHON, [file, data], { encoding: 'utf8' }).stdout, 'named hello\n');
    });

    it('refuses before the run: no parameters cell, an unknown name, a magic that is not display-only (with its cell and line)', () => {
      const noParams = readNotebook(makeNotebook(path.join(tmp, 'np.ipynb'), [{ type: 'code', source: 'x = 1' }]));
      assert.throws(() => notebookScript(noParams, { notebook: 'np.ipynb' }), /np\.ipynb has no cell tagged "parameters"/);
      const cells = readNotebook(makeNotebook(path.join(tmp, 'bad.ipynb'), [
        { type: 'code', source: 'path = "x"', tags: ['parameters'] },
        { type: 'code', source: 'import os\n!rm -rf build\n%timeit os.getcwd()' },
      ]));
      assert.throws(() => notebookScript(cells, { notebook: 'bad.ipynb', fileVar: 'nope' }), /"nope" is not assigned in the "parameters" cell of bad\.ipynb \(cell 1\), which defines "path"/);
      assert.throws(() => notebookScript(cells, { notebook: 'bad.ipynb', inputs: { alpha: '1' } }), /"alpha" is not assigned/);
      assert.throws(() => notebookScript(cells, { notebook: 'bad.ipynb' }), /cell 2, line 2: !rm -rf build; cell 2, line 3: %timeit os\.getcwd\(\)/);
    });

    it('writes the script under a content-hashed name (same notebook, same script; edited notebook, new script)', async () => {
      const nb = makeNotebook(path.join(tmp, 'hash.ipynb'), [{ type: 'code', source: 'path = "x"\nprint(path)', tags: ['parameters'] }]);
      const opts = { notebook: nb, cwd: tmp, python: PYTHON, mediaDir: path.join(ROOT, 'media') };
      const a = await prepareNotebookRun(opts);
      assert.strictEqual((await prepareNotebookRun(opts)).script, a.script);
      assert.match(path.basename(a.script), /^hash\.ipynb-[0-9a-f]{8}\.py$/);
      makeNotebook(nb, [{ type: 'code', source: 'path = "y"\nprint(path)', tags: ['parameters'] }]);
      assert.notStrictEqual((await prepareNotebookRun(opts)).script, a.script);
    });

    it('asks the interpreter for the Jupyter packages without blocking the event loop (the extension host keeps answering)', async () => {
      // an "interpreter" that takes 0.6 s to answer that nothing is missing
      const slow = path.join(tmp, 'slow-python');
      fs.writeFileSync(slow, '#!/bin/sh\nsleep 0.6\necho\n', { mode: 0o755 });
      let ticks = 0;
      const timer = setInterval(() => ticks++, 50);
      try {
        assert.deepStrictEqual(await missingNotebookPackages(slow), []);
      } finally {
        clearInterval(timer);
      }
      assert.ok(ticks >= 4, `the event loop ran ${ticks} times in 0.6 s`);
      // one that cannot start: every package is reported missing (the refusal names them all)
      assert.deepStrictEqual(await missingNotebookPackages(path.join(tmp, 'no-such-python')), ['nbformat', 'nbclient', 'ipykernel']);
    });

    it('--save-notebooks: a clear error naming what to install when the interpreter lacks nbclient', async function () {
      const probe = spawnSync(PYTHON, ['-c', 'import nbclient'], { encoding: 'utf8' });
      if (probe.status === 0) this.skip(); // this interpreter has it: nothing to refuse
      const nb = makeNotebook(path.join(tmp, 'save.ipynb'), [{ type: 'code', source: 'path = "x"', tags: ['parameters'] }]);
      await assert.rejects(prepareNotebookRun({ notebook: nb, cwd: tmp, python: PYTHON, mediaDir: path.join(ROOT, 'media'), saveExecuted: true }),
        /needs .*nbclient.* apt install .*python3-nbclient/);
    });
  });

  describe('start method', () => {
    const POOL = 'import multiprocessing\n\ndef f(x):\n    return x\n\npool = multiprocessing.Pool(2)\nprint(pool.map(f, [1]))\n';
    const method = async (source: string, platform: string, v: [number, number]) =>
      (await analyzer.analyze(source, { cores: 4, platform, pythonVersion: v })).startMethod!;

    it('the platform default: fork on Linux before 3.14, forkserver from 3.14, spawn on macOS and Windows', async () => {
      assert.strictEqual((await method(POOL, 'linux', [3, 11])).method, 'fork');
      assert.strictEqual((await method(POOL, 'linux', [3, 14])).method, 'forkserver');
      assert.strictEqual((await method(POOL, 'darwin', [3, 12])).method, 'spawn');
      assert.strictEqual((await method(POOL, 'win32', [3, 12])).method, 'spawn');
      assert.match((await method(POOL, 'darwin', [3, 12])).why, /default on macOS/);
    });

    it('set in the code with set_start_method (module level or the __main__ block) wins over the default', async () => {
      const src = 'import multiprocessing as mp\n\nif __name__ == "__main__":\n    mp.set_start_method("spawn")\n    with mp.Pool(2) as p:\n        p.map(abs, [1])\n';
      const sm = await method(src, 'linux', [3, 11]);
      assert.deepStrictEqual([sm.method, sm.source, sm.line], ['spawn', 'code', 3]);
    });

    it('PR001 explains the risk in terms of the start method in effect; a get_context pool uses its context', async () => {
      const onLinux = await analyzer.analyze(POOL, { cores: 4, platform: 'linux', pythonVersion: [3, 11] });
      const d = onLinux.diagnostics.find((x) => x.code === 'PR001')!;
      assert.match(d.message, /works here only because the start method is fork/);
      assert.match(d.message, /under spawn or forkserver/i);
      const onMac = await analyzer.analyze(POOL, { cores: 4, platform: 'darwin', pythonVersion: [3, 12] });
      assert.match(onMac.diagnostics.find((x) => x.code === 'PR001')!.message, /start method here is spawn \(the default on macOS\): every worker starts a fresh interpreter/);
      const ctx = 'import multiprocessing\nctx = multiprocessing.get_context("forkserver")\npool = ctx.Pool(2)\n';
      const viaCtx = await analyzer.analyze(ctx, { cores: 4, platform: 'linux', pythonVersion: [3, 11] });
      assert.match(viaCtx.diagnostics.find((x) => x.code === 'PR001')!.message, /start method here is forkserver \(`ctx = get_context\('forkserver'\)` on line 2\)/);
    });
  });

  describe('PR006 and "Move to a module"', () => {
    let nbFile: string;
    let source: string;
    let onMac: SourceAnalysis;
    before(async () => {
      nbFile = makeNotebook(path.join(tmp, 'tutorial.ipynb'), tutorialCells());
      source = joinCells(readNotebook(nbFile)).source;
      onMac = await analyzer.analyze(source, { cores: 4, notebook: true, workersModule: 'tutorial_workers', platform: 'darwin', pythonVersion: [3, 12] });
    });

    it('a notebook function handed to a pool: an error under spawn, a hint under fork; no PR001 in a notebook', async () => {
      assert.deepStrictEqual(onMac.diagnostics.map((d) => [d.code, d.severity]), [['PR005', 'warning'], ['PR006', 'error']]);
      const d = onMac.diagnostics[1];
      assert.match(d.message, /`matrix_loop` is defined in this notebook, and the start method here is spawn \(the default on macOS\)/);
      assert.match(d.message, /Can't get attribute 'matrix_loop' on <module '__main__'>/);
      const j = joinCells(readNotebook(nbFile));
      assert.deepStrictEqual(toCellRange(j, d.range), { cell: 4, range: { start: { line: 1, character: 23 }, end: { line: 1, character: 34 } } });
      const onLinux = await analyzer.analyze(source, { cores: 4, notebook: true, platform: 'linux', pythonVersion: [3, 11] });
      assert.deepStrictEqual(onLinux.diagnostics.map((d) => [d.code, d.severity]), [['PR005', 'warning'], ['PR006', 'information']]);
      assert.match(onLinux.diagnostics[1].message, /works here only because the start method is fork/);
      // the same code as a script: PR001, no PR006
      const asScript = await analyzer.analyze(source, { cores: 4, platform: 'darwin', pythonVersion: [3, 12] });
      assert.deepStrictEqual(asScript.diagnostics.map((d) => d.code).sort(), ['PR001', 'PR005']);
    });

    it('the notebook fails under spawn as written, and runs with the fix applied (module written beside it)', () => {
      const before = fs.mkdtempSync(path.join(tmp, 'before-'));
      // the workers die unpickling the task and the pool waits for ever: stopped after 15 s
      const failed = runAsKernelUnderSpawn(source, before, 15_000);
      assert.notStrictEqual(failed.status, 0);
      assert.match(failed.stderr, /Can't get attribute 'matrix_loop'/);

      const fix = onMac.diagnostics[1].fixes[0];
      assert.strictEqual(fix.title, 'Move `matrix_loop` to a module (tutorial_workers.py) (with `row_sum`)');
      const fixed = applySourceEdits(source, fix.edits);
      assert.match(fixed, /^from tutorial_workers import row_sum, matrix_loop$/m);
      assert.doesNotMatch(fixed, /def matrix_loop/);
      const dir = fs.mkdtempSync(path.join(tmp, 'after-'));
      for (const f of fix.files!) fs.writeFileSync(path.join(dir, f.name), f.text);
      assert.match(fix.files![0].text, /^import numpy as np$/m);
      assert.match(fix.files![0].text, /^FACTOR = 2$/m);
      const ok = runAsKernelUnderSpawn(fixed, dir);
      assert.strictEqual(ok.status, 0, ok.stderr);
      assert.strictEqual(ok.stdout.trim(), '[0.0, 2.0, 6.0, 12.0, 20.0, 30.0, 42.0, 56.0, 72.0, 90.0]');
    });

    it('the fix maps onto the cells (edits per cell), and re-analysis finds no PR006', async () => {
      const j = joinCells(readNotebook(nbFile));
      const fix = onMac.diagnostics[1].fixes[0];
      const perCell = splitEdits(j, fix.edits)!;
      assert.deepStrictEqual([...perCell.keys()], [3]);
      const after = await analyzer.analyze(applySourceEdits(source, fix.edits), { cores: 4, notebook: true, platform: 'darwin', pythonVersion: [3, 12] });
      assert.deepStrictEqual(after.diagnostics.map((d) => d.code), ['PR005']);
    });

    it('no fix when the function uses notebook state that cannot move (says which), still the diagnostic', async () => {
      const src = 'import multiprocessing\ndata = open("x").read()\n\ndef work(i):\n    return data[i]\n\nwith multiprocessing.Pool(2) as p:\n    p.map(work, range(3))\n';
      const a = await analyzer.analyze(src, { cores: 4, notebook: true, platform: 'darwin', pythonVersion: [3, 12] });
      const d = a.diagnostics.find((x) => x.code === 'PR006')!;
      assert.deepStrictEqual(d.fixes, []);
      assert.match(d.message, /It uses `data`, defined in the notebook by code that cannot move with it/);
    });
  });

  describe('parallel-run run --notebook (the real CLI)', () => {
    const CLI = path.join(ROOT, 'dist', 'cli.js');
    let dir: string;
    const cli = (args: string[]) => spawnSync(process.execPath, [CLI, 'run', ...args], { cwd: dir, encoding: 'utf8', timeout: 180_000, env: { ...process.env, PARALLEL_RUN_PYTHON: PYTHON } });
    before(() => {
      dir = fs.mkdtempSync(path.join(tmp, 'cli-'));
      fs.mkdirSync(path.join(dir, 'data'));
      for (let i = 1; i <= 6; i++) fs.writeFileSync(path.join(dir, 'data', `f${i}.txt`), `${i} ${i * 10}\n`);
      makeNotebook(path.join(dir, 'analysis.ipynb'), [
        { type: 'markdown', source: '# Sum the numbers of one file' },
        { type: 'code', source: '%matplotlib inline\nimport os\nimport numpy as np' },
        { type: 'code', source: 'path = "data/example.txt"\nscale = 1', tags: ['parameters'] },
        { type: 'code', source: 'total = np.loadtxt(path).sum() * scale\nprint(os.path.basename(path), float(total))' },
      ]);
    });

    for (const warm of [false, true]) {
      it(`runs the notebook once per file${warm ? ' in warm workers' : ''}: journal, report, resume skips what succeeded`, () => {
        const out = path.join(dir, warm ? 'run-warm' : 'run-cold');
        const r = cli(['--notebook', 'analysis.ipynb', '-j', '2', '-k', '--out', out, ...(warm ? ['--warm'] : []), ':::', ...[1, 2, 3, 4].map((i) => `data/f${i}.txt`)]);
        assert.strictEqual(r.status, 0, r.stderr);
        assert.deepStrictEqual(r.stdout.trim().split('\n'), ['f1.txt 11.0', 'f2.txt 22.0', 'f3.txt 33.0', 'f4.txt 44.0']);
        const report = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8'));
        assert.strictEqual(report.tasks.filter((t: { status: string }) => t.status === 'succeeded').length, 4);
        assert.match(report.command.script, /analysis\.ipynb-[0-9a-f]{8}\.py$/);
        const again = cli(['--notebook', 'analysis.ipynb', '-j', '2', '--out', out, '--resume', ...(warm ? ['--warm'] : []), ':::', ...[1, 2, 3, 4, 5].map((i) => `data/f${i}.txt`)]);
        assert.strictEqual(again.status, 0, again.stderr);
        assert.strictEqual(again.stdout.trim(), 'f5.txt 55.0', 'only the new file ran');
      });
    }

    it('named inputs (--grid) go to their own names, cast to the default\'s type; the file to the first name', () => {
      const r = cli(['--notebook', 'analysis.ipynb', '-k', '--grid', 'scale=2,0.5', ':::', 'data/f1.txt']);
      assert.strictEqual(r.status, 0, r.stderr);
      assert.deepStrictEqual(r.stdout.trim().split('\n'), ['f1.txt 22.0', 'f1.txt 5.5']);
    });

    it('refuses before the run (exit 2, nothing started): a shell escape with its cell and line, an unknown --file-var or grid name', () => {
      makeNotebook(path.join(dir, 'shell.ipynb'), [
        { type: 'code', source: 'path = "x"', tags: ['parameters'] },
        { type: 'code', source: 'import os\n!ls data' },
      ]);
      const runs = path.join(dir, '.parallel-run', 'runs');
      const before = fs.existsSync(runs) ? fs.readdirSync(runs).length : 0;
      const shell = cli(['--notebook', 'shell.ipynb', ':::', 'data/f1.txt']);
      assert.strictEqual(shell.status, 2);
      assert.match(shell.stderr, /cell 2, line 2: !ls data/);
      const fileVar = cli(['--notebook', 'analysis.ipynb', '--file-var', 'input', ':::', 'data/f1.txt']);
      assert.strictEqual(fileVar.status, 2);
      assert.match(fileVar.stderr, /"input" is not assigned in the "parameters" cell of analysis\.ipynb \(cell 3\), which defines "path", "scale"/);
      const grid = cli(['--notebook', 'analysis.ipynb', '--grid', 'alpha=1,2', ':::', 'data/f1.txt']);
      assert.strictEqual(grid.status, 2);
      assert.match(grid.stderr, /"alpha" is not assigned/);
      assert.strictEqual(fs.existsSync(runs) ? fs.readdirSync(runs).length : 0, before, 'no run directory made');
    });

    it('--save-notebooks writes an executed copy per file with its outputs (nbclient + ipykernel from Debian)', function () {
      if (spawnSync(DEBIAN_PYTHON, ['-c', 'import nbclient, ipykernel, numpy'], { encoding: 'utf8' }).status !== 0) {
        makeNotebook(path.join(dir, 'plain.ipynb'), [
          { type: 'code', source: 'path = "x"', tags: ['parameters'] },
          { type: 'code', source: 'print(open(path).read().split()[0])' },
        ]);
      }
      const nb = spawnSync(DEBIAN_PYTHON, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0 ? 'analysis.ipynb' : 'plain.ipynb';
      const r = cli(['--notebook', nb, '--save-notebooks', '--python', DEBIAN_PYTHON, '-j', '2', ':::', 'data/f1.txt', 'data/f2.txt']);
      assert.strictEqual(r.status, 0, r.stderr);
      // the copies mirror the inputs' paths (relative to the notebook's folder)
      const outputs = path.join(dir, `${nb.replace('.ipynb', '')}-outputs`, 'data');
      assert.deepStrictEqual(fs.readdirSync(outputs).sort(), ['f1.ipynb', 'f2.ipynb']);
      const executed = JSON.parse(fs.readFileSync(path.join(outputs, 'f2.ipynb'), 'utf8'));
      const injected = executed.cells.find((c: { metadata: { tags?: string[] } }) => c.metadata.tags?.includes('injected-parameters'));
      assert.match(injected.source.join ? injected.source.join('') : injected.source, /path = '.*f2\.txt'/);
      const last = executed.cells[executed.cells.length - 1];
      assert.match(last.outputs.map((o: { text?: string | string[] }) => (Array.isArray(o.text) ? o.text.join('') : o.text ?? '')).join(''), nb === 'plain.ipynb' ? /^2\n$/ : /f2\.txt 22\.0/);
    });

    it('--save-notebooks: inputs with the same name in different folders keep their own executed copies', function () {
      makeNotebook(path.join(dir, 'first.ipynb'), [
        { type: 'code', source: 'path = "x"', tags: ['parameters'] },
        { type: 'code', source: 'print(open(path).read().split()[0])' },
      ]);
      for (const [sub, text] of [['a', 'from-a'], ['b', 'from-b'], ['b/deep', 'from-deep']]) {
        fs.mkdirSync(path.join(dir, sub), { recursive: true });
        fs.writeFileSync(path.join(dir, sub, 'same.txt'), `${text}\n`);
      }
      const outside = fs.mkdtempSync(path.join(tmp, 'outside-'));
      fs.writeFileSync(path.join(outside, 'same.txt'), 'from-outside\n');
      const r = cli(['--notebook', 'first.ipynb', '--save-notebooks', '--python', DEBIAN_PYTHON, '-j', '2', ':::', 'a/same.txt', 'b/same.txt', 'b/deep/same.txt', path.join(outside, 'same.txt')]);
      assert.strictEqual(r.status, 0, r.stderr);
      const outputs = path.join(dir, 'first-outputs');
      const printed = (rel: string) => {
        const nb = JSON.parse(fs.readFileSync(path.join(outputs, rel), 'utf8'));
        return nb.cells[nb.cells.length - 1].outputs.map((o: { text?: string | string[] }) => (Array.isArray(o.text) ? o.text.join('') : o.text ?? '')).join('');
      };
      assert.strictEqual(printed('a/same.ipynb'), 'from-a\n');
      assert.strictEqual(printed('b/same.ipynb'), 'from-b\n');
      assert.strictEqual(printed('b/deep/same.ipynb'), 'from-deep\n');
      // outside the notebook's and the working folder: its absolute path, mirrored
      assert.strictEqual(printed(path.join(outside.slice(1), 'same.ipynb')), 'from-outside\n');
    });
  });
});
