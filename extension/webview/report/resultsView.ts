/**
 * The report's Results section: every row of the run's results table (sortable by any column,
 * filtered by text, failed rows marked with their log one click away) and a plot of any result
 * against any parameter, one line per value of a second parameter (uPlot), themed from VS Code's
 * variables. The table draws only the rows in view (a spacer above and below stands for the rest),
 * so 10,000 rows cost as much as 30. Everything from the data is text (textContent), never markup.
 */
import uPlot from 'uplot';
import type { ResultsRendered, ResultsRows, ResultsTable, ResultsViewState } from '../../shared/protocol';
import { axis } from './charts';
import { h, linkButton } from './dom';
import { cellText, defaultPlot, formatNumber, plotData, type PlotChoice, ResultsModel } from './resultsModel';
import type { Palette } from './theme';

export interface ResultsHost {
  /** open results.csv (inside VS Code only) */
  openResults?(): void;
  /** open the log of the row with these inputs (inside VS Code only) */
  openResultLog?(inputs: string[]): void;
  /** the user changed the filter, order or plot (kept with the panel's state across a reload) */
  changed?(state: ResultsUiState): void;
  palette(): Palette;
}

/** What the section keeps when the view is drawn again (a live run's final report, a reload). */
export type ResultsUiState = ResultsViewState;

/** The one line a run without results shows (how a task reports one). */
export const NO_RESULTS =
  'No task reported a result. To get a results table, print a JSON object as the last line of stdout (e.g. {"loss": 0.12}) or write JSON to the file named in $PARALLEL_RUN_RESULT.';

/** Fallback row height (px) until a drawn row is measured. */
const ROW_H = 24;
/** Rows drawn above and below the visible ones. */
const OVERSCAN = 8;
const PLOT_HEIGHT = 300;

export class ResultsView {
  readonly root: HTMLElement;
  readonly model: ResultsModel;
  private readonly summary = h('p', { class: 'results-summary' });
  private readonly filterInput = h('input', { class: 'results-filter', ariaLabel: 'Filter rows' });
  private readonly failedBox = h('input', { id: 'results-failed-only' });
  private readonly countText = h('span', { class: 'muted results-count' });
  private readonly scroller = h('div', { class: 'results-scroll', role: 'region', ariaLabel: 'Results table' });
  private readonly table = h('table', { class: 'data results-table' });
  private readonly colgroup = h('colgroup', null);
  private readonly headRow = h('tr', null);
  private readonly body = h('tbody', null);
  private readonly topPad = h('tr', { class: 'pad' });
  private readonly bottomPad = h('tr', { class: 'pad' });
  private readonly notes = h('p', { class: 'muted results-notes' });
  private readonly plotControls = h('div', { class: 'plot-controls' });
  private readonly chart = h('div', { class: 'chart results-chart' });
  /** what the plot shows, above it (a rotated y label reads badly: "ll" turned on its side looks like "=") */
  private readonly caption = h('p', { class: 'plot-caption' });
  private readonly plotNote = h('p', { class: 'muted plot-note' });
  private readonly explanation = h('p', { class: 'muted results-none' });
  private readonly content: HTMLElement;
  private plot: uPlot | undefined;
  private plotDrawn: ResultsRendered['plot'];
  private state: ResultsUiState;
  /** indices of the rows shown (filtered, sorted), and the model version they were computed at */
  private shown: number[] = [];
  private shownAt = -1;
  private rowH = ROW_H;
  private drawnRange = { from: 0, to: 0 };
  private frame = 0;
  private filterTimer: ReturnType<typeof setTimeout> | undefined;
  private colsAt = -1;
  private plotAt = '';
  private waitingForDom = 0;

