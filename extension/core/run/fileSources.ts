/**
 * Input file sources, streamed: a glob, a folder, a list file or stdin is read lazily as the pool asks
 * for work, so 100,000 files are never materialised as one array before the first task starts. Names
 * are read as bytes: one that is not valid UTF-8 keeps them (see fsNames.ts).
 */
import * as fs from 'fs';
import * as path from 'path';
import type fg from 'fast-glob';
import { fsDecode, fsPath } from './fsNames';
import { FileSource, UsageError } from './types';
import { walkFolder, WalkTally } from './walk';

type Callback<T> = (err: NodeJS.ErrnoException | null, value: T) => void;

/**
 * The file system as fast-glob sees it: folders listed as bytes and decoded by fsDecode, and paths
 * holding raw bytes encoded back for stat (fast-glob's own use of fs would turn them into U+FFFD).
 */
const GLOB_FS = {
  lstat: (p: string, cb: Callback<fs.Stats>) => fs.lstat(fsPath(p), cb),
  stat: (p: string, cb: Callback<fs.Stats>) => fs.stat(fsPath(p), cb),
  lstatSync: (p: string) => fs.lstatSync(fsPath(p)),
  statSync: (p: string) => fs.statSync(fsPath(p)),
  readdir: (p: string, opts: unknown, cb?: Callback<unknown>) => {
    const done = (typeof opts === 'function' ? opts : cb) as Callback<unknown>;
    const types = typeof opts === 'object' && opts !== null && (opts as { withFileTypes?: boolean }).withFileTypes;
    if (types) fs.readdir(fsPath(p), { withFileTypes: true, encoding: 'buffer' }, (e, ds) => done(e, ds && ds.map(named)));
    else fs.readdir(fsPath(p), { encoding: 'buffer' }, (e, ns) => done(e, ns && ns.map(fsDecode)));
  },
  readdirSync: (p: string, opts?: { withFileTypes?: boolean }) =>
    opts?.withFileTypes ? fs.readdirSync(fsPath(p), { withFileTypes: true, encoding: 'buffer' }).map(named) : fs.readdirSync(fsPath(p), { encoding: 'buffer' }).map(fsDecode),
};

/** A directory entry read as bytes, with its name decoded (its type methods are unchanged). */
function named(d: fs.Dirent<Buffer>): fs.Dirent {
  return Object.assign(d, { name: fsDecode(d.name) }) as unknown as fs.Dirent;
}

/** An opened source: its first file (already read, to validate "matches nothing") and the rest. */
export interface OpenedSource {
  /** Yields every file, the first one included, in source order. */
  files: AsyncIterable<string>;
  /** Stop reading early (cancel/halt): releases streams (a count under way included). */
  close(): void;
  /**
   * Counts the source's files in a second, independent pass, so progress has a total and an ETA long
   * before the streamed pass reaches the end (GNU Parallel's --eta reads all its input first; this
   * reads it alongside, after the first task started). Undefined for stdin, which cannot be read twice.
   * Resolves undefined when closed before the end; the streamed pass stays the truth.
   */
  count?: () => Promise<number | undefined>;
  /** What reading the input skipped or merged (symlink loops, duplicates, FIFOs, broken links...), for the report. */
  notes?: () => string[];
}

/** The records splitRecords would yield from a file, counted on raw bytes (no decoding, no strings). */
async function countRecords(file: string, nul: boolean, closed: () => boolean, track: (s: fs.ReadStream) => void): Promise<number | undefined> {
  const sep = nul ? 0x00 : 0x0a;
  const stream = fs.createReadStream(fsPath(file), { highWaterMark: 256 * 1024 });
  track(stream);
  let n = 0;
  let len = 0; // bytes of the record so far
  let first = 0; // its first byte: a record that is only "\r" is empty once cleaned (see clean())
  const ends = () => {
    if (len > 1 || (len === 1 && (nul || first !== 0x0d))) n++;
    len = 0;
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (closed()) return undefined;
      for (let i = 0; i < chunk.length; i++) {
        if (chunk[i] === sep) ends();
        else if (len++ === 0) first = chunk[i];
      }
    }
  } catch (e) {
    if (closed()) return undefined; // destroyed by close(): a premature-close error
    throw e;
  }
  ends();
  return closed() ? undefined : n;
}

/**
 * Splits a byte stream into records (newline or NUL separated), without holding more than one chunk;
 * each record is decoded by fsDecode (a name that is not UTF-8 keeps its bytes).
 */
