/**
 * The one run tracker (extension/host/run/runTracker.ts) over any RunHandle: the progress words, the
 * status bar item and its end are the same for a local run and a Slurm array, which only adds its
 * words (array task states) through the options. Driven here by a stand-in handle whose events the
 * test sends; the real runs are in run.test.ts and slurm.test.ts.
 */
import * as assert from 'assert';
import type { RunEvent, RunHandle, RunReport } from '../../extension/core/run/types';
import { RunTracker } from '../../extension/host/run/runTracker';
import { Commands } from '../../extension/shared/ids';

function standIn(outDir: string): RunHandle & { send(e: RunEvent): void; end(): void } {
  const listeners = new Set<(e: RunEvent) => void>();
  let end!: () => void;
  const done = new Promise<RunReport>((resolve) => (end = () => resolve({ status: 'succeeded' } as RunReport)));
  return {
    runId: `run-${outDir}`, outDir, done, cancel: () => undefined, report: () => ({}) as RunReport,
    onEvent: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    send: (e) => listeners.forEach((l) => l(e)),
    end: () => end(),
  };
}

const progress = (done: number, total: number | null, failed = 0): RunEvent => ({ type: 'progress', done, total, failed, etaMs: null } as unknown as RunEvent);

describe('run tracker: one progress, notification and status bar for any run', () => {
  it('a local run and a Slurm array are worded alike; the Slurm one adds its array states', async () => {
    const local = new RunTracker('test.local', 'local', 0, '', (n) => `(${n} runs going)`);
    const slurm = new RunTracker('test.slurm', 'slurm', 0, 'Slurm ', (n) => `(${n} Slurm runs watched)`);
    try {
      const a = standIn('/tmp/tracker-local');
      const b = standIn('/tmp/tracker-slurm');
      const ta = local.track(a, { label: 'ok.py over 12 files', notification: false, expectedTotal: 12 });
      const tb = slurm.track(b, { label: 'ok.py (Slurm)', notification: false, moreMessage: () => 'array tasks: 2 running', moreStatus: () => ' · 2 running', tooltipNote: () => 'Job array 7.' });
      assert.strictEqual(local.status().text, '$(loading~spin) 0/12', 'the total counted up front shows at once');
      a.send(progress(3, null, 1));
      b.send(progress(3, 12, 1));
      assert.match(local.message(ta), /^3\/12 files · 1 failed · about .* left$/, 'an ETA from the total counted up front');
      assert.match(slurm.message(tb), /^3\/12 files · 1 failed · about .* left · array tasks: 2 running$/, 'the same words, then the array states');
      assert.match(local.status().text, /^\$\(loading~spin\) 3\/12 \$\(error\) 1 · .* left$/);
      assert.match(slurm.status().text, /^\$\(loading~spin\) Slurm 3\/12 \$\(error\) 1 · .* left · 2 running$/);
      assert.match(slurm.status().tooltip, /^Parallel Run: ok\.py \(Slurm\)\n3\/12 files .*\nJob array 7\. Click for the live report/);
      assert.strictEqual(local.status().command, Commands.showReport);
      assert.deepStrictEqual([local.status().visible, slurm.status().visible], [true, true]);
      // the end: gone from the tracker and the status bar
      a.end();
      b.end();
      await Promise.all([a.done, b.done]);
      await new Promise((r) => setTimeout(r, 0));
      assert.deepStrictEqual([local.active().length, slurm.active().length], [0, 0]);
      assert.deepStrictEqual([local.status().visible, slurm.status().visible], [false, false]);
    } finally {
      local.dispose();
      slurm.dispose();
    }
  });

  it('several runs: the newest shows, the tooltip says how many', async () => {
    const t = new RunTracker('test.many', 'many', 0, '', (n) => `(${n} runs going)`);
    try {
      const a = standIn('/tmp/tracker-a');
      const b = standIn('/tmp/tracker-b');
      t.track(a, { label: 'A', notification: false });
      t.track(b, { label: 'B', notification: false });
      assert.match(t.status().tooltip, /^Parallel Run: B\n[\s\S]*\n\(2 runs going\)$/);
      assert.ok(t.get('/tmp/tracker-a/'), 'found by its directory');
      b.end();
      await b.done;
      await new Promise((r) => setTimeout(r, 0));
      assert.match(t.status().tooltip, /^Parallel Run: A\n/);
      a.end();
      await a.done;
    } finally {
      t.dispose();
    }
  });
});
