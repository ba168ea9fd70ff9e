/**
 * Where a task's log really is. A task record names its logs relative to the run directory, and the
 * record comes from a file (report.json, the journal) that anyone who can write the workspace can
 * edit; `logs/` itself may hold symbolic links. Opening a log must never show a file outside the run's
 * logs folder (`../../.ssh/id_rsa`, or `logs/x.stderr -> /etc/shadow`): the real path, with every
 * link resolved, has to be a regular file inside the real logs folder.
 * No `vscode` import.
 */
import * as fs from 'fs';
import * as path from 'path';
import { RUN_FILES } from './types';

/** Why a log cannot be opened: `outside` (refused) or `missing` (deleted, never written). */
export class TaskLogError extends Error {
  constructor(readonly kind: 'outside' | 'missing', message: string) {
    super(message);
    this.name = 'TaskLogError';
  }
}

function inside(dir: string, p: string): boolean {
  const rel = path.relative(dir, p);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/**
 * The real path of the log `rel` (as recorded: relative to `runDir`) when it is a regular file whose
 * real path lies inside the real `<runDir>/logs` folder; rejects with a TaskLogError otherwise.
 * `neverWritten`: the task may have written nothing (an in-process call that printed nothing has no
 * log file): a log that does not exist, directly in a logs folder that does, is created empty and
 * opened as the empty log it is (not through a logs folder that is a link). A dangling link stays missing.
 */
export async function resolveTaskLog(runDir: string, rel: string | undefined, what = 'this log', opts: { neverWritten?: boolean } = {}): Promise<string> {
  const logsDir = path.resolve(runDir, RUN_FILES.logs);
  const outside = () =>
    new TaskLogError('outside', `Cannot open ${what}: its path "${rel ?? ''}" is outside the run's logs folder (${logsDir}). The run's records may have been edited; logs are only opened from there.`);
  if (typeof rel !== 'string' || rel === '' || path.isAbsolute(rel)) throw outside();
  const file = path.resolve(runDir, rel);
  if (!inside(logsDir, file)) throw outside();
  if (opts.neverWritten && path.dirname(file) === logsDir) {
    try {
      // only in a real logs folder (not through a link to elsewhere), never over anything, a link included
      if ((await fs.promises.lstat(logsDir)).isDirectory()) await fs.promises.writeFile(file, '', { flag: 'wx' });
    } catch {
      /* it exists (or cannot be made): resolved below like any log */
    }
  }
  let real: string;
  let realLogs: string;
  try {
    [real, realLogs] = await Promise.all([fs.promises.realpath(file), fs.promises.realpath(logsDir)]);
  } catch {
    // a link pointing nowhere is as missing as a deleted file; never say where it pointed
    throw new TaskLogError('missing', `${what[0].toUpperCase()}${what.slice(1)} is missing (${file}). It may have been deleted with "Delete Run".`);
  }
  // both sides resolved: a link in logs/ leading out is refused; a logs/ folder that is itself a link is followed
  if (!inside(realLogs, real)) throw outside();
  const st = await fs.promises.stat(real);
  if (!st.isFile()) throw outside();
  return real;
}
