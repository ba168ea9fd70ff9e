// Notebooks: (1) how long lenses/diagnostics wait after an edit in a 200-cell notebook (the cells
// joined into one module, then analysed by the long-lived analyzer), against the same code as a .py
// file (the peer: what a script of that size costs); aim: under 300 ms. (2) Run Notebook over Files,
// warm, over 300 inputs of a numpy notebook, against the same code run as a warm --script: the
// per-input cost ratio; aim: within 1.2x. Rounds are interleaved (notebook, script, notebook, ...).
//
//   node bench/notebook.js [--cells 200] [--repeat 9] [--inputs 300] [--rounds 3] [--jobs N]
//
// Writes bench/results/notebook.json. Needs the builds (out/ for core, dist/cli.js for runs) and
// /usr/bin/python3 with python3-nbformat (the notebooks are written with it, as Jupyter writes them).
'use strict';
const { execFileSync, spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const argv = process.argv.slice(2);
const opt = (name, dflt) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : dflt);
const CELLS = Number(opt('--cells', 200));
const REPEAT = Number(opt('--repeat', 9));
const INPUTS = Number(opt('--inputs', 300));
const ROUNDS = Number(opt('--rounds', 4));
const JOBS = opt('--jobs', String(os.cpus().length));
const { SourceAnalyzer } = require('../out/extension/core/python/sourceAnalysis');
const { joinCells, readNotebook } = require('../out/extension/core/python/notebook');

const PYTHON = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
const SCRIPT = path.join(ROOT, 'media', 'python', 'analyze_source.py');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const MAKE = path.join(ROOT, 'test', 'fixtures', 'notebooks', 'make_notebook.py');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'editor');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pr-bench-nb-'));

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const now = () => Number(process.hrtime.bigint()) / 1e6;
const ratio = (a, b) => `${(a / b).toFixed(2)}x`;

function writeNotebook(file, cells) {
  execFileSync('/usr/bin/python3', [MAKE, file], { input: JSON.stringify(cells) });
  return file;
}

/** 200 cells of real pool code (the editor fixtures cut into cells, functions renamed), with markdown between. */
function bigNotebookCells() {
  const pieces = ['unclosed_pool.py', 'lost_results.py', 'neg_good_patterns.py', 'file_loops.py', 'neg_close_join.py', 'collect_loops.py']
    .map((f) => fs.readFileSync(path.join(FIXTURES, f), 'utf8').replace(/if __name__ == "__main__":[\s\S]*$/, ''))
    .flatMap((src) => src.split(/\n(?=def |import |from |[A-Z_]+ = )/).filter((c) => c.trim()));
  const cells = [{ type: 'code', source: '%matplotlib inline\nimport multiprocessing\nimport os', tags: ['parameters'] }];
  let n = 0;
  for (let i = 0; cells.length < CELLS; i++) {
    if (i % 5 === 4) cells.push({ type: 'markdown', source: `## Section ${i}` });
    else cells.push({ type: 'code', source: pieces[i % pieces.length].replace(/def (\w+)/g, (_, name) => `def ${name}_${n++}`).trim() });
  }
  return cells;
}

