/**
 * A run's report rebuilt from its journal (report.json missing or stale): the last session's records
 * in index order, files that succeeded in an earlier session and did not run again counted as skipped
 * (only under the run's current fingerprint), the session's end and status from run.json. The same
 * report comes back from the history worker thread (dist/workers/historyWorker.js) for a big journal.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { historyWorkerStarted, OFF_THREAD_JOURNAL_BYTES, readReport, stopHistoryWorker, useHistoryWorker } from '../../extension/core/run/history';
import type { JournalLine } from '../../extension/core/run/journal';
import type { RunDefinition } from '../../extension/core/run/types';
import { tmpDir } from './engineHelpers';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const T0 = 1_700_000_000_000;

function definition(cwd: string): RunDefinition {
  return {
    version: 1, runId: 'r1', label: 'history', backend: 'local', fingerprint: 'fpA',
    command: { kind: 'template', argv: ['/bin/true'] }, files: { kind: 'list', files: [] }, cwd,
    workers: 2, threads: 1, timeoutSec: 0, retries: 0, halt: false, env: {}, threadEnv: {}, cores: { logical: 2, physical: 2 },
    createdAt: T0,
    sessions: [
      { session: 's1', startedAt: T0, pid: 1, resume: false, endedAt: T0 + 50_000, status: 'failed' },
      { session: 's2', startedAt: T0 + 100_000, pid: 1, resume: true, endedAt: T0 + 200_000, status: 'succeeded' },
    ],
  };
}

function line(session: string, index: number, file: string, status: JournalLine['status'], fp = 'fpA', extra: Partial<JournalLine> = {}): JournalLine {
  const start = session === 's1' ? T0 + index * 10 : T0 + 100_000 + index * 10;
  return {
    index, file, slot: 1 + (index % 2), status, attempts: 1, start, end: start + 5, wallMs: 5, exitCode: status === 'succeeded' ? 0 : 1, signal: null,
    cpuUserSec: 0, cpuSysSec: 0, maxRssKb: null, stdoutTail: '', stderrTail: '', stdoutLog: `logs/${index}.out`, stderrLog: `logs/${index}.err`,
    threadEnv: {}, mode: 'cold', fp, session, ...extra,
  };
}

function writeRun(dir: string, def: RunDefinition, lines: JournalLine[]): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify(def));
  fs.writeFileSync(path.join(dir, 'journal.ndjson'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
}

describe('history: report rebuilt from the journal', () => {
  it('last session in index order; earlier successes not run again are skipped (current fingerprint only)', async () => {
    const dir = path.join(tmpDir('pr-history-'), 'run');
    const def = definition('/data');
    writeRun(dir, def, [
      // session 1: a, b, e succeeded; c failed; x succeeded under another definition (fingerprint)
      line('s1', 1, 'a.txt', 'succeeded'),
      line('s1', 2, 'b.txt', 'succeeded'),
      line('s1', 3, 'c.txt', 'failed'),
      line('s1', 4, '/data/e.txt', 'succeeded'), // absolute: the same key as e.txt under cwd /data
      line('s1', 5, 'x.txt', 'succeeded', 'fpOld'),
      // session 2 (the last), written out of order: c again (now succeeds), b again, f new
      line('s2', 7, 'f.txt', 'failed'),
      line('s2', 3, 'c.txt', 'succeeded'),
      line('s2', 2, 'b.txt', 'succeeded'),
    ]);
    const r = await readReport(dir);
    assert.ok(r);
    assert.deepStrictEqual(r.tasks.map((t) => [t.index, t.file, t.status]), [[2, 'b.txt', 'succeeded'], [3, 'c.txt', 'succeeded'], [7, 'f.txt', 'failed']]);
    // a and e succeeded before and did not run again: skipped; b ran again (not skipped); x is another definition's
    assert.strictEqual(r.counts.skipped, 2);
    assert.strictEqual(r.counts.done, 5);
    assert.strictEqual(r.counts.succeeded, 2);
    assert.strictEqual(r.counts.failed, 1);
    assert.deepStrictEqual(r.failures.map((f) => f.file), ['f.txt']);
    assert.strictEqual(r.status, 'succeeded');
    assert.strictEqual(r.startedAt, T0 + 100_000);
    assert.strictEqual(r.endedAt, T0 + 200_000);
  });

  it('the same file in earlier sessions several times is skipped once', async () => {
    const dir = path.join(tmpDir('pr-history-'), 'run');
    const def = definition('/data');
    def.sessions = [{ session: 's0', startedAt: T0 - 1000, pid: 1, resume: false, endedAt: T0 - 500, status: 'succeeded' }, ...def.sessions];
    writeRun(dir, def, [
      line('s0', 1, 'a.txt', 'succeeded'),
      line('s1', 1, 'a.txt', 'succeeded'),
      line('s1', 2, 'b.txt', 'succeeded'),
      line('s2', 3, 'c.txt', 'succeeded'),
    ]);
    const r = await readReport(dir);
    assert.strictEqual(r?.counts.skipped, 2);
    assert.strictEqual(r?.counts.done, 3);
  });

  it('a big journal is rebuilt on the history worker thread, with the same report', async function () {
    this.timeout(120_000);
    const script = path.join(ROOT, 'dist', 'workers', 'historyWorker.js');
    assert.ok(fs.existsSync(script), `${script} is built (npx webpack)`);
    const dir = path.join(tmpDir('pr-history-'), 'run');
    const lines: JournalLine[] = [];
    const pad = 'x'.repeat(400); // stderr tails: a journal over the off-thread threshold with few records
    const n = Math.ceil(OFF_THREAD_JOURNAL_BYTES / 700) + 100;
    for (let i = 1; i <= n; i++) lines.push(line('s1', i, `f${i}.txt`, i % 7 ? 'succeeded' : 'failed', 'fpA', { stderrTail: pad }));
    for (let i = 1; i <= n; i += 2) lines.push(line('s2', i, `f${i}.txt`, 'succeeded', 'fpA', { stderrTail: pad }));
    writeRun(dir, definition('/data'), lines);
    assert.ok(fs.statSync(path.join(dir, 'journal.ndjson')).size >= OFF_THREAD_JOURNAL_BYTES);
    const here = await readReport(dir);
    useHistoryWorker(script);
    try {
      const there = await readReport(dir);
      assert.ok(historyWorkerStarted(), 'the worker thread did the rebuild');
      assert.deepStrictEqual(there, here);
      assert.strictEqual(there?.tasks.length, Math.ceil(n / 2));
    } finally {
      await stopHistoryWorker();
      useHistoryWorker(undefined);
    }
  });
});
