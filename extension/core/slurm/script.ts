/**
 * The sbatch script: readable, self-describing, and complete on its own. Each array task runs its
 * share of the files through Parallel Run's own CLI (same engine semantics as a local run: per-file
 * journal lines, logs, retries, timeouts) with the node and Python executables written in explicitly,
 * because a cluster's batch environment need not carry the submitter's PATH.
 */
import * as path from 'path';
import { THREAD_ENV_VARS } from '../threads';
import { TaskCommand } from '../run/types';
import { arraySpec } from './pack';

/** Everything the script needs; all paths absolute. */
export interface SbatchScriptSpec {
  runId: string;
  label?: string;
  /** the run's slurm/ folder (manifest.txt, tasks.txt, shards/, logs/ live there) */
  slurmDir: string;
  /** array tasks in the first (or only) sbatch part */
  arrayCount: number;
  /** total array tasks over all parts (for the comments) */
  totalTasks: number;
  /** number of input files (for the comments) */
  totalFiles: number;
  /** sbatch parts (> 1 when the tasks exceed MaxArraySize) */
  parts: number;
  maxConcurrent: number;
  cpusPerTask: number;
  partition?: string;
  timeLimit?: string;
  memory?: string;
  account?: string;
  extraDirectives?: string[];
  /** node executable and dist/cli.js */
  node: string;
  cli: string;
  command: TaskCommand;
  /** working directory of every task */
  cwd: string;
  timeoutSec?: number;
  retries?: number;
  /** the user's extra environment for every task */
  env?: Record<string, string>;
  /** task lists are NUL-separated (some file name contains a newline) */
  nulLists?: boolean;
  /** a run over input tuples: each task reads its lines of tuples.ndjson (after the header line) */
  tuples?: boolean;
  /** digits of the zero-padded task number in file names */
  taskDigits: number;
  /** relative #SBATCH --output/--error paths (export mode: the script is submitted from its folder elsewhere) */
  portable?: boolean;
  /** plan notes written as comments */
  notes?: string[];
}

/** POSIX shell single-quoting: safe for any byte string except NUL. */
export function shellQuote(s: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A job name Slurm accepts and a human recognises: `pr-<label or script>`, at most 64 chars. */
export function jobNameFor(label: string | undefined, command: TaskCommand): string {
  const base = label?.trim() || (command.kind === 'python' ? path.basename(command.script) : path.basename(command.argv[0] ?? 'run'));
  const clean = base.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^_+|_+$/g, '') || 'run';
  return `pr-${clean}`.slice(0, 64);
}

/** `#SBATCH` directive values must be one line; a newline would smuggle in another directive. */
function directiveValue(name: string, v: string): string {
  if (/[\r\n]/.test(v)) throw new RangeError(`Slurm setting ${name} contains a line break. Remove it (parallelRun.slurm.* settings are single lines).`);
  return v.trim();
}

/**
 * Validates the user's extra `#SBATCH` lines: each becomes one directive. Accepts `--qos=high`,
 * `#SBATCH --qos=high` or `qos=high`; rejects the options Parallel Run itself controls.
 */
