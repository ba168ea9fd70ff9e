/**
 * Results: what a task reports (last stdout line, $PARALLEL_RUN_RESULT file, scalars, malformed
 * lines, lines longer than the kept tail), rows and CSV that round-trip through csv-parse (quotes,
 * commas, newlines), and through the real CLI: a row per tuple as tasks finish, exactly once after a
 * SIGKILL and --resume (the journal is the source of truth), cold and warm giving the same table.
 */
import * as assert from 'assert';
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { stringify } from 'csv-stringify/sync';
import { csvLines, parsePythonJson, readCsv, readTaskResult, resultRow, ResultsWriter } from '../../extension/core/run/results';
import { TaskRecord } from '../../extension/core/run/types';
import { CLI, journalLines, PYTHON, tmpDir, waitFor, writeFiles } from './engineHelpers';

function cli(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 100_000, env: { ...process.env, PARALLEL_RUN_PYTHON: PYTHON } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function record(over: Partial<TaskRecord>): TaskRecord {
  return {
    index: 1, file: 'f', slot: 1, status: 'succeeded', attempts: 1, start: 0, end: 1500, wallMs: 1500, exitCode: 0, signal: null,
    cpuUserSec: 0, cpuSysSec: 0, maxRssKb: 20480, stdoutTail: '', stderrTail: '', stdoutLog: 'logs/1.out', stderrLog: 'logs/1.err', threadEnv: {}, mode: 'cold', ...over,
  };
}

/** results.csv as rows of named cells, without the measures that differ from run to run */
function table(file: string): Array<Record<string, string>> {
  const { columns, rows } = readCsv(fs.readFileSync(file, 'utf8'));
  return rows.map((r) => Object.fromEntries(columns.map((c, i) => [c, r[i]]).filter(([c]) => c !== 'seconds' && c !== 'max_rss_mb')));
}

describe('results: what a task reports', () => {
  it("keeps a result Python's json.dumps wrote with NaN or ±Infinity (not JSON): those values become text", () => {
    const line = spawnSync(PYTHON, ['-c', 'import json; print(json.dumps({"ll": float("-inf"), "fit": float("nan"), "big": float("inf"), "s": "NaN and -Infinity stay", "n": 2}))'], { encoding: 'utf8' }).stdout;
    assert.strictEqual(line.trim(), '{"ll": -Infinity, "fit": NaN, "big": Infinity, "s": "NaN and -Infinity stay", "n": 2}');
    const log = path.join(tmpDir('pr-results-'), 'x.out');
    assert.deepStrictEqual(readTaskResult(line, 4096, log), { result: { ll: '-Infinity', fit: 'NaN', big: 'Infinity', s: 'NaN and -Infinity stay', n: 2 } });
    assert.deepStrictEqual(parsePythonJson('[1, NaN]'), [1, 'NaN']);
    assert.throws(() => parsePythonJson('{"a": NaN'), SyntaxError, 'still not JSON: the error of the strict parse');
    assert.match(readTaskResult('{"ll": nan}\n', 4096, log).note!, /looks like JSON but is not/);
  });

  it('reads the last stdout line, a result file, scalars; notes a malformed line; ignores plain output', () => {
    const dir = tmpDir('pr-results-');
    const log = path.join(dir, 'x.out');
    assert.deepStrictEqual(readTaskResult('progress 1\n{"ll": -2.5, "n": [1]}\n\n', 4096, log), { result: { ll: -2.5, n: [1] } });
    assert.deepStrictEqual(readTaskResult('just text\n', 4096, log), {});
    assert.deepStrictEqual(readTaskResult('', 4096, log), {});
    assert.match(readTaskResult('{"ll": \n', 4096, log).note!, /looks like JSON but is not/);
    const rf = path.join(dir, 'r.json');
    fs.writeFileSync(rf, '3.25');
    assert.deepStrictEqual(readTaskResult('{"ignored": 1}', 4096, log, rf), { result: { result: 3.25 } }, 'the file wins; a scalar becomes result');
    fs.writeFileSync(rf, '{oops');
    assert.match(readTaskResult('', 4096, log, rf).note!, /PARALLEL_RUN_RESULT file is not valid JSON/);
    assert.deepStrictEqual(readTaskResult('{"a": 1}', 4096, log, path.join(dir, 'none.json')), { result: { a: 1 } }, 'no file written: stdout');
    // a last line longer than the tail the engine keeps is read back from the log
    const big = JSON.stringify({ v: 'x'.repeat(10_000) });
    fs.writeFileSync(log, `hello\n${big}\n`);
    assert.deepStrictEqual(readTaskResult(big.slice(-4096) + '\n', 4096, log), { result: { v: 'x'.repeat(10_000) } });
  });

  it('makes rows (inputs, measures, result keys renamed on a clash) that round-trip through CSV', async () => {
    const row = resultRow(record({ inputs: ['a,b', 'say "hi"\nthere'], result: { status: 'own', ll: -1, nested: { k: [1, 2] } } }), ['p', 'q']);
    assert.deepStrictEqual(row, { p: 'a,b', q: 'say "hi"\nthere', status: 'succeeded', seconds: 1.5, max_rss_mb: 20, result_status: 'own', ll: -1, nested: { k: [1, 2] }, log: 'logs/1.out' });
    assert.strictEqual(resultRow(record({ status: 'failed' }), ['file']).log, 'logs/1.err', 'a failed row points at its error log');
    const dir = tmpDir('pr-results-');
    const w = new ResultsWriter(dir, ['p', 'q']);
    await w.open(path.join(dir, 'no-journal'), 'fp', false);
    w.add(record({ inputs: ['a,b', 'say "hi"\nthere'], result: { ll: -1 } }));
    w.add(record({ index: 2, inputs: ['', ','], result: { ll: 2, nested: { k: [1, 2] } } }));
    await w.close(path.join(dir, 'no-journal'), 'fp');
    const csv = readCsv(fs.readFileSync(path.join(dir, 'results.csv'), 'utf8'));
    assert.deepStrictEqual(csv.columns, ['p', 'q', 'status', 'seconds', 'max_rss_mb', 'll', 'nested'], 'a new column rewrote the header');
    assert.deepStrictEqual(csv.rows, [['a,b', 'say "hi"\nthere', 'succeeded', '1.5', '20', '-1', ''], ['', ',', 'succeeded', '1.5', '20', '2', '{"k":[1,2]}']]);
  });

  it('corked: rows wait in memory and go in one write per file; a new column meanwhile still rewrites a complete results.csv', async () => {
    const dir = tmpDir('pr-results-');
    const write = async (out: string, corkAt: number[]) => {
      fs.mkdirSync(path.join(dir, out));
      const w = new ResultsWriter(path.join(dir, out), ['p']);
      await w.open(path.join(dir, 'no-journal'), 'fp', false);
      for (let i = 1; i <= 6; i++) {
        if (corkAt.includes(i)) w.cork();
        // row 4 brings a new column (a rewrite of results.csv while rows are held)
        w.add(record({ index: i, inputs: [String(i)], result: i >= 4 ? { ll: i, extra: i } : { ll: i } }));
        if (i === 5 && corkAt.includes(5)) assert.doesNotMatch(fs.readFileSync(path.join(dir, out, 'results.ndjson'), 'utf8'), /"p":"5"/, 'nothing written while corked');
        if (i === 2 || i === 6) w.uncork();
      }
      await w.close(path.join(dir, 'no-journal'), 'fp');
      return ['results.csv', 'results.ndjson'].map((f) => fs.readFileSync(path.join(dir, out, f), 'utf8'));
    };
    const plain = await write('plain', []);
    assert.deepStrictEqual(await write('corked', [1, 3, 5]), plain);
    assert.deepStrictEqual(readCsv(plain[0]).columns, ['p', 'status', 'seconds', 'max_rss_mb', 'll', 'extra']);
    assert.strictEqual(readCsv(plain[0]).rows.length, 6);
  });

  it('writes the CSV lines csv-stringify writes, for plain cells and cells that need quotes', () => {
    const samples = ['', ' ', 'a b', ' x ', '=1+2', 'é', 'a\tb', '#x', '\u2028', '\ufeffbom', 'a;b', "it's", '\\', 'a,b', 'say "hi"', 'two\nlines', 'cr\r', '"', ',', '-0', 'null'];
    let seed = 7;
    const pick = () => samples[(seed = (seed * 1103515245 + 12345) % 2 ** 31) % samples.length];
    const rowsOf = (n: number, cols: string[]) => Array.from({ length: n }, () => Object.fromEntries(cols.map((c) => [c, pick()])));
    for (const cols of [['a'], ['a', 'b'], ['a', 'b', 'c', 'd']]) {
      for (let k = 0; k < 50; k++) {
        const rows = rowsOf(1 + (k % 3), cols);
        const expected = stringify(rows.map((r) => cols.map((c) => r[c])));
        assert.strictEqual(csvLines(rows, cols), expected, JSON.stringify(rows));
      }
    }
    // numbers, null, nested values: as the cells csv-stringify got before
    const row = { n: 1.5, z: null, o: { k: [1, 'a,b'] }, b: true };
    assert.strictEqual(csvLines([row], ['n', 'z', 'o', 'b', 'missing']), stringify([['1.5', '', JSON.stringify(row.o), 'true', '']]));
  });
});

describe('results: results.csv and results.ndjson of real runs', function () {
  this.timeout(180_000);

  it('one row per tuple after a SIGKILL mid-run and --resume, consistent with the journal', async () => {
    const dir = tmpDir('pr-results-');
    writeFiles(dir, { 'lik.py': 'import sys, json, time\nmu, s = float(sys.argv[1]), float(sys.argv[2])\ntime.sleep(0.05)\nprint(json.dumps({"ll": -(mu - 0.5) ** 2 / s, "label": "a,\\"b\\"\\nc"}))\n' });
    const args = ['run', '-j', '2', '--quiet', '--out', 'out', '--warm', '--script', 'lik.py', '--grid', 'mu=0:1:0.05', '--grid', 'sigma=1:4'];
    const n = 21 * 4;
    const child: ChildProcess = spawn(process.execPath, [CLI, ...args], { cwd: dir, stdio: 'ignore', env: { ...process.env, PARALLEL_RUN_PYTHON: PYTHON } });
    const exited = new Promise<void>((r) => child.on('exit', () => r()));
    assert.ok(await waitFor(() => journalLines(path.join(dir, 'out')).length >= 10, 60_000), 'some tasks finished');
    child.kill('SIGKILL');
    await exited;
    const before = journalLines(path.join(dir, 'out')).length;
    assert.ok(before < n, `killed mid-run (${before} of ${n})`);
    const partial = table(path.join(dir, 'out', 'results.csv'));
    assert.ok(partial.length >= before - 1 && partial.length <= before, 'rows appear as tasks finish');
    const r = cli([...args, '--resume'], dir);
    assert.strictEqual(r.code, 0, r.stderr);
    const rows = table(path.join(dir, 'out', 'results.csv'));
    assert.strictEqual(rows.length, n);
    assert.strictEqual(new Set(rows.map((x) => `${x.mu}/${x.sigma}`)).size, n, 'each tuple exactly once');
    assert.ok(rows.every((x) => x.status === 'succeeded' && x.label === 'a,"b"\nc' && Number.isFinite(Number(x.ll))));
    const mine = rows.find((x) => x.mu === '0.25' && x.sigma === '2')!;
    assert.strictEqual(Number(mine.ll), -(0.25 ** 2) / 2);
    const nd = fs.readFileSync(path.join(dir, 'out', 'results.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.strictEqual(nd.length, n);
    const ok = journalLines(path.join(dir, 'out')).filter((l) => l.status === 'succeeded');
    assert.strictEqual(ok.length, n, 'the journal: one success per tuple');
    for (const l of ok) assert.ok(nd.some((x) => x.mu === l.inputs[0] && x.sigma === l.inputs[1] && x.ll === l.result.ll));
  });

  it('cold and warm runs give the same results.csv; a failed task and a silent one still get their row', () => {
    const dir = tmpDir('pr-results-');
    writeFiles(dir, { 'f.py': 'import sys, json\nk = int(sys.argv[2])\nif k == 3: sys.exit(1)\nif k == 4: print("nothing parseable")\nelse: print(json.dumps({"sq": k * k, "tag": sys.argv[1]}))\n', 'in/a b.txt': '', 'in/c.txt': '' });
    const common = ['-j', '2', '--quiet', '--files', 'in/*.txt', '--grid', 'k=1:4', '--script', 'f.py'];
    const cold = cli(['run', '--out', 'c', ...common], dir);
    const warm = cli(['run', '--out', 'w', '--warm', ...common], dir);
    assert.strictEqual(cold.code, 1, cold.stderr);
    assert.strictEqual(warm.code, 1, warm.stderr);
    const sort = (t: Array<Record<string, string>>) => t.sort((a, b) => `${a.file}${a.k}`.localeCompare(`${b.file}${b.k}`));
    const c = sort(table(path.join(dir, 'c', 'results.csv')));
    assert.deepStrictEqual(c, sort(table(path.join(dir, 'w', 'results.csv'))));
    assert.deepStrictEqual(readCsv(fs.readFileSync(path.join(dir, 'c', 'results.csv'), 'utf8')).columns, ['file', 'k', 'status', 'seconds', 'max_rss_mb', 'sq', 'tag']);
    assert.deepStrictEqual(c.filter((x) => x.file === 'in/a b.txt').map((x) => [x.k, x.status, x.sq]), [['1', 'succeeded', '1'], ['2', 'succeeded', '4'], ['3', 'failed', ''], ['4', 'succeeded', '']]);
  });
});
