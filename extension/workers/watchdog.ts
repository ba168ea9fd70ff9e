/**
 * Per-run watchdog PROCESS (not a pool worker): spawned detached by the runner, holding the read end
 * of a pipe from it. Lines on stdin: "+PGID" / "-PGID" register and forget task process groups,
 * "bye" = clean end. On EOF without "bye" (the runner died, even by SIGKILL) it SIGKILLs every
 * registered group and every process carrying the run's session marker in its environment (which
 * also catches children spawned a moment before the runner died and ones that left their group), then
 * everything in the run's cgroup (even processes that cleared their environment), and removes it.
 * Usage: node watchdog.js <marker NAME=VALUE> [<run cgroup dir>]
 */
import { killCgroup, removeCgroupTree } from '../core/run/taskCgroup';
import { killMarked } from '../core/run/watchdog';

const marker = process.argv[2] ?? '';
const cgroup = process.argv[3];
const groups = new Set<number>();
let clean = false;
let rest = '';

process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  rest += chunk;
  let i: number;
  while ((i = rest.indexOf('\n')) >= 0) {
    const line = rest.slice(0, i).trim();
    rest = rest.slice(i + 1);
    if (line === 'bye') clean = true;
    else if (line === 'scan') void killMarked(marker, groups);
    else if (line[0] === '+') groups.add(Number(line.slice(1)));
    else if (line[0] === '-') groups.delete(Number(line.slice(1)));
  }
});
const end = async () => {
  if (!clean) {
    // a few rounds: a process may fork while we kill
    for (let round = 0; round < 4; round++) {
      const n = await killMarked(marker, groups);
      if (n === 0 && round > 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    if (cgroup) {
      await killCgroup(cgroup);
      await removeCgroupTree(cgroup, 50);
    }
  }
  process.exit(0);
};
process.stdin.on('end', end);
process.stdin.on('close', end);
process.on('SIGINT', () => {}); // only the pipe decides
process.on('SIGHUP', () => {});
