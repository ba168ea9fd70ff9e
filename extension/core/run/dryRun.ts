/** What a run would start (`--dry-run`): the run's own plan, then each task's command, starting and writing nothing. */
import * as path from 'path';
import { addCompletions } from './completions';
import { succeededFiles } from './journal';
import { plan, resumeCheck, taskArgv } from './plan';
import { RUN_FILES, RunOptions } from './types';

/** One task a dry run shows: its file, its position ({#}) and its command line. */
export interface DryRunTask {
  index: number;
  /** the file, or a tuple's label ("mu=0.5 sigma=2") */
  file: string;
  /** a tuple's values, by column */
  inputs?: string[];
  argv: string[];
}

export interface DryRun {
  outDir: string;
  workers: number;
  threads: number;
  /** the BLAS/OpenMP variables each task would get */
  threadEnv: Record<string, string>;
  notes: string[];
  /** the commands, in input order (streamed like a run's input) */
  tasks: AsyncGenerator<DryRunTask>;
  /** files skipped so far because they already succeeded (with resume) */
  skipped(): number;
}

/**
 * What a run with these options would start, starting and writing nothing: the same checks as a run
 * (bad input is the same UsageError), then each file's command in input order. With `resume`, the
 * files that already succeeded for this run definition are left out. {%} is the slot of the first
 * round (1..workers in turn): in a run, a file takes whichever slot is free.
 */
export async function dryRun(opts: RunOptions): Promise<DryRun> {
  const p = await plan(opts, true);
  if (p.command.kind === 'python' && p.command.call !== undefined) {
    p.notes.push(`In-process calls: each worker imports the script once and calls ${p.command.call}() per task in the same process (shown here as name=value).`);
  } else if (p.command.kind === 'python' && p.command.warm) {
    p.notes.push("Warm workers: each file's script runs in a child forked from its worker's Python host (imports done once), with this sys.argv.");
  }
  let skipped = 0;
  async function* tasks(): AsyncGenerator<DryRunTask> {
    try {
      const done = p.opts.resume ? await succeededFiles(path.join(p.outDir, RUN_FILES.journal), p.def.fingerprint, p.cwd) : new Map();
      // and those a killed runner's hosts saw end well (a run journals them before it starts)
      if (p.opts.resume) addCompletions(done, p.outDir, p.def.fingerprint, p.cwd);
      let index = 0;
      for await (const { file, values } of p.source.items) {
        index++;
        if (done.size > 0 && resumeCheck(done, file, p.cwd, values).skip) {
          skipped++;
          continue;
        }
        const tuple = values && { layout: p.source.layout!, values };
        yield { index, file, ...(values ? { inputs: values } : {}), argv: taskArgv(p.command, file, index, ((index - 1) % p.workers) + 1, false, tuple) };
      }
    } finally {
      p.source.close();
    }
  }
  return { outDir: p.outDir, workers: p.workers, threads: p.threads, threadEnv: p.threadEnv, notes: p.notes, tasks: tasks(), skipped: () => skipped };
}
