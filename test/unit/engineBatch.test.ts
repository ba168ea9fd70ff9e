/**
 * Short tasks in batches: a slot's Python host gets several requests at once and starts each as the
 * one before ends. Every file still has exactly one journal line, its own logs, {#}/{%}, PARALLEL_SEQ
 * and the host's exact start/end; retries, halt and cancel behave as with single tasks; warm runs batch
 * too; PARALLEL_RUN_BATCH=1 turns batches off.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { startRun } from '../../extension/core/run/engine';
import { RunOptions, TaskRecord } from '../../extension/core/run/types';
import { collect, FIXTURES, journalLines, PYTHON, tmpDir, WORKERS_DIR, writeFiles } from './engineHelpers';

const N = 240;

function inputs(dir: string, n = N): string[] {
  const files: Record<string, string> = {};
  for (let i = 1; i <= n; i++) files[`in/f${String(i).padStart(4, '0')}.txt`] = String(i);
  writeFiles(dir, files);
  return Object.keys(files).sort();
}

function opts(dir: string, files: string[], extra: Partial<RunOptions>): RunOptions {
  return { command: { kind: 'template', argv: ['true'] }, files: { kind: 'list', files }, cwd: dir, outDir: path.join(dir, 'run'), workersDir: WORKERS_DIR, workers: 2, ...extra };
}

/** Within a slot, tasks ran one after another: no two of its records overlap in time. */
function assertSerialPerSlot(tasks: TaskRecord[]): void {
  for (const slot of [1, 2]) {
    const mine = tasks.filter((t) => t.slot === slot).sort((a, b) => a.start - b.start);
    for (let i = 1; i < mine.length; i++) assert.ok(mine[i].start >= mine[i - 1].end, `slot ${slot}: task ${mine[i].index} starts before ${mine[i - 1].index} ended`);
  }
}

