/**
 * One switch that every place in the core which starts a child process consults first (the run
 * engine, the Python interpreter probe, the BLAS probe, the source analyzer, Slurm's client
 * commands). The VS Code host closes it while the workspace is not trusted, so a file read from the
 * workspace (a report.json or run.json naming an interpreter, a crafted Slurm submission) can never
 * make us execute anything, whichever feature reads it. The CLI never sets it: open.
 * No `vscode` import.
 */

/** Why starting `what` is refused right now, or undefined when it is allowed. */
export type ProcessGate = (what: string) => string | undefined;

/** Thrown instead of starting a process while the gate is closed; `message` says why and how to fix it. */
export class ProcessRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProcessRefusedError';
  }
}

let gate: ProcessGate | undefined;

/** Installs the gate (the host does this once at activation); undefined opens it again. */
export function setProcessGate(g: ProcessGate | undefined): void {
  gate = g;
}

/** True when a process may be started now. */
export function mayStartProcess(what = 'start a process'): boolean {
  return !gate?.(what);
}

/** Throws ProcessRefusedError when the gate refuses `what` (a phrase: "probe the BLAS of python3"). */
export function assertMayStartProcess(what: string): void {
  const why = gate?.(what);
  if (why) throw new ProcessRefusedError(why);
}
