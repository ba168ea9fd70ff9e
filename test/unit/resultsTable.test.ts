/**
 * A run's results read back for a view (core/run/resultsTable): the real ResultsWriter's files read
 * whole; hostile files bounded the way reportBounds bounds a report (huge and non-finite numbers
 * become text, long text is cut, columns and rows stop at their bounds, torn lines are skipped, one
 * row per input); results.csv when there is no results.ndjson; a live run followed as it appends;
 * a row's log found by its inputs; and the check on a table from anywhere else.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { checkResults, MalformedReportError, VIEW_LIMITS } from '../../extension/core/run/reportBounds';
import { ResultsWriter } from '../../extension/core/run/results';
import { boundCell, findResultLog, readResultsTable, ResultsFollower } from '../../extension/core/run/resultsTable';
import type { TaskRecord } from '../../extension/core/run/types';
import { tmpDir } from './engineHelpers';

function record(over: Partial<TaskRecord>): TaskRecord {
  return {
    index: 1, file: 'f', slot: 1, status: 'succeeded', attempts: 1, start: 0, end: 1500, wallMs: 1500, exitCode: 0, signal: null,
    cpuUserSec: 0, cpuSysSec: 0, maxRssKb: 20480, stdoutTail: '', stderrTail: '', stdoutLog: 'logs/1.out', stderrLog: 'logs/1.err', threadEnv: {}, mode: 'cold', ...over,
  };
}

function ndjson(dir: string, rows: unknown[], extra = ''): void {
  fs.writeFileSync(path.join(dir, 'results.ndjson'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n' + extra);
}

describe('results table for a view', () => {
  it('reads what the ResultsWriter wrote: inputs from run.json, typed values, columns in the file order', async () => {
    const dir = tmpDir('pr-rtable-');
    fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify({ inputNames: ['mu', 'sigma'] }));
    const w = new ResultsWriter(dir, ['mu', 'sigma']);
    await w.open(path.join(dir, 'journal.ndjson'), 'fp', false);
    w.add(record({ index: 0, inputs: ['0.5', '1'], result: { ll: -0.25, nested: { a: [1, 2] } } }));
    w.add(record({ index: 1, inputs: ['1', '1'], status: 'failed', stderrLog: 'logs/2.err', resultNote: 'last line of stdout looks like JSON but is not (x)' }));
    await w.close(path.join(dir, 'journal.ndjson'), 'fp');
    const t = (await readResultsTable(dir))!;
    assert.strictEqual(t.source, 'results.ndjson');
    assert.deepStrictEqual(t.columns, ['mu', 'sigma', 'status', 'seconds', 'max_rss_mb', 'll', 'nested', 'result_note']);
    assert.strictEqual(t.inputs, 2);
    assert.deepStrictEqual(t.rows[0], ['0.5', '1', 'succeeded', 1.5, 20, -0.25, '{"a":[1,2]}', null]);
    assert.deepStrictEqual(t.rows[1].slice(0, 3), ['1', '1', 'failed']);
    assert.match(String(t.rows[1][7]), /looks like JSON/);
    assert.strictEqual(t.bounded, 0);
    checkResults(t);
    assert.strictEqual(await findResultLog(dir, ['1', '1']), 'logs/2.err', 'a failed row names its error log');
    assert.strictEqual(await findResultLog(dir, ['0.5', '1']), 'logs/1.out');
    assert.strictEqual(await findResultLog(dir, ['9', '9']), undefined);
  });

  it('bounds hostile values: huge and non-finite numbers become text, long text is cut, the table counts them', async () => {
    const dir = tmpDir('pr-rtable-');
    const long = 'é'.repeat(5000);
    // 1e999 parses to Infinity; a torn last line (a crash mid-write) is not a row
    fs.writeFileSync(
      path.join(dir, 'results.ndjson'),
      '{"file":"a","status":"succeeded","seconds":1,"max_rss_mb":1,"v":1e999}\n' +
        `{"file":"b","status":"succeeded","seconds":1,"max_rss_mb":1,"v":-1e301,"s":${JSON.stringify(long)}}\n` +
        '{"file":"c","status":"succeeded","seconds":1,"max_rss_mb":1,"v":1e300}\n' +
        '{"file":"d","status":"succ',
    );
    const t = (await readResultsTable(dir))!;
    assert.strictEqual(t.rows.length, 3);
    assert.strictEqual(t.inputs, 1, 'no run.json: the inputs are the columns before status');
    assert.deepStrictEqual(t.rows.map((r) => r[4]), ['Infinity', '-1e+301', 1e300]);
    const s = t.rows[1][5] as string;
    assert.strictEqual(Array.from(s).length, VIEW_LIMITS.resultText);
    assert.ok(s.endsWith('…'));
    assert.strictEqual(t.bounded, 3);
    checkResults(t);
    assert.strictEqual(boundCell(NaN), 'NaN');
    assert.strictEqual(boundCell(undefined), null);
    assert.strictEqual(boundCell(10n), '10');
  });

  it('stops at the column and row bounds and says how many rows it left out; one row per input', async function () {
    this.timeout(60_000);
    const dir = tmpDir('pr-rtable-');
    const wide: Record<string, unknown> = { file: 'w', status: 'succeeded', seconds: 1, max_rss_mb: 1 };
    for (let i = 0; i < 300; i++) wide[`k${i}`] = i;
    const lines = [JSON.stringify(wide)];
    const n = VIEW_LIMITS.resultRows + 5;
    for (let i = 0; i < n; i++) lines.push(JSON.stringify({ file: `f${i}`, status: 'succeeded', seconds: 0, max_rss_mb: 0, k0: i }));
    // the same input again: it replaces its row, never a second one
    lines.push(JSON.stringify({ file: 'f0', status: 'failed', seconds: 0, max_rss_mb: 0 }));
    fs.writeFileSync(path.join(dir, 'results.ndjson'), lines.join('\n') + '\n');
    const t = (await readResultsTable(dir))!;
    assert.strictEqual(t.columns.length, VIEW_LIMITS.resultColumns);
    assert.strictEqual(t.rows.length, VIEW_LIMITS.resultRows);
    assert.strictEqual(t.omitted, 6, '5 beyond the bound + the wide row first took a place');
    assert.strictEqual(t.rows[1][1], 'failed', 'f0 replaced in place');
    assert.ok(t.bounded >= 1);
    checkResults(t);
  });

  it('falls back to results.csv (quotes, commas, newlines) when there is no results.ndjson', async () => {
    const dir = tmpDir('pr-rtable-');
    fs.writeFileSync(path.join(dir, 'results.csv'), 'mu,label,status,seconds,max_rss_mb,ll\n0.25,"a, b",succeeded,1,2,-1\n0.75,"say ""hi""\nthere",failed,1,2,\n');
    const t = (await readResultsTable(dir))!;
    assert.strictEqual(t.source, 'results.csv');
    assert.strictEqual(t.inputs, 2);
    assert.deepStrictEqual(t.rows, [
      ['0.25', 'a, b', 'succeeded', '1', '2', '-1'],
      ['0.75', 'say "hi"\nthere', 'failed', '1', '2', null],
    ]);
    assert.strictEqual(await readResultsTable(tmpDir('pr-rtable-')), undefined, 'no results files: no table');
  });

  it('the check refuses a table from elsewhere that is out of bounds, naming the field', () => {
    const ok = { columns: ['file', 'status'], inputs: 1, rows: [['a', 'succeeded']], omitted: 0, bounded: 0, source: 'results.ndjson' };
    checkResults(ok);
    for (const [bad, field] of [
      [{ ...ok, rows: [['a', 1e301]] }, /results\.rows\[0\]\[1\]/],
      [{ ...ok, rows: [['x'.repeat(VIEW_LIMITS.resultText + 1), 'succeeded']] }, /results\.rows\[0\]\[0\] is longer than 500 characters/],
      [{ ...ok, columns: 'file' }, /results\.columns is "file", not array/],
      [{ ...ok, inputs: 1e9 }, /results\.inputs/],
    ] as const) {
      assert.throws(() => checkResults(bad), (e: Error) => e instanceof MalformedReportError && (field as RegExp).test(e.message), JSON.stringify(bad).slice(0, 80));
    }
  });

  it('follows a live file: whole lines only, a part at a time, and again from the start when it was rewritten', () => {
    const dir = tmpDir('pr-rtable-');
    const f = new ResultsFollower(dir, undefined, 200);
    assert.strictEqual(f.read(), undefined, 'no file yet');
    const row = (i: number) => JSON.stringify({ mu: String(i), status: 'succeeded', seconds: 0.1, max_rss_mb: 1, ll: -i }) + '\n';
    fs.writeFileSync(path.join(dir, 'results.ndjson'), row(0) + row(1).slice(0, 10));
    const a = f.read()!;
    assert.deepStrictEqual(a.rows, [['0', 'succeeded', 0.1, 1, 0]]);
    assert.deepStrictEqual(a.columns, ['mu', 'status', 'seconds', 'max_rss_mb', 'll']);
    assert.strictEqual(a.inputs, 1);
    fs.appendFileSync(path.join(dir, 'results.ndjson'), row(1).slice(10) + row(2) + row(3) + row(4));
    const got: unknown[][] = [];
    for (let k = 0; k < 10; k++) {
      const r = f.read();
      if (r) got.push(...r.rows);
      if (!f.behind) break;
    }
    assert.deepStrictEqual(got.map((r) => r[0]), ['1', '2', '3', '4'], 'every row once, in 200-byte parts');
    fs.writeFileSync(path.join(dir, 'results.ndjson'), row(7));
    const again = f.read()!;
    assert.strictEqual(again.reset, true);
    assert.deepStrictEqual(again.rows.map((r) => r[0]), ['7']);
    f.restart();
    assert.deepStrictEqual(f.read()!.rows.map((r) => r[0]), ['7'], 'restart: every row again');
  });
});
