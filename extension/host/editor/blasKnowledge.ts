/**
 * What the pool lenses know about the BLAS of the workspace's Python: `services.blasInfo` (a core
 * BlasInspection), set by "Inspect BLAS Threads" or, so the lens is right without running that command
 * first, by one background probe per interpreter per session (the same probe as the command, without
 * the benchmark: two short Python starts importing numpy), started when a Python file with a pool is
 * shown in a trusted workspace. A failed probe (no numpy) is not retried; the lens then falls back to
 * the thread variables in the environment or the OpenBLAS default.
 */
import * as fs from 'fs';
import * as vscode from 'vscode';
import { inspectBlas, type BlasInspection } from '../../core/python/blasProbe';
import { messageOf } from '../config';
import type { Services } from '../services';

/** The same interpreter? (symlinked venv pythons resolve to one file) */
export function sameExecutable(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return fs.realpathSync(a) === fs.realpathSync(b);
  } catch {
    return false;
  }
}

export class BlasKnowledge {
  /** One probe per interpreter per session: pending, its result, or undefined after a failure (never retried). */
  private readonly probes = new Map<string, Promise<BlasInspection | undefined>>();
  private readonly results = new Map<string, BlasInspection>();
  /** Stops a probe still running when the extension deactivates. */
  private readonly stop = new AbortController();

  constructor(private readonly services: Services, private readonly changed: () => void) {}

  /**
   * The inspection of `python`: services.blasInfo when it is of that interpreter (the command's is the
   * newest), else this session's background probe of it; undefined while neither is known.
   */
  known(python: string): BlasInspection | undefined {
    const info = this.services.blasInfo;
    if (info && sameExecutable(info.current.python.executable, python)) return info;
    return this.results.get(python);
  }

  /** Starts the background probe of `python` unless it is known, pending or failed; `changed` fires when it lands. */
  ensure(python: string): void {
    if (this.probes.has(python) || this.known(python) || !vscode.workspace.isTrusted) return;
    this.services.log.info(`BLAS: probing ${python} in the background for the pool code lenses`);
    this.probes.set(python, inspectBlas(python, this.services.mediaDir, { signal: this.stop.signal }).then(
      (ins) => {
        this.results.set(python, ins);
        // publish it for the report too, unless the command already published one
        if (!this.services.blasInfo) this.services.blasInfo = ins;
        this.changed();
        return ins;
      },
      (err) => {
        if (this.stop.signal.aborted) return undefined;
        this.services.log.info(`BLAS background probe of ${python} failed (the lenses assume the defaults): ${messageOf(err)}`);
        return undefined;
      },
    ));
  }

  dispose(): void {
    this.stop.abort();
  }
}
