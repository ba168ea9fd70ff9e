/**
 * The report's Results section model (pure): rows keyed by their inputs, sorting by any column
 * (numbers by value, text in natural order, empty last), the text filter, the plot's grouping (one
 * line per value of a second parameter, means named when other inputs vary), hostile values, 10,000
 * rows; and the comparison of two runs' results by matching inputs.
 */
import * as assert from 'assert';
import type { ResultCell, ResultsTable } from '../../extension/shared/protocol';
import { compareResults } from '../../extension/webview/report/compareModel';
import { cellText, compareCells, defaultPlot, formatNumber, MAX_LINES, numeric, plotData, ResultsModel } from '../../extension/webview/report/resultsModel';

const COLS = ['mu', 'sigma', 'status', 'seconds', 'max_rss_mb', 'll', 'result_note'];

function table(rows: ResultCell[][], columns = COLS, inputs = 2): ResultsTable {
  return { columns, inputs, rows, omitted: 0, bounded: 0, source: 'results.ndjson' };
}

/** mu in 0, 0.25, …, 1 × sigma in 1, 2, 3: ll = -(mu - 0.5)² / sigma; the task at mu=0.75, sigma=3 failed. */
function grid(): ResultsTable {
  const rows: ResultCell[][] = [];
  for (const mu of ['0', '0.25', '0.5', '0.75', '1']) {
    for (const sigma of ['1', '2', '3']) {
      const failed = mu === '0.75' && sigma === '3';
      rows.push([mu, sigma, failed ? 'failed' : 'succeeded', 0.1, 20, failed ? null : -((Number(mu) - 0.5) ** 2) / Number(sigma), null]);
    }
  }
  return table(rows);
}

describe('results model: rows, order, filter', () => {
  it('reads numbers from numbers and from text that is exactly a number, within the bounds', () => {
    assert.strictEqual(numeric(0.5), 0.5);
    assert.strictEqual(numeric('0.5'), 0.5);
    assert.strictEqual(numeric(' -1e-3 '), -0.001);
    assert.strictEqual(numeric('1e999'), undefined, 'text that overflows is not a number');
    assert.strictEqual(numeric(Infinity), undefined);
    assert.strictEqual(numeric(NaN), undefined);
    assert.strictEqual(numeric(1e301), undefined, 'beyond the view bound');
    assert.strictEqual(numeric('NaN'), undefined);
    assert.strictEqual(numeric('0x10'), undefined);
    assert.strictEqual(numeric('12 apples'), undefined);
    assert.strictEqual(numeric(true), undefined);
    assert.strictEqual(numeric('9'.repeat(100)), undefined, 'very long digit strings are text');
    assert.strictEqual(formatNumber(-0.0625), '-0.0625');
    assert.strictEqual(formatNumber(1 / 3), '0.333333');
    assert.strictEqual(formatNumber(1.5e300), '1.5e+300');
    assert.strictEqual(formatNumber(42), '42');
    assert.strictEqual(cellText(null), '');
    assert.strictEqual(cellText(false), 'false');
  });

  it('orders numbers by value, text naturally, empty cells last', () => {
    const cells: ResultCell[] = ['10', null, '2', 'f10', 'f2', 1.5, '', 'abc'];
    assert.deepStrictEqual([...cells].sort(compareCells), [1.5, '2', '10', 'abc', 'f2', 'f10', null, '']);
  });

  it('sorts by any column, ascending and descending, stable, empty last either way', () => {
    const m = new ResultsModel(grid());
    const byLl = m.view('', { column: 'll', descending: true }).map((i) => m.rows[i]);
    assert.deepStrictEqual(byLl.slice(0, 3).map((r) => [r[0], r[1]]), [['0.5', '1'], ['0.5', '2'], ['0.5', '3']], 'll = 0 at mu = 0.5, ties in file order');
    assert.strictEqual(byLl[byLl.length - 1][5], null, 'the failed row (no ll) stays last descending');
    const asc = m.view('', { column: 'll', descending: false }).map((i) => m.rows[i]);
    assert.deepStrictEqual([asc[0][0], asc[0][1], asc[0][5]], ['0', '1', -0.25]);
    assert.strictEqual(asc[asc.length - 1][5], null, 'and last ascending');
    const bySigma = m.view('', { column: 'sigma', descending: true }).map((i) => m.rows[i][1]);
    assert.deepStrictEqual(bySigma.slice(0, 5), ['3', '3', '3', '3', '3']);
    const byStatus = m.view('', { column: 'status', descending: false }).map((i) => m.rows[i][2]);
    assert.strictEqual(byStatus[0], 'failed');
  });

  it('filters by words anywhere, by column=value, and to failed rows only', () => {
    const m = new ResultsModel(grid());
    assert.strictEqual(m.view('').length, 15);
    assert.strictEqual(m.view('failed').length, 1);
    assert.strictEqual(m.view('sigma=2').length, 5);
    assert.strictEqual(m.view('sigma:2 mu=0.25').length, 1);
    assert.strictEqual(m.view('SIGMA=2').length, 5, 'case-insensitive');
    assert.strictEqual(m.view('nothing-like-this').length, 0);
    assert.strictEqual(m.view('', undefined, true).length, 1);
    assert.strictEqual(m.failedCount(), 1);
    assert.deepStrictEqual(m.resultColumns(), ['ll']);
    assert.ok(m.hasResults());
  });

  it('keeps one row per input: a later row replaces it; new columns go before result_note; reset starts again', () => {
    const m = new ResultsModel(table([['0', '1', 'failed', 1, 2, null, null]]));
    m.merge({ columns: ['mu', 'sigma', 'status', 'seconds', 'max_rss_mb', 'll', 'extra'], inputs: 2, rows: [['0', '1', 'succeeded', 1, 2, -1, 'x'], ['1', '1', 'succeeded', 1, 2, -2, null]] });
    assert.strictEqual(m.rows.length, 2, 'the retried input replaced its failed row');
    assert.deepStrictEqual(m.columns, ['mu', 'sigma', 'status', 'seconds', 'max_rss_mb', 'll', 'extra', 'result_note']);
    assert.deepStrictEqual(m.rows[0], ['0', '1', 'succeeded', 1, 2, -1, 'x', null]);
    m.merge({ columns: ['mu', 'sigma', 'status'], inputs: 2, rows: [['5', '5', 'succeeded']], reset: true });
    assert.strictEqual(m.rows.length, 1);
  });

  it('a run whose tasks reported nothing has no results (the section is one line)', () => {
    const m = new ResultsModel(table([['a.txt', 'succeeded', 0.1, 10]], ['file', 'status', 'seconds', 'max_rss_mb'], 1));
    assert.strictEqual(m.hasResults(), false);
    assert.deepStrictEqual(m.resultColumns(), []);
  });

  it('10,000 rows: sorted and filtered whole, every row once', () => {
    const rows: ResultCell[][] = [];
    for (let i = 0; i < 10_000; i++) rows.push([String(i % 100), String(Math.floor(i / 100)), i % 97 === 0 ? 'failed' : 'succeeded', 0.01, 10, (i * 7919) % 10_007, null]);
    const m = new ResultsModel(table(rows));
    assert.strictEqual(m.rows.length, 10_000);
    const sorted = m.view('', { column: 'll', descending: false });
    assert.strictEqual(sorted.length, 10_000);
    for (let k = 1; k < sorted.length; k++) assert.ok((m.rows[sorted[k - 1]][5] as number) <= (m.rows[sorted[k]][5] as number));
    assert.strictEqual(new Set(sorted).size, 10_000);
    assert.strictEqual(m.view('mu=5').length, 19 * 100, 'a column=value word matches within the column: 19 of 0–99 hold a 5');
    assert.strictEqual(m.view('mu=5 sigma=7').length, 19 * 19, 'words combine with and');
    assert.strictEqual(m.view('', undefined, true).length, Math.ceil(10_000 / 97));
  });
});

