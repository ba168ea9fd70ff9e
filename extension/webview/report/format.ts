/** Human formatting for the report (pure; unit-tested in Node). */

import { formatDuration } from '../../shared/format';

export { formatFactor, formatPercent, formatRate } from '../../shared/figures';
export { formatBytes, formatDuration } from '../../shared/format';

/** Signed difference with an explicit sign: "+1.2 s", "−300 ms". */
export function formatSignedDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  return ms > 0 ? `+${formatDuration(ms)}` : ms < 0 ? formatDuration(ms) : '±0';
}

/** Last path segment, for compact labels (the full path stays in the tooltip). */
export function baseName(file: string): string {
  const i = Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\'));
  return i >= 0 ? file.slice(i + 1) : file;
}

export function formatTime(epochMs: number): string {
  if (!Number.isFinite(epochMs) || epochMs <= 0) return '—';
  const d = new Date(epochMs);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
