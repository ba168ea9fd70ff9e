/**
 * The processes of the runs going in this window, for the resource monitor: the extension host's
 * direct children that belong to a run (the Python task hosts, or the tasks themselves when Node
 * spawns them). The monitor folds in their descendants. Linux /proc only; elsewhere none.
 */
import * as fs from 'fs';
import { readPidStat } from '../../core/procfs';

/** Direct children of this process whose command line contains one of `markers`. */
export function childPidsMatching(markers: string[]): number[] {
  if (process.platform !== 'linux' || markers.length === 0) return [];
  let names: string[];
  try {
    names = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readPidStat(name)?.ppid !== process.pid) continue;
      const cmd = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (markers.some((m) => cmd.includes(m))) out.push(Number(name));
    } catch {
      /* exited while we looked */
    }
  }
  return out;
}
