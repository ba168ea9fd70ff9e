/**
 * The run journal: append-only NDJSON, one line per finished task, written with one write(2) per task
 * (or per chunk of a batch's results: cork/uncork) so a SIGKILL of the runner at any instant loses at
 * most the lines being written (which readers and the next append tolerate). Resume = the files with a succeeded line for the same definition
 * fingerprint whose size and mtime are unchanged.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { nameOfRecord } from './fsNames';
import { tupleKey } from './inputs';
import { TaskCommand, TaskRecord } from './types';

/** A journal line: the task record plus the definition fingerprint and session it belongs to. */
export interface JournalLine extends TaskRecord {
  /** definition fingerprint */
  fp: string;
  /** session id (one per start/resume of the run) */
  session: string;
}

/** A failed journal or log write because the disk (or quota) is full: the run stops and says where. */
export function isDiskFull(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/**
 * Appends whole lines, each with one synchronous write (durable against a runner crash, not power
 * loss). A line is never left half-written: a write that fails or comes up short (a full disk) is
 * cut back to the end of the last whole line, and the error is thrown. Opening a journal whose last
 * line was torn by a crash cuts that torn tail off too, so the next line starts on a line of its own.
 */
export class JournalWriter {
  private fd: number;
  /** bytes of whole lines in the file */
  private size: number;
  constructor(readonly file: string) {
    try {
      this.fd = fs.openSync(file, 'a+');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EISDIR') {
        throw Object.assign(new Error(`the journal ${file} is a directory, not a file: move it away (or choose another run directory)`), { code: 'EISDIR' });
      }
      throw e;
    }
    const size = fs.fstatSync(this.fd).size;
    this.size = size === 0 ? 0 : wholeLinesEnd(this.fd, size);
    if (this.size < size) fs.ftruncateSync(this.fd, this.size);
  }
  /** lines appended while corked, written by uncork() */
  private corked: string[] | undefined;

  /** Appends go to memory until uncork(), which writes them in one write (still whole lines). */
  cork(): void {
    this.corked ??= [];
  }

  /** Writes the lines appended since cork() in one write. On a failure none of them is in the file,
   *  and the error says how many (`unwritten`). */
  uncork(): void {
    const lines = this.corked;
    this.corked = undefined;
    if (lines?.length) this.write(Buffer.from(lines.join('')), lines.length);
  }

  append(line: JournalLine): void {
    const text = JSON.stringify(line) + '\n';
    if (this.corked) this.corked.push(text);
    else this.write(Buffer.from(text), 1);
  }

  private write(data: Buffer, lines: number): void {
    let done = 0;
    try {
      while (done < data.length) {
        const n = fs.writeSync(this.fd, data, done, data.length - done);
        // a short write is followed by the error that stopped it (ENOSPC); 0 bytes would loop
        if (n <= 0) throw Object.assign(new Error(`no space left writing ${this.file}`), { code: 'ENOSPC' });
        done += n;
      }
    } catch (e) {
      if (done > 0) {
        try {
          fs.ftruncateSync(this.fd, this.size);
        } catch {
          /* the next open cuts the torn tail off */
        }
      }
      throw Object.assign(e as Error, { unwritten: lines });
    }
    this.size += data.length;
  }
  close(): void {
    if (this.fd >= 0) {
      fs.closeSync(this.fd);
      this.fd = -1;
    }
  }
}

/** Where the file's whole lines end: after its last newline (0 when it has none). Reads backwards. */
function wholeLinesEnd(fd: number, size: number): number {
  const buf = Buffer.alloc(64 * 1024);
  for (let end = size; end > 0; ) {
    const start = Math.max(0, end - buf.length);
    const n = fs.readSync(fd, buf, 0, end - start, start);
    const nl = buf.subarray(0, n).lastIndexOf(0x0a);
    if (nl >= 0) return start + nl + 1;
    end = start;
  }
  return 0;
}

/** Streams the journal's lines, skipping torn or foreign lines. Missing journal = no lines. */
export async function* readJournal(file: string): AsyncGenerator<JournalLine> {
  for await (const lines of readJournalBatches(file)) yield* lines;
}

/**
 * The journal's lines in batches (about a megabyte of lines each), skipping torn or foreign lines:
 * for readers of big journals, one await per batch instead of one per line. Missing journal = none.
 */
