/**
 * The batch engine with real processes: templates and cold Python, journal/logs/report, thread env,
 * hostile file names (no injection), timeouts, retries, halt, cancel of a process tree, resume, and
 * bad input rejected before anything starts.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { startRun } from '../../extension/core/run/engine';
import { failedFiles, listRuns, readReport } from '../../extension/core/run/history';
import { RunOptions, UsageError } from '../../extension/core/run/types';
import { alive, baseOptions, collect, FIXTURES, journalLines, PYTHON, sleep, tmpDir, twoTrees, WORKERS_DIR, writeFiles } from './engineHelpers';

const base = baseOptions;

describe('engine: startRun with real processes', function () {
  this.timeout(60_000);

  it('runs a command template over every file, with journal, logs, report and the thread env', async () => {
    const dir = tmpDir();
    writeFiles(dir, { 'in/a.txt': 'one two', 'in/b.txt': 'three', 'in/c.txt': 'four five six' });
    const h = await startRun(base(dir, { command: { kind: 'template', argv: ['sh', '-c', 'wc -w < "$1"; echo "T=$OMP_NUM_THREADS $MKL_NUM_THREADS S=$PARALLEL_SEQ"', 'sh', '{}'] }, threads: 1 }));
    const { events, report } = await collect(h);
    assert.strictEqual(report.status, 'succeeded');
    assert.deepStrictEqual({ total: report.counts.total, succeeded: report.counts.succeeded, failed: report.counts.failed }, { total: 3, succeeded: 3, failed: 0 });
    const lines = journalLines(h.outDir);
    assert.strictEqual(lines.length, 3);
    const byFile = new Map(lines.map((l) => [path.basename(l.file), l]));
    assert.match(byFile.get('c.txt')!.stdoutTail, /^3\nT=1 1 S=\d\n$/);
    for (const l of lines) {
      assert.deepStrictEqual(l.threadEnv, { OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1', VECLIB_MAXIMUM_THREADS: '1', NUMEXPR_NUM_THREADS: '1', BLIS_NUM_THREADS: '1' });
      assert.ok(l.slot === 1 || l.slot === 2);
      assert.strictEqual(fs.readFileSync(path.join(h.outDir, l.stdoutLog), 'utf8'), l.stdoutTail);
      assert.ok(l.cpuUserSec + l.cpuSysSec > 0, 'CPU time measured');
      assert.ok(l.maxRssKb > 0, 'peak RSS measured');
      assert.strictEqual(typeof l.fileSize, 'number');
    }
    const onDisk = JSON.parse(fs.readFileSync(path.join(h.outDir, 'report.json'), 'utf8'));
    assert.strictEqual(onDisk.counts.succeeded, 3);
    assert.ok(onDisk.speedupEstimate > 0 && onDisk.sumTaskMs > 0);
    assert.strictEqual(onDisk.tasks.length, 3);
    const types = new Set(events.map((e) => e.type));
    for (const t of ['runStarted', 'total', 'taskStarted', 'taskFinished', 'progress', 'runFinished']) assert.ok(types.has(t as never), `event ${t}`);
  });

  it('spawns straight from Node when asked (no Python host): CPU and RSS sampled from /proc', async () => {
    const dir = tmpDir();
    writeFiles(dir, { 'in/a.txt': '' });
    const h = await startRun(base(dir, { spawnVia: 'node', command: { kind: 'template', argv: [PYTHON, '-c', 'import time\nt = time.process_time()\nwhile time.process_time() - t < 0.6: pass\nprint("spun")', '{}'] } }));
    const { report } = await collect(h);
    assert.strictEqual(report.status, 'succeeded', JSON.stringify(report.failures));
    const t = report.tasks[0];
    assert.strictEqual(t.stdoutTail, 'spun\n');
    assert.ok(t.cpuUserSec + t.cpuSysSec >= 0.2, `cpu ${t.cpuUserSec}`);
    assert.ok((t.maxRssKb ?? 0) > 1000);
  });

  it('runs a Python script cold: file as sys.argv[1], extra args after it, as __main__', async () => {
    const dir = tmpDir();
    writeFiles(dir, { 'in/a.txt': 'a b c', 'in/empty.txt': '' });
    const h = await startRun(base(dir, { command: { kind: 'python', python: PYTHON, script: path.join(FIXTURES, 'count_words.py'), args: [path.join(dir, 'results')], warm: false } }));
    const { report } = await collect(h);
    assert.strictEqual(report.status, 'failed', 'the empty file exits 3');
    assert.strictEqual(report.counts.succeeded, 1);
    assert.strictEqual(report.failures.length, 1);
    assert.strictEqual(report.failures[0].exitCode, 3);
    assert.match(report.failures[0].stderrTail, /empty file/);
    const out = JSON.parse(fs.readFileSync(path.join(dir, 'results', 'a.txt.json'), 'utf8'));
    assert.deepStrictEqual(out, { argv: ['in/a.txt', path.join(dir, 'results')], file: 'in/a.txt', main: '__main__', seq: '1', threads: '1', words: 3 });
    assert.strictEqual(report.python?.executable, PYTHON);
    assert.deepStrictEqual(await failedFiles(h.outDir), ['in/empty.txt']);
  });

  it('passes hostile file names verbatim: no injection through spaces, quotes, ;, $(), backticks, newlines, leading -', async () => {
    const dir = tmpDir();
    const names = ['sp ace.txt', "quo'te.txt", 'dq"uote.txt', 'semi;touch INJECTED.txt', '$(touch INJECTED2).txt', '`touch INJECTED3`.txt', 'new\nline.txt', 'ünï çødé.txt', '-rf.txt', '--help.txt'];
    fs.mkdirSync(path.join(dir, 'in'));
    for (const n of names) fs.writeFileSync(path.join(dir, 'in', n), n);
    const h = await startRun(base(dir, { command: { kind: 'template', argv: ['cp', '--', '{}', 'out/{/.}.copy'] }, files: { kind: 'list', files: names.map((n) => `in/${n}`) } }));
    fs.mkdirSync(path.join(dir, 'out'));
    const { report } = await collect(h);
    assert.strictEqual(report.status, 'succeeded', JSON.stringify(report.failures));
    for (const n of names) assert.strictEqual(fs.readFileSync(path.join(dir, 'out', n.replace(/\.txt$/, '') + '.copy'), 'utf8'), n);
    for (const bad of ['INJECTED.txt', 'INJECTED2', 'INJECTED3']) {
      assert.ok(!fs.existsSync(path.join(dir, bad)) && !fs.existsSync(path.join(dir, 'in', bad)), `${bad} must not exist`);
    }
  });

  it('a run bigger than the in-memory window keeps memory flat: live report holds the latest records, report.json all of them', async () => {
    const dir = tmpDir();
    fs.mkdirSync(path.join(dir, 'in'));
    for (let i = 0; i < 40; i++) fs.writeFileSync(path.join(dir, 'in', `f${String(i).padStart(2, '0')}.txt`), String(i));
    process.env.PARALLEL_RUN_TASKS_IN_MEMORY = '6';
    let h;
    try {
      // f07, f21 and f33 fail (exit 3): failures must all be listed even when their records left memory
      h = await startRun(base(dir, { command: { kind: 'template', argv: ['sh', '-c', 'case "$1" in *07*|*21*|*33*) exit 3;; esac; cat "$1"', 'sh', '{}'] } }));
    } finally {
      delete process.env.PARALLEL_RUN_TASKS_IN_MEMORY;
    }
    const { report } = await collect(h);
    assert.strictEqual(report.counts.done, 40);
    assert.ok(report.tasks.length >= 6 && report.tasks.length < 12, `in memory: ${report.tasks.length}`);
    assert.strictEqual(report.tasks.length + (report.tasksOmitted ?? 0), 40);
    assert.deepStrictEqual(report.failures.map((f) => path.basename(f.file)).sort(), ['f07.txt', 'f21.txt', 'f33.txt']);
    const onDisk = JSON.parse(fs.readFileSync(path.join(h.outDir, 'report.json'), 'utf8'));
    assert.strictEqual(onDisk.tasks.length, 40);
    assert.strictEqual(onDisk.tasksOmitted, undefined);
    assert.deepStrictEqual(onDisk.tasks.map((t: { index: number }) => t.index).sort((a: number, b: number) => a - b), Array.from({ length: 40 }, (_, i) => i + 1));
    assert.strictEqual(onDisk.tasks.find((t: { file: string }) => t.file.endsWith('f12.txt')).stdoutTail, '12');
    assert.ok(onDisk.tasks.every((t: { fp?: string; session?: string }) => t.fp === undefined && t.session === undefined));
    assert.deepStrictEqual(onDisk.failures, report.failures);
  });

  it('kills a task at its timeout (whole group) and retries failures', async () => {
    const dir = tmpDir();
    writeFiles(dir, { 'in/slow.txt': 'x', 'in/flaky.txt': 'y' });
    const h = await startRun(base(dir, {
      command: { kind: 'template', argv: ['sh', '-c', 'case "$1" in *slow*) sleep 30;; *) exec "$2" "$3" "$1" 3;; esac', 'sh', '{}', PYTHON, path.join(FIXTURES, 'flaky.py')] },
      timeoutSec: 4,
      retries: 2,
    }));
    const { events, report } = await collect(h);
    const slow = report.tasks.find((t) => t.file.includes('slow'))!;
    const flaky = report.tasks.find((t) => t.file.includes('flaky'))!;
    assert.strictEqual(slow.status, 'timedOut');
    assert.strictEqual(slow.attempts, 3);
    assert.ok(slow.wallMs < 15_000);
    assert.strictEqual(flaky.status, 'succeeded');
    assert.strictEqual(flaky.attempts, 3);
    assert.strictEqual(events.filter((e) => e.type === 'taskTimedOut').length, 3);
    assert.strictEqual(events.filter((e) => e.type === 'taskRetried').length, 4);
    assert.strictEqual(report.counts.retried, 2);
    assert.strictEqual(report.status, 'failed');
  });

  it('a timeout in percent of the median: none before 3 successes, then median × N% (never under 1 s)', async () => {
    const dir = tmpDir();
    const names = ['first', 'b1', 'b2', 'b3', 'b4', 'b5', 'hangs'];
    writeFiles(dir, Object.fromEntries(names.map((n) => [`in/${n}.txt`, n])));
    const h = await startRun(base(dir, {
      // "first" takes 1.5 s (over the 1 s the timeout becomes), the b's 0.2 s, "hangs" 30 s
      command: { kind: 'template', argv: ['sh', '-c', 'case "$1" in *first*) sleep 1.5;; *hangs*) sleep 30;; *) sleep 0.2;; esac', 'sh', '{}'] },
      files: { kind: 'list', files: names.map((n) => `in/${n}.txt`) },
      workers: 1,
      timeoutPercent: 300,
    }));
    const { report } = await collect(h);
    const by = new Map(report.tasks.map((t) => [path.basename(t.file, '.txt'), t]));
    assert.strictEqual(by.get('first')!.status, 'succeeded', 'no limit before 3 files succeeded');
    assert.ok(by.get('first')!.wallMs >= 1400);
    for (const b of ['b1', 'b2', 'b3', 'b4', 'b5']) assert.strictEqual(by.get(b)!.status, 'succeeded', b);
    const hangs = by.get('hangs')!;
    assert.strictEqual(hangs.status, 'timedOut');
    // median 0.2 s × 300% = 0.6 s, raised to the 1 s floor
    assert.ok(hangs.wallMs >= 900 && hangs.wallMs < 10_000, `killed after ${hangs.wallMs} ms`);
    assert.strictEqual(JSON.parse(fs.readFileSync(path.join(h.outDir, 'run.json'), 'utf8')).timeoutPercent, 300);

    for (const [extra, msg] of [
      [{ timeoutPercent: 100 }, /must be above 100%/],
      [{ timeoutPercent: 200, timeoutSec: 5 }, /in seconds or in percent of the median, not both/],
    ] as Array<[Partial<RunOptions>, RegExp]>) {
      await assert.rejects(startRun(base(tmpDir(), { ...extra, files: { kind: 'list', files: ['x'] } })), (e: Error) => e instanceof UsageError && msg.test(e.message));
    }
  });

  it('--memfree: while less memory is available than asked, a file starts only when none runs', async () => {
    const dir = tmpDir();
    writeFiles(dir, { 'in/1.txt': '', 'in/2.txt': '', 'in/3.txt': '', 'in/4.txt': '' });
    const sleepy: RunOptions['command'] = { kind: 'template', argv: ['sh', '-c', 'sleep 0.3', 'sh', '{}'] };
    // all of the machine's memory: never available while anything runs
    const h = await startRun(base(dir, { command: sleepy, memFreeBytes: os.totalmem() }));
    const { report } = await collect(h);
    assert.strictEqual(report.counts.succeeded, 4);
    const spans = report.tasks.map((t) => [t.start, t.end]).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) assert.ok(spans[i][0] >= spans[i - 1][1], `file ${i + 1} started before file ${i} ended: one at a time`);
    assert.match(report.notes.join(' '), /Memory: 4 files found less than .* available \(--memfree\)/);
    assert.ok(JSON.parse(fs.readFileSync(path.join(h.outDir, 'run.json'), 'utf8')).memFreeBytes > 0);

    // a size the machine has: no waiting, both workers busy
    const dir2 = tmpDir();
    writeFiles(dir2, { 'in/1.txt': '', 'in/2.txt': '' });
    const h2 = await startRun(base(dir2, { command: { kind: 'template', argv: ['sh', '-c', 'sleep 1', 'sh', '{}'] }, memFreeBytes: 1024 }));
    const r2 = (await collect(h2)).report;
    const [a, b] = r2.tasks;
    assert.ok(a.start < b.end && b.start < a.end, 'the two files ran at the same time');
    assert.ok(!/Memory:/.test(r2.notes.join(' ')));
  });

  it('cancel kills every task and its grandchildren: none left after 2 s', async () => {
    const dir = tmpDir();
    const pidFile = path.join(dir, 'pids');
    writeFiles(dir, { 'in/1.txt': '', 'in/2.txt': '', 'in/3.txt': '', 'in/4.txt': '' });
    const ac = new AbortController();
    const h = await startRun(base(dir, { command: { kind: 'python', python: PYTHON, script: path.join(FIXTURES, 'spawn_tree.py'), args: [pidFile], warm: false }, signal: ac.signal }));
    const done = collect(h);
    const pids = await twoTrees(pidFile, 20_000);
    assert.ok(pids, 'two tasks started their trees');
    assert.strictEqual(pids.length, 6);
    ac.abort();
    const { report, events } = await done;
    assert.strictEqual(report.status, 'cancelled');
    assert.ok(events.some((e) => e.type === 'runCancelled'));
    assert.strictEqual(report.counts.cancelled, 2);
    assert.strictEqual(report.counts.total, 4, 'the input was counted ahead');
    assert.strictEqual(report.counts.done, 2, 'the two files not started are not done');
    assert.deepStrictEqual(report.notes, [], 'a cancel is not an internal error');
    await sleep(2000);
    assert.deepStrictEqual(pids.filter(alive), []);
  });

  it('halt stops at the first failure', async () => {
    const dir = tmpDir();
    const files: Record<string, string> = {};
    for (let i = 0; i < 20; i++) files[`in/${String(i).padStart(2, '0')}.txt`] = '';
    writeFiles(dir, files);
    const h = await startRun(base(dir, { command: { kind: 'template', argv: ['sh', '-c', 'sleep 0.2; case "$1" in *03*) exit 4;; esac', 'sh', '{}'] }, halt: true, files: { kind: 'list', files: Object.keys(files).sort() } }));
    const { report } = await collect(h);
    assert.strictEqual(report.status, 'halted');
    assert.ok(report.counts.done < 20, `stopped early (${report.counts.done} done)`);
    assert.strictEqual(report.failures[0].exitCode, 4);
  });

  it('resume skips files that succeeded with the same definition and reruns the rest', async () => {
    const dir = tmpDir();
    writeFiles(dir, { 'in/a.txt': 'a', 'in/b.txt': 'b', 'in/c.txt': 'c' });
    const argv = ['sh', '-c', 'echo ran >> "$1.log"; [ "$(cat "$1")" != b ]', 'sh', '{}'];
    const first = await collect(await startRun(base(dir, { command: { kind: 'template', argv } })));
    assert.strictEqual(first.report.counts.failed, 1);
    await assert.rejects(startRun(base(dir, { command: { kind: 'template', argv } })), (e: Error) => e instanceof UsageError && /--resume/.test(e.message));
    fs.writeFileSync(path.join(dir, 'in', 'b.txt'), 'B'); // fixed input: new mtime/size
    const second = await collect(await startRun(base(dir, { command: { kind: 'template', argv }, resume: true })));
    assert.strictEqual(second.report.status, 'succeeded');
    assert.strictEqual(second.report.counts.skipped, 2);
    assert.strictEqual(second.report.counts.succeeded, 1);
    for (const f of ['a', 'c']) assert.strictEqual(fs.readFileSync(path.join(dir, 'in', `${f}.txt.log`), 'utf8'), 'ran\n');
    assert.strictEqual(fs.readFileSync(path.join(dir, 'in', 'b.txt.log'), 'utf8'), 'ran\nran\n');
    const ok = journalLines(path.join(dir, 'run')).filter((l) => l.status === 'succeeded');
    assert.deepStrictEqual(ok.map((l) => l.file).sort(), ['in/a.txt', 'in/b.txt', 'in/c.txt']);
    assert.deepStrictEqual(await failedFiles(path.join(dir, 'run')), []);
    const runs = await listRuns(dir);
    assert.strictEqual(runs.length, 1);
    assert.strictEqual(runs[0].status, 'succeeded');
    // a report rebuilt from the journal when report.json is gone
    fs.rmSync(path.join(dir, 'run', 'report.json'));
    const rebuilt = await readReport(path.join(dir, 'run'));
    assert.strictEqual(rebuilt?.counts.succeeded, 1);
    assert.strictEqual(rebuilt?.counts.skipped, 2);
    assert.strictEqual(rebuilt?.status, 'succeeded');
  });

  describe('bad input: a UsageError naming the fix, and nothing started', () => {
    const cases: Array<[string, (dir: string) => Partial<RunOptions>, RegExp]> = [
      ['a glob that matches nothing', (d) => ({ files: { kind: 'globs', patterns: ['nope/*.csv'], cwd: d } }), /matched nothing/],
      ['an unreadable list file', (d) => ({ files: { kind: 'listFile', path: path.join(d, 'missing.txt'), nulSeparated: false } }), /Cannot read the list file/],
      ['0 workers', () => ({ workers: 0 }), /whole number from 1/],
      ['non-integer workers', () => ({ workers: 1.5 }), /whole number from 1/],
      ['an unknown replacement string', () => ({ command: { kind: 'template', argv: ['echo', '{..}'] } }), /Unknown replacement string \{\.\.\}/],
      ['a missing program', () => ({ command: { kind: 'template', argv: ['no-such-program-xyz', '{}'] } }), /not found on PATH/],
      ['a missing script', (d) => ({ command: { kind: 'python', python: PYTHON, script: path.join(d, 'nope.py'), args: [], warm: false } }), /Script .*nope\.py not found/],
      ['a missing interpreter', () => ({ command: { kind: 'python', python: 'python9-missing', script: path.join(FIXTURES, 'count_words.py'), args: [], warm: false } }), /parallelRun\.python\.path/],
      ['an unwritable output directory', (d) => ({ outDir: path.join(d, 'in', 'a.txt', 'run') }), /Cannot write the run directory .*ENOTDIR/],
      ['an output directory under /proc', () => ({ outDir: '/proc/parallel-run-test' }), /Cannot write the run directory/],
    ];
    for (const [what, opts, msg] of cases) {
      it(what, async () => {
        const dir = tmpDir();
        writeFiles(dir, { 'in/a.txt': 'a' });
        const marker = path.join(dir, 'ran');
        const o = base(dir, { command: { kind: 'template', argv: ['touch', marker] }, ...opts(dir) });
        await assert.rejects(startRun(o), (e: Error) => e instanceof UsageError && msg.test(e.message));
        assert.ok(!fs.existsSync(marker));
        assert.ok(!fs.existsSync(o.outDir), 'no run directory was created');
      });
    }
  });
});
