import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { startRun } from '../../extension/core/run/engine';
import { BlasOfPython } from '../../extension/host/report/blasOfPython';
import { LiveFeed } from '../../extension/host/report/liveFeed';
import type { ReportToWebview } from '../../extension/shared/protocol';

const workersDir = path.resolve(__dirname, '../../../dist/workers');
const mediaDir = path.resolve(__dirname, '../../../media');

function dataDir(n: number): { tmp: string; data: string } {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pr-live-'));
  const data = path.join(tmp, 'data');
  fs.mkdirSync(data);
  for (let i = 0; i < n; i++) fs.writeFileSync(path.join(data, `f${String(i).padStart(2, '0')}.dat`), String(i));
  return { tmp, data };
}

describe('report live feed (real run)', function () {
  this.timeout(120_000);

  it('sends a snapshot, throttled deltas (≤ 4/s) covering every task once, then the final report', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pr-live-'));
    const data = path.join(tmp, 'data');
    fs.mkdirSync(data);
    const N = 24;
    for (let i = 0; i < N; i++) fs.writeFileSync(path.join(data, `f${String(i).padStart(2, '0')}.dat`), String(i));
    const handle = await startRun({
      command: { kind: 'template', argv: [process.execPath, '-e', 'setTimeout(Object, 120)', '{}'] },
      files: { kind: 'folder', path: data, recursive: false },
      outDir: path.join(tmp, 'run'),
      workers: 2,
      workersDir,
    });
    const msgs: Array<{ at: number; msg: ReportToWebview }> = [];
    const feed = new LiveFeed(handle, (msg) => msgs.push({ at: Date.now(), msg }));
    const snap = feed.snapshot();
    assert.strictEqual(snap.type, 'report');
    const seen = new Set<number>(snap.type === 'report' ? snap.subject.report.tasks.map((t) => t.index) : []);
    const final = await handle.done;
    await new Promise((r) => setTimeout(r, 50));
    feed.dispose();

    const deltas = msgs.filter((m) => m.msg.type === 'delta');
    assert.ok(deltas.length >= 2, `live updates while running, got ${deltas.length}`);
    for (let i = 1; i < deltas.length; i++) {
      assert.ok(deltas[i].at - deltas[i - 1].at >= 240, `throttled: ${deltas[i].at - deltas[i - 1].at} ms between updates`);
    }
    for (const d of deltas) {
      if (d.msg.type !== 'delta') continue;
      for (const t of d.msg.delta.newTasks) {
        assert.ok(!seen.has(t.index), `task ${t.index} sent twice`);
        seen.add(t.index);
      }
      assert.ok(!('tasks' in d.msg.delta.summary), 'deltas do not resend the task list');
    }
    const lastDelta = deltas[deltas.length - 1].msg;
    assert.ok(lastDelta.type === 'delta' && lastDelta.delta.summary.counts.total === N, 'live updates know the total (for done/total and the ETA)');
    const last = msgs[msgs.length - 1].msg;
    assert.strictEqual(last.type, 'report');
    if (last.type === 'report') {
      assert.strictEqual(last.live, false);
      assert.strictEqual(last.subject.report.counts.done, N);
      assert.strictEqual(last.subject.runDir, handle.outDir);
    }
    assert.strictEqual(final.counts.succeeded, N);
    // what the webview accumulated from snapshot + deltas is most tasks: those that ended in the last
    // throttle interval (≤ 250 ms, a few tasks, more on a busy machine) come with the final report, which
    // re-sends all
    assert.ok(seen.size >= N / 2, `deltas carried ${seen.size} of ${N} tasks before the final report`);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('results rows follow results.ndjson as tasks finish (each input once), and the final message carries the whole table', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pr-live-'));
    const xs = Array.from({ length: 12 }, (_, i) => String(i));
    // x=5, k=b fails (no result); the others print a JSON object as their last line
    const script = 'const [x, k] = process.argv.slice(1); setTimeout(() => { if (x === "5" && k === "b") process.exit(3); console.log("log line"); console.log(JSON.stringify({ sq: x * x, k })); }, 80)';
    const handle = await startRun({
      command: { kind: 'template', argv: [process.execPath, '-e', script, '{x}', '{k}'] },
      files: { kind: 'list', files: [] },
      inputs: { sources: [{ kind: 'grid', name: 'x', values: xs }, { kind: 'grid', name: 'k', values: ['a', 'b'] }] },
      outDir: path.join(tmp, 'run'),
      workers: 2,
      workersDir,
    });
    const msgs: ReportToWebview[] = [];
    const feed = new LiveFeed(handle, (msg) => msgs.push(msg));
    const snap = feed.snapshot();
    await handle.done;
    await feed.finalPosted;
    feed.dispose();
    const live = new Map<string, unknown[]>();
    const add = (r: { columns: string[]; rows: unknown[][] } | undefined) => {
      for (const row of r?.rows ?? []) {
        const key = JSON.stringify(row.slice(0, 2));
        assert.ok(!live.has(key), `row ${key} sent twice`);
        live.set(key, row);
      }
    };
    if (snap.type === 'report') add(snap.subject.results);
    for (const m of msgs) if (m.type === 'delta' && m.delta.results) add(m.delta.results);
    assert.ok(live.size >= 12, `live updates carried ${live.size} of 24 rows before the final report`);
    const last = msgs[msgs.length - 1];
    assert.ok(last.type === 'report' && !last.live);
    const t = last.type === 'report' ? last.subject.results! : undefined;
    assert.ok(t, 'the final report carries the results table');
    assert.deepStrictEqual(t.columns, ['x', 'k', 'status', 'seconds', 'max_rss_mb', 'sq', 'result_k']);
    assert.strictEqual(t.inputs, 2);
    assert.strictEqual(t.rows.length, 24);
    const failed = t.rows.filter((r) => r[2] !== 'succeeded');
    assert.deepStrictEqual(failed.map((r) => [r[0], r[1], r[2], r[5]]), [['5', 'b', 'failed', null]]);
    assert.strictEqual(t.rows.find((r) => r[0] === '11' && r[1] === 'a')![5], 121);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('a run trimmed in memory (PARALLEL_RUN_TASKS_IN_MEMORY=5): live total and ETA from the expected total, the final message carries all 24 tasks from report.json', async () => {
    const N = 24;
    const { tmp, data } = dataDir(N);
    process.env.PARALLEL_RUN_TASKS_IN_MEMORY = '5';
    let handle;
    try {
      handle = await startRun({
        command: { kind: 'template', argv: [process.execPath, '-e', 'setTimeout(Object, 80)', '{}'] },
        files: { kind: 'folder', path: data, recursive: false },
        outDir: path.join(tmp, 'run'),
        workers: 2,
        workersDir,
      });
    } finally {
      delete process.env.PARALLEL_RUN_TASKS_IN_MEMORY;
    }
    const msgs: ReportToWebview[] = [];
    const feed = new LiveFeed(handle, (msg) => msgs.push(msg), { expectedTotal: () => N });
    const final = await handle.done;
    await feed.finalPosted;
    feed.dispose();
    assert.ok((final.tasksOmitted ?? 0) > 0, `the in-memory report was trimmed (${final.tasks.length} kept, ${final.tasksOmitted} omitted)`);
    assert.ok(final.tasks.length < N);
    const deltas = msgs.flatMap((m) => (m.type === 'delta' ? [m.delta] : []));
    assert.ok(deltas.length > 0, 'live updates were sent');
    for (const d of deltas) assert.strictEqual(d.summary.counts.total, N, 'every live update knows the total');
    const mid = deltas.filter((d) => d.summary.status === 'running' && d.summary.counts.done > 0 && d.summary.counts.done < N);
    assert.ok(mid.length > 0, 'an update arrived mid-run');
    for (const d of mid) assert.ok(typeof d.summary.etaMs === 'number' && d.summary.etaMs > 0, `ETA while running: ${d.summary.etaMs}`);
    const last = msgs[msgs.length - 1];
    assert.ok(last.type === 'report' && !last.live, 'the last message is the final report');
    if (last.type === 'report') {
      assert.strictEqual(last.subject.report.tasks.length, N, 'every task, read back from report.json');
      assert.strictEqual(last.subject.report.tasksOmitted, undefined);
      assert.deepStrictEqual(last.subject.report.tasks.map((t) => t.index).sort((a, b) => a - b), Array.from({ length: N }, (_, i) => i + 1));
      assert.ok(last.subject.report.cpuSamples.length > 0, 'the run recorded CPU samples');
    }
    // the engine itself: a run records CPU samples (the chart's data), even one shorter than the sampling period
    assert.ok(final.cpuSamples.length > 0, 'report.cpuSamples is not empty');
    for (const s of final.cpuSamples) assert.ok(s.cpu >= 0 && s.cpu <= 100 && s.t >= final.startedAt, JSON.stringify(s));
    // the machine's memory in use (total − available), as the monitor reads it
    for (const s of final.cpuSamples) assert.ok(s.memUsed !== undefined && s.memUsed > 0 && s.memUsed <= os.totalmem(), JSON.stringify(s));
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('a sub-second run still has a CPU sample (the last partial interval is sampled)', async () => {
    const { tmp, data } = dataDir(2);
    const handle = await startRun({
      command: { kind: 'template', argv: ['/bin/true'] },
      files: { kind: 'folder', path: data, recursive: false },
      outDir: path.join(tmp, 'run'),
      workers: 2,
      workersDir,
    });
    const report = await handle.done;
    assert.ok(report.cpuSamples.length >= 1, `at least one CPU sample (run took ${report.wallMs} ms)`);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('names the BLAS library of a real interpreter (one cached probe per interpreter)', async () => {
    const python = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
    const cache = new BlasOfPython(mediaDir);
    assert.strictEqual(cache.peek(python), undefined, 'nothing known before the first probe');
    const label = await cache.get(python);
    assert.match(label ?? '', /OpenBLAS|MKL|BLIS|Accelerate/, `label: ${label}`);
    assert.strictEqual(cache.peek(python), label, 'cached');
    assert.strictEqual(await cache.get('/nonexistent/python3'), undefined, 'a broken interpreter gives no label, not an error');
  });
});
