/**
 * When files fail, with real Python processes: a syntax error is refused before anything starts; the
 * first 5 files failing the same way stop the run with nothing else started; --halt rules; failures
 * grouped in report.json and the CLI summary; a group re-run merged into its run; a task killed by
 * the kernel's OOM killer in a memory-limited cgroup is said to be killed for memory.
 */
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { startRun } from '../../extension/core/run/engine';
import { ScriptSyntaxError } from '../../extension/core/python/syntaxCheck';
import type { RunOptions, RunReport } from '../../extension/core/run/types';
import { CLI, collect, journalLines, memoryCgroupBelowOurs, PYTHON, tmpDir, WORKERS_DIR, writeFiles } from './engineHelpers';

function cli(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 60_000, env: { ...process.env, PARALLEL_RUN_PYTHON: PYTHON } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** n input files data/field_0001.fits ...; `content(i)` is what file i holds. */
function fields(dir: string, n: number, content: (i: number) => string = () => 'ok'): string[] {
  const files: Record<string, string> = {};
  for (let i = 1; i <= n; i++) files[`data/field_${String(i).padStart(4, '0')}.fits`] = content(i);
  return writeFiles(dir, files).sort();
}

/** A script that reads a header keyword: files holding "nokey" fail with KeyError, "missing" with FileNotFoundError. */
const ANALYZE = [
  'import sys, time',
  'time.sleep(float(__import__("os").environ.get("PR_SLEEP", "0")))',
  'text = open(sys.argv[1]).read()',
  'def header(t):',
  '    h = {"NAXIS": 2}',
  '    if "nokey" in t:',
  '        return h["EXPTIME"]',
  '    return h',
  'if "missing" in text:',
  '    open("/nonexistent/calib/" + sys.argv[1].split("/")[-1] + ".dark")',
  'header(text)',
  'print("done", sys.argv[1])',
  '',
].join('\n');

function python(dir: string, files: string[], extra: Partial<RunOptions> = {}): RunOptions {
  return {
    command: { kind: 'python', python: PYTHON, script: path.join(dir, 'analyze.py'), args: [], warm: false },
    files: { kind: 'list', files },
    cwd: dir,
    workers: 2,
    outDir: path.join(dir, 'run'),
    workersDir: WORKERS_DIR,
    ...extra,
  };
}

/** The journal lines of files that ran: a stop answers the files already queued at a host as cancelled. */
function ran(runDir: string): Array<{ status: string }> {
  return journalLines(runDir).filter((l) => l.status !== 'cancelled') as Array<{ status: string }>;
}

describe('engine: when files fail', function () {
  this.timeout(90_000);

  it('a syntax error is refused before anything starts (Python script and python3 in a template), naming file and line', async () => {
    const dir = tmpDir('pr-fail-');
    const files = fields(dir, 3);
    fs.writeFileSync(path.join(dir, 'analyze.py'), 'import sys\n\ndef f(:\n    pass\n');
    await assert.rejects(startRun(python(dir, files)), (e: unknown) => {
      assert.ok(e instanceof ScriptSyntaxError, String(e));
      assert.deepStrictEqual([e.problem.file, e.problem.line, e.problem.message], [path.join(dir, 'analyze.py'), 3, 'SyntaxError: invalid syntax']);
      assert.match(e.message, /analyze\.py line 3: SyntaxError: invalid syntax .*nothing ran/);
      return true;
    });
    assert.ok(!fs.existsSync(path.join(dir, 'run')), 'no run directory');
    // the CLI: exit 2, the message, nothing started (no run directory, no output of the script)
    const r = cli(['run', '--out', 'run2', '--files', 'data/*.fits', '--', 'python3', 'analyze.py', '{}'], dir);
    assert.strictEqual(r.code, 2, r.stderr);
    assert.match(r.stderr, /analyze\.py line 3: SyntaxError: invalid syntax/);
    assert.ok(!fs.existsSync(path.join(dir, 'run2')));
    const s = cli(['run', '--out', 'run3', '--files', 'data/*.fits', '--script', 'analyze.py'], dir);
    assert.strictEqual(s.code, 2, s.stderr);
    assert.ok(!fs.existsSync(path.join(dir, 'run3')));
  });

  it('the first 5 files failing with the same error stop the run: running files finish, nothing else starts', async () => {
    const dir = tmpDir('pr-fail-');
    const files = fields(dir, 40, () => 'nokey');
    fs.writeFileSync(path.join(dir, 'analyze.py'), ANALYZE);
    const h = await startRun(python(dir, files, { env: { PR_SLEEP: '0.3' } }));
    const { events, report } = await collect(h);
    assert.strictEqual(report.status, 'halted');
    assert.deepStrictEqual(report.stopped, { reason: 'early', message: "the first 5 files all failed with KeyError: 'EXPTIME' (analyze.py:7); nothing else was started. Fix the script and Resume." });
    const finished = events.filter((e) => e.type === 'taskFinished');
    const fifth = events.indexOf(finished[4]);
    assert.deepStrictEqual(events.slice(fifth + 1).filter((e) => e.type === 'taskStarted'), [], 'nothing started after the 5th failure');
    // -j 2: at most one other file was running then, and it was let finish (failed, not cancelled)
    const lines = journalLines(path.join(dir, 'run'));
    assert.ok(lines.length === 5 || lines.length === 6, `${lines.length} journal lines`);
    assert.ok(lines.every((l) => l.status === 'failed' && l.error?.title === "KeyError: 'EXPTIME' (analyze.py:7)"));
    assert.strictEqual(report.failureGroups?.length, 1);
    assert.strictEqual(report.failureGroups![0].count, lines.length);
    // --stop-early 0 (the CLI) runs them all
    const r = cli(['run', '-j', '2', '--no-stop-early', '--quiet', '--out', 'all', '--files', 'data/field_000*.fits', '--script', 'analyze.py'], dir);
    assert.strictEqual(r.code, 1, r.stderr);
    assert.strictEqual(journalLines(path.join(dir, 'all')).length, 9);
    assert.match(r.stderr, /9 files: KeyError: 'EXPTIME' \(analyze\.py:7\), e\.g\. (field_000\d\.fits)\n\s+log: .*\/all\/logs\/\d+-\1\.err\n/);
  });

  it('the CLI says the early stop in its summary and exits 1', () => {
    const dir = tmpDir('pr-fail-');
    fields(dir, 12, () => 'nokey');
    fs.writeFileSync(path.join(dir, 'analyze.py'), ANALYZE);
    const r = cli(['run', '-j', '1', '--quiet', '--out', 'run', '--files', 'data/*.fits', '--script', 'analyze.py'], dir);
    assert.strictEqual(r.code, 1, r.stderr);
    assert.match(r.stderr, /stopped early: the first 5 files all failed with KeyError: 'EXPTIME' \(analyze\.py:7\); nothing else was started\. Fix the script and Resume\./);
    // short tasks go to the host in batches, but not while the early stop is undecided: a batch queued
    // at the host would start the 6th file right after the 5th failed. Exactly 5 files were given out.
    assert.deepStrictEqual(journalLines(path.join(dir, 'run')).map((l) => l.status), ['failed', 'failed', 'failed', 'failed', 'failed']);
    const report = JSON.parse(fs.readFileSync(path.join(dir, 'run', 'report.json'), 'utf8')) as RunReport;
    assert.strictEqual(report.failureGroups![0].files.length, 5);
  });

  it('--halt now,success=1 stops at the first success (exit 0); soon,fail=50% lets running files finish', () => {
    const dir = tmpDir('pr-fail-');
    fields(dir, 8, (i) => (i % 2 ? 'nokey' : 'ok'));
    fs.writeFileSync(path.join(dir, 'analyze.py'), ANALYZE);
    const r = cli(['run', '-j', '1', '--quiet', '--halt', 'now,success=1', '--out', 'a', '--files', 'data/*.fits', '--script', 'analyze.py'], dir);
    assert.strictEqual(r.code, 1, 'the first file failed before the success: exit 1');
    const a = ran(path.join(dir, 'a'));
    assert.deepStrictEqual(a.map((l) => l.status), ['failed', 'succeeded']);
    assert.match(r.stderr, /Halted by --halt now,success=1: 1 file succeeded/);
    const ok = cli(['run', '-j', '1', '--quiet', '--halt', 'now,success=1', '--out', 'b', '--files', 'data/field_0002.fits', 'data/field_0004.fits', '--script', 'analyze.py'], dir);
    assert.strictEqual(ok.code, 0, ok.stderr);
    assert.strictEqual(ran(path.join(dir, 'b')).length, 1);
    const pct = cli(['run', '-j', '1', '--quiet', '--stop-early', '0', '--halt', 'soon,fail=50%', '--out', 'c', '--files', 'data/*.fits', '--script', 'analyze.py'], dir);
    assert.strictEqual(pct.code, 1);
    // f1 fails, f2 ok, f3 fails: 2 of 3 finished failed (≥ 50% from the 3rd file on)
    assert.deepStrictEqual(ran(path.join(dir, 'c')).map((l) => l.status), ['failed', 'succeeded', 'failed']);
    const bad = cli(['run', '--halt', 'later,fail=1', '--files', 'data/*.fits', '--script', 'analyze.py'], dir);
    assert.strictEqual(bad.code, 2);
    assert.match(bad.stderr, /--halt "later,fail=1" is not a halt rule\. Use never, now,fail=N/);
  });

  it('groups failures largest first in report.json; re-running a group merges into the same run', async () => {
    const dir = tmpDir('pr-fail-');
    const files = fields(dir, 9, (i) => (i <= 4 ? 'nokey' : i === 5 ? 'missing' : 'ok'));
    fs.writeFileSync(path.join(dir, 'analyze.py'), ANALYZE);
    const first = await (await startRun(python(dir, files, { stopEarly: 0 }))).done;
    assert.deepStrictEqual(first.failureGroups!.map((g) => [g.count, g.title]), [
      [4, "KeyError: 'EXPTIME' (analyze.py:7)"],
      [1, "FileNotFoundError: [Errno 2] No such file or directory: '/nonexistent/calib/field_0005.fits.dark' (analyze.py:10)"],
    ]);
    const onDisk = JSON.parse(fs.readFileSync(path.join(dir, 'run', 'report.json'), 'utf8')) as RunReport;
    assert.deepStrictEqual(onDisk.failureGroups!.map((g) => g.files.length), [4, 1]);
    // the KeyError files get their keyword; re-run that group in the same run directory
    const group = first.failureGroups![0].files;
    for (const f of group) fs.writeFileSync(path.join(dir, f), 'ok');
    const again = await (await startRun(python(dir, group, { resume: true, subset: true }))).done;
    assert.strictEqual(again.status, 'failed', 'the FileNotFoundError file is still failed');
    assert.deepStrictEqual(again.counts.total, 9);
    assert.deepStrictEqual([again.counts.succeeded, again.counts.skipped, again.counts.failed], [4, 4, 1]);
    assert.deepStrictEqual(again.failureGroups!.map((g) => [g.count, g.files]), [[1, ['data/field_0005.fits']]]);
    const def = JSON.parse(fs.readFileSync(path.join(dir, 'run', 'run.json'), 'utf8'));
    assert.strictEqual(def.files.files.length, 9, "run.json keeps the run's own input");
    assert.strictEqual(def.sessions[1].subset, true);
    // a later resume of the whole run has only the FileNotFoundError file left
    const rest = await (await startRun(python(dir, files, { resume: true }))).done;
    assert.deepStrictEqual([rest.counts.skipped, rest.counts.failed], [8, 1]);
  });

  it('a task killed by the OOM killer in a memory-limited cgroup is "killed for memory at … peak"', async function () {
    const cg = memoryCgroupBelowOurs();
    if (typeof cg === 'string') {
      console.log(`      skipped: ${cg}`);
      return this.skip();
    }
    try {
      const dir = tmpDir('pr-fail-');
      const files = fields(dir, 1);
      // the task joins the limited cgroup (below the runner's own), then allocates past the limit
      fs.writeFileSync(path.join(dir, 'analyze.py'), [
        'import os, sys',
        'open(os.environ["PR_CGROUP_PROCS"], "w").write(str(os.getpid()))',
        'chunks = []',
        'for _ in range(64):',
        '    chunks.append(bytearray(16 * 1024 * 1024))',
        'print("not killed")',
      ].join('\n'));
      const report = await (await startRun(python(dir, files, { env: { PR_CGROUP_PROCS: cg.procs } }))).done;
      const t = report.tasks[0];
      assert.strictEqual(t.signal, 'SIGKILL', t.stderrTail);
      assert.strictEqual(t.error?.kind, 'memory');
      assert.match(t.error!.title, /^killed for memory at \d+ MB peak$/);
      assert.strictEqual(report.failureGroups![0].title, t.error!.title);
    } finally {
      cg.remove();
    }
  });
});
