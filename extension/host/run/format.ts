/** Human formatting shared by the run UI (notification, status bar, log, tree, summary). */
import type { RunStatus, TaskStatus } from '../../core/run/types';

/** 1234 ms -> "1.2 s", 83_000 -> "1 min 23 s", 4_000_000 -> "1 h 6 min". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s - m * 60)} s`;
  const h = Math.floor(m / 60);
  return `${h} h ${m - h * 60} min`;
}

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
