/**
 * The run journal: append-only NDJSON, one line per finished task, written with one write(2) per task
 * so a SIGKILL of the runner at any instant loses at most the line being written (which readers and
 * the next append tolerate). Resume = the files with a succeeded line for the same definition
 * fingerprint whose size and mtime are unchanged.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as readline from 'readline';
import { tupleKey } from './inputs';
import { TaskCommand, TaskRecord } from './types';

/** A journal line: the task record plus the definition fingerprint and session it belongs to. */
export interface JournalLine extends TaskRecord {
  /** definition fingerprint */
  fp: string;
  /** session id (one per start/resume of the run) */
  session: string;
}

/** Appends lines with one synchronous write each (durable against a runner crash, not power loss). */
export class JournalWriter {
  private fd: number;
  constructor(readonly file: string) {
    this.fd = fs.openSync(file, 'a');
    // a runner killed mid-write may have left a torn last line: start ours on a fresh line
    const size = fs.fstatSync(this.fd).size;
    if (size > 0) {
      const last = Buffer.alloc(1);
      const rfd = fs.openSync(file, 'r');
      try {
        fs.readSync(rfd, last, 0, 1, size - 1);
      } finally {
        fs.closeSync(rfd);
      }
      if (last[0] !== 0x0a) fs.writeSync(this.fd, '\n');
    }
  }
  append(line: JournalLine): void {
    fs.writeSync(this.fd, JSON.stringify(line) + '\n');
  }
  close(): void {
    if (this.fd >= 0) {
      fs.closeSync(this.fd);
      this.fd = -1;
    }
  }
}

/** Streams the journal's lines, skipping torn or foreign lines. Missing journal = no lines. */
export async function* readJournal(file: string): AsyncGenerator<JournalLine> {
  let stream: fs.ReadStream;
  try {
    await fs.promises.access(file, fs.constants.R_OK);
    stream = fs.createReadStream(file, { encoding: 'utf8' });
  } catch {
    return;
  }
  const rl = readline.createInterface({ input: stream, crlfDelay: Infinity });
  for await (const text of rl) {
    if (!text.trim()) continue;
    let line: JournalLine;
    try {
      line = JSON.parse(text);
    } catch {
      continue; // torn by a crash mid-write
    }
    if (line && typeof line === 'object' && typeof line.file === 'string' && typeof line.status === 'string') yield line;
  }
}

/** The key a file is remembered under: its absolute path. */
export function fileKey(file: string, cwd: string): string {
  return path.resolve(cwd, file);
}

export interface DoneEntry {
  size?: number;
  mtimeMs?: number;
}

/** Files (absolute path) or tuples (tupleKey) already succeeded under fingerprint `fp` → size/mtime when they ran. */
export async function succeededFiles(journalFile: string, fp: string, cwd: string): Promise<Map<string, DoneEntry>> {
  const done = new Map<string, DoneEntry>();
  for await (const l of readJournal(journalFile)) {
    if (l.fp === fp && l.status === 'succeeded') done.set(l.inputs ? tupleKey(l.inputs) : fileKey(l.file, cwd), { size: l.fileSize, mtimeMs: l.fileMtimeMs });
  }
  return done;
}

/** True when a file may be skipped: it succeeded before and its size and mtime did not change. */
export function unchanged(prev: DoneEntry | undefined, st: { size: number; mtimeMs: number } | undefined): boolean {
  if (!prev) return false;
  if (!st) return prev.size === undefined; // vanished now and unknown then: nothing to compare
  return prev.size === st.size && prev.mtimeMs === st.mtimeMs;
}

function sha(data: string | Buffer): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

function fileHash(p: string): string | undefined {
  try {
    const st = fs.statSync(p);
    if (!st.isFile() || st.size > 64 * 1024 * 1024) return undefined;
    return sha(fs.readFileSync(p));
  } catch {
    return undefined;
  }
}

/**
 * The run definition fingerprint used by resume: script content (python mode, or any existing file
 * named in the template such as `analyze.py`), template/args, interpreter, working directory and the
 * user's extra env. Workers, threads, timeout and retries are deliberately NOT part of it: resuming
 * with another -j must still skip what is done.
 */
export function fingerprint(command: TaskCommand, cwd: string, env: Record<string, string> = {}): string {
  const parts: unknown[] = [1, cwd];
  if (command.kind === 'template') {
    parts.push('template', command.argv);
    parts.push(command.argv.map((a) => (a.includes('{') ? null : fileHash(path.resolve(cwd, a)) ?? null)));
  } else {
    parts.push('python', command.python, command.script, fileHash(command.script) ?? null, command.args);
  }
  parts.push(Object.keys(env).sort().map((k) => [k, env[k]]));
  return sha(JSON.stringify(parts)).slice(0, 24);
}
