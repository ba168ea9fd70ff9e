/**
 * Rebuilds a run request from a run directory's `run.json` (written by the engine), for runs this
 * workspace did not start itself (CLI runs, another window, a cleared workspace state): resume and
 * re-run failed still work on them.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { readDefinition } from '../../core/run/runDir';
import type { FileSource, InputsSpec } from '../../core/run/types';
import type { RunRequest, StoredRequest } from './runService';

/** The request that resumes (or re-runs the failed files of) the run in `runDir`, from its run.json. */
export async function loadRunRequest(runDir: string): Promise<RunRequest | undefined> {
  const def = readDefinition(runDir);
  if (!def?.command || def.command.kind !== 'python' || !def.files) return undefined;
  const cwd = def.cwd ?? path.dirname(def.command.script);
  const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(cwd)) ?? vscode.workspace.workspaceFolders?.[0];
  if (!folder) return undefined;
  const inputs = runInputs(runDir);
  return {
    folder,
    script: def.command.script,
    args: def.command.args ?? [],
    files: def.files,
    ...(inputs ? { inputs } : {}),
    ...(def.command.call !== undefined ? { call: def.command.call } : {}),
    filesLabel: inputs ? describeInputs(inputs) : describeSource(def.files),
    workers: def.workers ?? 0,
    threads: def.threads ?? 0,
    warm: def.command.warm,
    ...runLimits(runDir),
    retries: def.retries,
    halt: def.halt,
    label: def.label,
  };
}

/** A run over tuples: its inputs from run.json, all of them (the tuples a re-run of some named are dropped). */
export function runInputs(runDir: string): InputsSpec | undefined {
  const def = readDefinition(runDir);
  if (!def?.inputs) return undefined;
  const { only: _someOfThem, ...all } = def.inputs;
  return all;
}

/**
 * The limits a run was defined with (run.json), which a resume keeps whatever the settings say now:
 * the timeout in seconds or in percent of the median, and the memory to keep free.
 */
export function runLimits(runDir: string): Pick<RunRequest, 'timeoutSec' | 'timeoutPercent' | 'memFreeBytes'> {
  const def = readDefinition(runDir);
  if (!def) return {};
  return { timeoutSec: def.timeoutSec, timeoutPercent: def.timeoutPercent ?? 0, memFreeBytes: def.memFreeBytes ?? 0 };
}

/** "data/*.txt × mu × params.csv": a run over tuples, by its sources. */
export function describeInputs(spec: InputsSpec): string {
  return spec.sources
    .map((s) => {
      switch (s.kind) {
        case 'files': return describeSource(s.source);
        case 'grid': return s.name;
        case 'table': case 'csv': return path.basename(s.path);
        case 'values': return s.values.length <= 3 ? s.values.join(' ') : `${s.values.length} values`;
      }
    })
    .join(' × ');
}

export function describeSource(f: FileSource): string {
  switch (f.kind) {
    case 'globs':
      return f.patterns.join(' ');
    case 'folder':
      return `${path.basename(f.path)}/`;
    case 'list':
      return `${f.files.length} file${f.files.length === 1 ? '' : 's'}`;
    case 'listFile':
      return path.basename(f.path);
    case 'stdin':
      return 'standard input';
  }
}

/** Back from the remembered form; undefined when its folder is no longer open. */
export function fromStored(s: StoredRequest): RunRequest | undefined {
  const folder = vscode.workspace.workspaceFolders?.find((f) => f.uri.fsPath === s.folder);
  if (!folder) return undefined;
  const { inputsInRunJson, ...req } = s;
  if (!inputsInRunJson) return { ...req, folder };
  const inputs = s.outDir ? runInputs(s.outDir) : undefined;
  return inputs ? { ...req, inputs, folder } : undefined;
}
