/**
 * How the resource monitor says things: the status bar text, the tooltip's Markdown, the memory
 * warning. Pure string building shared by the host (status bar) and the monitor webview, so unit
 * tests cover the wording without VS Code.
 */
import { formatBytes, formatGB } from './format';
import type { ProcessSample, SystemSample } from './monitorTypes';

/** What the run feature tells the monitor about the active run (see MonitorApi.setActiveRun). */
export interface RunActivity {
  /** workers running a task now */
  busy: number;
  workers: number;
}

export function percentText(p: number): string {
  return `${Math.round(p)}%`;
}

/** `$(pulse) CPU 37% · RAM 9.1/24 GB` and, during a run, `· 2/2 busy`. */
export function statusText(s: SystemSample, run?: RunActivity): string {
  let text = `$(pulse) CPU ${percentText(s.cpu.total)} · RAM ${formatGB(s.memory.usedBytes)}/${formatGB(s.memory.totalBytes)} GB`;
  if (run) text += ` · ${run.busy}/${run.workers} busy`;
  return text;
}

/**
 * Why memory deserves attention, or undefined. Past the threshold a run is about to swap (or be
 * killed by the cgroup's OOM killer when a limit applies), which is what users most need to see.
 */
export function memoryWarning(s: SystemSample, thresholdPercent: number, runRssBytes?: number): string | undefined {
  if (s.memory.percent < thresholdPercent) return undefined;
  const limited = s.limits?.memoryBytes !== undefined;
  const what = limited ? 'of the memory limit' : 'of RAM';
  const consequence = limited
    ? 'more and the kernel kills processes in this container/allocation'
    : s.memory.swapTotalBytes > 0 ? 'more and the machine starts swapping, which slows everything down' : 'more and the kernel starts killing processes (no swap)';
  let text = `Memory ${percentText(s.memory.percent)} used ${what} (warning at ${percentText(thresholdPercent)}): ${consequence}.`;
  if (runRssBytes !== undefined && runRssBytes > 0) {
    text += ` The run's processes hold ${formatBytes(runRssBytes)}; fewer workers (setting parallelRun.workers) lower the peak.`;
  }
  return text;
}

/** A text bar of `width` cells for 0..100. */
export function bar(percent: number, width = 20): string {
  const filled = Math.round((Math.max(0, Math.min(100, percent)) / 100) * width);
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

const SPARK = '▁▂▃▄▅▆▇█';
/** One character per core, for machines with too many cores for one line each. */
export function sparkCells(percents: readonly number[]): string {
  return percents.map((p) => SPARK[Math.min(SPARK.length - 1, Math.floor((Math.max(0, p) / 100) * SPARK.length))]).join('');
}

/** The process table rows (PID, CPU %, RSS, name) as aligned text. */
export function processLines(processes: readonly ProcessSample[], max = 12): string[] {
  const lines = [`${'PID'.padStart(7)}  ${'CPU%'.padStart(6)}  ${'RSS'.padStart(8)}  NAME`];
  for (const p of processes.slice(0, max)) {
    const name = p.descendants > 0 ? `${p.name} (+${p.descendants})` : p.name;
    lines.push(`${String(p.pid).padStart(7)}  ${p.cpuPercent.toFixed(1).padStart(6)}  ${formatBytes(p.rssBytes).padStart(8)}  ${name}`);
  }
  if (processes.length > max) lines.push(`… and ${processes.length - max} more`);
  return lines;
}

export interface TooltipInput {
  sample: SystemSample;
  run?: RunActivity;
  warning?: string;
  limitNote?: string;
  /** the sampler is paused (window not focused): say the numbers are from then */
  pausedSince?: number;
}

/** Escapes Markdown punctuation in text that came from the system (process names, paths). */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}

/**
 * The tooltip as Markdown (theme icons allowed): per-core bars, load average, memory and swap,
 * the warning, the cgroup note and the run's processes. Text from the system is escaped or fenced.
 */
export function tooltipMarkdown(input: TooltipInput): string {
  const { sample: s, run } = input;
  const out: string[] = [];
  const cores = s.cpu.cores;
  const capacity = Number.isInteger(s.cpu.capacityCores) ? String(s.cpu.capacityCores) : s.cpu.capacityCores.toFixed(1);
  let head = `**CPU ${percentText(s.cpu.total)}** of ${capacity} core${s.cpu.capacityCores === 1 ? '' : 's'}`;
  if (s.load) head += ` · load ${s.load.map((x) => x.toFixed(2)).join(' ')}`;
  out.push(head, '');
  const fence = ['```text'];
  if (cores.length <= 16) {
    const label = Math.max(...s.cpu.coreIds.map((id) => String(id).length), 1);
    cores.forEach((p, i) => fence.push(`cpu${String(s.cpu.coreIds[i]).padEnd(label)} ${bar(p)} ${percentText(p).padStart(4)}`));
  } else {
    for (let i = 0; i < cores.length; i += 32) fence.push(`cpu${String(s.cpu.coreIds[i]).padEnd(4)} ${sparkCells(cores.slice(i, i + 32))}`);
  }
  fence.push('```');
  out.push(...fence, '');
  const m = s.memory;
  let mem = `**RAM ${formatGB(m.usedBytes)} of ${formatGB(m.totalBytes)} GB** (${percentText(m.percent)})`;
  mem += m.swapTotalBytes > 0 ? ` · swap ${formatGB(m.swapUsedBytes)} of ${formatGB(m.swapTotalBytes)} GB` : ' · no swap';
  out.push(mem, '');
  // the warning is our own wording (numbers only from the system); the cgroup path is escaped
  if (input.warning) out.push(`$(warning) ${input.warning}`, '');
  if (input.limitNote) out.push(`_${escapeMarkdown(input.limitNote)}_`, '');
  if (run) {
    out.push(`**Run: ${run.busy}/${run.workers} workers busy**`, '');
    if (s.processes.length) {
      const total = s.processes.reduce((a, p) => a + p.cpuPercent, 0);
      const rss = s.processes.reduce((a, p) => a + p.rssBytes, 0);
      out.push('```text', ...processLines(s.processes), '```', `Run processes: ${total.toFixed(0)}% CPU (100% = one core), ${formatBytes(rss)} RSS`, '');
    }
  }
  if (input.pausedSince !== undefined) out.push('_Paused while the window is not focused._', '');
  out.push('Click to open the Resource Monitor.');
  return out.join('\n');
}