describe('results model: the plot', () => {
  it('defaults to the first result against the first numeric parameter that varies, one line per value of the next', () => {
    const m = new ResultsModel(grid());
    assert.deepStrictEqual(defaultPlot(m), { x: 'mu', y: 'll', group: 'sigma' });
  });

  it('one line per sigma, x in numeric order, the failed task left out and said so', () => {
    const m = new ResultsModel(grid());
    const d = plotData(m, m.view(''), { x: 'mu', y: 'll', group: 'sigma' });
    assert.deepStrictEqual(d.x, [0, 0.25, 0.5, 0.75, 1]);
    assert.deepStrictEqual(d.series.map((s) => s.label), ['sigma = 1', 'sigma = 2', 'sigma = 3']);
    assert.deepStrictEqual(d.series[0].values, [-0.25, -0.0625, 0, -0.0625, -0.25]);
    assert.deepStrictEqual(d.series[2].values[3], null, 'no point where the task failed');
    assert.strictEqual(d.points, 14);
    assert.strictEqual(d.maxPerPoint, 1);
    assert.match(d.note, /1 row without a number in ll is not drawn/);
    assert.strictEqual(d.positive, false);
  });

  it('without a group, a point over rows that differ in another input is their mean, and the note names that input', () => {
    const m = new ResultsModel(grid());
    const d = plotData(m, m.view(''), { x: 'mu', y: 'll', group: null });
    assert.strictEqual(d.series.length, 1);
    assert.strictEqual(d.maxPerPoint, 3);
    assert.deepStrictEqual(d.varying, ['sigma']);
    assert.match(d.note, /mean of up to 3 rows \(sigma varies within a point\): group by sigma/);
    const mean0 = (-0.25 / 1 + -0.25 / 2 + -0.25 / 3) / 3;
    assert.ok(Math.abs((d.series[0].values[0] as number) - mean0) < 1e-12);
  });

  it('the filter narrows the plot; text parameters are categories in natural order (points, no order implied)', () => {
    const m = new ResultsModel(table([['f10', 'succeeded', 1, 1, 3], ['f2', 'succeeded', 1, 1, 1], ['f1', 'succeeded', 1, 1, 2]], ['file', 'status', 'seconds', 'max_rss_mb', 'n'], 1));
    const d = plotData(m, m.view(''), { x: 'file', y: 'n', group: null });
    assert.deepStrictEqual(d.categories, ['f1', 'f2', 'f10']);
    assert.deepStrictEqual(d.series[0].values, [2, 1, 3]);
    const g = new ResultsModel(grid());
    assert.strictEqual(plotData(g, g.view('sigma=1'), { x: 'mu', y: 'll', group: 'sigma' }).series.length, 1);
  });

  it(`draws at most ${MAX_LINES} lines and says how to see the others`, () => {
    const rows: ResultCell[][] = [];
    for (let g = 0; g < 20; g++) for (let x = 0; x < 3; x++) rows.push([String(x), String(g), 'succeeded', 1, 1, x * g + 1, null]);
    const m = new ResultsModel(table(rows, ['x', 'g', ...COLS.slice(2)]));
    const d = plotData(m, m.view(''), { x: 'x', y: 'll', group: 'g' });
    assert.strictEqual(d.series.length, MAX_LINES);
    assert.strictEqual(d.hiddenGroups, 8);
    assert.match(d.note, /g has 20 values: the first 12 are drawn; filter \(e\.g\. g=12\)/);
    assert.strictEqual(defaultPlot(m)?.group, null, 'a parameter with more values than lines is not the default group');
  });

  it('hostile values never reach the plot: text, huge, not-a-number', () => {
    const m = new ResultsModel(table([
      ['0', '1', 'succeeded', 1, 1, 'Infinity', null],
      ['1', '1', 'succeeded', 1, 1, '1e+301', null],
      ['2', '1', 'succeeded', 1, 1, 'x'.repeat(500), null],
      ['3', '1', 'succeeded', 1, 1, 2, null],
    ]));
    const d = plotData(m, m.view(''), { x: 'mu', y: 'll', group: null });
    assert.deepStrictEqual(d.x, [3]);
    assert.deepStrictEqual(d.series[0].values, [2]);
    assert.match(d.note, /3 rows without a number in ll are not drawn/);
  });
});

