/**
 * The run history (core/run/history: listing runs, reading and rebuilding reports, failed files),
 * loaded on first use — it brings the journal reader, the report builder and the bounds checks, none
 * of which activation needs. Every feature reads history through `history()`, so the module is set up
 * once: big journals are rebuilt on a worker thread (never seconds of parsing on the extension host's
 * thread), and that thread ends with the extension.
 */
import * as path from 'path';
import type * as vscode from 'vscode';
import { HISTORY_WORKER } from '../shared/workerApi';
import type { Services } from './services';

type HistoryModule = typeof import('../core/run/history');

let workerScript: string | undefined;
let loaded: Promise<HistoryModule> | undefined;

/** core/run/history, set up to rebuild big journals on the history worker. */
export function history(): Promise<HistoryModule> {
  loaded ??= import(/* webpackChunkName: "history" */ '../core/run/history').then((m) => {
    m.useHistoryWorker(workerScript);
    return m;
  });
  return loaded;
}

export function register(context: vscode.ExtensionContext, services: Services): void {
  workerScript = path.join(services.distDir, 'workers', `${HISTORY_WORKER}.js`);
  services.shutdownHooks.push(async () => (loaded ? (await loaded).stopHistoryWorker() : undefined));
  context.subscriptions.push({
    dispose: () => {
      workerScript = undefined;
      void loaded?.then((m) => m.useHistoryWorker(undefined));
    },
  });
}
