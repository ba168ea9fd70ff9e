/**
 * Every command of the extension goes through here: one table of what each command takes and returns,
 * one trust check, one error policy.
 *
 * - **Trust.** A command in TRUST_REQUIRED_COMMANDS is refused in an untrusted workspace before its
 *   handler (or the module holding it) is even loaded: one warning naming trust (requireTrust), and
 *   the refusal is `NotTrustedError` with the same wording for every command.
 * - **Errors.** A caller that passes an argument object (tests, tasks, other features: a plain object,
 *   not a Uri, a selection or a Runs view node) gets the error as a rejection. A user (palette, menus,
 *   code lenses) gets it as an error message naming the problem — with "Open Setting" when it names a
 *   setting, "Open" at the line of a script that does not compile — and the command resolves
 *   undefined. A refusal for trust is not shown twice; a run cancelled by the user is no error.
 * - **Loading.** A handler may be `lazy(() => import('./heavy').then((m) => m.handler))`: the module
 *   loads on the first call (a chunk of its own in the bundle), so heavy features stay out of activation.
 */
import * as vscode from 'vscode';
import type { BlasInspection } from '../core/python/blasProbe';
import type { LoopRewrite, SourceFixFile } from '../core/python/sourceAnalysis';
import type { RunHandle, RunReport } from '../core/run/types';
import type { SweepFileData } from '../core/sweepRunner';
import { Commands, TRUST_REQUIRED_COMMANDS, type CommandId } from '../shared/ids';
import { messageOf, showError } from './config';
import type { DebugOutcome } from './failures/debugFile';
import type { MeasureArgs } from './measure/register';
import type { RunArgs } from './run/commands';
import type { Services } from './services';
import type { SubmitSlurmArgs, SubmitSlurmResult } from './slurm/register';
import { NotTrustedError, requireTrust } from './trust';

/** A Runs view node, a menu's argument or an argument object: what a command gets from the UI. */
type Node = object;
type Sel = vscode.Uri[];

/** What each command takes (its parameters) and gives (its result, before the error policy). */
export interface CommandTypes {
  [Commands.runScript]: { args: [arg?: RunArgs | vscode.Uri, selection?: Sel]; result: RunHandle | RunReport | undefined };
  [Commands.runOverSelection]: { args: [arg?: RunArgs | vscode.Uri, selection?: Sel]; result: unknown };
  [Commands.runAgain]: { args: [arg?: RunArgs]; result: unknown };
  [Commands.cancelRun]: { args: [arg?: RunArgs | Node]; result: RunReport | undefined };
  [Commands.resumeLastRun]: { args: [arg?: RunArgs | Node]; result: RunHandle | RunReport | undefined };
  [Commands.rerunFailed]: { args: [arg?: RunArgs | Node]; result: unknown };
  [Commands.rerunFiles]: { args: [arg?: (RunArgs & { files?: string[] }) | Node]; result: RunHandle | RunReport | undefined };
  [Commands.openRunLogs]: { args: [arg?: RunArgs | Node]; result: string | undefined };
  [Commands.openTaskLog]: { args: [arg?: string | { runDir?: string; file?: string } | Node, record?: unknown]; result: string };
  [Commands.showReport]: { args: [arg?: { runDir: string } | Node]; result: { runDir: string; via: 'panel' | 'log' | 'markdown'; document?: string } };
  [Commands.deleteRun]: { args: [arg?: { runDir: string; confirm?: boolean } | Node]; result: boolean };
  [Commands.refreshRuns]: { args: []; result: boolean };
  [Commands.compareRuns]: { args: [a?: unknown, b?: unknown]; result: { a: string; b: string; title: string } | undefined };
  [Commands.exportReport]: { args: [arg?: unknown, opts?: { format?: 'html' | 'json'; target?: string }]; result: { target: string; format: 'html' | 'json'; bytes: number } | undefined };
  [Commands.measureSpeedup]: { args: [arg?: MeasureArgs | vscode.Uri]; result: { dir: string; result: SweepFileData; notice: string } | undefined };
  [Commands.applyRecommendation]: { args: [arg?: { workers: number; threads: number } | { sweepDir: string }]; result: unknown };
  [Commands.inspectBlas]: { args: [arg?: { bench?: boolean | number; show?: boolean }]; result: { inspection: BlasInspection } | undefined };
  [Commands.matrixDemo]: { args: [arg?: { workers?: number[]; blocks?: number; show?: boolean }]; result: unknown };
  [Commands.parallelizeLoop]: { args: [uri?: vscode.Uri | string, line?: number, kind?: LoopRewrite['kind']]; result: { applied: boolean; kind?: string } };
  [Commands.runNotebook]: { args: [arg?: unknown]; result: unknown };
  [Commands.runGrid]: { args: [arg?: unknown, func?: string, params?: string[]]; result: unknown };
  [Commands.writeFixFiles]: { args: [dir: string, files: SourceFixFile[]]; result: string[] };
  [Commands.showMonitor]: { args: []; result: void };
  [Commands.submitSlurm]: { args: [arg?: SubmitSlurmArgs | vscode.Uri]; result: SubmitSlurmResult | undefined };
  [Commands.debugFile]: { args: [arg?: unknown]; result: DebugOutcome | undefined };
  [Commands.copyFileList]: { args: [arg?: { runDir?: string; files?: string[] }]; result: string };
}

