/** Two runs side by side, with the differences that matter first. */
import type { ReportRendered, ReportSubject } from '../../shared/protocol';
import { h, table } from './dom';
import { compareResults, compareRuns, type ResultsComparison } from './compareModel';
import type { Palette } from './theme';
import { RunView, RunViewHost, section } from './runView';

export class CompareView {
  readonly root: HTMLElement;
  private readonly a: RunView;
  private readonly b: RunView;
  private readonly drawn: { headline: HTMLElement; differences: HTMLElement; sameInputs: boolean };
  private readonly results: ResultsComparison | undefined;

  constructor(a: ReportSubject, b: ReportSubject, host: RunViewHost & { openLogSide?(side: 'a' | 'b', index: number, stream: 'stdout' | 'stderr'): void }) {
    const side = (s: 'a' | 'b'): RunViewHost => ({
      palette: host.palette,
      openLog: host.openLogSide ? (index, stream) => host.openLogSide!(s, index, stream) : undefined,
    });
    this.a = new RunView(a, false, side('a'), true);
    this.b = new RunView(b, false, side('b'), true);
    const nameA = a.report.label || a.report.runId;
    const nameB = b.report.label || b.report.runId;
    const cmp = compareRuns(a.report, b.report);
    const rows = cmp.rows.map((r) => [r.label, r.a, r.b, h('span', { class: r.better === undefined ? '' : r.better ? 'better' : 'worse' }, r.change)]);
    const diffs = cmp.differences.length
      ? h('div', { class: `callout ${cmp.sameInputs ? 'info' : 'warning'} differences`, role: cmp.sameInputs ? undefined : 'alert' },
          h('strong', null, cmp.sameInputs ? 'Not quite like with like:' : 'These runs are not like with like:'),
          h('ul', null, ...cmp.differences.map((d) => h('li', null, d))))
      : h('p', { class: 'callout ok differences' }, 'Like with like: same inputs, mode, workers × threads, interpreter and machine, and a quiet machine for both.');
    const headline = h('p', { class: 'compare-headline' }, cmp.headline);
    this.drawn = { headline, differences: diffs, sameInputs: cmp.sameInputs };
    this.results = compareResults(a.results, b.results);
    this.root = h(
      'div',
      { class: 'compare-view' },
      h('header', { class: 'run-header' }, h('h1', null, 'Compare runs'), h('div', { class: 'muted meta' }, `A = ${nameA} · B = ${nameB} · changes are B relative to A`)),
      headline,
      diffs,
      this.results ? resultsSection(this.results) : null,
      section('Figures (B against A)', table(['', `A: ${nameA}`, `B: ${nameB}`, 'B vs A'], rows, 'compare')),
      h('div', { class: 'side-by-side' }, h('div', { class: 'side' }, h('div', { class: 'side-label' }, 'A'), this.a.root), h('div', { class: 'side' }, h('div', { class: 'side-label' }, 'B'), this.b.root)),
    );
  }

  setPalette(p: Palette): void {
    this.a.setPalette(p);
    this.b.setPalette(p);
  }

  rendered(): ReportRendered {
    const ra = this.a.rendered();
    const rb = this.b.rendered();
    return {
      view: 'compare',
      runId: `${ra.runId} vs ${rb.runId}`,
      live: false,
      tasks: ra.tasks + rb.tasks,
      lanes: ra.lanes + rb.lanes,
      failures: ra.failures + rb.failures,
      stragglers: ra.stragglers + rb.stragglers,
      cpuSamples: ra.cpuSamples + rb.cpuSamples,
      sweepPoints: ra.sweepPoints + rb.sweepPoints,
      fileNames: [...ra.fileNames, ...rb.fileNames],
      compare: {
        headline: this.drawn.headline.textContent ?? '',
        differences: [...this.drawn.differences.querySelectorAll('li')].map((li) => li.textContent ?? ''),
        sameInputs: this.drawn.sameInputs,
        results: this.results
          ? { headline: this.results.headline, matched: this.results.matched, onlyA: this.results.onlyA, onlyB: this.results.onlyB, columns: this.results.columns.map((c) => ({ column: c.column, matched: c.matched, differ: c.differ })) }
          : undefined,
      },
    };
  }
}

/** The results of matching inputs: a headline, what could not be matched (plainly), then per column. */
function resultsSection(r: ResultsComparison): HTMLElement {
  const rows = r.columns.map((c) => [
    h('code', null, c.column),
    c.matched.toLocaleString('en-US'),
    h('span', { class: c.differ ? 'worse' : 'better' }, c.differ.toLocaleString('en-US')),
    c.largest.length ? h('ul', { class: 'largest' }, ...c.largest.map((x) => h('li', null, x))) : h('span', { class: 'muted' }, c.matched ? 'identical' : '—'),
  ]);
  const el = section(
    'Results of matching inputs (B against A)',
    h('p', { class: 'results-compare-headline' }, r.headline),
    r.unlike.length ? h('div', { class: 'callout warning unlike', role: 'alert' }, h('ul', null, ...r.unlike.map((u) => h('li', null, u)))) : null,
    rows.length && r.matched ? table(['Column', 'Matched', 'Differ', 'Largest differences'], rows, 'results-compare') : null,
  );
  el.classList.add('results-compare');
  return el;
}
