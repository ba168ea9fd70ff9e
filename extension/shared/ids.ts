/**
 * Every command, setting, view and context-key id in one place.
 * `test/unit/manifest.test.ts` checks package.json#contributes against these, so a typo fails a
 * test rather than a user. Shared by host, core (setting keys only) and tests; no `vscode` import.
 */
export const EXTENSION_ID = 'parallel-run.parallel-run';

export const Commands = {
  runScript: 'parallelRun.runScript',
  runOverSelection: 'parallelRun.runOverSelection',
  runAgain: 'parallelRun.runAgain',
  cancelRun: 'parallelRun.cancelRun',
  resumeLastRun: 'parallelRun.resumeLastRun',
  rerunFailed: 'parallelRun.rerunFailed',
  openRunLogs: 'parallelRun.openRunLogs',
  openTaskLog: 'parallelRun.openTaskLog',
  showReport: 'parallelRun.showReport',
  compareRuns: 'parallelRun.compareRuns',
  exportReport: 'parallelRun.exportReport',
  deleteRun: 'parallelRun.deleteRun',
  refreshRuns: 'parallelRun.refreshRuns',
  measureSpeedup: 'parallelRun.measureSpeedup',
  applyRecommendation: 'parallelRun.applyRecommendation',
  inspectBlas: 'parallelRun.inspectBlas',
  matrixDemo: 'parallelRun.matrixDemo',
  parallelizeLoop: 'parallelRun.parallelizeLoop',
  runNotebook: 'parallelRun.runNotebook',
  runGrid: 'parallelRun.runGrid',
  writeFixFiles: 'parallelRun.writeFixFiles',
  showMonitor: 'parallelRun.showMonitor',
  submitSlurm: 'parallelRun.submitSlurm',
  rerunFiles: 'parallelRun.rerunFiles',
  debugFile: 'parallelRun.debugFile',
  copyFileList: 'parallelRun.copyFileList',
} as const;
export type CommandId = (typeof Commands)[keyof typeof Commands];

/** Commands that start processes: refused in an untrusted workspace. */
export const TRUST_REQUIRED_COMMANDS: readonly CommandId[] = [
  Commands.runScript, Commands.runOverSelection, Commands.runAgain, Commands.resumeLastRun,
  Commands.rerunFailed, Commands.measureSpeedup, Commands.inspectBlas, Commands.matrixDemo,
  Commands.submitSlurm, Commands.runNotebook, Commands.runGrid, Commands.rerunFiles, Commands.debugFile,
];

export const CONFIG_SECTION = 'parallelRun';

/** Setting keys, relative to the `parallelRun` section. */
export const Settings = {
  workers: 'workers',
  threadsPerTask: 'threadsPerTask',
  pythonPath: 'python.path',
  timeoutSeconds: 'timeoutSeconds',
  timeoutPercentOfMedian: 'timeoutPercentOfMedian',
  memoryFreeGB: 'memoryFreeGB',
  /** the old name of memoryFreeGB: deprecated, still read when the new one is not set */
  memFreeGBOld: 'memFreeGB',
  retries: 'retries',
  haltOnFailure: 'haltOnFailure',
  halt: 'halt',
  stopEarlyAfter: 'stopEarlyAfter',
  notifyWhenDone: 'notifyWhenDone',
  explorerDecorations: 'explorerDecorations',
  warmWorkers: 'warmWorkers',
  saveNotebooks: 'notebooks.saveExecuted',
  runsDirectory: 'runsDirectory',
  openReportWhenDone: 'openReportWhenDone',
  monitorEnabled: 'monitor.enabled',
  monitorIntervalMs: 'monitor.intervalMs',
  monitorMemoryWarningPercent: 'monitor.memoryWarningPercent',
  codeLensRunScript: 'codeLens.runScript',
  codeLensPoolThreads: 'codeLens.poolThreads',
  codeLensParallelizeLoop: 'codeLens.parallelizeLoop',
  diagnosticsEnabled: 'diagnostics.enabled',
  sweepBudgetSeconds: 'sweep.budgetSeconds',
  slurmPartition: 'slurm.partition',
  slurmTimeLimit: 'slurm.timeLimit',
  slurmMemory: 'slurm.memory',
  slurmAccount: 'slurm.account',
  slurmExtraDirectives: 'slurm.extraDirectives',
  slurmTargetTaskSeconds: 'slurm.targetTaskSeconds',
  slurmMaxConcurrent: 'slurm.maxConcurrent',
} as const;
export type SettingKey = (typeof Settings)[keyof typeof Settings];

export const Views = {
  container: 'parallelRun',
  runs: 'parallelRun.runs',
} as const;

export const ContextKeys = {
  runActive: 'parallelRun.runActive',
  /** absolute paths of the inputs that failed in the latest runs (Explorer: "Debug This File") */
  failedInputs: 'parallelRun.failedInputs',
} as const;

export const TASK_TYPE = 'parallel-run';
export const OUTPUT_CHANNEL = 'Parallel Run';
export const WEBVIEW_REPORT = 'parallelRun.report';
export const WEBVIEW_MONITOR = 'parallelRun.monitor';
export const WALKTHROUGH = 'parallelRun.gettingStarted';