export async function* splitRecords(stream: NodeJS.ReadableStream, nul: boolean): AsyncGenerator<string> {
  const sep = nul ? 0x00 : 0x0a;
  let rest: Buffer | undefined;
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    let buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    if (rest) buf = Buffer.concat([rest, buf]);
    let start = 0;
    let i: number;
    while ((i = buf.indexOf(sep, start)) >= 0) {
      const rec = clean(fsDecode(buf.subarray(start, i)), nul);
      start = i + 1;
      if (rec) yield rec;
    }
    // a copy: the partial record must not keep the whole chunk alive
    rest = start < buf.length ? Buffer.from(buf.subarray(start)) : undefined;
  }
  const last = rest ? clean(fsDecode(rest), nul) : '';
  if (last) yield last;
}

// newline lists from Windows editors end in "\r": a file name never does
function clean(rec: string, nul: boolean): string {
  return nul ? rec : rec.endsWith('\r') ? rec.slice(0, -1) : rec;
}

/**
 * The files of `--files` patterns: a pattern naming an existing file is that file; one naming a folder,
 * every file below it (walked once per folder, see walk.ts); any other is a glob. A file reached twice
 * (two patterns, a link) is given once; what was skipped is counted in `tally`.
 */
function globStream(patterns: string[], cwd: string, tally: WalkTally): { it: AsyncIterable<string>; close(): void } {
  let stream: (NodeJS.ReadableStream & { destroy?: () => void }) | undefined;
  async function* gen(): AsyncGenerator<string> {
    const literal: string[] = [];
    const folders: string[] = [];
    const globs: string[] = [];
    for (const p of patterns) {
      // a pattern naming an existing file is taken literally ("data[1].csv" is a file, not a class)
      let st: fs.Stats | undefined;
      try {
        st = fs.statSync(fsPath(path.resolve(cwd, p)));
      } catch {
        st = undefined;
      }
      if (st?.isFile()) literal.push(p);
      else if (st?.isDirectory()) folders.push(p);
      else if (st) {
        const what = st.isFIFO() ? 'a FIFO (named pipe)' : 'a socket or device';
        throw new UsageError(`--files ${p} is ${what}, not a regular file: a task cannot read it as an input file. To read file names from it, use --files-from ${p}.`);
      } else globs.push(p);
    }
    for (const l of literal) {
      if (tally.firstFile(fs.statSync(fsPath(path.resolve(cwd, l))))) yield l;
    }
    for (const f of folders) yield* walkFolder(path.resolve(cwd, f), f.replace(/\/+$/, '') || '/', true, tally);
    if (globs.length === 0) return;
    // fast-glob (and micromatch below it) is loaded only by a run that has a glob to expand
    const glob = (await import('fast-glob')).default;
    if (closed) return;
    stream = glob.stream(globs, { cwd, onlyFiles: true, dot: false, followSymbolicLinks: true, suppressErrors: true, fs: GLOB_FS as unknown as fg.FileSystemAdapter });
    for await (const e of stream as AsyncIterable<string | Buffer>) {
      const f = String(e);
      let st: fs.Stats;
      try {
        st = fs.statSync(fsPath(path.resolve(cwd, f)));
      } catch (err) {
        tally.skipError(err);
        continue;
      }
      if (tally.firstFile(st)) yield f;
    }
  }
  let closed = false;
  const close = () => {
    closed = true;
    stream?.destroy?.();
  };
  return { it: gen(), close };
}

function describe(src: FileSource): string {
  switch (src.kind) {
    case 'globs': return `--files ${src.patterns.map((p) => JSON.stringify(p)).join(' ')} (in ${src.cwd})`;
    case 'folder': return `folder ${src.path}`;
    case 'listFile': return `list file ${src.path}`;
    case 'stdin': return 'stdin';
    case 'list': return 'the file list';
  }
}

/**
 * Opens a source and reads its first file, so "matches nothing" and "unreadable" are reported as a
 * UsageError before anything starts. The remaining files are read only as they are consumed.
 */
