/** The Slurm job-array backend (public API of core/slurm). */
export * from './parse';
export * from './pack';
export * from './script';
export * from './commands';
export * from './layout';
export * from './history';
export * from './backend';
export * from './cli';
