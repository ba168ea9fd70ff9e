/**
 * Composition root: build the services, call each feature's register(), nothing else.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { Config } from './host/config';
import { register as registerRun } from './host/run/register';
import { register as registerMonitor } from './host/monitor/register';
import { register as registerMeasure } from './host/measure/register';
import type { Services } from './host/services';
import { OUTPUT_CHANNEL } from './shared/ids';
import * as reportFeature from './host/report';
import { register as registerSlurm } from './host/slurm/register';
import { register as registerEditor } from './host/editor/register';
import { register as registerTrust } from './host/trust';
import { register as registerHistory } from './host/history';

let services: Services | undefined;

export function activate(context: vscode.ExtensionContext): Services {
  const config = new Config();
  const log = vscode.window.createOutputChannel(OUTPUT_CHANNEL, { log: true });
  context.subscriptions.push(config, log);
  services = {
    context,
    config,
    log,
    distDir: path.join(context.extensionPath, 'dist'),
    mediaDir: path.join(context.extensionPath, 'media'),
    shutdownHooks: [],
  };
  // ---- features, in order (each pushes its own disposables and returns what it publishes) ----
  registerTrust(context, services);
  registerHistory(context, services);
  services.monitor = registerMonitor(context, services);
  const run = registerRun(context, services);
  services.python = run.python;
  services.runs = run.runs;
  services.runsTree = run.runsTree;
  services.failures = run.failures;
  services.measure = registerMeasure(context, services);
  services.reportPanel = reportFeature.register(context, services);
  services.slurm = registerSlurm(context, services);
  services.editorAnalysis = registerEditor(context, services);
  return services;
}

/** Returns the promise that terminates pools and kills child process trees. */
export async function deactivate(): Promise<void> {
  const s = services;
  services = undefined;
  if (!s) return;
  await Promise.allSettled(s.shutdownHooks.map((h) => h()));
}
