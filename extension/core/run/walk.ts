/**
 * Walking input folders: each directory once by its real identity (device + inode), so a symlink
 * loop (`ln -s . in/again`) is entered once, not until the kernel's 40-link limit; each file once
 * (device + inode: the same file reached by a second path, a link, runs once); and every input that
 * is skipped (FIFOs, sockets, devices, broken or looping links, folders it cannot read) counted, so
 * the run can say what it left out and why. Names are read as bytes: one that is not UTF-8 keeps its
 * bytes (see fsNames.ts), so its task gets the file that is there.
 */
import * as fs from 'fs';
import * as path from 'path';
import { fsDecode, fsPath } from './fsNames';

/** What one pass over the input skipped; `notes()` says it in words. */
export class WalkTally {
  /** folders reached again through a link (not entered twice) */
  loops = 0;
  /** files reached by a second path (run once) */
  duplicates = 0;
  fifos = 0;
  /** sockets, character and block devices */
  special = 0;
  /** folders not descended (a non-recursive walk) */
  folders = 0;
  brokenLinks = 0;
  loopingLinks = 0;
  unreadable = 0;
  private readonly dirs = new Set<string>();
  private readonly files = new Map<number, Set<number>>();

  /** True the first time this directory (by device + inode) is met. */
  firstDir(st: fs.Stats): boolean {
    const key = `${st.dev}:${st.ino}`;
    if (this.dirs.has(key)) return false;
    this.dirs.add(key);
    return true;
  }

  /** True the first time this file (by device + inode) is met; counts the repeats. */
  firstFile(st: fs.Stats): boolean {
    let inos = this.files.get(st.dev);
    if (!inos) this.files.set(st.dev, (inos = new Set()));
    if (inos.has(st.ino)) {
      this.duplicates++;
      return false;
    }
    inos.add(st.ino);
    return true;
  }

  /** Counts an entry that is neither a regular file nor a folder. */
  skipOther(st: fs.Stats): void {
    if (st.isFIFO()) this.fifos++;
    else this.special++;
  }

  /** Counts a link or folder that could not be followed or read, by its error. */
  skipError(e: unknown): void {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') this.loopingLinks++;
    else if (code === 'ENOENT' || code === 'ENOTDIR') this.brokenLinks++;
    else this.unreadable++;
  }

  /** The notes for the run's report (none when nothing was skipped). */
  notes(): string[] {
    const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
    const out: string[] = [];
    const walked: string[] = [];
    if (this.loops) walked.push(`${plural(this.loops, 'folder')} reached again through a link (a symlink loop) not entered twice`);
    if (this.duplicates) walked.push(`${plural(this.duplicates, 'file')} reached by a second path (a link) run once`);
    if (walked.length) out.push(`Input folders: ${walked.join('; ')}.`);
    const skipped: string[] = [];
    if (this.fifos) skipped.push(plural(this.fifos, 'FIFO (named pipe)', 'FIFOs (named pipes)'));
    if (this.special) skipped.push(plural(this.special, 'socket or device', 'sockets or devices'));
    if (this.folders) skipped.push(plural(this.folders, 'subfolder') + ' (the folder is not walked recursively)');
    if (this.brokenLinks) skipped.push(plural(this.brokenLinks, 'broken link'));
    if (this.loopingLinks) skipped.push(plural(this.loopingLinks, 'looping link'));
    if (this.unreadable) skipped.push(plural(this.unreadable, 'folder or link that could not be read', 'folders or links that could not be read'));
    if (skipped.length) out.push(`Skipped inputs that are not regular files: ${skipped.join(', ')}.`);
    return out;
  }
}

/**
 * The regular files below `root` (yielded as `path.join(shownAs, relative path)`), in sorted order
 * per folder, folders breadth first; names starting with "." are left out (as globs do). Throws when
 * `root` itself cannot be read; a subfolder that cannot be read is counted in `tally`.
 */
export async function* walkFolder(root: string, shownAs: string, recursive: boolean, tally: WalkTally): AsyncGenerator<string> {
  const rootStat = fs.statSync(fsPath(root));
  tally.firstDir(rootStat);
  const queue: string[] = [''];
  for (let q = 0; q < queue.length; q++) {
    const rel = queue[q];
    let names: string[];
    try {
      names = (await fs.promises.readdir(fsPath(path.join(root, rel)), { encoding: 'buffer' })).map(fsDecode);
    } catch (e) {
      if (q === 0) throw e;
      tally.skipError(e);
      continue;
    }
    queue[q] = ''; // done with it: a long walk does not keep every folder's name
    names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const name of names) {
      if (name.startsWith('.')) continue;
      const relName = rel ? `${rel}/${name}` : name;
      const full = path.join(root, relName);
      let st: fs.Stats;
      try {
        // a link is followed; a plain file or folder needs its identity too
        st = fs.statSync(fsPath(full));
      } catch (e) {
        tally.skipError(e);
        continue;
      }
      if (st.isFile()) {
        if (tally.firstFile(st)) yield path.join(shownAs, relName);
      } else if (st.isDirectory()) {
        if (!recursive) tally.folders++;
        else if (tally.firstDir(st)) queue.push(relName);
        else tally.loops++;
      } else tally.skipOther(st);
    }
  }
}