export type CommandArgs<K extends CommandId> = CommandTypes[K]['args'];
export type CommandResult<K extends CommandId> = CommandTypes[K]['result'];
export type Handler<K extends CommandId> = (...args: CommandArgs<K>) => CommandResult<K> | Promise<CommandResult<K>>;

/** A handler whose module loads on the first call. */
export interface LazyHandler<K extends CommandId> {
  readonly load: () => Promise<Handler<K>>;
}

export function lazy<K extends CommandId>(load: () => Promise<Handler<K>>): LazyHandler<K> {
  return { load };
}

/** Handlers by command id: what a feature's module gives registerCommands. */
export type CommandTable = { [K in CommandId]?: Handler<K> };

/**
 * The commands `ids` with handlers from one module loaded on the first call of any of them
 * (`lazyTable(ids, () => import('./heavy').then((m) => m.handlers(...)))`).
 */
export function lazyTable(ids: readonly CommandId[], load: () => Promise<CommandTable>): { [K in CommandId]?: LazyHandler<K> } {
  let table: Promise<CommandTable> | undefined;
  const once = (): Promise<CommandTable> => (table ??= load().catch((err) => {
    table = undefined; // a failed load is tried again on the next call
    throw err;
  }));
  const out: { [K in CommandId]?: LazyHandler<CommandId> } = {};
  for (const id of ids) {
    out[id] = lazy(async () => {
      const fn = (await once())[id];
      if (!fn) throw new Error(`Parallel Run: the command ${id} has no handler (a packaging error; reinstall the extension).`);
      return fn as Handler<CommandId>;
    });
  }
  return out as { [K in CommandId]?: LazyHandler<K> };
}

/** What a refusal for trust names, per command ("Parallel Run cannot <what>: this workspace is not trusted…"). */
const REFUSAL: Partial<Record<CommandId, string>> = {
  [Commands.measureSpeedup]: 'measure speedup',
  [Commands.inspectBlas]: 'inspect the BLAS of your Python',
  [Commands.matrixDemo]: 'run the matrix demo',
  [Commands.submitSlurm]: 'submit scripts to Slurm',
  [Commands.runNotebook]: 'run notebooks',
  [Commands.debugFile]: 'debug a file',
};

/** The refusal wording of a command that starts processes; undefined for the others. */
export function refusalOf(id: CommandId): string | undefined {
  return TRUST_REQUIRED_COMMANDS.includes(id) ? REFUSAL[id] ?? 'run scripts' : undefined;
}

/** A caller passing an argument object gets rejections; UI arguments (Uri, selection, tree node) do not. */
export function isProgrammatic(arg: unknown): boolean {
  return !!arg && typeof arg === 'object' && !(arg instanceof vscode.Uri) && !Array.isArray(arg) && !('contextValue' in arg);
}

/** What the policy does, so that tests can watch it. */
export interface CommandPolicy {
  /** true when the workspace is trusted; otherwise tells the user (once) and returns false */
  trusted(what: string): boolean;
  /** an error for a user: the message (with its action), nothing returned */
  show(err: unknown, title: string | undefined): void;
  log(message: string): void;
}

