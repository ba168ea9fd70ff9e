/**
 * Which processes the extension host started: a sampler of its descendants (Linux /proc), so a test
 * can prove that a command or a file opened in an untrusted window started nothing, even briefly.
 */
import * as fs from 'fs';
import { folder, sleep } from '../runHelpers';

/** Parent pid of every live process (Linux /proc). */
function parents(): Map<number, { ppid: number; cmdline: string }> {
  const out = new Map<number, { ppid: number; cmdline: string }>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      out.set(Number(name), { ppid, cmdline: fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').trim() });
    } catch {
      /* exited while we looked */
    }
  }
  return out;
}

/**
 * A process one of our features would start: the interpreter (python, a pyenv shim, a venv's python),
 * our CLI or workers, Slurm's tools, anything from the workspace folder. Other children of the
 * extension host are VS Code's own (its port finder's `ls`/`ps` polls, ripgrep for built-in
 * extensions' file searches) and not ours to judge.
 */
const OURS = /python|\/dist\/(cli|workers)|\b(sbatch|srun|squeue|scancel|scontrol|sacct)\b/;

/** Processes below this extension host that we could have started, at this instant. */
export function descendants(): Map<number, string> {
  const all = parents();
  const mine = new Map<number, string>();
  for (const [pid, p] of all) {
    for (let up = p.ppid, hops = 0; up > 1 && hops < 50; up = all.get(up)?.ppid ?? 0, hops++) {
      if (up === process.pid) {
        if (OURS.test(p.cmdline) || p.cmdline.includes(folder().uri.fsPath)) mine.set(pid, p.cmdline);
        break;
      }
    }
  }
  return mine;
}

/**
 * Runs `fn` while sampling the extension host's descendants every 10 ms (and for `afterMs` after), so
 * even a short-lived child would be seen. Returns fn's outcome and the new children.
 */
export async function watchChildren<T>(fn: () => Thenable<T>, afterMs = 1000, limitMs = 15_000): Promise<{ value?: T; error?: string; children: string[] }> {
  const before = new Set(descendants().keys());
  const seen = new Map<number, string>();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      for (const [pid, cmd] of descendants()) if (!before.has(pid)) seen.set(pid, cmd);
      await sleep(10);
    }
  })();
  let value: T | undefined;
  let error: string | undefined;
  try {
    // a refused command returns at once: one that asked a question instead would hang here
    value = await Promise.race([
      Promise.resolve(fn()),
      sleep(limitMs).then(() => {
        throw new Error(`the command did not return within ${limitMs / 1000} s (did it wait for a click or ask a question?)`);
      }),
    ]);
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
  }
  await sleep(afterMs);
  sampling = false;
  await sampler;
  return { value, error, children: [...seen.values()] };
}