export async function openSource(src: FileSource, stdin?: NodeJS.ReadableStream): Promise<OpenedSource> {
  let it: AsyncIterable<string>;
  let close = () => {};
  const tally = new WalkTally();
  let count: (() => Promise<number | undefined>) | undefined;
  // the counting pass's own stream, closed with the source
  let closed = false;
  let counting: { destroy(): void } | undefined;
  const track = (s: { destroy(): void }) => {
    counting = s;
    if (closed) s.destroy();
  };
  const countIterable = async (files: AsyncIterable<string>): Promise<number | undefined> => {
    let n = 0;
    try {
      for await (const _ of files) {
        if (closed) return undefined;
        n++;
      }
    } catch (e) {
      if (closed) return undefined;
      throw e;
    }
    return closed ? undefined : n;
  };
  switch (src.kind) {
    case 'globs': {
      if (src.patterns.length === 0 || src.patterns.some((p) => !p.trim())) {
        throw new UsageError('No input files: give at least one non-empty --files GLOB, --files-from FILE, or a folder.');
      }
      const g = globStream(src.patterns, src.cwd, tally);
      it = g.it;
      close = g.close;
      count = () => {
        const c = globStream(src.patterns, src.cwd, new WalkTally());
        track({ destroy: c.close });
        return countIterable(c.it);
      };
      break;
    }
    case 'folder': {
      let st: fs.Stats;
      try {
        st = fs.statSync(fsPath(src.path));
      } catch {
        throw new UsageError(`Folder ${src.path} does not exist. Give an existing folder of input files.`);
      }
      if (!st.isDirectory()) throw new UsageError(`${src.path} is not a folder. Give a folder, or use --files for a single file.`);
      it = walkFolder(src.path, src.path, src.recursive, tally);
      count = () => {
        // a second, independent walk (the streamed one stays the truth)
        let stop = false;
        track({ destroy: () => (stop = true) });
        return countIterable((async function* () {
          for await (const f of walkFolder(src.path, src.path, src.recursive, new WalkTally())) {
            if (stop) return;
            yield f;
          }
        })());
      };
      break;
    }
    case 'listFile': {
      let fd: number;
      let regular = false;
      try {
        fd = fs.openSync(fsPath(src.path), 'r');
        const st = fs.fstatSync(fd);
        regular = st.isFile();
        if (st.isDirectory()) {
          fs.closeSync(fd);
          throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
        }
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? 'error';
        throw new UsageError(`Cannot read the list file ${src.path} (${code}). Give a readable file with one path per line (or NUL-separated with -0), or "-" for stdin.`);
      }
      const stream = fs.createReadStream('', { fd, highWaterMark: 64 * 1024 });
      it = splitRecords(stream, src.nulSeparated);
      close = () => stream.destroy();
      // a pipe (e.g. --files-from <(find ...)) can be read once only: it is not counted ahead
      if (regular) count = () => countRecords(src.path, src.nulSeparated, () => closed, track);
      break;
    }
    case 'stdin': {
      // process.stdin is touched here only: its first use sets the stream up (several ms, before any
      // task), and no other source reads it
      const input = stdin ?? process.stdin;
      if ((input as NodeJS.ReadStream).isTTY) {
        throw new UsageError('--files-from - reads file names from stdin, but stdin is a terminal. Pipe the names in, e.g. find . -name "*.csv" | parallel-run run --files-from - ...');
      }
      it = splitRecords(input, src.nulSeparated);
      close = () => (input as NodeJS.ReadStream).destroy?.();
      break;
    }
    case 'list': {
      const files = src.files;
      it = (async function* () {
        for (const f of files) if (f) yield f;
      })();
      count = async () => files.reduce((n, f) => (f ? n + 1 : n), 0);
      break;
    }
  }
  const closeStreamed = close;
  close = () => {
    closed = true;
    counting?.destroy();
    closeStreamed();
  };
  const iterator = it[Symbol.asyncIterator]();
  let first: IteratorResult<string>;
  try {
    first = await iterator.next();
  } catch (e) {
    close();
    if (e instanceof UsageError) throw e;
    throw new UsageError(`Cannot read ${describe(src)}: ${(e as Error).message}. Check the path and permissions.`);
  }
  if (first.done) {
    close();
    const skipped = tally.notes();
    throw new UsageError(`No input files: ${describe(src)} matched nothing${skipped.length ? ` (${skipped.join(' ')})` : ''}. Check the pattern (quote it so the shell does not expand it) or the list.`);
  }
  const head = first.value;
  const files: AsyncIterable<string> = {
    async *[Symbol.asyncIterator]() {
      yield head;
      for (;;) {
        const r = await iterator.next();
        if (r.done) return;
        yield r.value;
      }
    },
  };
  return { files, close, count, notes: () => tally.notes() };
}
