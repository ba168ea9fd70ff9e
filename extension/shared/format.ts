/**
 * How durations and sizes read, in ONE place for the CLI, the host (notifications, status bar, Runs
 * view, code lenses) and the webviews: the same run never says "1.2 s" in one place and "0:01" in
 * another, or "KiB" here and "KB" there. Sizes are binary (1 KB = 1024 bytes), as `top` and `free`
 * count them. Pure (no Node, no DOM).
 */

/** 0.0123 s → "12 ms", 75 s → "1 min 15 s", 3.5 h → "3 h 30 min". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const neg = ms < 0;
  const a = Math.abs(ms);
  let s: string;
  if (a < 1000) s = `${Math.round(a)} ms`;
  else if (a < 10_000) s = `${(a / 1000).toFixed(2)} s`;
  else if (a < 60_000) s = `${(a / 1000).toFixed(1)} s`;
  else if (a < 3_600_000) {
    const m = Math.floor(a / 60_000);
    const sec = Math.round((a - m * 60_000) / 1000);
    s = sec === 60 ? `${m + 1} min` : `${m} min ${sec} s`;
  } else {
    const h = Math.floor(a / 3_600_000);
    const m = Math.round((a - h * 3_600_000) / 60_000);
    s = m === 60 ? `${h + 1} h` : `${h} h ${m} min`;
  }
  return neg ? `−${s}` : s;
}

const KiB = 1024;
const MiB = 2 ** 20;
const GiB = 2 ** 30;

/** Bytes with a unit that keeps 2-3 significant digits: "512 B", "812 MB", "1.4 GB", "24 GB". */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes) || bytes < 0) return '—';
  if (bytes < KiB) return `${Math.round(bytes)} B`;
  if (bytes < MiB) return `${Math.round(bytes / KiB)} KB`;
  if (bytes < GiB) return `${Math.round(bytes / MiB)} MB`;
  return `${(bytes / GiB).toFixed(bytes >= 10 * GiB ? 0 : 1)} GB`;
}

/** Bytes as a number of GB, one decimal below 10 and none above ("9.1", "24"), for "9.1/24 GB". */
export function formatGB(bytes: number): string {
  const g = bytes / GiB;
  return g >= 10 ? g.toFixed(0) : g.toFixed(1);
}
