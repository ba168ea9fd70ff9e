/**
 * The shapes of error signatures and failure groups (see failures.ts), apart so that webviews can use
 * them without the Node modules the logic needs.
 */

export type FailureKind = 'python' | 'timedOut' | 'memory' | 'signal' | 'exit' | 'start';

/** A frame of a Python traceback. */
export interface FailureFrame {
  file: string;
  line: number;
  function?: string;
}

/** What a failed task died of. Stored with its record (journal and report.json). */
export interface FailureSignature {
  /** tasks with the same key are one group */
  key: string;
  kind: FailureKind;
  /** for people, e.g. "KeyError: 'EXPTIME' (analyze.py:57)" or "killed for memory at 3.1 GB peak" */
  title: string;
  /** python: the exception type as printed (e.g. "numpy._core._exceptions._ArrayMemoryError") */
  exception?: string;
  /** python: the exception's message (first line); exit/start: the last stderr line */
  message?: string;
  /** python: the innermost frame in the user's own code (absolute path as printed) */
  frame?: FailureFrame;
  /** memory: the peak resident memory seen, bytes (when known) */
  peakBytes?: number;
  signal?: string;
  exitCode?: number;
}

/** Failed tasks with one signature. */
export interface FailureGroup {
  key: string;
  kind: FailureKind;
  /** the group's sentence: the first member's, or its normalised form when members' messages differ */
  title: string;
  count: number;
  /** the first member's signature (its frame is where the Problems panel points) */
  signature: FailureSignature;
  /** every member's file, in the order they finished */
  files: string[];
  /** every member's task index ({#}) */
  indexes: number[];
  /** the first few members' stderr logs (relative to the run directory) */
  logs: string[];
  /** the first member's traceback (the whole last block), when a Python one */
  traceback?: string;
}

