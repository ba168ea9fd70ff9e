/**
 * The host's check of what it posts to a report view: the data of a report, comparison or sweep
 * message must pass the core's bounds (core/run/reportBounds) first, since it was read from files.
 * No `vscode` import: unit-tested in Node.
 */
import { checkReport, checkResults, checkSweep, MalformedReportError } from '../../core/run/reportBounds';
import type { ReportSubject, ReportToWebview } from '../../shared/protocol';

function checkSubject(s: ReportSubject, whose: string): void {
  checkReport(s.report, `The report of ${whose}`);
  if (s.sweep) checkSweep(s.sweep, `The sweep of ${whose}`);
  if (s.results) checkResults(s.results, `The results of ${whose}`);
}

/**
 * Why the data of `msg` must not reach a view (the core's bounds on every number read from disk), or
 * undefined when it may. Live deltas come from this window's own engine, not from files: not checked.
 */
export function malformedReason(msg: ReportToWebview): string | undefined {
  const where = (s: ReportSubject) => s.runDir ?? String(s.report?.runId ?? 'this run');
  try {
    switch (msg.type) {
      case 'report':
        checkSubject(msg.subject, where(msg.subject));
        break;
      case 'compare':
        checkSubject(msg.a, where(msg.a));
        checkSubject(msg.b, where(msg.b));
        break;
      case 'sweep':
        checkSweep(msg.sweep);
        break;
      case 'delta':
      case 'error':
        break;
      default: {
        const never: never = msg;
        void never;
      }
    }
  } catch (err) {
    if (err instanceof MalformedReportError) return err.message;
    throw err;
  }
  return undefined;
}
