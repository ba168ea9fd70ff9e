/**
 * "Measure before you parallelise": Measure Speedup…, Apply Recommended Workers and Threads, Inspect
 * BLAS Threads, Matrix Demo. Their handlers (measureCommands.ts, with the sweep, the BLAS probe and
 * the matrix demo) load on the first of these commands. Publishes `services.measure` (the last sweep,
 * for tests and other features).
 */
import * as vscode from 'vscode';
import type { SweepFileData } from '../../core/sweepRunner';
import { Commands } from '../../shared/ids';
import { lazyTable, registerCommands } from '../commands';
import type { Services } from '../services';

export type { MeasureArgs } from './measureCommands';

/** What this feature publishes as services.measure. */
export interface MeasureApi {
  lastSweep(): { dir: string; result: SweepFileData } | undefined;
}

/** What the handlers share with the published API. */
export interface MeasureState {
  last?: { dir: string; result: SweepFileData };
}

const MEASURE_COMMANDS = [Commands.measureSpeedup, Commands.applyRecommendation, Commands.inspectBlas, Commands.matrixDemo] as const;

export function register(context: vscode.ExtensionContext, services: Services): MeasureApi {
  const state: MeasureState = {};
  registerCommands(
    context,
    services,
    lazyTable(MEASURE_COMMANDS, () => import(/* webpackChunkName: "measure" */ './measureCommands').then((m) => m.measureHandlers(context, services, state))),
    { [Commands.measureSpeedup]: { title: 'Measure Speedup' }, [Commands.inspectBlas]: { title: 'Inspect BLAS Threads' }, [Commands.matrixDemo]: { title: 'Matrix Demo' } },
  );
  return { lastSweep: () => state.last };
}
