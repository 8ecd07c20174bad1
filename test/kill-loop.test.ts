import { describe, expect, it } from 'vitest';
import { killLoop } from './lib/index.mjs';
import { cleanUpTempDirs, expectNothingLost } from './helpers.js';

cleanUpTempDirs();

// Each seed: one directory, six child processes killed with SIGKILL at random moments (some
// while still opening), random options per run (sync 'always' or 'none', memtable, segment
// and block sizes), values up to 100 KB, explicit flushes and compactions, scans in the child.
describe('kill -9 at random moments, reopen, check against the model', () => {
  for (const seed of [11, 12, 13]) {
    it(`every acknowledged write survives with its latest value; in-flight writes are old or new, batches whole, deletes final (seed ${seed})`, async () => {
      const stats = await killLoop({ seed, runs: 6 });
      expectNothingLost(stats);
      expect(stats.kills).toBe(6);
      expect(stats.ackedVerified).toBeGreaterThan(100);
    }, 120_000);
  }
});
