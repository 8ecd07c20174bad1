import { describe, it } from 'vitest';
import { twoProcesses } from './lib/index.mjs';
import { cleanUpTempDirs, expectNothingLost } from './helpers.js';

cleanUpTempDirs();

describe('two processes on one directory', () => {
  for (const seed of [1, 2]) {
    it(`a second opener gets KV_LOCKED for the store and its WAL; the first keeps writing and its data is intact (seed ${seed})`, async () => {
      expectNothingLost(await twoProcesses({ seed, attempts: 3 }));
    }, 60_000);
  }
});
