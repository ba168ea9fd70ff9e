/** The Slurm job-array backend (public API of core/slurm). */
export * from './parse';
export * from './pack';
export * from './script';
export * from './commands';
export { SLURM_FILES, slurmDirOf, readManifest } from './layout';
export type { SlurmPlanFile, SlurmSubmissionFile } from './layout';
export * from './history';
export * from './backend';