  constructor(table: ResultsTable | undefined, private readonly host: ResultsHost, previous?: ResultsUiState) {
    this.model = new ResultsModel(table);
    this.state = previous ?? { filter: '', failedOnly: false };
    this.filterInput.type = 'search';
    this.filterInput.placeholder = 'Filter rows: text, or column=value';
    this.filterInput.value = this.state.filter;
    this.filterInput.addEventListener('input', () => {
      clearTimeout(this.filterTimer);
      this.filterTimer = setTimeout(() => {
        this.state.filter = this.filterInput.value;
        this.refresh(true);
        this.changed();
      }, 120);
    });
    this.failedBox.type = 'checkbox';
    this.failedBox.checked = this.state.failedOnly;
    this.failedBox.addEventListener('change', () => {
      this.state.failedOnly = this.failedBox.checked;
      this.refresh(true);
      this.changed();
    });
    this.table.append(this.colgroup, h('thead', null, this.headRow), this.body);
    this.scroller.tabIndex = 0;
    this.scroller.append(this.table);
    this.scroller.addEventListener('scroll', () => this.schedule());
    new ResizeObserver(() => {
      this.schedule();
      this.plot?.setSize({ width: this.chartWidth(), height: PLOT_HEIGHT });
    }).observe(this.scroller);
    const open = host.openResults ? h('button', { class: 'button open-results', title: 'Open results.csv of this run in an editor' }, 'Open results.csv') : null;
    open?.addEventListener('click', () => host.openResults!());
    this.content = h(
      'div',
      { class: 'results-body' },
      h('div', { class: 'results-head' }, this.summary, open),
      h('div', { class: 'results-controls' }, this.filterInput, h('label', { class: 'results-failed' }, this.failedBox, ' Failed only'), this.countText),
      this.scroller,
      this.notes,
      h('h3', { class: 'plot-title' }, 'Plot'),
      this.plotControls,
      this.caption,
      this.chart,
      this.plotNote,
    );
    this.root = h('div', { class: 'results' }, this.explanation, this.content);
    this.refresh(true);
  }

  /** Columns before the data: the Log column, inside VS Code. */
  private get lead(): number {
    return this.host.openResultLog ? 1 : 0;
  }

  /** Whether there is a table to show (else the section is one line of explanation). */
  get hasResults(): boolean {
    return this.model.hasResults();
  }

  uiState(): ResultsUiState {
    return JSON.parse(JSON.stringify(this.state)) as ResultsUiState;
  }

  /** Rows written since the last update (a live run). */
  merge(part: ResultsRows & { reset?: boolean; omitted?: number; bounded?: number }): void {
    this.model.merge(part);
    this.refresh(false);
  }

  setPalette(_p: Palette): void {
    // colours are baked into the uPlot options: draw again
    this.plotAt = '';
    this.drawPlot();
  }

  /** Recomputes what is shown; `reset` scrolls back to the top (a new filter or order). */
  private refresh(reset: boolean): void {
    const m = this.model;
    const has = m.hasResults();
    this.explanation.hidden = has;
    this.content.hidden = !has;
    if (!has) {
      const noted = m.notedRows();
      this.explanation.textContent = noted
        ? `${NO_RESULTS} ${noted.toLocaleString('en-US')} task${noted === 1 ? '' : 's'} printed a last line that looked like JSON but was not: see result_note in results.csv.`
        : NO_RESULTS;
      this.destroyPlot();
      return;
    }
    const results = m.resultColumns();
    const failed = m.failedCount();
    const params = m.inputColumns;
    this.summary.textContent = `${n(m.rows.length)} row${m.rows.length === 1 ? '' : 's'} · ${params.length} input${params.length === 1 ? '' : 's'} (${params.join(', ')}) · ${results.length} result column${results.length === 1 ? '' : 's'}${failed ? ` · ${n(failed)} failed` : ''}`;
    const notes: string[] = [];
    if (m.omitted) notes.push(`${n(m.omitted)} more rows are in results.csv: a view shows the first ${n(m.rows.length)}.`);
    if (m.bounded) notes.push(`${n(m.bounded)} value${m.bounded === 1 ? ' was' : 's were'} too long or out of range for a view: cut (…) or shown as text, never plotted.`);
    this.notes.textContent = notes.join(' ');
    this.notes.hidden = notes.length === 0;
    if (this.colsAt !== m.columns.length) this.buildHeader();
    this.shown = m.view(this.state.filter, this.state.sort, this.state.failedOnly);
    this.shownAt = m.version;
    this.countText.textContent = this.shown.length === m.rows.length ? `${n(m.rows.length)} rows` : `${n(this.shown.length)} of ${n(m.rows.length)} rows`;
    if (reset) this.scroller.scrollTop = 0;
    this.drawnRange = { from: -1, to: -1 };
    this.drawRows();
    this.buildPlotControls();
    this.drawPlot();
  }

