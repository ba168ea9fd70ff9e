/** The public API of the core (one barrel). No `vscode` import anywhere below core/. */
export * from './run/types';
export * from './settings';
export * from './speedup';
export * from './sweep';
export * from './demos/matrixDemo';
export * from './monitor';
export * from './threads';
export * from './python/interpreter';
export * from './run/engine';
export * from './run/inputs';
export * from './run/results';
export * from './run/history';
export * from './run/templates';
export * from './run/journal';
export * from './python/blasProbe';
export * from './python/sourceAnalysis';
export * from './slurm';
