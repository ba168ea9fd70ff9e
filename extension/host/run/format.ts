/** Human formatting shared by the run UI (notification, status bar, log, tree, summary). */
import type { RunStatus, TaskStatus } from '../../core/run/types';

export { formatDuration } from '../../shared/format';

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
  halted: 'halted at the first failure',
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
