import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { startRun } from '../../extension/core/run/engine';
import { LiveFeed } from '../../extension/host/report/liveFeed';
import type { ReportToWebview } from '../../extension/shared/protocol';

const workersDir = path.resolve(__dirname, '../../../dist/workers');

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
    // what the webview accumulated from snapshot + deltas is every task (the final report re-sends all anyway)
    assert.ok(seen.size >= N - 2, `deltas carried ${seen.size} of ${N} tasks before the final report`);
    fs.rmSync(tmp, { recursive: true, force: true });
  });
});
