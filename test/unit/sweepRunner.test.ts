import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { listRuns, readReport } from '../../extension/core/run/history';
import { formatSweep, readSweepFile, runSweep, taskSpanMs, type SweepEvent } from '../../extension/core/sweepRunner';
import type { TaskRecord } from '../../extension/core/run/types';
import { UsageError } from '../../extension/core/run/types';
import { busySentence } from '../../extension/shared/figures';

const root = path.resolve(__dirname, '../../..');
const workersDir = path.resolve(__dirname, '../../../dist/workers');
const script = path.join(root, 'test/fixtures/workspace/sweep/cpu_task.py');

describe('sweep timing of a run', () => {
  it('measures the task phase (first start to last end), not the run start-up; skipped tasks ignored', () => {
    const t = (start: number, end: number, status: TaskRecord['status'] = 'succeeded'): TaskRecord => ({ start, end, status } as TaskRecord);
    assert.strictEqual(taskSpanMs({ wallMs: 9000, tasks: [t(4000, 5000), t(4500, 6500), t(100, 200, 'skipped')] }), 2500);
    assert.strictEqual(taskSpanMs({ wallMs: 9000, tasks: [] }), 9000);
  });
});

describe('scaling sweep over a CPU-bound script (real runs through the engine)', function () {
  this.timeout(300_000);
  const python = execFileSync('python3', ['-c', 'import sys;print(sys.executable)'], { encoding: 'utf8' }).trim();
  let tmp: string;
  let files: string[];

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pr-sweep-'));
    files = [];
    for (let i = 0; i < 40; i++) {
      const f = path.join(tmp, 'in', `f${String(i).padStart(2, '0')}.txt`);
      fs.mkdirSync(path.dirname(f), { recursive: true });
      fs.writeFileSync(f, `${i}\n`);
      files.push(f);
    }
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it(`recommends ${os.availableParallelism()} workers x 1 thread, stores sweep.json and a history entry with speedupMeasured`, async () => {
    const events: SweepEvent[] = [];
    const { dir, result } = await runSweep({
      command: { kind: 'python', python, script, args: [], warm: false },
      files, cwd: tmp, runsDir: '.parallel-run/runs', workersDir, budgetSec: 25,
      onEvent: (e) => events.push(e),
    });
    const cores = os.availableParallelism();
    assert.strictEqual(result.status, 'completed');
    assert.strictEqual(result.cores.logical, cores);
    // on a quiet machine the CPU-bound script scales; on a busy one (other programs using cores) the
    // sweep may honestly recommend fewer workers, and must then say the machine was busy
    if (busySentence(result.load)) {
      assert.match(formatSweep(result), /Measure again on a quieter machine before you rely on the recommendation/);
      assert.strictEqual(result.recommendation!.threads, 1, formatSweep(result));
    } else {
      assert.deepStrictEqual([result.recommendation!.workers, result.recommendation!.threads], [cores, 1], formatSweep(result));
    }
    // every grid point measured at least twice, oversubscribed one included
    assert.strictEqual(result.points.length, result.grid.length);
    for (const p of result.points) assert.ok(p.samplesMs.length >= 2, `${p.workers}x${p.threads}`);
    assert.ok(result.points.some((p) => p.oversubscribed));
    const serial = result.points.find((p) => p.workers === 1 && p.threads === 1)!;
    assert.strictEqual(serial.speedup, 1);
    assert.ok(result.fit && result.fit.serialFraction >= 0 && result.fit.serialFraction <= 1);
    assert.ok(result.sampleFiles >= 2 && result.sampleFiles <= files.length);
    // events: probe, plan, then points
    assert.deepStrictEqual(events.slice(0, 2).map((e) => e.type), ['probe', 'plan']);
    assert.strictEqual(events.at(-1)!.type, 'done');
    // stored: sweep.json readable, the sweep dir is a run in history, with the measured speedup
    assert.deepStrictEqual((await readSweepFile(dir))!.recommendation, result.recommendation);
    const runs = await listRuns(path.join(tmp, '.parallel-run/runs'));
    assert.strictEqual(runs.length, 1, 'the points are nested, only the sweep is listed');
    assert.strictEqual(runs[0].dir, dir);
    assert.match(runs[0].label!, /Speedup sweep: python cpu_task\.py \(recommended \d × 1\)/);
    const report = (await readReport(dir))!;
    assert.ok(report.speedupMeasured && (report.speedupMeasured.value > 1 || busySentence(result.load)), JSON.stringify(report.speedupMeasured));
    assert.strictEqual(report.workers, result.recommendation!.workers);
    // the report's headline figure IS the sweep's figure for that point (one source: no 1.21× vs 1.23×)
    assert.strictEqual(report.speedupMeasured!.value, result.recommendation!.speedup);
    assert.strictEqual(report.speedupMeasured!.baselineWallMs, result.baselineMs);
    // ABBA: the first round in grid order, the second in reverse
    const key = (r: { workers: number; threads: number }) => `${r.workers}x${r.threads}`;
    const gridKeys = result.grid.map(key);
    assert.deepStrictEqual(result.runs.filter((r) => r.round === 0).map(key), gridKeys);
    assert.deepStrictEqual(result.runs.filter((r) => r.round === 1).map(key), [...gridKeys].reverse());
    // the machine's load was sampled before and during, and each measurement has its own figure
    if (process.platform === 'linux') {
      assert.ok(result.load && result.load.beforeCores !== null && result.load.duringCores !== null, JSON.stringify(result.load));
      assert.ok(result.runs.every((r) => typeof r.othersCores === 'number'));
      assert.deepStrictEqual(report.load, result.load, 'the sweep report\'s header states the load');
    }
    const md = formatSweep(result);
    assert.match(md, /\*\*Recommended: \d workers? × 1 thread \([\d.]+× faster than 1 worker × 1 thread on \d cores\)\*\*/);
    assert.ok(md.includes(result.fitVerdict!.sentence));
    assert.match(md, /oversubscribed/);
  });

  it('cancel stops the sweep and still writes what was measured', async () => {
    const ac = new AbortController();
    const { result, dir } = await runSweep({
      command: { kind: 'python', python, script, args: [], warm: false },
      files, cwd: tmp, runsDir: 'cancelled-runs', workersDir, budgetSec: 30, signal: ac.signal,
      onEvent: (e) => { if (e.type === 'pointStarted' && e.step === 1) setTimeout(() => ac.abort(), 100); },
    });
    assert.strictEqual(result.status, 'cancelled');
    assert.ok(fs.existsSync(path.join(dir, 'sweep.json')));
    assert.ok(result.points.length <= 1);
  });

  it('bad input is a UsageError naming the fix', async () => {
    await assert.rejects(runSweep({ command: { kind: 'template', argv: ['true'] }, files: [], cwd: tmp, runsDir: 'r', workersDir }),
      (e: Error) => e instanceof UsageError && /no input files matched/.test(e.message));
    await assert.rejects(runSweep({ command: { kind: 'template', argv: ['true'] }, files: ['a'], cwd: tmp, runsDir: 'r', workersDir, budgetSec: 0 }),
      /budget 0 s must be positive/);
  });

  it('a run over tuples (files × --grid) samples whole tuples: every configuration runs the same tuples, each as one task with all its values', async () => {
    const mine = fs.mkdtempSync(path.join(tmp, 'tuples-'));
    const echo = path.join(mine, 'echo.py');
    fs.writeFileSync(echo, 'import json, sys\nprint(json.dumps({"argv": sys.argv[1:]}))\n');
    const { dir, result } = await runSweep({
      command: { kind: 'python', python, script: echo, args: ['--file', '{1}', '--scale', '{scale}'], warm: false },
      files: [],
      inputs: { sources: [{ kind: 'files', source: { kind: 'list', files: files.slice(0, 6) } }, { kind: 'grid', name: 'scale', values: ['1', '2.5', '10'] }] },
      cwd: mine, runsDir: 'runs', workersDir, budgetSec: 8, varyThreads: false, repeatPolicy: { minRepeats: 1, maxRepeats: 1 },
    });
    assert.strictEqual(result.status, 'completed', result.notes.join(' '));
    assert.strictEqual(result.totalFiles, 18, '6 files × 3 scales');
    const all = files.slice(0, 6).flatMap((f) => ['1', '2.5', '10'].map((sc) => [f, sc]));
    const key = (t: string[]) => JSON.stringify(t);
    const sample = result.sampleTuples!;
    assert.ok(sample.length >= 2 && sample.length <= 18, String(sample.length));
    for (const t of sample) assert.ok(all.some((x) => key(x) === key(t)), `a whole tuple of the product: ${key(t)}`);
    assert.strictEqual(new Set(sample.map(key)).size, sample.length, 'no tuple twice');
    assert.strictEqual(result.sampleFileList[0], `${sample[0][0]} scale=${sample[0][1]}`, 'labelled as the run labels them');
    assert.ok(result.runs.length >= result.grid.length);
    for (const r of result.runs) {
      // each configuration's run: exactly the sample's tuples, each a task given all of its values
      const journal = fs.readFileSync(path.join(dir, r.dir, 'journal.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as TaskRecord);
      assert.deepStrictEqual(journal.map((l) => key(l.inputs!)).sort(), sample.map(key).sort(), r.dir);
      for (const l of journal) {
        assert.strictEqual(l.status, 'succeeded');
        assert.deepStrictEqual(l.result, { argv: ['--file', l.inputs![0], '--scale', l.inputs![1]] });
      }
    }
  });

  it('a script that fails on every file stops after the probe with a clear note', async () => {
    const { result } = await runSweep({ command: { kind: 'template', argv: ['false'] }, files: files.slice(0, 4), cwd: tmp, runsDir: 'failing', workersDir, budgetSec: 10 });
    assert.strictEqual(result.status, 'failed');
    assert.match(result.notes.join(' '), /probe run failed on every file/);
  });
});
