/**
 * The services the composition root builds once and hands to every feature's register().
 * Features add what they publish here (optional fields) instead of reaching into each other.
 */
import * as vscode from 'vscode';
import type { BlasInspection } from '../core/python/blasProbe';
import type { Config } from './config';

export interface Services {
  readonly context: vscode.ExtensionContext;
  readonly config: Config;
  readonly log: vscode.LogOutputChannel;
  /** Absolute path of dist/ (bundled worker scripts live in dist/workers). */
  readonly distDir: string;
  /** Absolute path of media/ (python helpers in media/python). */
  readonly mediaDir: string;
  /** Promises that must settle before deactivate() returns (pools terminated, children killed). */
  readonly shutdownHooks: Array<() => Promise<void>>;
  /**
   * The last BLAS inspection of the workspace's interpreter (core BlasInspection: `current` = the probe
   * in VS Code's environment — vendor, version, currentThreads, python.executable —, `defaultThreads` =
   * threads BLAS uses with no thread variable set). Set by "Inspect BLAS Threads" (host/measure) and by
   * the editor feature's one background probe when a Python file with a pool is opened (trusted
   * workspaces only). Read by the pool code lenses and the report. Undefined until one of them ran.
   */
  blasInfo?: BlasInspection;
  /** Filled by features as they register (see each feature's register()). */
  [feature: string]: unknown;
}
