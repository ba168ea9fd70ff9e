/**
 * File names that are not valid UTF-8 (Linux names are bytes: b"\xff\xfe.txt" is a valid name). Node
 * decodes such a name to text with U+FFFD in place of the bad bytes, and a name decoded so names no
 * file any more. The engine keeps names as text where each byte that is not part of valid UTF-8 is the
 * lone surrogate U+DC80..U+DCFF: Python's "surrogateescape", so a task's sys.argv[1] and os.fsencode()
 * give back exactly the bytes. Every name read from the system (folder walks, globs, lists, the
 * command line) is decoded with `fsDecode`; every name given back to it (stat, a task's argv) is
 * encoded with `fsEncode` (see `fsPath`). Records keep the display text in `file` and the bytes in
 * `fileBytes` (base64), so the journal is lossless and readable; views show the display text.
 */
import { isUtf8 } from 'buffer';
import * as fs from 'fs';

/** A lone surrogate standing for a raw byte (with the u flag, a surrogate pair is one code point and never matches). */
const RAW_BYTE = /[\uDC80-\uDCFF]/u;

/** True when the name holds bytes that are not UTF-8 (as U+DC80..U+DCFF). */
export function hasRawBytes(name: string): boolean {
  return RAW_BYTE.test(name);
}

/** How long the valid UTF-8 sequence starting at `i` is, or 0 when the byte there starts none. */
function validSequence(b: Uint8Array, i: number): number {
  const c = b[i];
  let len: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) len = 2;
  else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    if (c === 0xe0) lo = 0xa0;
    else if (c === 0xed) hi = 0x9f; // no surrogates in UTF-8
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    if (c === 0xf0) lo = 0x90;
    else if (c === 0xf4) hi = 0x8f;
  } else return 0;
  if (i + len > b.length) return 0;
  if (b[i + 1] < lo || b[i + 1] > hi) return 0;
  for (let k = 2; k < len; k++) if (b[i + k] < 0x80 || b[i + k] > 0xbf) return 0;
  return len;
}

/** Bytes → the engine's text: UTF-8, each byte of an invalid sequence as U+DC00 + byte. */
export function fsDecode(b: Uint8Array): string {
  const buf = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (isUtf8(buf)) return buf.toString('utf8');
  let out = '';
  let start = 0; // start of the valid run not yet added
  let i = 0;
  while (i < buf.length) {
    if (buf[i] < 0x80) {
      i++;
      continue;
    }
    const len = validSequence(buf, i);
    if (len > 0) {
      i += len;
      continue;
    }
    out += buf.toString('utf8', start, i) + String.fromCharCode(0xdc00 + buf[i]);
    i++;
    start = i;
  }
  return out + buf.toString('utf8', start);
}

/** The engine's text → bytes: U+DC80..U+DCFF back to their byte, the rest as UTF-8. */
export function fsEncode(name: string): Buffer {
  if (!hasRawBytes(name)) return Buffer.from(name, 'utf8');
  const parts: Buffer[] = [];
  let run = '';
  for (const ch of name) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0xdc80 && cp <= 0xdcff) {
      if (run) parts.push(Buffer.from(run, 'utf8'));
      run = '';
      parts.push(Buffer.of(cp - 0xdc00));
    } else run += ch;
  }
  if (run) parts.push(Buffer.from(run, 'utf8'));
  return Buffer.concat(parts);
}

/** What to give fs calls: the name itself, or its bytes when it has raw ones (fs takes Buffer paths). */
export function fsPath(name: string): string | Buffer {
  return hasRawBytes(name) ? fsEncode(name) : name;
}

/** The name for people: what Node (and VS Code's Explorer) shows for those bytes (U+FFFD for bad ones). */
export function displayName(name: string): string {
  return hasRawBytes(name) ? fsEncode(name).toString('utf8') : name;
}

/** A record's name fields: `file` to show, and `fileBytes` (base64) when the bytes are not UTF-8. */
export function recordName(name: string): { file: string; fileBytes?: string } {
  return hasRawBytes(name) ? { file: fsEncode(name).toString('utf8'), fileBytes: fsEncode(name).toString('base64') } : { file: name };
}

/** The engine's name of a record (journal line, report task): its bytes when it has them, else `file`. */
export function nameOfRecord(rec: { file: string; fileBytes?: unknown }): string {
  return typeof rec.fileBytes === 'string' && rec.fileBytes ? fsDecode(Buffer.from(rec.fileBytes, 'base64')) : rec.file;
}

/**
 * The command line's arguments with their bytes kept (Linux: /proc/self/cmdline). Node decodes argv as
 * UTF-8 and a name that is not loses its bytes there (`::: data/*` expanded by the shell). `args` is
 * process.argv.slice(2); returned as is where /proc is missing or does not match them.
 */
export function argsWithBytes(args: string[]): string[] {
  if (args.length === 0) return args;
  let raw: Buffer;
  try {
    raw = fs.readFileSync('/proc/self/cmdline');
  } catch {
    return args;
  }
  const parts: Buffer[] = [];
  for (let start = 0; start < raw.length; ) {
    let end = raw.indexOf(0, start);
    if (end < 0) end = raw.length;
    parts.push(raw.subarray(start, end));
    start = end + 1;
  }
  const tail = parts.slice(-args.length);
  if (tail.length !== args.length || tail.some((b, i) => b.toString('utf8') !== args[i])) return args;
  return tail.map((b, i) => (isUtf8(b) ? args[i] : fsDecode(b)));
}
