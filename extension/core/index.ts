/** The public API of the core (one barrel). No `vscode` import anywhere below core/. */
export * from './run/types';
export * from './settings';
export * from './speedup';
export * from './sweep';
export * from './demos/matrixDemo';
export * from './monitor';