describe('engine: short tasks in batches', function () {
  this.timeout(120_000);

  it('every file once, in its own logs, with its {#}, {%}, PARALLEL_SEQ and exact times; report.batched counts the batches', async () => {
    const dir = tmpDir('pr-batch-');
    const files = inputs(dir);
    const h = await startRun(opts(dir, files, { command: { kind: 'template', argv: ['sh', '-c', 'echo "$1 $2 $3 $PARALLEL_SEQ $PARALLEL_JOBSLOT"; cat "$1" >&2', 'sh', '{}', '{#}', '{%}'] } }));
    const { report, events } = await collect(h);
    assert.strictEqual(report.status, 'succeeded', JSON.stringify(report.failures.slice(0, 3)));
    assert.ok(report.batched && report.batched.batches > 0 && report.batched.tasks > N / 2, `most tasks went in batches: ${JSON.stringify(report.batched)}`);
    const lines = journalLines(h.outDir);
    assert.strictEqual(lines.length, N);
    assert.deepStrictEqual(lines.map((l) => l.file).sort(), files, 'each file exactly once in the journal');
    for (const l of lines) {
      assert.strictEqual(l.stdoutTail, `${l.file} ${l.index} ${l.slot} ${l.index} ${l.slot}\n`);
      assert.strictEqual(fs.readFileSync(path.join(h.outDir, l.stderrLog), 'utf8'), fs.readFileSync(path.join(dir, l.file), 'utf8'));
      assert.ok(l.end >= l.start && l.cpuUserSec + l.cpuSysSec > 0 && l.maxRssKb > 0, 'times, CPU and RSS from the host');
    }
    assertSerialPerSlot(report.tasks);
    // one taskStarted per file, each before its taskFinished
    const started = new Map<number, number>();
    events.forEach((e, i) => e.type === 'taskStarted' && started.set(e.index, i));
    assert.strictEqual(started.size, N);
    events.forEach((e, i) => {
      if (e.type === 'taskFinished') assert.ok((started.get(e.record.index) ?? Infinity) < i, `task ${e.record.index} finished before it started`);
    });
  });

  it('a failure in a batch is retried on the same slot after the batch; the other files are not run again', async () => {
    const dir = tmpDir('pr-batch-');
    const files = inputs(dir);
    // files from #150 on fail their first attempt (flaky.py keeps its tries next to the input)
    for (const f of files.slice(149)) fs.writeFileSync(path.join(dir, `${f}.tries`), '0');
    // (the others are a bare shell: the run's tasks stay short, so batches are used on any machine)
    const h = await startRun(opts(dir, files, { command: { kind: 'template', argv: ['sh', '-c', '[ -e "$1.tries" ] || exit 0; exec "$2" "$3" "$1" 2', 'sh', '{}', PYTHON, path.join(FIXTURES, 'flaky.py')] }, retries: 1 }));
    const { report } = await collect(h);
    assert.strictEqual(report.status, 'succeeded', JSON.stringify(report.failures.slice(0, 3)));
    assert.ok(report.batched && report.batched.batches > 0, 'batches were used');
    assert.strictEqual(report.counts.retried, N - 149);
    const lines = journalLines(h.outDir);
    assert.strictEqual(lines.length, N, 'one line per file, retries included');
    for (const l of lines) assert.strictEqual(l.attempts, l.index >= 150 ? 2 : 1, `${l.file}: ${l.attempts} attempts`);
    for (const f of files.slice(149)) assert.strictEqual(fs.readFileSync(path.join(dir, `${f}.tries`), 'utf8'), '2', `${f} ran twice`);
    assertSerialPerSlot(report.tasks);
  });

  it('halt in a batch: the files queued behind the failure are not started', async () => {
    const dir = tmpDir('pr-batch-');
    const files = inputs(dir, 400);
    const h = await startRun(opts(dir, files, { command: { kind: 'template', argv: ['sh', '-c', 'case "$1" in *0150*) exit 3;; esac; echo ran > "$1.ran"', 'sh', '{}'] }, halt: true }));
    const { report } = await collect(h);
    assert.strictEqual(report.status, 'halted');
    assert.ok(report.batched && report.batched.batches > 0, 'batches were used');
    assert.strictEqual(report.counts.failed, 1);
    const ran = files.filter((f) => fs.existsSync(path.join(dir, `${f}.ran`)));
    assert.ok(ran.length < 399, `stopped early: ${ran.length} of 399 other files ran`);
    const lines = journalLines(h.outDir);
    assert.strictEqual(new Set(lines.map((l) => l.file)).size, lines.length, 'no file twice');
    const status = new Map(lines.map((l) => [l.file, l.status]));
    // every file that ran is journaled: as succeeded, or as cancelled for the one task the other slot was
    // running when the halt came (killed then, maybe after its work was done)
    const notOk = ran.filter((f) => status.get(f) !== 'succeeded');
    assert.ok(notOk.length <= 1, `files that ran but are not journaled as succeeded: ${notOk.join(', ')}`);
    for (const f of notOk) assert.strictEqual(status.get(f), 'cancelled', `${f} ran`);
    assert.strictEqual(report.counts.succeeded, ran.length - notOk.length);
  });

  it('a timeout in a batch kills that task only (its clock starts when it starts, not when it was queued)', async () => {
    const dir = tmpDir('pr-batch-');
    const files = inputs(dir);
    const h = await startRun(opts(dir, files, { command: { kind: 'template', argv: ['sh', '-c', 'case "$1" in *0150*) exec sleep 20;; esac', 'sh', '{}'] }, timeoutSec: 1 }));
    const { report } = await collect(h);
    assert.ok(report.batched && report.batched.batches > 0, 'batches were used');
    assert.strictEqual(report.status, 'failed');
    assert.deepStrictEqual({ succeeded: report.counts.succeeded, timedOut: report.counts.timedOut }, { succeeded: N - 1, timedOut: 1 });
    const t = journalLines(h.outDir).find((l) => l.index === 150)!;
    assert.strictEqual(t.status, 'timedOut');
    assert.ok(t.wallMs >= 900 && t.wallMs < 10_000, `killed after its own second: ${t.wallMs} ms`);
    assertSerialPerSlot(report.tasks);
  });

  it('a finished task is reported within moments even when the next one in its batch runs long', async () => {
    const dir = tmpDir('pr-batch-');
    const files = inputs(dir);
    // a few long tasks: at least one lands in the middle of a batch, behind a held result
    const h = await startRun(opts(dir, files, { command: { kind: 'template', argv: ['sh', '-c', 'case "$1" in *0150*|*0156*|*0163*) exec sleep 2;; esac', 'sh', '{}'] } }));
    const { report, events } = await collect(h);
    assert.strictEqual(report.status, 'succeeded');
    assert.ok(report.batched && report.batched.batches > 0, 'batches were used');
    const reportedAt = new Map<number, number>();
    for (const e of events) if (e.type === 'taskFinished') reportedAt.set(e.record.index, e.t);
    // results and replies of a batch travel together (held a few ms for the next ones), never for as
    // long as a 2 s task behind them
    const late = report.tasks.filter((t) => reportedAt.get(t.index)! - t.end > 1000);
    assert.deepStrictEqual(late.map((t) => `${t.index}: ${reportedAt.get(t.index)! - t.end} ms`), []);
  });

  it('warm Python tasks batch too: each child gets its own file as sys.argv[1]', async () => {
    const dir = tmpDir('pr-batch-');
    const files = inputs(dir, 150);
    fs.writeFileSync(path.join(dir, 'echo.py'), 'import sys\nprint(sys.argv[1], open(sys.argv[1]).read())\n');
    const h = await startRun(opts(dir, files, { command: { kind: 'python', python: PYTHON, script: path.join(dir, 'echo.py'), args: [], warm: true } }));
    const { report } = await collect(h);
    assert.strictEqual(report.status, 'succeeded', JSON.stringify(report.failures.slice(0, 3)));
    assert.ok(report.batched && report.batched.batches > 0, `batches were used: ${JSON.stringify(report.batched)}`);
    for (const l of journalLines(h.outDir)) assert.strictEqual(l.stdoutTail, `${l.file} ${Number(l.file.slice(-8, -4))}\n`);
    assertSerialPerSlot(report.tasks);
  });

  it('PARALLEL_RUN_BATCH=1 sends every task on its own', async () => {
    const dir = tmpDir('pr-batch-');
    const files = inputs(dir, 120);
    process.env.PARALLEL_RUN_BATCH = '1';
    let h;
    try {
      h = await startRun(opts(dir, files, {}));
    } finally {
      delete process.env.PARALLEL_RUN_BATCH;
    }
    const { report } = await collect(h);
    assert.strictEqual(report.status, 'succeeded');
    assert.strictEqual(report.batched, undefined);
    assert.strictEqual(journalLines(h.outDir).length, 120);
  });
});
