/** `parallel-run runs` (list the runs) and `parallel-run report` (print one run's report). */
import * as path from 'path';
import { listRuns, readReport } from '../core/run/history';
import { UsageError } from '../core/run/types';
import { DEFAULT_RUNS_DIR, EXIT, noPositionals, parseCommandLine, type PositionalToken } from './args';
import { summaryText } from './output';

export const RUNS_USAGE = 'usage: parallel-run runs [--runs-dir DIR] [--json]';
export const REPORT_USAGE = "usage: parallel-run report [RUN_DIR] [--json]\n\nPrints a run's summary (the latest run in .parallel-run/runs by default); --json prints its report.json.";

const RUNS_OPTIONS = { 'runs-dir': { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;
const REPORT_OPTIONS = { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;

export async function runs(argv: string[]): Promise<number> {
  const parsed = parseCommandLine('runs', argv, RUNS_OPTIONS);
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(RUNS_USAGE + '\n');
    return EXIT.ok;
  }
  noPositionals('runs', parsed);
  const dir = path.resolve(v['runs-dir'] ?? DEFAULT_RUNS_DIR);
  const list = await listRuns(dir);
  if (v.json) {
    process.stdout.write(JSON.stringify(list) + '\n');
    return EXIT.ok;
  }
  if (list.length === 0) process.stdout.write(`no runs in ${dir}\n`);
  for (const r of list) {
    const c = r.counts;
    process.stdout.write(`${r.runId}  ${r.status.padEnd(11)} ${c.succeeded + c.skipped}/${c.total ?? '?'} ok  ${c.failed + c.timedOut} failed  ${(r.wallMs / 1000).toFixed(1)} s  ${r.commandLabel}\n`);
  }
  return EXIT.ok;
}

export async function report(argv: string[]): Promise<number> {
  const parsed = parseCommandLine('report', argv, REPORT_OPTIONS);
  if (parsed.values.help) {
    process.stdout.write(REPORT_USAGE + '\n');
    return EXIT.ok;
  }
  const dirs = [...parsed.tokens.filter((t): t is PositionalToken => t.kind === 'positional').map((t) => t.value), ...(parsed.rest ?? [])];
  if (dirs.length > 1) throw new UsageError(`One run directory at a time, not ${dirs.length} (${dirs.join(' ')}). ${REPORT_USAGE}`);
  let dir = dirs[0];
  if (!dir) {
    const list = await listRuns(path.resolve(DEFAULT_RUNS_DIR));
    if (list.length === 0) throw new UsageError(`No runs in ${path.resolve(DEFAULT_RUNS_DIR)}. Give a run directory: parallel-run report DIR`);
    dir = list[0].dir;
  }
  const r = await readReport(path.resolve(dir));
  if (!r) throw new UsageError(`${dir} holds no run (no run.json). Give a run directory made by "parallel-run run --out DIR".`);
  process.stdout.write(parsed.values.json ? JSON.stringify(r, null, 1) + '\n' : summaryText(r, path.resolve(dir)));
  return EXIT.ok;
}