/** The policy every registered command uses. */
export function defaultPolicy(services: Services): CommandPolicy {
  return {
    trusted: (what) => requireTrust(what),
    show: (err, title) => {
      if (isSyntaxError(err)) void offerToOpen(title ? `${title}: ${err.message}` : err.message, err.problem);
      else showError(err, title);
    },
    log: (message) => services.log.error(message),
  };
}

/** A script that does not compile (core's ScriptSyntaxError, told by its name: this module loads at activation). */
function isSyntaxError(err: unknown): err is Error & { problem: { file: string; line: number; column: number } } {
  return err instanceof Error && err.name === 'ScriptSyntaxError' && typeof (err as { problem?: { file?: unknown } }).problem?.file === 'string';
}

/** The error, and "Open" at the line that does not compile. */
async function offerToOpen(msg: string, problem: { file: string; line: number; column: number }): Promise<void> {
  const pick = await vscode.window.showErrorMessage(msg, 'Open');
  if (pick !== 'Open') return;
  const line = Math.max(0, problem.line - 1);
  const col = Math.max(0, problem.column - 1);
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(problem.file));
  await vscode.window.showTextDocument(doc, { selection: new vscode.Range(line, col, line, col) });
}

export interface CommandOptions {
  /** Put before the message a user sees ("Measure Speedup: the script … does not exist"). */
  title?: string;
}

/** The command function VS Code calls: trust check, (lazy) handler, error policy. */
export function wrapCommand<K extends CommandId>(
  id: K,
  handler: Handler<K> | LazyHandler<K>,
  policy: CommandPolicy,
  options: CommandOptions = {},
): (...args: CommandArgs<K>) => Promise<CommandResult<K> | undefined> {
  const refusal = refusalOf(id);
  let loaded: Promise<Handler<K>> | undefined;
  const resolve = (): Promise<Handler<K>> => {
    if (typeof handler === 'function') return Promise.resolve(handler);
    // a failed load (a chunk missing from the package) is retried on the next call
    loaded ??= handler.load().catch((err) => {
      loaded = undefined;
      throw err;
    });
    return loaded;
  };
  return async (...args: CommandArgs<K>) => {
    try {
      // refuse BEFORE asking or loading anything: an untrusted workspace never walks a user through questions
      if (refusal !== undefined && !policy.trusted(refusal)) throw new NotTrustedError(refusal);
      const fn = await resolve();
      return await fn(...args);
    } catch (err) {
      if (err instanceof Error && err.name === 'AbortError') return undefined; // cancelled by the user
      const msg = messageOf(err);
      if (!(err instanceof NotTrustedError)) policy.log(options.title ? `${options.title}: ${msg}` : msg); // requireTrust logged the refusal
      if (isProgrammatic(args[0])) throw err instanceof Error ? err : new Error(msg);
      if (!(err instanceof NotTrustedError)) policy.show(err, options.title);
      return undefined;
    }
  };
}

/** Registers commands of one feature with the default policy; each is disposed with the extension. */
export function registerCommands(
  context: vscode.ExtensionContext,
  services: Services,
  table: { [K in CommandId]?: Handler<K> | LazyHandler<K> },
  options: Partial<Record<CommandId, CommandOptions>> = {},
): void {
  const policy = defaultPolicy(services);
  for (const id of Object.keys(table) as CommandId[]) {
    const handler = table[id] as Handler<typeof id> | LazyHandler<typeof id>;
    const fn = wrapCommand(id, handler, policy, options[id]) as (...args: unknown[]) => Promise<unknown>;
    context.subscriptions.push(vscode.commands.registerCommand(id, fn));
  }
}

/** executeCommand with the table's types (for callers inside the extension and tests). */
export function execute<K extends CommandId>(id: K, ...args: CommandArgs<K>): Thenable<CommandResult<K> | undefined> {
  return vscode.commands.executeCommand<CommandResult<K> | undefined>(id, ...args);
}

/**
 * Runs a command on behalf of a user from inside the extension (a notification's or a panel's button)
 * with an argument object: the error the caller would get as a rejection is shown instead.
 */
export function executeForUser<K extends CommandId>(id: K, ...args: CommandArgs<K>): Promise<CommandResult<K> | undefined> {
  return Promise.resolve(execute(id, ...args)).catch((err: unknown) => {
    // a refusal for trust was shown by requireTrust already
    if (!(err instanceof Error && err.name === 'NotTrustedError')) showError(err);
    return undefined;
  });
}
