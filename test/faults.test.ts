import { describe, expect, it } from 'vitest';
import { faultInjection } from './lib/index.mjs';
import { cleanUpTempDirs, expectNothingLost } from './helpers.js';

cleanUpTempDirs();

describe('injected ENOSPC and EIO', () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    it(`the store reports KV_IO_ERROR, acknowledges nothing issued after it, and reopens with every acknowledged write (seed ${seed})`, async () => {
      const stats = await faultInjection({ seed, cases: 12 });
      expectNothingLost(stats);
      expect(stats.faultsInjected).toBeGreaterThan(0);
    }, 60_000);
  }
});
