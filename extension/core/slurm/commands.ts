/**
 * Running Slurm's client commands (sbatch, squeue, scontrol, scancel, sacct, sinfo): argument arrays,
 * never a shell; failures turned into one clear message naming the problem and the fix.
 */
import { execFile } from 'child_process';
import { assertMayStartProcess } from '../processGate';
import { parseMaxArraySize } from './parse';

/** How to reach the Slurm client commands. */
export interface SlurmClient {
  /** environment for the commands (SLURM_CONF, PATH); default process.env */
  env?: NodeJS.ProcessEnv;
  /** folder holding the client binaries; default: found on PATH */
  binDir?: string;
}

export type SlurmErrorKind = 'missing' | 'unreachable' | 'rejected' | 'failed';

/** A Slurm command failed; `message` says what and how to fix it. */
export class SlurmError extends Error {
  constructor(readonly kind: SlurmErrorKind, message: string, readonly stderr = '') {
    super(message);
    this.name = 'SlurmError';
  }
}

const UNREACHABLE = /Unable to contact slurm controller|Connection refused|Zero Bytes were transmitted|Socket timed out|Communication connection failure|Unable to establish|Could not establish a configuration source|Transport endpoint/i;

export interface ExecResult {
  stdout: string;
  stderr: string;
}

function bin(client: SlurmClient, name: string): string {
  return client.binDir ? `${client.binDir.replace(/\/+$/, '')}/${name}` : name;
}

/**
 * Runs one Slurm client command. Rejects with a SlurmError: `missing` (not installed / not on PATH),
 * `unreachable` (no controller), `rejected` (sbatch refused the job), `failed` (anything else).
 */
export async function slurmExec(client: SlurmClient, name: string, args: string[], opts: { cwd?: string; timeoutMs?: number; retries?: number } = {}): Promise<ExecResult> {
  // read-only queries ride out a busy controller ("Socket timed out"); never retried: sbatch/scancel
  for (let attempt = 0; ; attempt++) {
    try {
      return await execOnce(client, name, args, opts);
    } catch (e) {
      if (!(e instanceof SlurmError) || e.kind !== 'unreachable' || attempt >= (opts.retries ?? 0)) throw e;
      await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
    }
  }
}

function execOnce(client: SlurmClient, name: string, args: string[], opts: { cwd?: string; timeoutMs?: number }): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    assertMayStartProcess(`run Slurm's ${name}`);
    execFile(
      bin(client, name),
      args,
      { cwd: opts.cwd, env: client.env ?? process.env, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (!err) return resolve({ stdout, stderr });
        reject(toSlurmError(name, args, err as NodeJS.ErrnoException & { killed?: boolean }, stderr, client));
      },
    );
  });
}

function toSlurmError(name: string, args: string[], err: NodeJS.ErrnoException & { killed?: boolean }, stderr: string, client: SlurmClient): SlurmError {
  const firstLine = (stderr || err.message).trim().split('\n').filter(Boolean).slice(-1)[0] ?? '';
  if (err.code === 'ENOENT') {
    const where = client.binDir ? `in ${client.binDir}` : 'on PATH';
    return new SlurmError('missing',
      `Cannot use Slurm: "${name}" was not found ${where}. Install the Slurm client (Debian/Ubuntu: sudo apt install slurm-client) ` +
      'or run from a cluster login node; to only write the sbatch script and manifest, use export-only mode (--dry-run).');
  }
  if (UNREACHABLE.test(stderr) || err.killed) {
    return new SlurmError('unreachable',
      `Cannot reach the Slurm controller (${name}: ${err.killed ? 'timed out' : firstLine}). Check that slurmctld is running ` +
      '("scontrol ping") and that this machine\'s slurm.conf (or SLURM_CONF) names it; on a test machine start one with scripts/slurm-start.sh.',
      stderr);
  }
  if (name === 'sbatch') {
    return new SlurmError('rejected',
      `sbatch refused the job: ${firstLine}. Check the Slurm settings (parallelRun.slurm.partition, timeLimit, memory, account, extraDirectives) ` +
      'against what the cluster allows ("sinfo", "scontrol show partition").',
      stderr);
  }
  return new SlurmError('failed', `${name} ${args.join(' ')} failed: ${firstLine}`, stderr);
}

/** What we need to know about the cluster before submitting. */
export interface ClusterInfo {
  maxArraySize: number;
  /** total CPUs over all nodes (sinfo %C), when known */
  cpus?: number;
  nodes?: number;
}

/**
 * Asks the controller for MaxArraySize and the CPU count. Doubles as the pre-flight check: rejects
 * with a `missing` or `unreachable` SlurmError before anything is submitted.
 */
export async function clusterInfo(client: SlurmClient): Promise<ClusterInfo> {
  const cfg = await slurmExec(client, 'scontrol', ['show', 'config'], { timeoutMs: 30_000, retries: 2 });
  const info: ClusterInfo = { maxArraySize: parseMaxArraySize(cfg.stdout) };
  try {
    const s = await slurmExec(client, 'sinfo', ['-h', '-o', '%C %D'], { timeoutMs: 30_000 });
    // %C = allocated/idle/other/total CPUs, one line per partition/state group
    let cpus = 0;
    let nodes = 0;
    for (const line of s.stdout.split('\n')) {
      const m = /^(\d+)\/(\d+)\/(\d+)\/(\d+)\s+(\d+)/.exec(line.trim());
      if (m) {
        cpus += Number(m[4]);
        nodes += Number(m[5]);
      }
    }
    if (cpus > 0) info.cpus = cpus;
    if (nodes > 0) info.nodes = nodes;
  } catch {
    /* the CPU count is cosmetic (report's core count) */
  }
  return info;
}

/** `sbatch --parsable` prints `jobid` or `jobid;cluster`. */
export function parseSbatchJobId(stdout: string): number {
  const m = /^(\d+)(?:;\S+)?\s*$/m.exec(stdout.trim());
  if (!m) throw new SlurmError('failed', `sbatch printed no job id ("${stdout.trim().slice(0, 200)}"). Check the Slurm installation with "sbatch --version".`);
  return Number(m[1]);
}
