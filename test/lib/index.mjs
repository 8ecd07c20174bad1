/** Everything the vitest files and the torture driver use. Types: index.d.mts. */
export {
  emptyStats,
  addStats,
  forgetTempDirs,
  removeTempDirs,
  ScenarioFailure,
  tempDir,
} from './common.mjs';
export { corruptionSweep } from './corruption.mjs';
export { FAULT_TARGETS, FaultPlan } from './fault-fs.mjs';
export { faultInjection } from './faults.mjs';
export { killLoop } from './kill-loop.mjs';
export { powerLoss } from './power-loss.mjs';
export { Rng } from './rng.mjs';
export { SimDisk } from './sim-disk.mjs';
export { twoProcesses } from './two-process.mjs';