describe('compare runs: results of matching inputs', () => {
  it('matches rows by input values (whatever the column order), counts and names the largest differences', () => {
    const a = grid();
    // B: the inputs in the other order, mu=1 missing, one value changed, the failed task succeeded
    const b = table(
      grid().rows.filter((r) => r[0] !== '1').map((r) => {
        const ll = r[0] === '0' && r[1] === '1' ? -0.5 : r[0] === '0.75' && r[1] === '3' ? -0.02 : r[5];
        return [r[1], r[0], r[0] === '0.75' && r[1] === '3' ? 'succeeded' : r[2], 0.2, 30, ll, null];
      }),
      ['sigma', 'mu', ...COLS.slice(2)],
    );
    const c = compareResults(a, b)!;
    assert.strictEqual(c.matched, 12);
    assert.strictEqual(c.onlyA, 3);
    assert.strictEqual(c.onlyB, 0);
    const ll = c.columns.find((x) => x.column === 'll')!;
    assert.strictEqual(ll.matched, 11, 'the failed row has no ll in A');
    assert.strictEqual(ll.differ, 1);
    assert.match(ll.largest[0], /^mu=0, sigma=1: A -0\.25, B -0\.5, B − A = −0\.25 \(−100%\)$/);
    const status = c.columns.find((x) => x.column === 'status')!;
    assert.strictEqual(status.differ, 1);
    assert.match(status.largest[0], /mu=0\.75, sigma=3: A "failed", B "succeeded"/);
    assert.match(c.unlike.join(' '), /3 inputs only in A, 0 only in B/);
    assert.match(c.headline, /12 matching inputs; results differ in status \(1 of 12\), ll \(1 of 11\)/);
  });

  it('identical results say so; unlike inputs are said plainly; one side without results too', () => {
    assert.match(compareResults(grid(), grid())!.headline, /^Same results: 15 matching inputs/);
    const other = table([['0', '1', 'succeeded', 1, 1, 3, null]], ['mu', 'tau', ...COLS.slice(2)]);
    const c = compareResults(grid(), other)!;
    assert.strictEqual(c.matched, 0);
    assert.match(c.unlike[0], /A's rows are keyed by \(mu, sigma\), B's by \(mu, tau\)/);
    const none = table([['a', 'succeeded', 1, 1]], ['file', 'status', 'seconds', 'max_rss_mb'], 1);
    assert.match(compareResults(grid(), none)!.headline, /Only A has results/);
    assert.strictEqual(compareResults(none, undefined), undefined, 'no section when neither has results');
  });
});
