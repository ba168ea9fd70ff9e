/**
 * Shared by the run integration suites: the extension's services, the workspace folder, /proc process
 * scans (to prove a cancelled run leaves nothing behind), and small waits.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { RunHandle, RunReport } from '../../extension/core/run/types';
import { CONFIG_SECTION, EXTENSION_ID } from '../../extension/shared/ids';

export interface TestRunsApi {
  start(req: unknown): Promise<RunHandle>;
  active(): RunHandle | undefined;
  onDidChange: vscode.Event<{ kind: string; runId: string; outDir: string; report?: RunReport }>;
  runsDir(folder: vscode.WorkspaceFolder): string;
}

export interface TestServices {
  runs: TestRunsApi;
  runsTree: vscode.TreeDataProvider<unknown>;
  python: { resolve(folder?: vscode.WorkspaceFolder): Promise<{ executable: string; version: string; source: string }> };
  [k: string]: unknown;
}

export async function services(): Promise<TestServices> {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  if (!ext) throw new Error(`extension ${EXTENSION_ID} not found`);
  return (await ext.activate()) as TestServices;
}

export function folder(): vscode.WorkspaceFolder {
  const f = vscode.workspace.workspaceFolders?.[0];
  if (!f) throw new Error('no workspace folder');
  return f;
}

export function ws(...p: string[]): string {
  return path.join(folder().uri.fsPath, ...p);
}

export function readJournal(runDir: string): Array<{ file: string; status: string; index: number }> {
  const p = path.join(runDir, 'journal.ndjson');
  return fs
    .readFileSync(p, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l))
    .filter((o) => typeof o.file === 'string' && typeof o.status === 'string');
}

export function readReportJson(runDir: string): RunReport {
  return JSON.parse(fs.readFileSync(path.join(runDir, 'report.json'), 'utf8')) as RunReport;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitFor<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

export interface ProcInfo {
  pid: number;
  pgid: number;
  cmdline: string;
}

/** Every live process (Linux /proc), with its process group and command line. */
export function processes(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      // "pid (comm) state ppid pgrp ..." — comm may hold spaces and parentheses: parse after the last ')'
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const state = rest[0];
      if (state === 'Z' || state === 'X') continue; // zombies are already dead
      const cmdline = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').trim();
      out.push({ pid: Number(name), pgid: Number(rest[2]), cmdline });
    } catch {
      /* exited while we looked */
    }
  }
  return out;
}

/** Sets a workspace setting and waits until the extension host sees it. */
export async function setSetting(key: string, value: unknown): Promise<void> {
  const cfg = () => vscode.workspace.getConfiguration(CONFIG_SECTION);
  await cfg().update(key, value, vscode.ConfigurationTarget.Workspace);
  await waitFor(`setting ${key}`, () => JSON.stringify(cfg().inspect(key)?.workspaceValue) === JSON.stringify(value) || (value === undefined && cfg().inspect(key)?.workspaceValue === undefined));
}

/** Expects `p` to reject; returns the message. */
export async function rejection(p: Thenable<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  throw new Error('expected the command to fail, but it succeeded');
}

/** The run directory of a report (found by run id under the runs directory when not carried). */
export function runDirOf(r: RunReport): string {
  const d = (r as RunReport & { outDir?: string }).outDir;
  if (d) return d;
  const root = ws('.parallel-run', 'runs');
  for (const name of fs.readdirSync(root)) {
    const p = path.join(root, name, 'report.json');
    if (fs.existsSync(p) && JSON.parse(fs.readFileSync(p, 'utf8')).runId === r.runId) return path.join(root, name);
  }
  throw new Error(`no run directory for ${r.runId}`);
}
