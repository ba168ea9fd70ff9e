/** Thin workerpool entry over core/run/history: rebuilds a big run's report off the caller's thread. */
import * as workerpool from 'workerpool';
import { readReportHere } from '../core/run/history';
import type { HistoryWorkerApi } from '../shared/workerApi';

const api: HistoryWorkerApi = { readReportHere };

workerpool.worker({ readReportHere: (runDir: string) => api.readReportHere(runDir) });
