/**
 * Warm Python workers against cold ones on the same files: same statuses, exit codes, stdout/stderr,
 * output files and env; warm tasks are forked from a host that imported the script's imports once.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { startRun } from '../../extension/core/run/engine';
import { RunReport } from '../../extension/core/run/types';
import { collect, FIXTURES, PYTHON, tmpDir, WORKERS_DIR, writeFiles } from './engineHelpers';

async function run(dir: string, warm: boolean): Promise<RunReport> {
  const h = await startRun({
    command: { kind: 'python', python: PYTHON, script: path.join(FIXTURES, 'count_words.py'), args: [path.join(dir, warm ? 'res-warm' : 'res-cold')], warm },
    files: { kind: 'list', files: ['in/a.txt', 'in/b.txt', 'in/empty.txt', 'in/boom.txt', 'in/c d.txt'] },
    cwd: dir,
    outDir: path.join(dir, warm ? 'warm' : 'cold'),
    workersDir: WORKERS_DIR,
    workers: 2,
  });
  return (await collect(h)).report;
}

describe('engine: warm Python workers', function () {
  this.timeout(60_000);

  it('give the same results as cold runs (status, exit code, stdout, stderr, outputs, env)', async () => {
    const dir = tmpDir('pr-warm-');
    writeFiles(dir, { 'in/a.txt': 'one two three', 'in/b.txt': 'four', 'in/empty.txt': '', 'in/boom.txt': 'x', 'in/c d.txt': 'five six' });
    const cold = await run(dir, false);
    const warm = await run(dir, true);
    assert.deepStrictEqual(warm.notes, []);
    const byIndex = (r: RunReport) => [...r.tasks].sort((a, b) => a.index - b.index);
    const c = byIndex(cold);
    const w = byIndex(warm);
    assert.strictEqual(w.length, 5);
    for (let i = 0; i < c.length; i++) {
      assert.strictEqual(w[i].mode, 'warm');
      assert.strictEqual(c[i].mode, 'cold');
      assert.strictEqual(w[i].file, c[i].file);
      assert.strictEqual(w[i].status, c[i].status, c[i].file);
      assert.strictEqual(w[i].exitCode, c[i].exitCode, c[i].file);
      const out = (r: RunReport, t: typeof c[0]) => fs.readFileSync(path.join(dir, r === cold ? 'cold' : 'warm', t.stdoutLog), 'utf8').replace(/res-(warm|cold)/g, 'res');
      assert.strictEqual(out(warm, w[i]), out(cold, c[i]), `stdout of ${c[i].file}`);
      // tracebacks name the same error (frames differ: runpy vs the interpreter's own start-up)
      const lastLine = (s: string) => s.trim().split('\n').slice(-1)[0] ?? '';
      assert.strictEqual(lastLine(w[i].stderrTail), lastLine(c[i].stderrTail), `stderr of ${c[i].file}`);
      assert.ok(w[i].maxRssKb! > 0 && c[i].maxRssKb! > 0);
    }
    assert.match(w.find((t) => t.file.includes('boom'))!.stderrTail, /ValueError: boom: in\/boom\.txt/);
    assert.strictEqual(w.find((t) => t.file.includes('empty'))!.exitCode, 3);
    const outputs = (sub: string) => fs.readdirSync(path.join(dir, sub)).sort().map((f) => [f, fs.readFileSync(path.join(dir, sub, f), 'utf8').replace(/res-(warm|cold)/g, 'res')]);
    assert.deepStrictEqual(outputs('res-warm'), outputs('res-cold'));
    assert.strictEqual(JSON.parse(fs.readFileSync(path.join(dir, 'res-warm', 'a.txt.json'), 'utf8')).main, '__main__');
    assert.deepStrictEqual({ ...warm.counts, total: warm.counts.total }, { ...cold.counts });
  });

  it('finish a task as interpreter exit does: a file the script left open is flushed and closed', async () => {
    const dir = tmpDir('pr-warm-');
    const script = `
import sys
out = sys.argv[1] + ".res"
left_open = open(out + ".global", "w")  # never closed: the interpreter's exit flushes and closes it
left_open.write("global " + open(sys.argv[1]).read())

class Node:
    def __init__(self):
        self.me = self  # a reference cycle: only the collector frees it
        self.f = open(out + ".cycle", "w")
        self.f.write("cycle")

Node()  # unreachable at once: Python's exit does not flush this one either (it stays empty in both modes)
`;
    writeFiles(dir, { 's.py': script, 'in/a.txt': 'one', 'in/b.txt': 'two' });
    const results: Record<string, string[][]> = {};
    for (const warm of [false, true]) {
      const r = (await collect(await startRun({
        command: { kind: 'python', python: PYTHON, script: path.join(dir, 's.py'), args: [], warm },
        files: { kind: 'globs', patterns: ['in/*.txt'], cwd: dir },
        cwd: dir,
        outDir: path.join(dir, warm ? 'warm' : 'cold'),
        workersDir: WORKERS_DIR,
        workers: 2,
      }))).report;
      assert.strictEqual(r.counts.succeeded, 2, JSON.stringify(r.failures));
      const names = fs.readdirSync(path.join(dir, 'in')).filter((f) => f.includes('.res')).sort();
      results[warm ? 'warm' : 'cold'] = names.map((f) => [f, fs.readFileSync(path.join(dir, 'in', f), 'utf8')]);
      for (const f of names) fs.rmSync(path.join(dir, 'in', f));
    }
    assert.deepStrictEqual(results.cold.filter(([f]) => f.endsWith('.global')).map(([, t]) => t), ['global one', 'global two'], JSON.stringify(results.cold));
    assert.deepStrictEqual(results.warm, results.cold);
  });

  it('pay the imports once per worker: a numpy-importing script starts faster warm', async () => {
    const dir = tmpDir('pr-warm-');
    const files: Record<string, string> = {};
    for (let i = 0; i < 6; i++) files[`in/${i}.txt`] = String(i);
    writeFiles(dir, files);
    const script = path.join(dir, 'np.py');
    fs.writeFileSync(script, 'import sys\nimport numpy as np\nprint(int(np.arange(int(open(sys.argv[1]).read()) + 1).sum()), "numpy" in sys.modules)\n');
    const go = async (warm: boolean) => (await collect(await startRun({
      command: { kind: 'python', python: PYTHON, script, args: [], warm },
      files: { kind: 'globs', patterns: ['in/*.txt'], cwd: dir },
      cwd: dir, outDir: path.join(dir, warm ? 'w' : 'c'), workersDir: WORKERS_DIR, workers: 2,
    }))).report;
    const cold = await go(false);
    const warm = await go(true);
    for (const r of [cold, warm]) assert.strictEqual(r.counts.succeeded, 6, JSON.stringify(r.failures));
    const sums = (r: RunReport) => r.tasks.map((t) => t.stdoutTail).sort();
    assert.deepStrictEqual(sums(warm), sums(cold));
    // the import of numpy happened in the host, not in each task: far less CPU per task
    const cpu = (r: RunReport) => r.tasks.reduce((s, t) => s + t.cpuUserSec + t.cpuSysSec, 0);
    assert.ok(cpu(warm) < cpu(cold) / 2, `warm task CPU ${cpu(warm).toFixed(3)} s vs cold ${cpu(cold).toFixed(3)} s`);
  });
  it('pre-import the submodules a `from pkg import sub` names (not only the package): over a grid, the host imports them once', async () => {
    const dir = tmpDir('pr-warm-');
    // pkg/sub.py logs every import of itself: in the host once, or (before) in every forked task
    writeFiles(dir, {
      'pkg/__init__.py': '',
      'pkg/sub.py': 'import os\nwith open(os.path.join(os.path.dirname(__file__), "..", "imports.log"), "a") as f:\n    f.write("%d\\n" % os.getpid())\ndef f(a, b):\n    return float(a) * float(b)\n',
      'lik.py': 'import json, sys\nfrom pkg import sub\nprint(json.dumps({"v": sub.f(sys.argv[1], sys.argv[2])}))\n',
    });
    const h = await startRun({
      command: { kind: 'python', python: PYTHON, script: path.join(dir, 'lik.py'), args: ['{a}', '{b}'], warm: true },
      files: { kind: 'list', files: [] },
      inputs: { sources: [{ kind: 'grid', name: 'a', values: ['1', '2', '3'] }, { kind: 'grid', name: 'b', values: ['0.5', '2'] }] },
      cwd: dir, outDir: path.join(dir, 'run'), workersDir: WORKERS_DIR, workers: 1,
    });
    const { report } = await collect(h);
    assert.strictEqual(report.counts.succeeded, 6, JSON.stringify(report.failures));
    assert.deepStrictEqual(report.tasks.map((t) => t.result?.v).sort(), [0.5, 1, 1.5, 2, 4, 6]);
    const imports = fs.readFileSync(path.join(dir, 'imports.log'), 'utf8').trim().split('\n');
    assert.strictEqual(imports.length, 1, `pkg.sub imported by ${imports.length} processes (the host, and each task?)`);
  });
});
