import { afterEach, expect } from 'vitest';
import { forgetTempDirs, removeTempDirs, type Stats } from './lib/index.mjs';

/** Temp directories are removed after a passing test and kept (named in the failure) otherwise. */
export function cleanUpTempDirs(): void {
  afterEach((context) => {
    if (context.task.result?.state === 'fail') forgetTempDirs();
    else removeTempDirs();
  });
}

/** What every scenario run must show: nothing acknowledged was lost, and it did check something. */
export function expectNothingLost(stats: Stats): void {
  expect(stats.lost).toBe(0);
  expect(stats.reopens).toBeGreaterThan(0);
}

export const text = (b: Uint8Array | undefined): string | undefined =>
  b === undefined ? undefined : Buffer.from(b).toString('utf8');
