/** Human formatting for the report (pure; unit-tested in Node). */

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

/** 3.456 → "3.46×" */
export function formatFactor(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  return `${x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)}×`;
}

/** 0.873 → "87%" */
export function formatPercent(fraction: number | null | undefined, digits = 0): string {
  if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) return '—';
  return `${(fraction * 100).toFixed(digits)}%`;
}

export function formatRate(perSec: number | null | undefined): string {
  if (perSec === null || perSec === undefined || !Number.isFinite(perSec)) return '—';
  if (perSec >= 100) return `${perSec.toFixed(0)} files/s`;
  if (perSec >= 1) return `${perSec.toFixed(2)} files/s`;
  if (perSec > 0) return `${(perSec * 60).toFixed(perSec * 60 >= 10 ? 1 : 2)} files/min`;
  return '0 files/s';
}

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 || i === 0 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

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