export function normaliseExtraDirectives(lines: readonly string[]): string[] {
  const owned = ['--array', '-a', '--output', '-o', '--error', '-e', '--cpus-per-task', '-c', '--parsable'];
  const out: string[] = [];
  for (const raw of lines) {
    let l = directiveValue('extraDirectives', raw);
    if (!l) continue;
    l = l.replace(/^#SBATCH\s+/, '');
    if (!l.startsWith('-')) l = `--${l}`;
    const opt = l.split(/[=\s]/)[0];
    if (owned.includes(opt)) {
      throw new RangeError(`parallelRun.slurm.extraDirectives: "${raw}" sets ${opt}, which Parallel Run writes itself. Remove that line (use slurm.maxConcurrent / threads instead).`);
    }
    out.push(l);
  }
  return out;
}

/** The CLI arguments that make one array task behave like the local run (after `run`). */
export function taskCliArgs(spec: Pick<SbatchScriptSpec, 'command' | 'timeoutSec' | 'retries'>): string[] {
  const a: string[] = [];
  if (spec.timeoutSec && spec.timeoutSec > 0) a.push('--timeout', String(spec.timeoutSec));
  if (spec.retries && spec.retries > 0) a.push('--retries', String(spec.retries));
  return a;
}

/** Renders the sbatch script text. */
export function renderSbatchScript(spec: SbatchScriptSpec): string {
  const q = shellQuote;
  const L: string[] = [];
  const logDir = spec.portable ? 'logs' : path.join(spec.slurmDir, 'logs');
  L.push('#!/bin/bash');
  L.push(`# Parallel Run: run ${spec.runId}${spec.label ? ` (${oneLine(spec.label)})` : ''} as a Slurm job array.`);
  L.push(spec.tuples
    ? `# ${spec.totalFiles} input tuple${spec.totalFiles === 1 ? '' : 's'} in ${spec.totalTasks} array task${spec.totalTasks === 1 ? '' : 's'}; task N runs tuples FIRST..LAST of tuples.ndjson (line 1 names the columns; tasks.txt: "N FIRST LAST").`
    : `# ${spec.totalFiles} file${spec.totalFiles === 1 ? '' : 's'} in ${spec.totalTasks} array task${spec.totalTasks === 1 ? '' : 's'}; task N runs lines FIRST..LAST of manifest.txt (tasks.txt: "N FIRST LAST").`);
  for (const n of spec.notes ?? []) L.push(`# ${oneLine(n)}`);
  if (spec.parts > 1) {
    L.push(`# More tasks than the cluster's MaxArraySize: submitted as ${spec.parts} arrays; the first argument`);
    L.push('# is the task offset of each part (see README.txt for the exact sbatch lines).');
  } else {
    L.push(`# Submit from this folder: cd ${q(spec.slurmDir)} && sbatch submit.sbatch`);
  }
  L.push(`#SBATCH --job-name=${jobNameFor(spec.label, spec.command)}`);
  L.push(`#SBATCH --array=${arraySpec(spec.arrayCount, spec.maxConcurrent)}`);
  L.push(`#SBATCH --cpus-per-task=${spec.cpusPerTask}`);
  L.push('#SBATCH --ntasks=1');
  L.push(`#SBATCH --output=${path.join(logDir, '%A_%a.out')}`);
  L.push(`#SBATCH --error=${path.join(logDir, '%A_%a.err')}`);
  if (spec.partition?.trim()) L.push(`#SBATCH --partition=${directiveValue('partition', spec.partition)}`);
  if (spec.timeLimit?.trim()) L.push(`#SBATCH --time=${directiveValue('timeLimit', spec.timeLimit)}`);
  if (spec.memory?.trim()) L.push(`#SBATCH --mem=${directiveValue('memory', spec.memory)}`);
  if (spec.account?.trim()) L.push(`#SBATCH --account=${directiveValue('account', spec.account)}`);
  for (const d of normaliseExtraDirectives(spec.extraDirectives ?? [])) L.push(`#SBATCH ${d}`);
  L.push('set -euo pipefail');
  L.push('');
  L.push("# Executables written in explicitly: the batch environment need not have the submitter's PATH.");
  L.push(`NODE=${q(spec.node)}`);
  L.push(`CLI=${q(spec.cli)}`);
  if (spec.command.kind === 'python') L.push(`PYTHON=${q(spec.command.python)}`);
  L.push('# This folder; when it was copied to another cluster, the folder sbatch was run from.');
  L.push(`SLURM_DIR=${q(spec.slurmDir)}`);
  L.push('[ -f "$SLURM_DIR/tasks.txt" ] || SLURM_DIR="${SLURM_SUBMIT_DIR:-$PWD}"');
  L.push(`WORKDIR=${q(spec.cwd)}`);
  L.push('');
  L.push('# Global task number = array index + offset of this part (first argument, default 0).');
  L.push('TASK=$(( SLURM_ARRAY_TASK_ID + ${1:-0} ))');
  L.push(`TASK_ID=$(printf '%0${spec.taskDigits}d' "$TASK")`);
  L.push('read -r _ FIRST LAST < <(sed -n "$(( TASK + 1 ))p" "$SLURM_DIR/tasks.txt")');
  L.push('# BLAS/OpenMP threads = the CPUs Slurm gave this task.');
  L.push('THREADS="${SLURM_CPUS_PER_TASK:-1}"');
  for (const v of THREAD_ENV_VARS) L.push(`export ${v}="$THREADS"`);
  const env = spec.env ?? {};
  const envKeys = Object.keys(env).sort();
  if (envKeys.length) L.push("# The run's extra environment (wins over the thread defaults above).");
  for (const k of envKeys) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new RangeError(`Environment variable name "${k}" is not valid in a shell script. Rename it.`);
    L.push(`export ${k}=${q(env[k])}`);
  }
  L.push('');
  L.push('cd "$WORKDIR"');
  // one option (with its value) per line: readable, and each line is a whole shell word group
  const run: string[] = ['exec "$NODE" "$CLI" run', spec.tuples ? '--tuples-from -' : `--files-from -${spec.nulLists ? ' -0' : ''}`];
  run.push('--out "$SLURM_DIR/shards/$TASK_ID"', '-j 1 --threads "$THREADS" --quiet');
  const tuning = taskCliArgs(spec).map(q).join(' ');
  if (tuning) run.push(tuning);
  if (spec.command.kind === 'python') {
    run.push(`--python "$PYTHON" --script ${q(spec.command.script)}${spec.command.warm ? ' --warm' : ''}${spec.command.call !== undefined ? ` --call ${q(spec.command.call)}` : ''}`);
    if (spec.command.args.length) run.push(['--', ...spec.command.args.map(q)].join(' '));
  } else {
    run.push(['--', ...spec.command.argv.map(q)].join(' '));
  }
  if (spec.tuples) {
    L.push("# This task's tuples (stdin: the header line, then its lines), one at a time with all the task's CPUs");
    L.push('# for BLAS; per-tuple journal, logs, results, retries and timeouts exactly as in a local run.');
    L.push(run.join(' \\\n  ') + ' \\\n  < <(sed -n "1p;$(( FIRST + 1 )),$(( LAST + 1 ))p" "$SLURM_DIR/tuples.ndjson")');
  } else {
    L.push("# This task's files (stdin), one at a time with all the task's CPUs for BLAS; per-file journal, logs,");
    L.push('# retries and timeouts exactly as in a local run.');
    L.push(run.join(' \\\n  ') + ` \\\n  < <(sed ${spec.nulLists ? '-z ' : ''}-n "\${FIRST},\${LAST}p" "$SLURM_DIR/manifest.txt")`);
  }
  L.push('');
  return L.join('\n');
}

function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ');
}