  private buildHeader(): void {
    const m = this.model;
    this.colsAt = m.columns.length;
    // widths from the header and a sample of values: fixed layout keeps columns still while scrolling
    const sample = m.rows.slice(0, 2000);
    const widths = m.columns.map((c, i) => {
      let w = c.length + 2;
      for (const r of sample) w = Math.max(w, cellText(r[i]).length);
      return Math.max(6, Math.min(36, w + 2));
    });
    // the Log column only where a log can open (not in an exported file)
    const lead = this.lead;
    this.colgroup.replaceChildren(...(lead ? [h('col', { class: 'log-col' })] : []), ...widths.map((w) => {
      const col = h('col', null);
      col.style.width = `${w}ch`;
      return col;
    }));
    const total = widths.reduce((a, b) => a + b, 0) + 8;
    this.table.style.minWidth = `${total}ch`;
    this.headRow.replaceChildren(
      ...(lead ? [h('th', { class: 'log-col' }, 'Log')] : []),
      ...m.columns.map((c, i) => {
        const b = h('button', { class: 'sort', title: `Sort by ${c}` }, c);
        const th = h('th', { class: i < m.inputs ? 'input-col' : '' }, b);
        b.addEventListener('click', () => this.sortBy(c));
        return th;
      }),
    );
    this.topPad.replaceChildren(h('td', null));
    this.bottomPad.replaceChildren(h('td', null));
    (this.topPad.firstChild as HTMLTableCellElement).colSpan = m.columns.length + lead;
    (this.bottomPad.firstChild as HTMLTableCellElement).colSpan = m.columns.length + lead;
    this.markSort();
  }

  private sortBy(column: string): void {
    const s = this.state.sort;
    // ascending, then descending, then the file's order
    this.state.sort = !s || s.column !== column ? { column, descending: false } : !s.descending ? { column, descending: true } : undefined;
    this.markSort();
    this.refresh(true);
    this.changed();
  }

  private changed(): void {
    this.host.changed?.(this.uiState());
  }

