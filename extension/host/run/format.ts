/** Human formatting shared by the run UI (notification, status bar, log, tree, summary). */
import type { RunReport, RunStatus, TaskStatus } from '../../core/run/types';

import { formatDuration } from '../../shared/format';

export { formatDuration };

/** "3 min ago", for the history. */
export function formatAgo(epochMs: number, now = Date.now()): string {
  const s = Math.max(0, (now - epochMs) / 1000);
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return new Date(epochMs).toLocaleDateString();
}

export const RUN_STATUS_TEXT: Record<RunStatus, string> = {
  running: 'running',
  succeeded: 'succeeded',
  failed: 'finished with failures',
  cancelled: 'cancelled',
  halted: 'halted',
  interrupted: 'interrupted (resumable)',
};

export const TASK_STATUS_SYMBOL: Record<TaskStatus, string> = {
  succeeded: '✓',
  failed: '✗',
  timedOut: '⏱',
  cancelled: '⊘',
  skipped: '↷',
};

/** "1 thread × 2 workers = 2 cores" — the reason shown next to the default. */
export function threadsReason(threads: number, workers: number, cores: number): string {
  const used = threads * workers;
  const base = `${threads} thread${threads === 1 ? '' : 's'} × ${workers} worker${workers === 1 ? '' : 's'} = ${used} core${used === 1 ? '' : 's'}`;
  if (used > cores) return `${base} — more than the ${cores} cores: tasks will fight over them`;
  if (used < cores) return `${base} of ${cores}`;
  return base;
}

/** Last non-empty line of a tail, for one-line log messages. */
export function lastLine(text: string): string {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  return lines.length ? lines[lines.length - 1] : '';
}

/** What the notification at the end of a run says, and offers. */
export interface EndNotice {
  severity: 'info' | 'warning';
  text: string;
  actions: Array<'Show Report' | 'Re-run Failed' | 'Resume'>;
}

/**
 * The end-of-run notification: succeeded; N of M failed with the largest group (and why it stopped
 * early); cancelled. `label` names the run.
 */
export function endNotice(r: RunReport, label: string): EndNotice {
  const c = r.counts;
  const total = c.total ?? c.done;
  const failed = c.failed + c.timedOut;
  const name = `Parallel Run "${label}"`;
  // a run over parameters counts tasks (tuples), not files
  const unit = (r.tasks ?? []).some((t) => t.inputs) ? 'task' : 'file';
  if (r.status === 'cancelled' || r.status === 'interrupted') {
    return {
      severity: 'warning',
      text: `${name} was ${r.status === 'cancelled' ? 'cancelled' : 'interrupted'} after ${count(c.done)} of ${count(total)} ${unit}s${failed ? ` (${count(failed)} failed)` : ''}. Resume it to do the rest.`,
      actions: failed ? ['Show Report', 'Resume', 'Re-run Failed'] : ['Show Report', 'Resume'],
    };
  }
  if (failed === 0) {
    const stop = r.stopped ? ` ${r.stopped.message}` : '';
    return { severity: 'info', text: `${name} succeeded: ${count(c.succeeded)} ${unit}${c.succeeded === 1 ? '' : 's'}${c.skipped ? ` (+${count(c.skipped)} done before)` : ''} in ${formatDuration(r.wallMs)}.${stop}`, actions: ['Show Report'] };
  }
  const g = r.failureGroups?.[0];
  const most = g ? (g.count === failed ? `: ${g.title}` : ` — most (${count(g.count)}) with ${g.title}`) : '';
  const stop = r.stopped ? (r.stopped.reason === 'early' ? ` Stopped early: ${r.stopped.message}` : ` ${r.stopped.message}`) : '';
  // (a group's title that ends a sentence itself gets no second full stop)
  return { severity: 'warning', text: `${name}: ${count(failed)} of ${count(total)} ${unit}s failed${most}${/[.!?]$/.test(most) ? '' : '.'}${stop}`, actions: ['Show Report', 'Re-run Failed'] };
}

/** 5000 -> "5,000" */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}
