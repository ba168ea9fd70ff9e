/**
 * Shared by the real-Slurm tests: starts (or reuses) the loopback test cluster with
 * scripts/slurm-start.sh — 2 node daemons × 4 CPUs, MaxArraySize=10 — and makes fixture workspaces.
 * Nothing here skips: no cluster means the tests fail with the start script's message.
 */
import * as cp from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { validateSettings } from '../../extension/core';
import type { SlurmSettings } from '../../extension/core';

export const ROOT = path.resolve(__dirname, '../../..');
export const CLI = path.join(ROOT, 'dist', 'cli.js');
export const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'workspace');
/** What scripts/slurm-start.sh gives with no environment (the tests rely on it). */
export const TEST_CLUSTER = { nodes: 2, cpusPerNode: 4, maxArraySize: 10 };

let started = false;

/** Starts the test cluster (idempotent; a second call is a no-op). Throws with the script's output. */
export function ensureCluster(): void {
  if (started) return;
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npx webpack --mode development).`);
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('SLURM_CI_')) delete env[k];
  const r = cp.spawnSync('bash', [path.join(ROOT, 'scripts', 'slurm-start.sh')], { env, encoding: 'utf8', timeout: 180_000 });
  if (r.status !== 0) throw new Error(`scripts/slurm-start.sh failed (exit ${r.status}):\n${r.stderr}${r.stdout}`);
  started = true;
}

/** The real interpreter behind `python3` (pyenv shims cost 0.1–0.2 s per start). */
export function realPython(): string {
  return cp.execFileSync('python3', ['-c', 'import sys;print(sys.executable)'], { encoding: 'utf8' }).trim();
}

/** A fresh copy of test/fixtures/workspace in a temp folder. */
export function makeWorkspace(tag: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `pr-slurm-${tag}-`));
  fs.cpSync(FIXTURE, dir, { recursive: true });
  return dir;
}

/** Slurm settings for tests: defaults with a tiny packing target (several array tasks). */
export function testSlurmSettings(over: Partial<SlurmSettings> = {}): SlurmSettings {
  return { ...validateSettings({}).slurm, timeLimit: '00:10:00', targetTaskSeconds: 3, ...over };
}

/** squeue lines still queued for these job ids ('' when all left the queue). */
export function stillQueued(jobIds: number[]): string {
  return cp.execFileSync('squeue', ['-h', '-j', jobIds.join(','), '-o', '%i %T'], { encoding: 'utf8' }).trim();
}

/** Processes whose command line mentions `needle` (e.g. a workspace path), excluding ourselves. */
export function processesMentioning(needle: string): string[] {
  const out: string[] = [];
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      if (cmd.includes(needle)) out.push(`${pid} ${cmd}`);
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