export async function* readJournalBatches(file: string): AsyncGenerator<JournalLine[]> {
  let stream: fs.ReadStream;
  try {
    await fs.promises.access(file, fs.constants.R_OK);
    // big chunks of bytes, split at each newline byte and decoded line by line: readline's per-line
    // events, or slicing lines out of one decoded chunk, cost more than the JSON parsing itself
    // (a newline byte never occurs inside a multi-byte UTF-8 character, so per-line decoding is exact)
    stream = fs.createReadStream(file, { highWaterMark: 1 << 20 });
  } catch {
    return;
  }
  let rest: Buffer | undefined;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const lines: JournalLine[] = [];
    let buf: Buffer = chunk;
    let start = 0;
    if (rest) {
      // the line cut by the last chunk's end: joined with its end only, not the whole chunk
      const nl = chunk.indexOf(10);
      if (nl < 0) buf = Buffer.concat([rest, chunk]);
      else {
        const line = parseJournalLine(Buffer.concat([rest, chunk.subarray(0, nl)]).toString('utf8'));
        if (line) lines.push(line);
        start = nl + 1;
      }
    }
    for (let nl = buf.indexOf(10); nl >= 0; nl = buf.indexOf(10, start)) {
      const line = parseJournalLine(buf.toString('utf8', start, nl));
      start = nl + 1;
      if (line) lines.push(line);
    }
    rest = start < buf.length ? buf.subarray(start) : undefined;
    if (lines.length) yield lines;
  }
  const last = rest && parseJournalLine(rest.toString('utf8'));
  if (last) yield [last];
}

/** One journal line, or undefined for a blank line or one torn by a crash mid-write. */
function parseJournalLine(text: string): JournalLine | undefined {
  if (!text.trim()) return undefined;
  let line: JournalLine;
  try {
    line = JSON.parse(text);
  } catch {
    return undefined; // torn by a crash mid-write
  }
  return line && typeof line === 'object' && typeof line.file === 'string' && typeof line.status === 'string' ? line : undefined;
}

/** The key a file is remembered under: its absolute path (the engine's name: raw bytes kept, see fsNames.ts). */
export function fileKey(file: string, cwd: string): string {
  // an absolute path already in normal form is its own key (path.resolve would return it unchanged)
  return file.charCodeAt(0) === 47 && !ABNORMAL.test(file) ? file : path.resolve(cwd, file);
}
/** "//", "/./", "/../", or a trailing "/", "/." or "/..": what path.resolve would rewrite */
const ABNORMAL = /\/\.{0,2}(\/|$)/;

export interface DoneEntry {
  size?: number;
  mtimeMs?: number;
}

/** Files (absolute path) or tuples (tupleKey) already succeeded under fingerprint `fp` → size/mtime when they ran. */
export async function succeededFiles(journalFile: string, fp: string, cwd: string): Promise<Map<string, DoneEntry>> {
  const done = new Map<string, DoneEntry>();
  for await (const l of readJournal(journalFile)) {
    if (l.fp === fp && l.status === 'succeeded') done.set(l.inputs ? tupleKey(l.inputs) : fileKey(nameOfRecord(l), cwd), { size: l.fileSize, mtimeMs: l.fileMtimeMs });
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

/** A path as the fingerprint keeps it: relative to the run's base when inside it (moving the project keeps it). */
function basePath(p: string, base: string): string {
  const rel = path.relative(base, p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
}

/**
 * The run definition fingerprint used by resume: script content (python mode, or any existing file
 * named in the template such as `analyze.py`), template/args, interpreter and the user's extra env.
 * Paths inside the run's base folder `cwd` are kept relative to it, and the folder itself is not part
 * of it: a project moved or copied elsewhere resumes its runs. Workers, threads, timeout and retries
 * are deliberately NOT part of it: resuming with another -j must still skip what is done.
 */
export function fingerprint(command: TaskCommand, cwd: string, env: Record<string, string> = {}): string {
  const parts: unknown[] = [2];
  if (command.kind === 'template') {
    parts.push('template', command.argv.map((a) => (path.isAbsolute(a) ? basePath(a, cwd) : a)));
    parts.push(command.argv.map((a) => (a.includes('{') ? null : fileHash(path.resolve(cwd, a)) ?? null)));
  } else {
    parts.push('python', basePath(command.python, cwd), basePath(command.script, cwd), fileHash(command.script) ?? null, command.args);
  }
  parts.push(Object.keys(env).sort().map((k) => [k, env[k]]));
  return sha(JSON.stringify(parts)).slice(0, 24);
}
