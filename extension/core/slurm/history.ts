/**
 * Measured task times for packing: the most recent earlier run (local, Slurm or a speedup sweep) of
 * the same script or template in the same working directory, read from its journal (or sweep.json).
 */
import * as fs from 'fs';
import * as path from 'path';
import { tupleKey } from '../run/inputs';
import { readJournal } from '../run/journal';
import { RUN_FILES, RunDefinition, TaskCommand } from '../run/types';
import type { MeasuredTimes } from './pack';
import { readJson } from './layout';

function sameCommand(a: TaskCommand, b: TaskCommand): boolean {
  if (a.kind === 'python' && b.kind === 'python') return path.resolve(a.script) === path.resolve(b.script) && a.args.join('\0') === b.args.join('\0');
  if (a.kind === 'template' && b.kind === 'template') return a.argv.join('\0') === b.argv.join('\0');
  return false;
}

/**
 * Per-file wall times (succeeded tasks) of the newest earlier run of `command` under `runsDir`,
 * excluding `exclude` (the run being prepared). Undefined when there is none.
 */
export async function measuredTimesFromHistory(runsDir: string, command: TaskCommand, cwd: string, exclude?: string): Promise<MeasuredTimes | undefined> {
  let entries: string[];
  try {
    entries = fs.readdirSync(runsDir);
  } catch {
    return undefined;
  }
  const candidates: Array<{ dir: string; def: RunDefinition }> = [];
  for (const e of entries) {
    const dir = path.join(runsDir, e);
    if (exclude && path.resolve(dir) === path.resolve(exclude)) continue;
    const def = readJson<RunDefinition>(path.join(dir, RUN_FILES.definition));
    if (def && def.cwd === cwd && def.command && sameCommand(def.command, command)) candidates.push({ dir, def });
  }
  candidates.sort((a, b) => (b.def.createdAt ?? 0) - (a.def.createdAt ?? 0));
  for (const c of candidates) {
    const perFileMs = new Map<string, number>();
    for await (const l of readJournal(path.join(c.dir, RUN_FILES.journal))) {
      // keyed as packFiles gets its inputs: a file's absolute path, a tuple's key
      if (l.status === 'succeeded' && l.attempts > 0) perFileMs.set(l.inputs ? tupleKey(l.inputs) : path.resolve(cwd, l.file), l.wallMs);
    }
    // a speedup sweep's directory is a run directory too; its sweep.json knows the serial time per file
    const sweep = readJson<{ perFileMs?: number }>(path.join(c.dir, 'sweep.json'));
    const kind = sweep ? 'speedup sweep' : 'run';
    if (perFileMs.size > 0) return { perFileMs, source: `${kind} ${c.def.runId} (${perFileMs.size} tasks)` };
    if (sweep?.perFileMs && sweep.perFileMs > 0) return { meanMs: sweep.perFileMs, source: `${kind} ${c.def.runId} (serial time per file)` };
  }
  return undefined;
}
