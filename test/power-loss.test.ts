import { describe, expect, it } from 'vitest';
import { powerLoss } from './lib/index.mjs';
import { cleanUpTempDirs, expectNothingLost } from './helpers.js';

cleanUpTempDirs();

describe('power loss at a random seam call (sync: always)', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`the store always opens and every resolved write survives; unsynced bytes and directory operations may be lost (seed ${seed})`, async () => {
      const stats = await powerLoss({ seed, rounds: 8 });
      expectNothingLost(stats);
      expect(stats.powerCuts).toBe(8);
    }, 60_000);
  }
});