async function analysisBench() {
  const nbFile = writeNotebook(path.join(tmp, 'big.ipynb'), bigNotebookCells());
  const cells = readNotebook(nbFile);
  const lines = joinCells(cells).source.split('\n').length;
  const analyzer = new SourceAnalyzer({ python: PYTHON, script: SCRIPT });
  const nbTimes = [];
  const pyTimes = [];
  try {
    await analyzer.analyze('x = 1\n', { cores: 8 }); // the process is up (the editor keeps it running)
    for (let r = 0; r < REPEAT; r++) {
      // an edit: one cell's text changes, so the notebook is joined and analysed again
      const edited = cells.map((c, i) => (i === 7 ? { ...c, source: `${c.source}\nedit_${r} = ${r}` } : c));
      let t = now();
      const j = joinCells(edited);
      const a = await analyzer.analyze(j.source, { cores: 8, notebook: true, workersModule: 'big_workers' });
      nbTimes.push(now() - t);
      if (a.syntaxError) throw new Error(`the bench notebook does not parse: ${a.syntaxError.message}`);
      // the peer: the same code as a script of the same size
      t = now();
      await analyzer.analyze(j.source, { cores: 8 });
      pyTimes.push(now() - t);
    }
  } finally {
    analyzer.dispose();
  }
  const nb = median(nbTimes);
  const py = median(pyTimes);
  console.log(`analysis after an edit, ${cells.length}-cell notebook (${lines} lines): median ${nb.toFixed(1)} ms (aim: under 300 ms: ${nb < 300 ? 'met' : 'NOT met'}, ${ratio(nb, 300)} of the budget)`);
  console.log(`  same code as a .py file: median ${py.toFixed(1)} ms; notebook / script = ${ratio(nb, py)}`);
  return { cells: cells.length, lines, notebookMs: nb, scriptMs: py, budgetMs: 300 };
}

function runBench() {
  const dir = path.join(tmp, 'run');
  fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
  for (let i = 0; i < INPUTS; i++) fs.writeFileSync(path.join(dir, 'data', `x${String(i).padStart(4, '0')}.txt`), `${i} ${i + 1} ${i + 2}\n`);
  const imports = 'import os\nimport numpy as np';
  const params = 'path = "data/example.txt"';
  const work = 'a = np.loadtxt(path)\nm = np.outer(a, a) @ np.eye(3)\nprint(os.path.basename(path), float(m.sum()))';
  writeNotebook(path.join(dir, 'numpy.ipynb'), [
    { type: 'markdown', source: '# One input file' },
    { type: 'code', source: imports },
    { type: 'code', source: params, tags: ['parameters'] },
    { type: 'code', source: work },
  ]);
  // the same code as a script: the input from sys.argv[1]
  fs.writeFileSync(path.join(dir, 'numpy_script.py'), `${imports}\nimport sys\n${params}\npath = sys.argv[1]\n${work}\n`);
  const files = fs.readdirSync(path.join(dir, 'data')).map((f) => path.join('data', f));
  const listFile = path.join(dir, 'inputs.txt');
  fs.writeFileSync(listFile, files.join('\n') + '\n');
  const env = { ...process.env, PARALLEL_RUN_PYTHON: PYTHON, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' };
  const once = (what) => {
    const args = what === 'notebook' ? ['--notebook', 'numpy.ipynb'] : ['--script', 'numpy_script.py'];
    const t = now();
    const r = spawnSync(process.execPath, [CLI, 'run', ...args, '--warm', '-j', JOBS, '-q', '--files-from', listFile], { cwd: dir, env, encoding: 'utf8', maxBuffer: 64 << 20 });
    const ms = now() - t;
    if (r.status !== 0) throw new Error(`${what} run failed (${r.status}): ${r.stderr}`);
    return ms / INPUTS;
  };
  once('notebook'); // the generated script exists and the page cache is warm for both
  const nb = [];
  const py = [];
  for (let r = 0; r < ROUNDS; r++) {
    // alternate which goes first, so neither always runs on a page cache the other warmed
    if (r % 2) py.push(once('script'));
    nb.push(once('notebook'));
    if (!(r % 2)) py.push(once('script'));
  }
  const n = median(nb);
  const s = median(py);
  console.log(`warm run over ${INPUTS} inputs (-j ${JOBS}), per input: notebook ${n.toFixed(2)} ms, same code as a --script ${s.toFixed(2)} ms`);
  console.log(`  notebook / script = ${ratio(n, s)} (aim: within 1.2x: ${n / s <= 1.2 ? 'met' : 'NOT met'})`);
  return { inputs: INPUTS, jobs: Number(JOBS), notebookMsPerInput: n, scriptMsPerInput: s, ratio: n / s, rounds: ROUNDS };
}

(async () => {
  try {
    const analysis = await analysisBench();
    const run = runBench();
    const out = path.join(__dirname, 'results');
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(path.join(out, 'notebook.json'), JSON.stringify({ analysis, run }, null, 2));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