  private markSort(): void {
    const s = this.state.sort;
    this.model.columns.forEach((c, i) => {
      const th = this.headRow.children[i + this.lead] as HTMLElement | undefined;
      if (!th) return;
      const on = s?.column === c;
      th.setAttribute('aria-sort', on ? (s!.descending ? 'descending' : 'ascending') : 'none');
      const b = th.firstChild as HTMLElement;
      b.textContent = on ? `${c} ${s!.descending ? '▼' : '▲'}` : c;
    });
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.drawRows();
    });
  }

  /** Draws the rows in view (and a few around them); spacers stand for the others. */
  private drawRows(): void {
    if (this.shownAt !== this.model.version) {
      this.refresh(false);
      return;
    }
    const total = this.shown.length;
    const headH = (this.table.tHead?.offsetHeight ?? 0) || this.rowH;
    const view = this.scroller.clientHeight || 400;
    const top = Math.max(0, this.scroller.scrollTop - headH);
    const from = Math.max(0, Math.floor(top / this.rowH) - OVERSCAN);
    const to = Math.min(total, Math.ceil((top + view) / this.rowH) + OVERSCAN);
    if (from === this.drawnRange.from && to === this.drawnRange.to) return;
    this.drawnRange = { from, to };
    const m = this.model;
    const status = m.col('status');
    const rows: HTMLTableRowElement[] = [];
    for (let k = from; k < to; k++) {
      const row = m.rows[this.shown[k]];
      const failed = m.isFailed(row);
      const tr = h('tr', { class: failed ? 'failed' : '' });
      const inputs = m.inputValues(row);
      const open = this.host.openResultLog;
      if (open) {
        tr.append(h('td', { class: 'log-col' }, linkButton(failed ? 'error log' : 'log', failed ? 'Open the error log of this task' : 'Open the output log of this task', () => open(inputs))));
      }
      row.forEach((c, i) => {
        const text = cellText(c);
        const td = h('td', { class: i === status ? `status status-${String(c)}` : typeof c === 'number' ? 'num' : '', title: text.length > 12 ? text : undefined }, text);
        tr.append(td);
      });
      rows.push(tr);
    }
    this.topPad.style.height = `${from * this.rowH}px`;
    this.bottomPad.style.height = `${(total - to) * this.rowH}px`;
    this.body.replaceChildren(this.topPad, ...rows, this.bottomPad);
    // measure a drawn row once: the spacers then match what the theme's font draws
    const first = rows[0];
    if (first && this.rowH === ROW_H) {
      const hgt = first.getBoundingClientRect().height;
      if (hgt > 4 && Math.abs(hgt - this.rowH) > 0.5) {
        this.rowH = hgt;
        this.drawnRange = { from: -1, to: -1 };
        this.schedule();
      }
    }
  }

  private buildPlotControls(): void {
    const m = this.model;
    const ys = m.numericColumns();
    const xs = m.inputColumns;
    const key = JSON.stringify([ys, xs]);
    if (this.plotControls.dataset.key === key) return;
    this.plotControls.dataset.key = key;
    let choice = this.state.plot;
    if (!choice || !ys.includes(choice.y) || !xs.includes(choice.x) || (choice.group && !xs.includes(choice.group))) choice = defaultPlot(m);
    this.state.plot = choice;
    if (!choice) {
      this.plotControls.replaceChildren(h('span', { class: 'muted' }, 'Nothing to plot: no column holds numbers.'));
      return;
    }
    const select = (label: string, options: Array<[string, string]>, value: string, onChange: (v: string) => void): HTMLElement => {
      const s = h('select', { ariaLabel: label });
      for (const [v, text] of options) {
        const o = h('option', null, text);
        o.value = v;
        s.append(o);
      }
      s.value = value;
      s.addEventListener('change', () => onChange(s.value));
      return s;
    };
    const c = choice;
    const logBox = h('input', { ariaLabel: 'Logarithmic y axis' });
    logBox.type = 'checkbox';
    logBox.checked = !!c.logY;
    logBox.addEventListener('change', () => this.choose({ logY: logBox.checked }));
    this.plotControls.replaceChildren(
      h('label', null, 'Plot ', select('Result (y axis)', ys.map((y) => [y, y]), c.y, (y) => this.choose({ y }))),
      h('label', null, ' against ', select('Parameter (x axis)', xs.map((x) => [x, x]), c.x, (x) => this.choose({ x, group: this.state.plot?.group === x ? null : this.state.plot?.group ?? null }))),
      h('label', null, ' one line per ', select('Group by', [['', '(one line)'], ...xs.map((x): [string, string] => [x, x])], c.group ?? '', (g) => this.choose({ group: g || null }))),
      h('label', { class: 'log-y' }, logBox, ' log y'),
    );
  }

  private choose(change: Partial<PlotChoice>): void {
    if (!this.state.plot) return;
    this.state.plot = { ...this.state.plot, ...change };
    this.drawPlot();
    this.changed();
  }

  private chartWidth(): number {
    return Math.max(280, (this.chart.clientWidth || this.scroller.clientWidth || 640) - 4);
  }

  private destroyPlot(): void {
    this.plot?.destroy();
    this.plot = undefined;
    this.plotDrawn = undefined;
    this.plotAt = '';
  }

  private drawPlot(): void {
    // uPlot measures its container: draw once the section is in the document
    if (!this.chart.isConnected) {
      if (this.waitingForDom++ < 60) requestAnimationFrame(() => this.drawPlot());
      return;
    }
    this.waitingForDom = 0;
    const choice = this.state.plot;
    if (!choice || !this.model.hasResults()) {
      this.destroyPlot();
      this.plotNote.textContent = '';
      return;
    }
    const key = JSON.stringify([choice, this.model.version, this.shown.length, this.state.filter, this.state.failedOnly, this.state.sort]);
    if (key === this.plotAt && this.plot) return;
    this.plotAt = key;
    const d = plotData(this.model, this.shown, choice);
    const p = this.host.palette();
    const logY = !!choice.logY && d.positive;
    const notes = [d.note];
    if (choice.logY && !d.positive) notes.push(`A log scale needs every ${choice.y} above 0: drawn on a linear scale.`);
    if (this.shown.length < this.model.rows.length) notes.push(`Drawn from the ${n(this.shown.length)} row${this.shown.length === 1 ? '' : 's'} the filter shows.`);
    this.plotNote.textContent = notes.filter(Boolean).join(' ');
    this.caption.textContent = `${choice.y}${logY ? ' (log scale)' : ''} against ${choice.x}${choice.group ? `, one line per value of ${choice.group}` : ''}${d.maxPerPoint > 1 ? ' (means)' : ''}`;
    this.plot?.destroy();
    this.plot = undefined;
    this.chart.replaceChildren();
    if (d.points === 0) {
      this.plotDrawn = { x: choice.x, y: choice.y, group: choice.group, series: [], points: 0, note: this.plotNote.textContent };
      this.chart.append(h('p', { class: 'muted' }, `No row shown has a number in ${choice.y}.`));
      return;
    }
    const colors = lineColors(p);
    const cats = d.categories;
    const label = (s: string) => (s.length > 18 ? `${s.slice(0, 17)}…` : s);
    this.plot = new uPlot(
      {
        width: this.chartWidth(),
        height: PLOT_HEIGHT,
        scales: {
          x: cats ? { time: false, range: () => [-0.5, Math.max(0.5, cats.length - 0.5)] } : { time: false },
          y: logY ? { distr: 3 } : {},
        },
        series: [
          { label: choice.x, value: (_u, v) => (v == null ? '—' : cats ? cats[v] ?? '' : formatNumber(v)) },
          ...d.series.map((s, i) => ({
            label: s.label,
            stroke: colors[i % colors.length],
            width: p.highContrast ? 2.5 : 2,
            dash: i >= colors.length ? [6, 4] : undefined,
            points: { show: true, size: 6, fill: colors[i % colors.length] },
            // a missing point (a failed task) is a gap in its line, never bridged
            spanGaps: false,
            // text values on x have no order between them: points, no lines
            ...(cats ? { paths: () => null } : {}),
            value: (_u: uPlot, v: number | null) => (v == null ? '—' : formatNumber(v)),
          })),
        ],
        axes: [
          axis(p, choice.x, cats ? { splits: () => cats.map((_, i) => i), values: (_u: uPlot, sp: number[]) => sp.map((i) => label(cats[i] ?? '')) } : { values: (_u: uPlot, sp: number[]) => sp.map(formatNumber) }),
          axis(p, '', { values: (_u: uPlot, sp: number[]) => sp.map(formatNumber), size: fitLabels }),
        ],
        legend: { live: true },
        cursor: { drag: { x: true, y: false } },
      },
      [d.x, ...d.series.map((s) => s.values)] as uPlot.AlignedData,
      this.chart,
    );
    this.plotDrawn = { x: choice.x, y: choice.y, group: choice.group, series: d.series.map((s) => s.label), points: d.points, note: this.plotNote.textContent || undefined };
  }

  /** What the section drew (the render acknowledgement). */
  rendered(): ResultsRendered {
    const m = this.model;
    const first = this.shown.slice(0, 5).map((i) => m.rows[i].map(cellText));
    return {
      rows: m.rows.length,
      shown: this.shown.length,
      columns: [...m.columns],
      inputs: m.inputColumns,
      failed: m.failedCount(),
      domRows: this.body.querySelectorAll('tr:not(.pad)').length,
      firstRows: m.hasResults() ? first : [],
      sort: this.state.sort,
      filter: this.state.filter,
      plot: this.plot && this.chart.querySelector('canvas') ? this.plotDrawn : this.plotDrawn?.points === 0 ? this.plotDrawn : undefined,
      explanation: m.hasResults() ? undefined : this.explanation.textContent ?? undefined,
      notes: [this.notes.textContent ?? '', this.plotNote.textContent ?? ''].filter(Boolean),
    };
  }
}

/** Line colours from the theme's chart colours (lines past these are dashed). */
function lineColors(p: Palette): string[] {
  return [p.accent, p.bar.timedOut, p.bar.running, p.fit, p.bar.failed, p.bar.retried];
}

/** An axis as wide as its longest tick label (uPlot's default width cuts "-1.2346e+300"). */
function fitLabels(u: uPlot, values: string[], axisIdx: number, cycleNum: number): number {
  const ax = u.axes[axisIdx];
  if (cycleNum > 1) return (ax as unknown as { _size: number })._size;
  let size = (ax.ticks?.size ?? 10) + (ax.gap ?? 5) + 18;
  const longest = (values ?? []).reduce((a, v) => (v.length > a.length ? v : a), '');
  if (longest) {
    u.ctx.font = '11px sans-serif';
    size += u.ctx.measureText(longest).width;
  }
  return Math.ceil(size);
}

function n(x: number): string {
  return x.toLocaleString('en-US');
}

