// Types of test/lib (plain ESM, shared by the vitest files and test/torture.mjs).
import type { EngineFs } from '@kv/engine';
import type { TableFs } from '@kv/sstable';
import type { WalFs } from '@kv/wal';

/** Counts a scenario reports. */
export interface Stats {
  kills: number;
  reopens: number;
  powerCuts: number;
  faultsInjected: number;
  corruptionsTried: number;
  ackedVerified: number;
  /** Acknowledged writes found missing or wrong: must stay 0. */
  lost: number;
  notes: Record<string, number>;
}

export function emptyStats(): Stats;
export function addStats(into: Stats, from: Stats): void;
export function tempDir(prefix: string): string;
export function removeTempDirs(): void;
export function forgetTempDirs(): void;

/** A failed check; the message names the scenario, the seed and the command that replays it. */
export class ScenarioFailure extends Error {
  readonly scenario: string;
  readonly seed: number;
  readonly stats: Stats;
}

export class Rng {
  constructor(seed: number);
  readonly seed: number;
  next(): number;
  int(lo: number, hi: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  fork(label: string | number): Rng;
}

type Log = (line: string) => void;

/** Scenario 1: SIGKILL of a child running the workload, reopen, check; `runs` times on one directory. */
export function killLoop(config: { seed: number; runs: number; log?: Log }): Promise<Stats>;
/** Scenario 2: in-process power cuts on a SimDisk; `rounds` chained cuts. */
export function powerLoss(config: { seed: number; rounds: number; log?: Log }): Promise<Stats>;
/** Scenario 3: one injected ENOSPC/EIO per case, `cases` chained cases on one directory. */
export function faultInjection(config: { seed: number; cases: number; log?: Log }): Promise<Stats>;
/** Scenario 4: flips, truncations and zeroed sectors in every file, read back in child processes. */
export function corruptionSweep(config: {
  seed: number;
  perFile: number;
  children?: number;
  timeoutMs?: number;
  log?: Log;
}): Promise<Stats>;
/** Scenario 5: a second opener gets KV_LOCKED `attempts` times while the first keeps writing. */
export function twoProcesses(config: { seed: number; attempts: number; log?: Log }): Promise<Stats>;

export type CrashMode = 'drop' | 'some' | 'garble';

export interface CrashReport {
  mode: CrashMode;
  dirOpsUndone: number;
  dirOpsKept: number;
  sectorsDropped: number;
  sectorsKept: number;
  sectorsGarbled: number;
  sizesReverted: number;
  files: string[];
}

/** The crash-simulating file system (see sim-disk.mjs). */
export class SimDisk {
  constructor(root: string, rng: Rng, options?: { durableMkdir?: boolean });
  readonly engineFs: EngineFs;
  readonly walFs: WalFs;
  readonly tableFs: TableFs;
  readonly crashed: boolean;
  readonly ops: number;
  /** The seam call the power went off in (empty for a cut between calls). */
  readonly cutAt: string;
  readonly whenCrashed: Promise<CrashReport>;
  cutAfter(n: number, mode: CrashMode): void;
  crash(mode: CrashMode): CrashReport;
  writeImage(target: string): void;
}

export const FAULT_TARGETS: Readonly<Record<string, readonly string[]>>;

/** Fault injection over the real file systems (see fault-fs.mjs). */
export class FaultPlan {
  readonly calls: Record<string, number>;
  readonly fired: { op: string; code: string; call: number } | null;
  arm(op: string, n: number, code: string): void;
  disarm(): void;
  seams(): { fs: EngineFs; walFs: WalFs; tableFs: TableFs };
}
